"""`argosy bundle list|get|delete|history`: the bundles a hub holds."""

from __future__ import annotations

import argparse
from typing import Any

from argosy.api.v1 import fleet_pb2
from cli import output
from cli.client import Hub
from cli.parsing import Subparsers, output_flag, runs
from cli.reads import collect, filter_flags


def add_parser(subparsers: Subparsers) -> None:
    bundle = runs(subparsers.add_parser("bundle", help="bundles"), run)
    actions = bundle.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="list bundles")
    filter_flags(listing, what="bundles")
    output_flag(listing)
    get = actions.add_parser("get", help="show a bundle and its files")
    get.add_argument("name")
    output_flag(get, ("json", "yaml"), default="yaml")
    actions.add_parser("delete", help="delete a bundle").add_argument("name")
    history = actions.add_parser(
        "history",
        help="a bundle's last revisions: when, by whom, what (argosy rollback NAME --to REV)",
    )
    history.add_argument("name")
    output_flag(history)


async def run(args: argparse.Namespace, hub: Hub) -> None:
    async with hub.stub() as stub:
        if args.action == "list":
            request = fleet_pb2.ListBundlesRequest(label_selector=args.selector, state=args.state)
            pages = await collect(stub.ListBundles, request, lambda p: p.bundles, limit=args.limit)
            bundles = [b for p in pages for b in p.bundles][: args.limit or None]
            data: list[dict[str, Any]] = [
                {
                    "name": b.spec.name,
                    "revision": b.revision,
                    "resources": b.resource_count,
                    "labels": dict(b.spec.labels),
                }
                for b in bundles
            ]
            output.show(
                data,
                args.output,
                ["NAME", "RESOURCES", "REVISION"],
                lambda d: [d["name"], d["resources"], d["revision"][:12]],
            )
        elif args.action == "get":
            b = (
                await stub.GetBundle(fleet_pb2.GetBundleRequest(name=args.name), timeout=10)
            ).bundle
            output.emit(
                {
                    "name": b.spec.name,
                    "labels": dict(b.spec.labels),
                    "revision": b.revision,
                    "resources": b.resource_count,
                    "files": {f.path: f.content.decode("utf-8", "replace") for f in b.spec.files},
                },
                args.output,
            )
        elif args.action == "history":
            resp = await stub.GetBundleHistory(
                fleet_pb2.GetBundleHistoryRequest(name=args.name), timeout=10
            )
            output.show(
                [output.revision_dict(r) for r in resp.revisions],
                args.output,
                output.HISTORY_HEADERS,
                output.history_row,
            )
            if resp.pinned_rev and args.output == "text":
                print(
                    f"\nPinned at rev {resp.pinned_rev} by rollback: new applies and commits "
                    f"are skipped (argosy unpin {args.name})"
                )
        else:
            await stub.DeleteBundle(fleet_pb2.DeleteBundleRequest(name=args.name), timeout=30)
            print(f"bundle/{args.name} deleted")
