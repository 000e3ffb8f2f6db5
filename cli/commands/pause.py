"""`argosy pause|unpause BUNDLE`: hold a bundle's new revisions where they are, or release them."""

from __future__ import annotations

import argparse

from argosy.api.v1 import fleet_pb2
from cli.client import Hub
from cli.parsing import Subparsers, runs


def add_parser(subparsers: Subparsers) -> None:
    for verb, text in (
        ("pause", "hold new revisions of a bundle"),
        ("unpause", "release held revisions of a bundle"),
    ):
        runs(subparsers.add_parser(verb, help=text), run).add_argument("name", metavar="BUNDLE")


async def run(args: argparse.Namespace, hub: Hub) -> None:
    paused = args.command == "pause"
    async with hub.stub() as stub:
        await stub.SetBundlePaused(
            fleet_pb2.SetBundlePausedRequest(name=args.name, paused=paused), timeout=10
        )
    print(f"bundle/{args.name} {'paused' if paused else 'unpaused'}")
