"""`argosy events [--bundle B] [--cluster C] [--kind K] [--limit N] [--since SEQ] [--watch]`:
the hub's event log, newest last; --watch keeps printing events as they happen."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from argosy.api.v1 import fleet_pb2
from cli import output
from cli.client import Hub, UserError
from cli.parsing import INT32_MAX, INT64_MAX, Subparsers, int_in, output_flag, runs

HEADERS = ["TIME", "KIND", "BUNDLE", "CLUSTER", "REVISION", "ACTOR", "MESSAGE"]
LIVE_WIDTHS = ["0" * 19, "DeploymentStateChanged", "b" * 24, "c" * 12, "r" * 12, "a" * 20, ""]


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
        help="how many of the newest events (default 100)",
    )
    events.add_argument(
        "--since", type=int_in(0, INT64_MAX), default=0, help="only events after this seq"
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
        request = fleet_pb2.WatchEventsRequest(**filters, since_seq=args.since, limit=args.limit)
        # A stream cannot be aligned on rows still to come: live lines get columns wide
        # enough for most names (a longer one pushes the rest of its line along).
        width = widths([LIVE_WIDTHS])
        if args.output == "text":
            print(line(HEADERS, width), flush=True)
        async for msg in stub.WatchEvents(request):
            d = event_dict(msg.event)
            if args.output == "text":
                text = line(row(d), width)
            elif args.output == "json":
                text = json.dumps(d)  # one document per line (JSON Lines)
            else:
                text = output.dump([d], "yaml")
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
