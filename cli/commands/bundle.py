"""`argosy bundle list|get|delete|history|diff`: the bundles a hub holds, their history, and
how their live objects differ from them."""

from __future__ import annotations

import argparse
from typing import Any

from argosy.api.v1 import fleet_pb2
from cli import output
from cli.client import Hub
from cli.diffs import compare_patches_yaml, diff_dict, diff_text, existing_patches
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
    diff = actions.add_parser(
        "diff",
        help="desired vs live of a Modified bundle's drifted objects, per cluster",
        description="Desired vs live of the bundle's drifted objects, as each spoke last "
        "reported them: the JSON pointers that differ and a unified diff (bounded, 4 KiB per "
        "object). With --fleet-yaml, the fleet.yaml `diff: comparePatches:` block that would "
        "stop exactly those paths counting as drift, merged with the bundle's own: it replaces "
        "the diff: block of fleet.yaml.",
    )
    diff.add_argument("name")
    diff.add_argument("--cluster", help="one cluster only (default: every cluster with drift)")
    diff.add_argument(
        "--fleet-yaml",
        action="store_true",
        help="print the fleet.yaml comparePatches that would silence this drift",
    )
    output_flag(diff)


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
        elif args.action == "diff":
            diff_resp = await stub.GetBundleDiff(
                fleet_pb2.GetBundleDiffRequest(name=args.name, cluster=args.cluster or ""),
                timeout=10,
            )
            if args.fleet_yaml:
                got = await stub.GetBundle(fleet_pb2.GetBundleRequest(name=args.name), timeout=10)
                files = {f.path: f.content for f in got.bundle.spec.files}
                print(compare_patches_yaml(diff_resp, existing_patches(files)), end="")
            elif args.output == "text":
                print(diff_text(args.name, diff_resp), end="")
            else:
                output.emit(diff_dict(diff_resp), args.output)
        else:
            await stub.DeleteBundle(fleet_pb2.DeleteBundleRequest(name=args.name), timeout=30)
            print(f"bundle/{args.name} deleted")
