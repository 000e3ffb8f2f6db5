"""`argosy cluster list|delete|revoke`: the clusters registered with a hub."""

from __future__ import annotations

import argparse
from typing import Any

from argosy.api.v1 import fleet_pb2
from cli import output
from cli.client import Hub
from cli.parsing import Subparsers, output_flag, runs

REVOKE = (
    "Refuse the cluster's certificate and cut its stream now. Revocation "
    "outlives `argosy cluster delete`: the hub keeps the name (a tombstone) and refuses it "
    "to every registration token that existed when it was revoked, so the spoke cannot "
    "come back with the token it holds. To let the cluster back: `argosy cluster delete "
    "NAME`, then register it with a token created after the revocation (`argosy token "
    "create`); other tokens stay valid for other clusters."
)


def add_parser(subparsers: Subparsers) -> None:
    cluster = runs(subparsers.add_parser("cluster", help="clusters"), run)
    actions = cluster.add_subparsers(dest="action", required=True)
    output_flag(actions.add_parser("list", help="list clusters"))
    actions.add_parser("delete", help="forget a cluster").add_argument("name")
    actions.add_parser(
        "revoke",
        help="refuse a cluster's certificate and cut its stream now",
        description=REVOKE,
    ).add_argument("name")


async def run(args: argparse.Namespace, hub: Hub) -> None:
    async with hub.stub() as stub:
        if args.action == "list":
            clusters = (
                await stub.ListClusters(fleet_pb2.ListClustersRequest(), timeout=10)
            ).clusters
            data: list[dict[str, Any]] = [
                {"name": c.name, "id": c.id, "labels": dict(c.labels), "connected": c.connected}
                for c in clusters
            ]
            output.show(
                data,
                args.output,
                ["NAME", "ID", "LABELS", "CONNECTED"],
                lambda d: [d["name"], d["id"], output.labels_text(d["labels"]), d["connected"]],
            )
        elif args.action == "revoke":
            await stub.RevokeCluster(fleet_pb2.RevokeClusterRequest(name=args.name), timeout=30)
            print(f"cluster/{args.name} revoked")
        else:
            await stub.DeleteCluster(fleet_pb2.DeleteClusterRequest(name=args.name), timeout=30)
            print(f"cluster/{args.name} deleted")
