"""The grpc.aio floor: a bare grpc.aio server fanning the same bytes out to N streams.

It is what the hub's fan-out costs with nothing of the hub in it: the same library (grpc.aio),
the same transport (mTLS with a client certificate per connection, or plaintext), the same
message bytes (the propagated upsert as a spoke received it, written with an identity
serializer as the hub's sessions write theirs), one bidirectional stream per client
connection, one writer task per stream draining a queue as a `SpokeSession` does. No
rendering, no store, no bookkeeping. Per stream it records when `context.write` returned (the
hand-off, as the hub's `Fleet.on_sent`) and when that client's one-byte ack was read (as
`Fleet.on_ack`). Clients live in separate processes, like the simulated spokes.

Usage: python -m bench.grpcfloor server [--tls DIR] [--cpus 0]
       python -m bench.grpcfloor clients --port P --count K [--tls DIR] [--cpus 1]

DIR holds ca.pem, server.pem, server-key.pem, client.pem, client-key.pem (`write_certs`).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import grpc

import hub.app
from argosy import pki
from bench.control import emit, pin_cpus, raise_fd_limit, serve_commands

METHOD = "/bench.Floor/Connect"
# The hub's own server options (message limits, TLS record size): the same transport.
SERVER_OPTIONS = hub.app.SERVER_OPTIONS
OPTIONS = [
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
]


def _identity(b: bytes) -> bytes:
    return b


def write_certs(directory: Path) -> None:
    """A CA, a serving certificate for 127.0.0.1 and one client certificate, as PEM files."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = pki.new_ca("bench-floor-ca")
    server = pki.server_cert(ca, ["127.0.0.1", "localhost"])
    key = pki.new_key()
    client = pki.sign_cluster_csr(ca, pki.cluster_csr(key, "floor"), cluster_id="floor", days=1)
    for name, data in {
        "ca.pem": ca.cert_pem,
        "server.pem": server.cert_pem,
        "server-key.pem": server.key_pem,
        "client.pem": client,
        "client-key.pem": pki.key_pem(key),
    }.items():
        (directory / name).write_bytes(data)


