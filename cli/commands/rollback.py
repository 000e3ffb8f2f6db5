"""`argosy rollback BUNDLE [--to REV]` and `argosy unpin BUNDLE`: deploy an earlier revision
and hold the bundle there, then let new revisions through again."""

from __future__ import annotations

import argparse

from argosy.api.v1 import fleet_pb2
from cli.client import Hub
from cli.parsing import UINT32_MAX, Subparsers, int_in, runs


def add_parser(subparsers: Subparsers) -> None:
    rollback = runs(
        subparsers.add_parser(
            "rollback",
            help="deploy an earlier revision again and pin the bundle there",
            description=(
                "Deploy an earlier revision of a bundle (argosy bundle history NAME) through "
                "its normal rollout, recorded as a new revision, and pin the bundle: later "
                "`argosy apply`s and git commits of it are skipped until `argosy unpin`."
            ),
        ),
        run,
    )
    rollback.add_argument("name", metavar="BUNDLE")
    rollback.add_argument(
        "--to",
        type=int_in(0, UINT32_MAX),
        default=0,
        metavar="REV",
        help="the rev to go back to (default: previous)",
    )
    runs(
        subparsers.add_parser(
            "unpin",
            help="accept new revisions of a bundle pinned by rollback",
            description=(
                "Accept new applies and git commits of a bundle pinned by `argosy rollback`. "
                "Unpinning deploys nothing by itself: the bundle stays at the rolled-back "
                "revision until the next `argosy apply` or commit of it."
            ),
        ),
        run,
    ).add_argument("name", metavar="BUNDLE")


async def run(args: argparse.Namespace, hub: Hub) -> None:
    async with hub.stub() as stub:
        if args.command == "rollback":
            resp = await stub.RollbackBundle(
                fleet_pb2.RollbackBundleRequest(name=args.name, to_revision=args.to), timeout=120
            )
            print(
                f"bundle/{args.name} rolled back to rev {resp.rolled_back_to} "
                f"(rev {resp.pinned_rev}, revision {resp.bundle.revision[:12]}) and pinned; "
                f"`argosy unpin {args.name}` to accept new revisions"
            )
            return
        resp_unpin = await stub.UnpinBundle(
            fleet_pb2.UnpinBundleRequest(name=args.name), timeout=10
        )
    if resp_unpin.was_pinned:
        print(f"bundle/{args.name} unpinned: the next apply or commit of it deploys")
    else:
        print(f"bundle/{args.name} was not pinned")
