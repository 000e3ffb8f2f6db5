"""An in-memory hub for the verbs' unit tests: no channel, no socket.

`FakeStub` records every RPC a command makes and answers from canned responses; `FakeHub`
hands it out as `cli.client.Hub` does a real stub.
"""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, cast

from google.protobuf.message import Message

from argosy.api.v1 import fleet_pb2_grpc
from cli.main import build_parser
from cli.parsing import handler


@dataclass
class Pages:
    """A paged RPC's answers, by the request's page_token ("" for the first)."""

    by_token: dict[str, Any]


class FakeStub:
    """FleetService in memory: `stub.X(request, timeout=...)` records (X, request) and returns
    `responses[X]` (None when none was given: the command ignores the reply). A streaming
    RPC's answer is a list of messages."""

    def __init__(self, **responses: Any) -> None:
        self.responses = responses
        self.calls: list[tuple[str, Message]] = []

    def __getattr__(self, rpc: str) -> Callable[..., Any]:
        if not rpc[:1].isupper():
            raise AttributeError(rpc)
        answer = self.responses.get(rpc)
        if isinstance(answer, list):
            return lambda request, **_: self._stream(rpc, request, answer)
        return lambda request, **_: self._unary(rpc, request, answer)

    async def _unary(self, rpc: str, request: Message, answer: Any) -> Any:
        # A copy: a paging loop reuses its request, changing page_token.
        self.calls.append((rpc, _copy(request)))
        if isinstance(answer, Pages):
            return answer.by_token[cast(Any, request).page_token]
        return answer

    async def _stream(self, rpc: str, request: Message, answer: list[Any]) -> AsyncIterator[Any]:
        self.calls.append((rpc, request))
        for message in answer:
            yield message

    def rpcs(self) -> list[str]:
        return [rpc for rpc, _ in self.calls]


@dataclass
class FakeHub:
    fake: FakeStub = field(default_factory=FakeStub)
    address: str = "hub.test:7443"
    ca_pem: bytes = b""
    opened: int = 0

    @asynccontextmanager
    async def stub(self) -> AsyncIterator[fleet_pb2_grpc.FleetServiceAsyncStub]:
        self.opened += 1
        yield cast("fleet_pb2_grpc.FleetServiceAsyncStub", self.fake)  # a .pyi-only type


def parse(*argv: str) -> argparse.Namespace:
    """The command line as `argosy` parses it (the real root parser and registry)."""
    return build_parser().parse_args(argv)


def run(hub: FakeHub, *argv: str) -> Awaitable[None]:
    """Run `argosy ARGV...` against the fake hub, as cli.main's dispatch does."""
    args = parse(*argv)
    command = handler(args)
    assert command is not None, argv
    return command(args, hub)


def _copy(request: Message) -> Message:
    out = type(request)()
    out.CopyFrom(request)
    return out