class Server:
    def __init__(self, tls: Path | None) -> None:
        self.tls = tls
        self.queues: list[asyncio.Queue[tuple[bytes, float]]] = []
        self.sent: list[float] = []
        self.acks: list[float] = []
        self.expected = 0
        self.all_acked = asyncio.Event()
        self.server: grpc.aio.Server | None = None

    async def connect(self, requests: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        await anext(aiter(requests))  # the hello
        queue: asyncio.Queue[tuple[bytes, float]] = asyncio.Queue(maxsize=16)
        await context.write(b"welcome")
        self.queues.append(queue)

        async def write() -> None:
            while True:
                payload, started = await queue.get()
                await context.write(payload)
                self.sent.append(time.monotonic() - started)

        writer = asyncio.create_task(write(), name="floor-write")
        try:
            async for _ in requests:
                self.acks.append(time.monotonic())
                if len(self.acks) >= self.expected:
                    self.all_acked.set()
        finally:
            writer.cancel()
            self.queues.remove(queue)

    async def listen(self) -> int:
        handler = grpc.method_handlers_generic_handler(
            "bench.Floor",
            {
                "Connect": grpc.stream_stream_rpc_method_handler(
                    self.connect, request_deserializer=_identity, response_serializer=_identity
                )
            },
        )
        self.server = grpc.aio.server(options=SERVER_OPTIONS)
        self.server.add_generic_rpc_handlers((handler,))
        if self.tls is None:
            port = self.server.add_insecure_port("127.0.0.1:0")
        else:
            creds = grpc.ssl_server_credentials(
                [
                    (
                        (self.tls / "server-key.pem").read_bytes(),
                        (self.tls / "server.pem").read_bytes(),
                    )
                ],
                root_certificates=(self.tls / "ca.pem").read_bytes(),
                require_client_auth=True,
            )
            port = self.server.add_secure_port("127.0.0.1:0", creds)
        await self.server.start()
        return port

    async def fanout(self, payload: bytes, timeout: float) -> Mapping[str, list[float]]:
        """Queue payload for every stream; seconds from the start to each hand-off and ack."""
        self.sent, self.acks = [], []
        self.expected = len(self.queues)
        self.all_acked.clear()
        started = time.monotonic()
        for q in list(self.queues):
            q.put_nowait((payload, started))
        await asyncio.wait_for(self.all_acked.wait(), timeout)
        return {"sent": sorted(self.sent), "acks": sorted(t - started for t in self.acks)}

    async def handle(self, cmd: Mapping[str, Any]) -> Mapping[str, Any]:
        if cmd["cmd"] == "listen":
            return {"port": await self.listen()}
        if cmd["cmd"] == "count":
            return {"connections": len(self.queues)}
        if cmd["cmd"] == "fanout":
            payload = base64.b64decode(cmd["payload"])
            return await self.fanout(payload, float(cmd.get("timeout", 120)))
        raise ValueError(f"unknown command {cmd['cmd']!r}")


class Clients:
    def __init__(self, port: int, count: int, tls: Path | None, concurrency: int = 200) -> None:
        self.port, self.count, self.tls, self.concurrency = port, count, tls, concurrency
        self.tasks: list[asyncio.Task[None]] = []
        self.connected = 0

    def channel(self) -> grpc.aio.Channel:
        # One connection per client, as every spoke has its own.
        options = [*OPTIONS, ("grpc.use_local_subchannel_pool", 1)]
        target = f"127.0.0.1:{self.port}"
        if self.tls is None:
            return grpc.aio.insecure_channel(target, options=options)
        creds = grpc.ssl_channel_credentials(
            root_certificates=(self.tls / "ca.pem").read_bytes(),
            private_key=(self.tls / "client-key.pem").read_bytes(),
            certificate_chain=(self.tls / "client.pem").read_bytes(),
        )
        return grpc.aio.secure_channel(target, creds, options=options)

    async def connect(self) -> None:
        gate = asyncio.Semaphore(self.concurrency)
        ready: list[asyncio.Future[None]] = []
        for _ in range(self.count):
            await gate.acquire()
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            fut.add_done_callback(lambda _: gate.release())
            ready.append(fut)
            self.tasks.append(asyncio.create_task(self.client(fut), name="floor-client"))
        await asyncio.wait_for(asyncio.gather(*ready), 300)

    async def client(self, ready: asyncio.Future[None]) -> None:
        async with self.channel() as channel:
            call = channel.stream_stream(
                METHOD, request_serializer=_identity, response_deserializer=_identity
            )()
            await call.write(b"hello")
            await call.read()  # the welcome
            self.connected += 1
            ready.set_result(None)
            while True:  # until the driver kills this process
                msg = await call.read()
                if msg is grpc.aio.EOF:
                    return
                await call.write(b"k")

    async def handle(self, cmd: Mapping[str, Any]) -> Mapping[str, Any]:
        if cmd["cmd"] == "connect":
            await self.connect()
            return {"connected": self.connected}
        raise ValueError(f"unknown command {cmd['cmd']!r}")


async def run_server(tls: Path | None) -> None:
    server = Server(tls)
    try:
        await serve_commands(server.handle)
    finally:
        if server.server is not None:
            await server.server.stop(0)


async def run_clients(port: int, count: int, tls: Path | None) -> None:
    clients = Clients(port, count, tls)
    emit({"event": "started"})
    try:
        await serve_commands(clients.handle)
    finally:
        for t in clients.tasks:
            t.cancel()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.grpcfloor")
    p.add_argument("role", choices=["server", "clients"])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--tls", type=Path, default=None, help="directory of PEMs; else plaintext")
    p.add_argument("--cpus", default="")
    args = p.parse_args()
    pin_cpus(args.cpus)
    raise_fd_limit()
    if args.role == "server":
        asyncio.run(run_server(args.tls))
    else:
        asyncio.run(run_clients(args.port, args.count, args.tls))


if __name__ == "__main__":
    main()
