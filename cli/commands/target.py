"""`argosy target DIR`: which registered clusters each bundle in DIR reaches, and with which
customizations, judged locally against the hub's clusters and groups."""

from __future__ import annotations

import argparse

from argosy.api.v1 import fleet_pb2
from argosy.bundle import Cluster, read_bundle_dirs, target_for
from argosy.convert import selector_from_pb
from cli import output
from cli.bundles import load_local
from cli.client import Hub
from cli.parsing import Subparsers, output_flag, runs
from cli.reads import collect


def add_parser(subparsers: Subparsers) -> None:
    tgt = runs(
        subparsers.add_parser(
            "target", help="which registered clusters each bundle in DIR reaches"
        ),
        run,
    )
    tgt.add_argument("dir", metavar="DIR")
    output_flag(tgt)


async def run(args: argparse.Namespace, hub: Hub) -> None:
    async with hub.stub() as stub:
        pages = await collect(
            stub.ListClusters, fleet_pb2.ListClustersRequest(), lambda p: p.clusters, timeout=10
        )
        groups_pb = (await stub.ListGroups(fleet_pb2.ListGroupsRequest(), timeout=10)).groups
    clusters = [c for page in pages for c in page.clusters]
    groups = {g.name: selector_from_pb(g.selector) for g in groups_pb}
    rows = []
    for source in read_bundle_dirs([args.dir]):
        bundle = load_local(source)
        for c in clusters:
            target = target_for(bundle, Cluster(name=c.name, labels=dict(c.labels)), groups)
            if target is not None:
                rows.append(
                    {
                        "bundle": bundle.name,
                        "cluster": c.name,
                        "customizations": list(target.customizations),
                    }
                )
    output.show(
        rows,
        args.output,
        ["BUNDLE", "CLUSTER", "CUSTOMIZATION"],
        lambda r: [r["bundle"], r["cluster"], ",".join(r["customizations"]) or "-"],
    )
