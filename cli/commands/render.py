"""`argosy render DIR`: what a cluster with these labels would receive, rendered locally.

No hub is asked: the labels, name and groups of the cluster come from the flags.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import yaml

from argosy.bundle import Cluster, read_bundle_dirs, render, target_for
from argosy.selectors import LabelSelector, parse_selector
from cli.bundles import load_local
from cli.client import Hub
from cli.parsing import Subparsers, labels, runs


def add_parser(subparsers: Subparsers) -> None:
    rend = runs(
        subparsers.add_parser(
            "render", help="print what a cluster with these labels would receive"
        ),
        run,
    )
    rend.add_argument("dir", metavar="DIR")
    rend.add_argument("-l", "--label", action="append", default=[], help="cluster label k=v")
    rend.add_argument("--cluster-name", default="local", help="cluster name for templates")
    rend.add_argument(
        "--group",
        action="append",
        default=[],
        help="cluster group NAME=SELECTOR the cluster belongs to",
    )


async def run(args: argparse.Namespace, hub: Hub) -> None:
    del hub  # rendered here, for a cluster the flags describe
    groups: dict[str, LabelSelector] = {"default": LabelSelector()}
    for g in args.group:
        gname, _, sel = g.partition("=")
        groups[gname] = parse_selector(sel)
    cluster = Cluster(name=args.cluster_name, labels=labels(args.label, "--label"))
    docs: list[Any] = []
    for source in read_bundle_dirs([args.dir]):
        bundle = load_local(source)
        target = target_for(bundle, cluster, groups)
        if target is None:
            print(f"# bundle {bundle.name}: not deployed to this cluster", file=sys.stderr)
            continue
        resources = await render(bundle, target)
        docs.extend(m.obj for m in resources.items.values())
    sys.stdout.write(yaml.safe_dump_all(docs, sort_keys=True) if docs else "")
