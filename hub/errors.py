"""The one place where Argosy errors become gRPC status codes.

Permanent errors carry their own message to the caller. Anything unexpected becomes INTERNAL,
is logged once with its traceback, and never takes the hub down.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc

from argosy.errors import (
    AlreadyExists,
    ArgosyError,
    InvalidInput,
    NotFound,
    Overloaded,
    PermissionDenied,
    TemporaryError,
    Unauthenticated,
)

log = logging.getLogger(__name__)

_CODES: tuple[tuple[type[ArgosyError], grpc.StatusCode], ...] = (
    (InvalidInput, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (Overloaded, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (TemporaryError, grpc.StatusCode.UNAVAILABLE),
    (ArgosyError, grpc.StatusCode.FAILED_PRECONDITION),
)


def status_for(exc: BaseException) -> tuple[grpc.StatusCode, str]:
    for kind, code in _CODES:
        if isinstance(exc, kind):
            return code, str(exc)
    return grpc.StatusCode.INTERNAL, "internal error; see the hub log"


R = TypeVar("R")
Handler = Callable[..., Awaitable[R]]


def grpc_errors(fn: Handler[R]) -> Handler[R]:
    """Wrap a servicer method so every error leaves as the right gRPC status."""

    @functools.wraps(fn)
    async def wrapper(self: Any, request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> R:
        try:
            return await fn(self, request, context)
        except grpc.aio.AbortError:
            raise
        except ArgosyError as exc:
            code, message = status_for(exc)
            await context.abort(code, message)
        except Exception:
            log.exception("%s failed", fn.__name__)
            await context.abort(grpc.StatusCode.INTERNAL, "internal error; see the hub log")
        raise AssertionError("unreachable: abort raises")

    return wrapper
