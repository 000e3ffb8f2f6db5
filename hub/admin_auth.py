"""Who may call the admin API: bearer tokens with a role, checked in one interceptor.

`admin` may do everything; `viewer` may read and watch. No token, or an unknown or revoked
one, is UNAUTHENTICATED; a viewer calling a write is PERMISSION_DENIED. Tokens are stored
hashed; a short cache keeps the store out of every call.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any

import grpc

from argosy.errors import InvalidInput, NotFound
from hub.core import auth
from hub.models import AdminTokenRecord
from hub.persistence.protocol import Store

ROLES = ("admin", "viewer")
ADMIN_TOKEN_PREFIX = "argosy-adm-"
SERVICE_PREFIX = "/argosy.api.v1.FleetService/"
READ_METHODS = frozenset(
    {
        "GetBundle",
        "ListBundles",
        "ListClusters",
        "ListGroups",
        "ListTokens",
        "GetStatus",
        "WatchStatus",
        "GetRepo",
        "ListRepos",
        "ListSecrets",
        "ListEvents",
        "WatchEvents",
        "GetBundleHistory",
        "GetVersion",
        "GetBundleDiff",
    }
)
CACHE_SECONDS = 10.0
UNKNOWN_CACHE = 256
"""Unknown tokens remembered (the oldest dropped first): anyone can send one, so a bounded
few spare the store a burst of retries without letting strangers grow the hub's memory."""


class AdminAuth:
    def __init__(self, store: Store, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._store = store
        self._clock = clock
        # Known tokens (few: the store's) and unknown ones (any client's), by digest, with the
        # monotonic time each entry expires; unknown ones in the order they expire.
        self._cache: dict[str, tuple[AdminTokenRecord, float]] = {}
        self._unknown: OrderedDict[str, float] = OrderedDict()

    async def create(self, role: str) -> tuple[AdminTokenRecord, str]:
        if role not in ROLES:
            raise InvalidInput(f"role {role!r} is not one of {', '.join(ROLES)}")
        token_id = auth.new_id("a-")
        secret = f"{ADMIN_TOKEN_PREFIX}{token_id}.{secrets.token_urlsafe(32)}"
        record = AdminTokenRecord(token_id, auth.hash_secret(secret), role, int(time.time()))
        await self._store.put_admin_token(record)
        return record, secret

    async def list(self) -> list[AdminTokenRecord]:
        return await self._store.list_admin_tokens()

    async def revoke(self, token_id: str) -> None:
        for record in await self._store.list_admin_tokens():
            if record.id == token_id:
                await self._store.put_admin_token(replace(record, revoked=True))
                # Effective at once here; other replicas drop it within CACHE_SECONDS.
                self._cache.clear()
                self._unknown.clear()
                return
        raise NotFound(f"admin token {token_id!r} not found")

    async def role_of(self, token: str) -> str | None:
        digest = auth.hash_secret(token)
        now = self._clock()
        hit = self._cache.get(digest)
        if hit is not None and hit[1] >= now:
            return None if hit[0].revoked else hit[0].role
        expires = self._unknown.get(digest)
        if expires is not None and expires >= now:
            return None
        record = await self._store.get_admin_token(digest)
        self._prune(now)
        if record is None:
            self._unknown[digest] = now + CACHE_SECONDS
            self._unknown.move_to_end(digest)
            while len(self._unknown) > UNKNOWN_CACHE:
                self._unknown.popitem(last=False)
            return None
        self._unknown.pop(digest, None)
        self._cache[digest] = (record, now + CACHE_SECONDS)
        return None if record.revoked else record.role

    def _prune(self, now: float) -> None:
        """Drop expired entries (on a store read: at most one per token per CACHE_SECONDS)."""
        for digest in [d for d, (_, expires) in self._cache.items() if expires < now]:
            del self._cache[digest]
        while self._unknown:
            digest, expires = next(iter(self._unknown.items()))
            if expires >= now:
                break
            del self._unknown[digest]

    def cached(self) -> int:
        """How many token digests are remembered (known and unknown; for tests and leaks)."""
        return len(self._cache) + len(self._unknown)


def caller(metadata: Iterable[tuple[str, str | bytes]] | None) -> str:
    """Who made a call, for history and events: `token/<id>` of the admin token, or
    `anonymous`. Pure: the interceptor already refused calls whose token is unknown, so the
    id in the secret's prefix can be trusted here; only there. Without the interceptor (an
    --insecure hub) FleetService does not call this (anyone could name any token)."""
    return token_actor(auth.bearer(metadata))


def token_actor(token: str) -> str:
    """`token/<id>` of an admin token, `anonymous` for anything else (pure; the caller has
    checked the token already): the dashboard's writes are recorded as the API's are."""
    if not token.startswith(ADMIN_TOKEN_PREFIX):
        return "anonymous"
    token_id, _, _ = token.removeprefix(ADMIN_TOKEN_PREFIX).partition(".")
    return f"token/{token_id}" if token_id else "anonymous"


def decide(role: str | None, method: str) -> tuple[grpc.StatusCode, str] | None:
    """None when the call may go ahead, else the status to refuse it with (pure)."""
    if role is None:
        return grpc.StatusCode.UNAUTHENTICATED, (
            "an admin token is required: argosy login, or --config/ARGOSY_CONFIG with the "
            "hub's admin.yaml"
        )
    if role != "admin" and method not in READ_METHODS:
        return grpc.StatusCode.PERMISSION_DENIED, f"role {role!r} may not call {method}"
    return None


class AuthInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, admin_auth: AdminAuth) -> None:
        self._auth = admin_auth

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        method_path = handler_call_details.method
        if handler is None or not method_path.startswith(SERVICE_PREFIX):
            return handler
        token = auth.bearer(handler_call_details.invocation_metadata)
        role = await self._auth.role_of(token) if token else None
        refusal = decide(role, method_path.removeprefix(SERVICE_PREFIX))
        return handler if refusal is None else _refuse(handler, *refusal)


def _refuse(handler: Any, code: grpc.StatusCode, message: str) -> grpc.RpcMethodHandler[Any, Any]:
    async def unary(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        await context.abort(code, message)

    async def stream(
        request: Any, context: grpc.aio.ServicerContext[Any, Any]
    ) -> AsyncIterator[Any]:
        await context.abort(code, message)
        yield  # pragma: no cover  (abort raises; this makes the function a generator)

    kwargs = {
        "request_deserializer": handler.request_deserializer,
        "response_serializer": handler.response_serializer,
    }
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(stream, **kwargs)
    return grpc.unary_unary_rpc_method_handler(unary, **kwargs)
