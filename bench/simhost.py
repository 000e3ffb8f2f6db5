"""One simulator process: many real spokes (spoke.app.Spoke on the simulated backend).

Every spoke keeps its own grpc.aio channel and so its own TCP connection, as a spoke process
would: the channels get a local subchannel pool, because gRPC otherwise shares one connection
between channels of one process that have the same target and arguments. Nothing is written to
disk per spoke (data_dir=None).

The driver sends commands on stdin (see bench.control); this process answers on stdout.

With --ca each spoke registers with the token over TLS (its own key and CSR) and streams over
mTLS with the certificate the hub signed, as `argosy spoke --ca` does; without it, plaintext.

Usage: python -m bench.simhost --hub HOST:PORT --token T --first 0 --count 2500 [--cpus 1]
       [--ca HUB-CA.pem]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import logging
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import spoke.link
from argosy.api.v1 import spoke_pb2
from argosy.runtime import setup_logging
from bench.control import pin_cpus, raise_fd_limit, serve_commands
from spoke.app import Settings, Spoke
from spoke.backends.simulated import SimulatedCluster

log = logging.getLogger("bench.simhost")

# One connection per channel, as real spokes (one per process) have.
spoke.link.CHANNEL_OPTIONS = [
    *spoke.link.CHANNEL_OPTIONS,
    ("grpc.use_local_subchannel_pool", 1),
]


class Received:
    """What one simulator's spokes received from the hub, counted in on_message."""

    def __init__(self) -> None:
        self.full = 0
        self.diff = 0
        self.sizes: dict[str, dict[str, list[int]]] = {}
        self.samples: dict[str, bytes] = {}

    def on_message(self, msg: spoke_pb2.ConnectResponse) -> None:
        if msg.WhichOneof("msg") != "upsert":
            return
        up = msg.upsert
        kind = "diff" if up.base_revision else "full"
        if up.base_revision:
            self.diff += 1
        else:
            self.full += 1
        span = self.sizes.setdefault(up.bundle, {}).setdefault(kind, [1 << 62, 0])
        size = msg.ByteSize()
        span[0], span[1] = min(span[0], size), max(span[1], size)
        if kind == "full" and up.bundle not in self.samples:
            self.samples[up.bundle] = msg.SerializeToString()


class SimHost:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.received = Received()
        self.spokes: list[Spoke] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.connect_task: asyncio.Task[None] | None = None
        self.failed = 0

    def names(self) -> list[str]:
        a = self.args
        return [f"{a.prefix}{i:05d}" for i in range(a.first, a.first + a.count)]

    async def connect(self, concurrency: int) -> None:
        """Start every spoke, at most `concurrency` of them still waiting for their welcome."""
        gate = asyncio.Semaphore(concurrency)
        a = self.args

        async def start(name: str) -> None:
            try:
                s = Spoke(
                    Settings(
                        hub=a.hub,
                        name=name,
                        labels={"bench": "fleet", "host": str(os.getpid())},
                        token=a.token,
                        data_dir=None,
                        simulate=True,
                        ready_delay=a.ready_delay,
                        report_window=a.report_window,
                        # With --ca: register with the token over TLS, then stream over mTLS
                        # with the certificate the hub signed, as deployed spokes do.
                        ca=a.ca,
                        insecure=a.ca is None,
                    ),
                    on_message=self.received.on_message,
                )
                self.spokes.append(s)
                self.tasks.append(asyncio.create_task(self._run(s), name=f"spoke-{name}"))
                try:
                    await asyncio.wait_for(s.link.connected.wait(), a.connect_timeout)
                except TimeoutError:
                    self.failed += 1
            finally:
                gate.release()

        async with asyncio.TaskGroup() as tg:
            for name in self.names():
                await gate.acquire()
                tg.create_task(start(name), name=f"start-{name}")

    @staticmethod
    async def _run(s: Spoke) -> None:
        try:
            await s.run()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("spoke %s failed", s.settings.name)

    def status(self) -> Mapping[str, Any]:
        r = self.received
        return {
            "started": len(self.spokes),
            "connected": sum(1 for s in self.spokes if s.link.connected.is_set()),
            "streams_opened": sum(s.link.streams_opened for s in self.spokes),
            "reports_sent": sum(s.reporter.reports_sent for s in self.spokes),
            "full": r.full,
            "diff": r.diff,
            "sizes": r.sizes,
            "connect_failures": self.failed,
        }

    async def drift(
        self, *, key: str, field: str, rounds: int, interval: float
    ) -> Mapping[str, Any]:
        """Change one live object on every cluster, `rounds` times, `interval` apart (bounded)."""
        injected = 0
        started = time.monotonic()
        for r in range(rounds):
            due = started + r * interval
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            for i, s in enumerate(self.spokes):
                cluster = s.backend
                if isinstance(cluster, SimulatedCluster) and key in cluster.objects:
                    cluster.inject_drift(key, {"data": {field: f"drift-{r}"}})
                    injected += 1
                if i % 64 == 63:
                    await asyncio.sleep(0)  # let the reports flow while we inject
        return {"injected": injected, "seconds": time.monotonic() - started}

    async def handle(self, cmd: Mapping[str, Any]) -> Mapping[str, Any]:
        name = cmd["cmd"]
        if name == "connect":
            self.connect_task = asyncio.create_task(
                self.connect(int(cmd.get("concurrency", 200))), name="connect"
            )
            return {}
        if name == "status":
            return self.status()
        if name == "mark":
            self.received.full = self.received.diff = 0
            return {}
        if name == "sample":
            data = self.received.samples.get(cmd["bundle"], b"")
            return {"data": base64.b64encode(data).decode()}
        if name == "drift":
            return await self.drift(
                key=cmd["key"],
                field=cmd["field"],
                rounds=int(cmd["rounds"]),
                interval=float(cmd["interval"]),
            )
        raise ValueError(f"unknown command {name!r}")

    async def close(self) -> None:
        if self.connect_task is not None:
            self.connect_task.cancel()
        for t in self.tasks:
            t.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*self.tasks, return_exceptions=True), 10)


async def serve(args: argparse.Namespace) -> None:
    host = SimHost(args)
    try:
        await serve_commands(host.handle)
    finally:
        await host.close()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.simhost")
    p.add_argument("--hub", required=True, help="HOST:PORT of the hub")
    p.add_argument("--token", required=True, help="registration token")
    p.add_argument("--first", type=int, default=0, help="index of this host's first spoke")
    p.add_argument("--count", type=int, required=True, help="spokes in this process")
    p.add_argument("--prefix", default="sim-", help="spoke names are PREFIX00000, ...")
    p.add_argument("--ready-delay", type=float, default=0.05)
    p.add_argument("--report-window", type=float, default=0.1)
    p.add_argument("--connect-timeout", type=float, default=120.0)
    p.add_argument("--cpus", default="", help="pin to these CPUs, e.g. 1")
    p.add_argument(
        "--ca", type=Path, default=None, help="hub CA (PEM): TLS and mTLS; without it plaintext"
    )
    p.add_argument("--log-level", default="WARNING")
    args = p.parse_args()
    pin_cpus(args.cpus)
    raise_fd_limit()
    setup_logging(args.log_level)
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
