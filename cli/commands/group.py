"""`argosy group create|list|delete`: cluster groups, named label selectors bundles can target."""

from __future__ import annotations

import argparse
from typing import Any

from argosy.api.v1 import fleet_pb2
from argosy.convert import selector_to_pb
from argosy.selectors import parse_selector
from cli import output
from cli.client import Hub
from cli.parsing import Subparsers, output_flag, runs


def add_parser(subparsers: Subparsers) -> None:
    group = runs(subparsers.add_parser("group", help="cluster groups"), run)
    actions = group.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create or update a group")
    create.add_argument("name")
    create.add_argument("--selector", required=True, help="label selector, e.g. env=prod")
    output_flag(actions.add_parser("list", help="list groups"))
    actions.add_parser("delete", help="delete a group").add_argument("name")


async def run(args: argparse.Namespace, hub: Hub) -> None:
    async with hub.stub() as stub:
        if args.action == "create":
            group = fleet_pb2.ClusterGroup(
                name=args.name, selector=selector_to_pb(parse_selector(args.selector))
            )
            await stub.CreateGroup(fleet_pb2.CreateGroupRequest(group=group), timeout=30)
            print(f"group/{args.name} configured")
        elif args.action == "list":
            groups = (await stub.ListGroups(fleet_pb2.ListGroupsRequest(), timeout=10)).groups
            # matchLabels only: the -o json/yaml shape is part of the CLI contract, so showing
            # matchExpressions too is a change of that contract, to be made on purpose.
            data: list[dict[str, Any]] = [
                {"name": g.name, "selector": {"matchLabels": dict(g.selector.match_labels)}}
                for g in groups
            ]
            output.show(
                data,
                args.output,
                ["NAME", "SELECTOR"],
                lambda d: [
                    d["name"],
                    output.labels_text(d["selector"]["matchLabels"])
                    if d["selector"]["matchLabels"]
                    else "(all)",
                ],
            )
        else:
            await stub.DeleteGroup(fleet_pb2.DeleteGroupRequest(name=args.name), timeout=30)
            print(f"group/{args.name} deleted")
