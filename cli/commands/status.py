"""`argosy status [BUNDLE | --cluster NAME] [--watch]`: groups, clusters and bundles, or one
bundle or cluster in detail."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from argosy.api.v1 import fleet_pb2
from cli import output
from cli.client import Hub, UserError
from cli.parsing import Subparsers, output_flag, runs
from cli.reads import collect_status, positive
from cli.waiting import WAIT_HELP, duration, wait_ready
from cli.watch import watch_status


def add_parser(subparsers: Subparsers) -> None:
    status = runs(
        subparsers.add_parser(
            "status",
            help="show cluster groups, clusters and bundles",
            epilog=WAIT_HELP.replace("(--wait)", "(--wait-for Ready BUNDLE)"),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        ),
        run,
    )
    status.add_argument("bundle", nargs="?", help="show one bundle in detail, per cluster")
    status.add_argument("--cluster", help="show one cluster in detail, per bundle")
    status.add_argument(
        "-l",
        "--selector",
        default="",
        help="only clusters whose labels match (kubectl syntax: env=prod,tier!=web)",
    )
    status.add_argument(
        "--state", default="", help="only clusters and bundles in this state (e.g. NotReady)"
    )
    status.add_argument(
        "--limit",
        type=positive,
        default=0,
        help="at most N clusters and N bundles (default: all; the hub sends them a page at a time)",
    )
    output_flag(status)
    status.add_argument("--watch", "-w", action="store_true", help="redraw on every change")
    status.add_argument(
        "--wait-for",
        choices=["Ready"],
        help="wait until BUNDLE is Ready on every cluster it targets (exit codes below)",
    )
    status.add_argument(
        "--timeout",
        type=duration,
        default=300.0,
        help="how long --wait-for waits (e.g. 90s, 5m, 1h; default 5m)",
    )


def _wanted(args: argparse.Namespace) -> Callable[[fleet_pb2.GetStatusResponse], bool] | None:
    """For one bundle or cluster in detail: the page that holds the end of its detail ends
    the reading (a bundle on many clusters has its detail over several pages)."""
    if args.bundle:
        return lambda page: any(
            b.name == args.bundle and not b.more_deployments for b in page.bundles
        )
    if args.cluster:
        return lambda page: any(
            c.name == args.cluster and not c.more_deployments for c in page.clusters
        )
    return None


async def run(args: argparse.Namespace, hub: Hub) -> None:
    if args.wait_for:
        if not args.bundle or args.cluster or args.watch:
            raise UserError("--wait-for Ready takes a BUNDLE, and neither --cluster nor --watch")
        async with hub.stub() as stub:
            # A bundle that does not exist is an error now, not a wait until the timeout.
            await stub.GetBundle(fleet_pb2.GetBundleRequest(name=args.bundle), timeout=10)
        await wait_ready(hub, {args.bundle: ""}, timeout=args.timeout)
        return
    if args.watch:
        if args.selector or args.state or args.limit:
            raise UserError("--watch takes no -l, --state or --limit (watch one object instead)")
        await watch_status(
            hub, fmt=args.output, bundle=args.bundle or "", cluster=args.cluster or ""
        )
        return
    request = fleet_pb2.GetStatusRequest(
        detail_bundles=[args.bundle] if args.bundle else [],
        detail_clusters=[args.cluster] if args.cluster else [],
        label_selector=args.selector,
        state=args.state,
    )
    async with hub.stub() as stub:
        status = await collect_status(stub, request, limit=args.limit, found=_wanted(args))
    if args.bundle or args.cluster:
        bundles = [b for b in status.bundles if b.name == args.bundle]
        clusters = [c for c in status.clusters if c.name == args.cluster]
        if args.output != "text":
            doc = output.status_dict(
                fleet_pb2.GetStatusResponse(bundles=bundles, clusters=clusters)
            )
            output.emit({k: v for k, v in doc.items() if v}, args.output)
            return
        print(
            "\n\n".join(
                [*map(output.bundle_detail, bundles), *map(output.cluster_detail, clusters)]
            )
        )
        return
    if args.output == "text":
        print(output.status_tables(status))
    else:
        output.emit(output.status_dict(status), args.output)
