"""`argosy apply DIR...`: create or update bundles, checked locally before they are sent; with
--dry-run, what would change and where, storing nothing; with --wait, until Ready."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from argosy.api.v1 import fleet_pb2
from argosy.manifests import describe_key
from cli import output
from cli.bundles import bundle_specs
from cli.client import Hub, UserError
from cli.parsing import Subparsers, labels, output_flag, runs
from cli.waiting import WAIT_HELP, duration, wait_ready


def add_parser(subparsers: Subparsers) -> None:
    apply = runs(
        subparsers.add_parser(
            "apply",
            help="create or update bundles from directories",
            epilog=WAIT_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        ),
        run,
    )
    apply.add_argument("dirs", nargs="+", metavar="DIR")
    apply.add_argument("--name", help="bundle name (a prefix when DIR holds several bundles)")
    apply.add_argument("-l", "--label", action="append", default=[], help="bundle label k=v")
    apply.add_argument(
        "--dry-run",
        action="store_true",
        help="render as an apply would and show, per group of clusters alike, the objects "
        "added, changed (with a diff) and removed; store and send nothing",
    )
    apply.add_argument(
        "--wait", action="store_true", help="wait until every targeted cluster is Ready"
    )
    apply.add_argument(
        "--timeout",
        type=duration,
        default=300.0,
        help="how long --wait waits (e.g. 90s, 5m, 1h; default 5m)",
    )
    output_flag(apply)


async def run(args: argparse.Namespace, hub: Hub) -> None:
    if args.dry_run and args.wait:
        raise UserError("--dry-run and --wait exclude each other: a dry run applies nothing")
    specs = bundle_specs(args.dirs, name=args.name, labels=labels(args.label, "--label"))
    request = fleet_pb2.ApplyBundlesRequest(bundles=specs, dry_run=args.dry_run)
    async with hub.stub() as stub:
        resp = await stub.ApplyBundles(request, timeout=120)
    for b in resp.bundles:
        for warning in b.warnings:
            print(f"argosy: warning: bundle/{b.name}: {warning}", file=sys.stderr)
    if args.output != "text":
        output.emit([applied_dict(b, dry_run=args.dry_run) for b in resp.bundles], args.output)
    elif args.dry_run:
        print("\n".join(dry_run_text(b) for b in resp.bundles if not b.skipped), end="")
        for b in resp.bundles:
            if b.skipped:
                print(f"bundle/{b.name} skipped: {b.skipped}")
    else:
        for b in resp.bundles:
            if b.skipped:
                print(f"bundle/{b.name} skipped: {b.skipped}")
                continue
            verb = "configured" if b.changed else "unchanged"
            count = f"{b.resource_count} resources" if b.resource_count else "rendered per cluster"
            print(f"bundle/{b.name} {verb} ({count}, revision {b.revision[:12]})")
    if args.wait:
        sys.stdout.flush()
        await wait_ready(
            hub,
            {b.name: b.revision for b in resp.bundles if not b.skipped},
            timeout=args.timeout,
            retried=[b.name for b in resp.bundles if not b.changed],
        )


def applied_dict(b: fleet_pb2.BundleApplied, *, dry_run: bool) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "name": b.name,
        "revision": b.revision,
        "changed": b.changed,
        "resources": b.resource_count,
        "warnings": list(b.warnings),
    }
    if b.skipped:
        doc["skipped"] = b.skipped
    if dry_run:
        doc["dryRun"] = True
        doc["planned"] = [
            {
                "clusters": list(p.clusters),
                "revision": p.revision,
                "heldRevision": p.held_revision,
                "added": list(p.added),
                "changed": list(p.changed),
                "removed": list(p.removed),
                "optionsChanged": p.options_changed,
                "diff": p.diff,
                "error": p.error,
            }
            for p in b.planned
        ]
    return doc


def dry_run_text(b: fleet_pb2.BundleApplied) -> str:
    """One bundle's dry run, for people: a block per group of clusters alike."""
    verb = "would be configured" if b.changed else "unchanged"
    lines = [f"bundle/{b.name} {verb} (dry run: nothing stored; revision {b.revision[:12]})"]
    if not b.planned:
        lines.append("  no cluster is targeted")
    for p in b.planned:
        lines.append(f"  clusters ({len(p.clusters)}): {_names(p.clusters)}")
        if p.error:
            lines.append(f"    cannot render: {p.error} (they keep what they hold)")
            continue
        if not p.revision:
            lines.append("    no longer targeted: everything the bundle holds there is removed")
        held = p.held_revision[:12] or "nothing"
        lines.append(f"    holds {held}, would get {p.revision[:12] or 'nothing'}")
        if not (p.added or p.changed or p.removed or p.options_changed):
            lines.append("    no change")
        lines += [f"    + {describe_key(k)}" for k in p.added]
        lines += [f"    ~ {describe_key(k)}" for k in p.changed]
        lines += [f"    - {describe_key(k)}" for k in p.removed]
        if p.options_changed:
            lines.append("    ~ apply options (fleet.yaml)")
        lines += [f"      {line}" for line in p.diff.splitlines()]
    return "\n".join(lines) + "\n"


def _names(clusters: Any, shown: int = 10) -> str:
    names = list(clusters)
    more = len(names) - shown
    return ", ".join(names[:shown]) + (f" and {more} more" if more > 0 else "")
