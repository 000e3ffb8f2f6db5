"""The two kinds of failure every Argosy program tells apart.

A PermanentError will fail the same way if retried: record it and tell the user. A TemporaryError
may succeed later: retry after its delay. The subclasses carry the meaning that the hub maps to a
gRPC status code, in one place (hub/errors.py).
"""

from __future__ import annotations


class ArgosyError(Exception):
    """Base of every error Argosy raises on purpose."""


class PermanentError(ArgosyError):
    """Retrying will not help: bad input, a missing object, a refused credential."""


class TemporaryError(ArgosyError):
    """Retrying later may help: the store is busy, a peer is unreachable."""

    def __init__(self, message: str, *, delay: float = 1.0) -> None:
        super().__init__(message)
        self.delay = delay


class InvalidInput(PermanentError):
    """The user's input is wrong. The message names the file, line or field."""


class NotFound(PermanentError):
    """The named object does not exist."""


class AlreadyExists(PermanentError):
    """An object with that name exists already."""


class Unauthenticated(PermanentError):
    """The caller's token or credential is missing, unknown, expired or revoked."""


class PermissionDenied(PermanentError):
    """The caller is known but may not do this."""
