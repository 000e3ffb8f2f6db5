"""`argosy bundle list|get|delete|diff`: the bundles a hub holds, and how their live objects
differ from them."""

from __future__ import annotations

import argparse
from typing import Any

from argosy.api.v1 import fleet_pb2
from cli import output
from cli.client import Hub
from cli.diffs import compare_patches_yaml, diff_dict, diff_text, existing_patches
from cli.parsing import Subparsers, output_flag, runs


def add_parser(subparsers: Subparsers) -> None:
    bundle = runs(subparsers.add_parser("bundle", help="bundles"), run)
    actions = bundle.add_subparsers(dest="action", required=True)
    output_flag(actions.add_parser("list", help="list bundles"))
    get = actions.add_parser("get", help="show a bundle and its files")
    get.add_argument("name")
    output_flag(get, ("json", "yaml"), default="yaml")
    actions.add_parser("delete", help="delete a bundle").add_argument("name")
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
            bundles = (await stub.ListBundles(fleet_pb2.ListBundlesRequest(), timeout=10)).bundles
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
        elif args.action == "diff":
            resp = await stub.GetBundleDiff(
                fleet_pb2.GetBundleDiffRequest(name=args.name, cluster=args.cluster or ""),
                timeout=10,
            )
            if args.fleet_yaml:
                got = await stub.GetBundle(fleet_pb2.GetBundleRequest(name=args.name), timeout=10)
                files = {f.path: f.content for f in got.bundle.spec.files}
                print(compare_patches_yaml(resp, existing_patches(files)), end="")
            elif args.output == "text":
                print(diff_text(args.name, resp), end="")
            else:
                output.emit(diff_dict(resp), args.output)
        else:
            await stub.DeleteBundle(fleet_pb2.DeleteBundleRequest(name=args.name), timeout=30)
            print(f"bundle/{args.name} deleted")
