"""The two kinds of failure every Argosy program tells apart.

A PermanentError will fail the same way if retried: record it and tell the user. A TemporaryError
may succeed later: retry after its delay. The subclasses carry the meaning that the hub maps to a
gRPC status code, in one place (hub/errors.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager


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
    """The user's input is wrong. The message names the file, line or field.

    One error may carry several problems (`problems`, one message each), so that a user fixes
    everything wrong with an apply at once instead of one mistake per attempt.
    """

    def __init__(self, message: str, *, problems: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.problems: tuple[str, ...] = tuple(problems) or (message,)

    @classmethod
    def of(cls, problems: Iterable[str]) -> InvalidInput:
        """One error for many problems: its message lists them, one per line."""
        listed = tuple(problems)
        return cls("\n".join(listed), problems=listed)


class Problems:
    """Collects the InvalidInput of independent checks, to raise them all together."""

    def __init__(self) -> None:
        self.found: list[str] = []

    @contextmanager
    def check(self, prefix: str = "") -> Iterator[None]:
        """Run a check; an InvalidInput it raises is recorded (each problem after prefix)."""
        try:
            yield
        except InvalidInput as exc:
            self.found.extend(p if p.startswith(prefix) else prefix + p for p in exc.problems)

    def raise_any(self) -> None:
        if self.found:
            raise InvalidInput.of(self.found)


class NotFound(PermanentError):
    """The named object does not exist."""


class AlreadyExists(PermanentError):
    """An object with that name exists already."""


class Unauthenticated(PermanentError):
    """The caller's token or credential is missing, unknown, expired or revoked."""


class PermissionDenied(PermanentError):
    """The caller is known but may not do this."""


class Overloaded(TemporaryError):
    """The caller fell behind or asked for more than the hub gives at once (a slow watcher)."""
