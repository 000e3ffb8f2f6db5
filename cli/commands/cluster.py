"""`argosy cluster list|label|delete|revoke`: the clusters registered with a hub."""

from __future__ import annotations

import argparse
from typing import Any

from argosy.api.v1 import fleet_pb2
from argosy.names import parse_label_changes
from cli import output
from cli.client import Hub
from cli.parsing import Subparsers, output_flag, runs
from cli.reads import collect, filter_flags

REVOKE = (
    "Refuse the cluster's certificate and cut its stream now. Revocation "
    "outlives `argosy cluster delete`: the hub keeps the name (a tombstone) and refuses it "
    "to every registration token that existed when it was revoked, so the spoke cannot "
    "come back with the token it holds. To let the cluster back: `argosy cluster delete "
    "NAME`, then register it with a token created after the revocation (`argosy token "
    "create`); other tokens stay valid for other clusters."
)

LABEL = (
    "Set (KEY=VALUE) and remove (KEY-) a cluster's labels on the hub. Bundles and groups "
    "are matched against the new labels at once: a bundle the cluster no longer matches is "
    "deleted from it. Labels set or removed here win over the spoke's own (argosy spoke "
    "--labels), also when the spoke registers again with them, as Fleet's cluster labels do; "
    "removing a key removes it whether the spoke or the hub set it, and it stays removed."
)


def add_parser(subparsers: Subparsers) -> None:
    cluster = runs(subparsers.add_parser("cluster", help="clusters"), run)
    actions = cluster.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="list clusters")
    filter_flags(listing, what="clusters")
    output_flag(listing)
    label = actions.add_parser(
        "label", help="set or remove a cluster's labels on the hub", description=LABEL
    )
    label.add_argument("name")
    label.add_argument("changes", nargs="+", metavar="KEY=VALUE|KEY-")
    output_flag(label)
    actions.add_parser("delete", help="forget a cluster").add_argument("name")
    actions.add_parser(
        "revoke",
        help="refuse a cluster's certificate and cut its stream now",
        description=REVOKE,
    ).add_argument("name")


def _cluster_dict(c: fleet_pb2.Cluster) -> dict[str, Any]:
    return {
        "name": c.name,
        "id": c.id,
        "labels": dict(c.labels),
        "hubLabels": dict(c.hub_labels),
        "hubRemovedLabels": list(c.hub_removed_labels),
        "state": c.state,
        "connected": c.connected,
    }


async def run(args: argparse.Namespace, hub: Hub) -> None:
    async with hub.stub() as stub:
        if args.action == "list":
            request = fleet_pb2.ListClustersRequest(label_selector=args.selector, state=args.state)
            pages = await collect(
                stub.ListClusters, request, lambda p: p.clusters, limit=args.limit
            )
            clusters = [c for p in pages for c in p.clusters]
            data = [_cluster_dict(c) for c in clusters[: args.limit or None]]
            output.show(
                data,
                args.output,
                ["NAME", "ID", "STATE", "LABELS", "CONNECTED"],
                lambda d: [
                    d["name"],
                    d["id"],
                    d["state"] or "-",
                    output.labels_text(d["labels"]),
                    d["connected"],
                ],
            )
        elif args.action == "label":
            set_, remove = parse_label_changes(args.changes, what=f"cluster {args.name} labels")
            cluster = (
                await stub.SetClusterLabels(
                    fleet_pb2.SetClusterLabelsRequest(name=args.name, set=set_, remove=remove),
                    timeout=30,
                )
            ).cluster
            if args.output == "text":
                print(f"cluster/{args.name} labeled: {output.labels_text(dict(cluster.labels))}")
            else:
                output.emit(_cluster_dict(cluster), args.output)
        elif args.action == "revoke":
            await stub.RevokeCluster(fleet_pb2.RevokeClusterRequest(name=args.name), timeout=30)
            print(f"cluster/{args.name} revoked")
        else:
            await stub.DeleteCluster(fleet_pb2.DeleteClusterRequest(name=args.name), timeout=30)
            print(f"cluster/{args.name} deleted")
