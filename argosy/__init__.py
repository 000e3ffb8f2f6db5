"""Argosy's shared package: the gRPC contract, bundle reading, models and helpers.

hub, spoke and cli share only this package; it imports none of them.
"""

__version__ = "0.1.0"
