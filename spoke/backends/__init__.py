"""Cluster backends: the simulated in-memory cluster, and Kubernetes (kubernetes_asyncio)."""
