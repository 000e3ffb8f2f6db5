"""The raw limit: one asyncio TCP server writing the same bytes to N plain connections.

It is the floor for the hub's fan-out on the same machine in the same run: no HTTP/2, no
protobuf, no application work. The server writes one length-prefixed frame to every
connection and times, per connection, until that client's one-byte ack is read back, the same
round trip as "hub sends an upsert, spoke acks it". Clients live in separate processes, like
the simulated spokes.

Usage: python -m bench.rawfanout server [--cpus 0]
       python -m bench.rawfanout clients --port P --count K [--rounds R] [--cpus 1]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import struct
import time
from collections.abc import Mapping
from typing import Any

from bench.control import emit, pin_cpus, raise_fd_limit, serve_commands

HEADER = struct.Struct("!I")


class Server:
    def __init__(self) -> None:
        self.conns: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.server: asyncio.Server | None = None

    async def on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.conns.append((reader, writer))

    async def fanout(self, payload: bytes, timeout: float) -> list[float]:
        """Write payload to every connection; seconds from the first write to each ack."""
        frame = HEADER.pack(len(payload)) + payload
        started = time.monotonic()
        done: list[float] = []

        async def ack(reader: asyncio.StreamReader) -> None:
            await reader.readexactly(1)
            done.append(time.monotonic() - started)

        acks = [asyncio.create_task(ack(r)) for r, _ in self.conns]
        for _, w in self.conns:
            w.write(frame)
        try:
            await asyncio.wait_for(asyncio.gather(*acks), timeout)
        finally:
            for t in acks:
                t.cancel()
        return sorted(done)

    async def handle(self, cmd: Mapping[str, Any]) -> Mapping[str, Any]:
        if cmd["cmd"] == "listen":
            self.server = await asyncio.start_server(self.on_client, "127.0.0.1", 0, backlog=4096)
            return {"port": self.server.sockets[0].getsockname()[1]}
        if cmd["cmd"] == "count":
            return {"connections": len(self.conns)}
        if cmd["cmd"] == "fanout":
            payload = base64.b64decode(cmd["payload"])
            return {"acks": await self.fanout(payload, float(cmd.get("timeout", 120)))}
        raise ValueError(f"unknown command {cmd['cmd']!r}")


class Clients:
    def __init__(self, port: int, count: int, rounds: int, concurrency: int = 200) -> None:
        self.port, self.count, self.rounds, self.concurrency = port, count, rounds, concurrency
        self.connected = 0
        self.tasks: list[asyncio.Task[None]] = []

    async def connect(self) -> None:
        gate = asyncio.Semaphore(self.concurrency)
        ready: list[asyncio.Future[None]] = []
        for _ in range(self.count):
            await gate.acquire()
            fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            ready.append(fut)
            fut.add_done_callback(lambda _: gate.release())
            self.tasks.append(asyncio.create_task(self.client(fut)))
        await asyncio.gather(*ready)

    async def client(self, ready: asyncio.Future[None]) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        self.connected += 1
        ready.set_result(None)
        try:
            for _ in range(self.rounds):  # one ack per frame, a bounded number of rounds
                (size,) = HEADER.unpack(await reader.readexactly(HEADER.size))
                await reader.readexactly(size)
                writer.write(b"k")
                await writer.drain()
            await reader.read(1)  # the server closing
        finally:
            writer.close()

    async def handle(self, cmd: Mapping[str, Any]) -> Mapping[str, Any]:
        if cmd["cmd"] == "connect":
            await self.connect()
            return {"connected": self.connected}
        raise ValueError(f"unknown command {cmd['cmd']!r}")

    def close(self) -> None:
        for t in self.tasks:
            t.cancel()


async def run_server() -> None:
    server = Server()
    try:
        await serve_commands(server.handle)
    finally:
        for _, w in server.conns:
            w.close()
        if server.server is not None:
            server.server.close()


async def run_clients(port: int, count: int, rounds: int) -> None:
    clients = Clients(port, count, rounds)
    emit({"event": "started"})
    try:
        await serve_commands(clients.handle)
    finally:
        clients.close()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.rawfanout")
    p.add_argument("role", choices=["server", "clients"])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--rounds", type=int, default=1, help="frames each client acks, then stops")
    p.add_argument("--cpus", default="")
    args = p.parse_args()
    pin_cpus(args.cpus)
    raise_fd_limit()
    if args.role == "server":
        asyncio.run(run_server())
    else:
        asyncio.run(run_clients(args.port, args.count, args.rounds))


if __name__ == "__main__":
    main()
