"""`argosy apply DIR...`: create or update bundles, checked locally before they are sent."""

from __future__ import annotations

import argparse
import sys

from argosy.api.v1 import fleet_pb2
from cli.bundles import bundle_specs
from cli.client import Hub
from cli.parsing import Subparsers, labels, runs


def add_parser(subparsers: Subparsers) -> None:
    apply = runs(
        subparsers.add_parser("apply", help="create or update bundles from directories"), run
    )
    apply.add_argument("dirs", nargs="+", metavar="DIR")
    apply.add_argument("--name", help="bundle name (a prefix when DIR holds several bundles)")
    apply.add_argument("-l", "--label", action="append", default=[], help="bundle label k=v")


async def run(args: argparse.Namespace, hub: Hub) -> None:
    specs = bundle_specs(args.dirs, name=args.name, labels=labels(args.label, "--label"))
    async with hub.stub() as stub:
        resp = await stub.ApplyBundles(fleet_pb2.ApplyBundlesRequest(bundles=specs), timeout=120)
    for b in resp.bundles:
        if b.skipped:
            print(f"bundle/{b.name} skipped: {b.skipped}")
            continue
        verb = "configured" if b.changed else "unchanged"
        count = f"{b.resource_count} resources" if b.resource_count else "rendered per cluster"
        print(f"bundle/{b.name} {verb} ({count}, revision {b.revision[:12]})")
        for warning in b.warnings:
            print(f"argosy: warning: bundle/{b.name}: {warning}", file=sys.stderr)
