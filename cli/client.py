"""The CLI's connection to a hub, and the translation of gRPC failures into user messages."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import grpc

from argosy.api.v1 import fleet_pb2_grpc

DEFAULT_HUB = "127.0.0.1:7443"


class UserError(Exception):
    """Exit 1 with this message."""


def hub_address(flag: str | None) -> str:
    return flag or os.environ.get("ARGOSY_HUB") or DEFAULT_HUB


def explain(exc: grpc.aio.AioRpcError, hub: str) -> UserError:
    code = exc.code()
    if code == grpc.StatusCode.UNAVAILABLE:
        return UserError(f"cannot reach the hub at {hub}: {exc.details()}")
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return UserError(f"the hub at {hub} did not answer in time")
    return UserError(exc.details() or code.name)


@asynccontextmanager
async def fleet_stub(hub: str) -> AsyncIterator[fleet_pb2_grpc.FleetServiceAsyncStub]:
    async with grpc.aio.insecure_channel(
        hub, options=[("grpc.max_send_message_length", 64 * 1024 * 1024)]
    ) as channel:
        try:
            yield fleet_pb2_grpc.FleetServiceStub(channel)
        except grpc.aio.AioRpcError as exc:
            raise explain(exc, hub) from None
