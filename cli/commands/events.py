"""`argosy events [--bundle B] [--cluster C] [--kind K] [--limit N] [--since SEQ] [--watch]`:
the hub's event log, newest last; --watch keeps printing events as they happen.

A watch outlives its stream: when the hub ends it for falling behind (RESOURCE_EXHAUSTED) or
the connection drops (a hub restart: UNAVAILABLE), it resumes after the last event printed,
with jittered backoff, and says so on stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import grpc

from argosy.api.v1 import fleet_pb2, fleet_pb2_grpc
from argosy.runtime import STREAM_OPEN, backoff_delays
from cli import output
from cli.client import Hub, UserError
from cli.parsing import INT32_MAX, INT64_MAX, Subparsers, int_in, output_flag, runs

HEADERS = ["TIME", "KIND", "BUNDLE", "CLUSTER", "REVISION", "ACTOR", "MESSAGE"]
LIVE_WIDTHS = ["0" * 19, "DeploymentStateChanged", "b" * 24, "c" * 12, "r" * 12, "a" * 20, ""]
# Where a resumed watch starts: every event after the last one printed, up to the hub's
# maximum backlog (hub/core/events.py MAX_LIST, which the CLI cannot import).
RESUME_LIMIT = 10_000
# Ends of a stream that a new watch mends: too slow a reader, and a hub gone (restarting).
RESUMABLE = frozenset({grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE})


def add_parser(subparsers: Subparsers) -> None:
    events = runs(
        subparsers.add_parser(
            "events",
            help="the event log: applies, rollouts, clusters, deployment state changes",
        ),
        run,
    )
    events.add_argument("--bundle", default="", help="only this bundle's events")
    events.add_argument("--cluster", default="", help="only this cluster's events")
    events.add_argument(
        "--kind", default="", help="only events of this kind (BundleApplied, ClusterOffline, ...)"
    )
    events.add_argument(
        "--limit",
        type=int_in(0, INT32_MAX),
        default=100,
        help="how many events (default 100)",
    )
    events.add_argument(
        "--since",
        type=int_in(0, INT64_MAX),
        default=0,
        help="only events after this seq: the oldest --limit of them (without --since, "
        "the newest --limit)",
    )
    output_flag(events)
    events.add_argument(
        "--watch", "-w", action="store_true", help="then keep printing new events as they happen"
    )


def event_dict(e: fleet_pb2.Event) -> dict[str, Any]:
    return {
        "seq": e.seq,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(e.time_unix_ms / 1000))
        + f".{e.time_unix_ms % 1000:03d}Z",
        "kind": e.kind,
        "bundle": e.bundle,
        "cluster": e.cluster,
        "revision": e.revision,
        "actor": e.actor,
        "message": e.message,
    }


def row(d: dict[str, Any]) -> list[str]:
    # Seconds are enough to read by; the revision as short as git shows a commit.
    return [
        d["time"][:19].replace("T", " "),
        d["kind"],
        d["bundle"] or "-",
        d["cluster"] or "-",
        d["revision"][:12] or "-",
        d["actor"] or "-",
        d["message"],
    ]


def widths(rows: Sequence[Sequence[str]]) -> list[int]:
    return [max(len(r[i]) for r in [HEADERS, *rows]) for i in range(len(HEADERS))]


def line(cells: Sequence[str], width: Sequence[int]) -> str:
    return "   ".join(c.ljust(w) for c, w in zip(cells, width, strict=True)).rstrip()


async def run(args: argparse.Namespace, hub: Hub) -> None:
    if args.limit < 1:
        raise UserError(f"--limit: {args.limit} is not at least 1")
    filters = {"bundle": args.bundle, "cluster": args.cluster, "kind": args.kind}
    async with hub.stub() as stub:
        if not args.watch:
            resp = await stub.ListEvents(
                fleet_pb2.ListEventsRequest(**filters, since_seq=args.since, limit=args.limit),
                timeout=10,
            )
            output.show([event_dict(e) for e in resp.events], args.output, HEADERS, row)
            return
        # A stream cannot be aligned on rows still to come: live lines get columns wide
        # enough for most names (a longer one pushes the rest of its line along).
        width = widths([LIVE_WIDTHS])
        if args.output == "text":
            print(line(HEADERS, width), flush=True)

        def emit(event: fleet_pb2.Event) -> None:
            d = event_dict(event)
            if args.output == "text":
                text = line(row(d), width)
            elif args.output == "json":
                text = json.dumps(d)  # one document per line (JSON Lines)
            else:
                text = output.dump([d], "yaml")
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

        await watch(stub, filters, since=args.since, limit=args.limit, emit=emit)


def resume_request(
    filters: dict[str, str], *, since: int, limit: int, last_seq: int
) -> fleet_pb2.WatchEventsRequest:
    """The watch to (re)start: as asked, until an event was printed; then everything after it."""
    if last_seq:
        return fleet_pb2.WatchEventsRequest(**filters, since_seq=last_seq, limit=RESUME_LIMIT)
    return fleet_pb2.WatchEventsRequest(**filters, since_seq=since, limit=limit)


async def watch(
    stub: fleet_pb2_grpc.FleetServiceAsyncStub,
    filters: dict[str, str],
    *,
    since: int,
    limit: int,
    emit: Callable[[fleet_pb2.Event], None],
) -> None:
    """Print events until the stream ends (the hub closed it cleanly) or fails for good; a
    stream ended by RESUMABLE is watched again from the last seq seen."""
    last_seq = 0
    opened = False  # a stream was up once: what ends now is a drop, not a hub never reached
    delays = backoff_delays(initial=0.5, maximum=10.0)
    while True:
        request = resume_request(filters, since=since, limit=limit, last_seq=last_seq)
        try:
            async for msg in stub.WatchEvents(request):
                opened = True
                if msg.event.seq <= last_seq:
                    continue  # printed before the stream ended (the backlog overlaps)
                last_seq = msg.event.seq
                delays = backoff_delays(initial=0.5, maximum=10.0)  # it works again
                emit(msg.event)
            return
        except grpc.aio.AioRpcError as exc:
            opened = opened or STREAM_OPEN in tuple(exc.initial_metadata() or ())
            if exc.code() not in RESUMABLE or not opened:
                raise
            delay = delays()
            where = f"after seq {last_seq}" if last_seq else "from the start"
            print(
                f"argosy: event stream ended ({exc.code().name}: {exc.details()}); "
                f"resuming {where} in {delay:.1f}s",
                file=sys.stderr,
                flush=True,
            )
            await pause(delay)


async def pause(seconds: float) -> None:
    """The wait between watches (tests replace it)."""
    await asyncio.sleep(seconds)
