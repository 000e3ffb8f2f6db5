"""Delivery: getting the desired state to each spoke. One session per connected spoke (its queue
of bundles to look at again), and the shared cache of serialised payloads with their diffs.

Depends on the core (it reads desired deployments and reports acks through the fleet); the core
never imports it: it knows a session only as a Listener (hub/core/ports.py).
"""
