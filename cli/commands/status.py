"""`argosy status [BUNDLE | --cluster NAME] [--watch]`: groups, clusters and bundles, or one
bundle or cluster in detail."""

from __future__ import annotations

import argparse

from argosy.api.v1 import fleet_pb2
from cli import output
from cli.client import Hub
from cli.parsing import Subparsers, output_flag, runs
from cli.watch import watch_status


def add_parser(subparsers: Subparsers) -> None:
    status = runs(
        subparsers.add_parser("status", help="show cluster groups, clusters and bundles"), run
    )
    status.add_argument("bundle", nargs="?", help="show one bundle in detail, per cluster")
    status.add_argument("--cluster", help="show one cluster in detail, per bundle")
    output_flag(status)
    status.add_argument("--watch", "-w", action="store_true", help="redraw on every change")


async def run(args: argparse.Namespace, hub: Hub) -> None:
    if args.watch:
        await watch_status(
            hub, fmt=args.output, bundle=args.bundle or "", cluster=args.cluster or ""
        )
        return
    request = fleet_pb2.GetStatusRequest(
        detail_bundles=[args.bundle] if args.bundle else [],
        detail_clusters=[args.cluster] if args.cluster else [],
    )
    async with hub.stub() as stub:
        status = await stub.GetStatus(request, timeout=10)
    if args.bundle or args.cluster:
        bundles = [b for b in status.bundles if b.name == args.bundle]
        clusters = [c for c in status.clusters if c.name == args.cluster]
        if args.output != "text":
            doc = output.status_dict(
                fleet_pb2.GetStatusResponse(bundles=bundles, clusters=clusters)
            )
            output.emit({k: v for k, v in doc.items() if v}, args.output)
            return
        print(
            "\n\n".join(
                [*map(output.bundle_detail, bundles), *map(output.cluster_detail, clusters)]
            )
        )
        return
    if args.output == "text":
        print(output.status_tables(status))
    else:
        output.emit(output.status_dict(status), args.output)
