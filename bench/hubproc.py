"""The measured hub: `argosy hub` itself, plus a stdin/stdout window onto its counters.

It parses the same flags and builds the same `hub.app.Hub` as `argosy hub`. The only additions
are observers that cost a dict write per event:
- the monotonic time (CLOCK_MONOTONIC, comparable across processes on one machine) at which the
  hub *read* each cluster's ack of a tracked bundle, taken inside `Fleet.on_ack`, and at which
  its session had handed the upsert to gRPC (`Fleet.on_sent`, called after the stream write);
- a count of status reports and when they were read, inside `Fleet.on_status`;
- `PayloadCache.counters` (full and diff sends, bytes) and the sessions' sync state on demand.

Usage: python -m bench.hubproc [--cpus 0] -- <argosy hub flags>
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import time
from collections.abc import Iterable, Mapping
from typing import Any

from argosy.runtime import setup_logging
from argosy.tasks import install_stop_signals
from bench.control import emit, pin_cpus, raise_fd_limit, serve_commands
from hub.app import Hub, parse_settings
from hub.fleet import Fleet, StatusUpdate


class Observer:
    """What the bench reads from inside the hub process."""

    def __init__(self) -> None:
        self.tracked: dict[str, dict[str, float]] = {}
        self.sent: dict[str, dict[str, float]] = {}
        self.ack_errors: dict[str, int] = {}
        self.status_reports = 0
        self.status_first = 0.0
        self.status_last = 0.0

    def install(self) -> None:
        on_ack, on_status, on_sent = Fleet.on_ack, Fleet.on_status, Fleet.on_sent
        observer = self

        def observed_sent(self: Fleet, cluster_id: str, bundle: str, revision: str) -> None:
            sent = observer.sent.get(bundle)
            if sent is not None and cluster_id not in sent:
                sent[cluster_id] = time.monotonic()
            on_sent(self, cluster_id, bundle, revision)

        def observed_ack(
            self: Fleet, cluster_id: str, *, bundle: str, revision: str, error: str
        ) -> None:
            acks = observer.tracked.get(bundle)
            if acks is not None and revision and cluster_id not in acks:
                acks[cluster_id] = time.monotonic()
                if error:
                    observer.ack_errors[bundle] = observer.ack_errors.get(bundle, 0) + 1
            on_ack(self, cluster_id, bundle=bundle, revision=revision, error=error)

        def observed_status(self: Fleet, cluster_id: str, updates: Iterable[StatusUpdate]) -> None:
            now = time.monotonic()
            observer.status_reports += 1
            observer.status_first = observer.status_first or now
            observer.status_last = now
            on_status(self, cluster_id, updates)

        Fleet.on_ack = observed_ack  # type: ignore[method-assign]
        Fleet.on_status = observed_status  # type: ignore[method-assign]
        Fleet.on_sent = observed_sent  # type: ignore[method-assign]


async def handle(hub: Hub, observer: Observer, cmd: Mapping[str, Any]) -> Mapping[str, Any]:
    name = cmd["cmd"]
    if name == "ping":
        await hub.ready.wait()
        return {"port": hub.port}
    if name == "track":
        observer.tracked[cmd["bundle"]] = {}
        observer.sent[cmd["bundle"]] = {}
        observer.ack_errors.pop(cmd["bundle"], None)
        return {}
    if name == "acks":
        acks = observer.tracked.get(cmd["bundle"], {})
        sent = observer.sent.get(cmd["bundle"], {})
        times = bool(cmd.get("times"))
        return {
            "count": len(acks),
            "errors": observer.ack_errors.get(cmd["bundle"], 0),
            "times": sorted(acks.values()) if times else [],
            "sent": sorted(sent.values()) if times else [],
            # Per cluster, from the hub's hand-off to its reading the ack: the spoke's part
            # (network, the spoke's work, its ack) of that cluster's propagation.
            "lag": sorted(t - sent[c] for c, t in acks.items() if c in sent) if times else [],
        }
    if name == "reset_status":
        observer.status_reports, observer.status_first, observer.status_last = 0, 0.0, 0.0
        return {}
    if name == "stats":
        fleet, payloads = hub.fleet, hub.payloads
        return {
            "sends": (
                {**dataclasses.asdict(payloads.counters), "bytes": payloads.counters.bytes}
                if payloads
                else {}
            ),
            "status_reports": observer.status_reports,
            "status_first": observer.status_first,
            "status_last": observer.status_last,
            "connected": len(fleet._listeners) if fleet else 0,
        }
    if name == "sync":
        return sync_state(hub.fleet, cmd.get("bundles", []))
    raise ValueError(f"unknown command {name!r}")


def sync_state(fleet: Fleet | None, bundles: list[str]) -> Mapping[str, Any]:
    """How many clusters are connected, and how many of those hold every bundle given, acked."""
    if fleet is None:
        return {"connected": 0, "in_sync": 0}
    in_sync = 0
    for cluster_id in fleet._listeners:
        deps = fleet.desired(cluster_id)
        if all(b in deps and deps[b].acked == deps[b].desired for b in bundles):
            in_sync += 1
    return {"connected": len(fleet._listeners), "in_sync": in_sync}


async def serve(argv: list[str]) -> None:
    settings = parse_settings(argv)
    setup_logging(settings.log_level)
    observer = Observer()
    observer.install()
    hub = Hub(settings)
    install_stop_signals(hub.stop)
    run = asyncio.create_task(hub.run(), name="hub")
    commands = asyncio.create_task(
        serve_commands(lambda cmd: handle(hub, observer, cmd)), name="bench-commands"
    )
    ready = asyncio.create_task(hub.ready.wait(), name="hub-ready")
    await asyncio.wait({run, ready}, return_when=asyncio.FIRST_COMPLETED)
    if hub.ready.is_set():
        emit({"event": "ready", "port": hub.port, "spoke_port": hub.spoke_port})
    await asyncio.wait({run, commands}, return_when=asyncio.FIRST_COMPLETED)
    hub.stop.set()
    await run
    commands.cancel()
    ready.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.hubproc")
    parser.add_argument("--cpus", default="", help="pin to these CPUs, e.g. 0")
    args, rest = parser.parse_known_args()
    if rest[:1] == ["--"]:
        rest = rest[1:]
    pin_cpus(args.cpus)
    raise_fd_limit()
    asyncio.run(serve(rest))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
