"""The Kubernetes backend, one module per concern (see backend.py for the map).

Only this package imports kubernetes_asyncio; spoke.app builds the backend from here.
"""

from spoke.backends.kube.backend import KubernetesBackend
from spoke.backends.kube.client import ApiError, KubeSettings, own_namespace

__all__ = ["ApiError", "KubeSettings", "KubernetesBackend", "own_namespace"]
