"""The CLI's connection to a hub, and the translation of gRPC failures into user messages.

Where to connect and how to authenticate come from a context (--config FILE, $ARGOSY_CONFIG,
or ~/.config/argosy/config.yaml): the hub address, the hub CA and an admin token. --hub /
$ARGOSY_HUB override the address. A context without a CA means a hub run with --insecure.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import grpc

from argosy import config
from argosy.api.v1 import fleet_pb2_grpc

DEFAULT_HUB = "127.0.0.1:7443"


class UserError(Exception):
    """Exit 1 with this message."""


class Hub(Protocol):
    """What a command needs of its hub: where it is, the CA it trusts, and a stub to call it.

    `Target` is the real one; unit tests of the commands pass a fake with an in-memory stub.
    """

    @property
    def address(self) -> str: ...

    @property
    def ca_pem(self) -> bytes: ...

    def stub(self) -> AbstractAsyncContextManager[fleet_pb2_grpc.FleetServiceAsyncStub]: ...


@dataclass(frozen=True)
class Target:
    """A hub as a context (or the flags) names it."""

    address: str
    ca_pem: bytes = b""
    token: str = field(default="", repr=False)

    def stub(self) -> AbstractAsyncContextManager[fleet_pb2_grpc.FleetServiceAsyncStub]:
        """A channel to the hub for one command; gRPC failures inside become UserError."""
        return fleet_stub(self)


def config_path(flag: Path | None) -> Path:
    return flag or config.default_path()


MAX_MESSAGE_BYTES = 64 * 1024 * 1024


def resolve(hub_flag: str | None, config_flag: Path | None) -> Target:
    ctx = config.load(config_path(config_flag)).context()
    address = hub_flag or os.environ.get("ARGOSY_HUB") or (ctx.hub if ctx else "") or DEFAULT_HUB
    token = os.environ.get("ARGOSY_TOKEN") or (ctx.token if ctx else "")
    return Target(address=address, ca_pem=(ctx.ca.encode() if ctx else b""), token=token)


def explain(exc: grpc.aio.AioRpcError, hub: str) -> UserError:
    code = exc.code()
    if code == grpc.StatusCode.UNAVAILABLE:
        return UserError(f"cannot reach the hub at {hub}: {exc.details()}")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return UserError(f"the hub at {hub} did not answer in time")
    return UserError(exc.details() or code.name)


def channel(target: Target) -> grpc.aio.Channel:
    # The hub's limits (hub/app.py SERVER_OPTIONS): a dry run's reply of a large fleet is
    # well past gRPC's default 4 MiB for receiving.
    options = [
        ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
        ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ]
    if not target.ca_pem:
        return grpc.aio.insecure_channel(target.address, options=options)
    creds = grpc.ssl_channel_credentials(root_certificates=target.ca_pem)
    if target.token:
        creds = grpc.composite_channel_credentials(
            creds, grpc.access_token_call_credentials(target.token)
        )
    return grpc.aio.secure_channel(target.address, creds, options=options)


@asynccontextmanager
async def fleet_stub(target: Target) -> AsyncIterator[fleet_pb2_grpc.FleetServiceAsyncStub]:
    async with channel(target) as chan:
        try:
            yield fleet_pb2_grpc.FleetServiceStub(chan)
        except grpc.aio.AioRpcError as exc:
            raise explain(exc, target.address) from None
