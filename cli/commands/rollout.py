"""`argosy rollout resume BUNDLE`: let a halted rollout go on."""

from __future__ import annotations

import argparse

from argosy.api.v1 import fleet_pb2
from cli.client import Hub
from cli.parsing import Subparsers, runs


def add_parser(subparsers: Subparsers) -> None:
    rollout = runs(subparsers.add_parser("rollout", help="rollouts"), run)
    actions = rollout.add_subparsers(dest="action", required=True)
    actions.add_parser("resume", help="resume a halted rollout").add_argument(
        "name", metavar="BUNDLE"
    )


async def run(args: argparse.Namespace, hub: Hub) -> None:
    async with hub.stub() as stub:
        await stub.ResumeRollout(fleet_pb2.ResumeRolloutRequest(name=args.name), timeout=10)
    print(f"bundle/{args.name} rollout resumed")
