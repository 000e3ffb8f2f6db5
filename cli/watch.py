"""`argosy status --watch`: follow WatchStatus and redraw on every (coalesced) change."""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator

from argosy.api.v1 import fleet_pb2
from cli import output
from cli.client import Hub

CLEAR = "\x1b[H\x1b[2J"


class LiveStatus:
    """The whole status, kept current from a snapshot and the deltas after it."""

    def __init__(self) -> None:
        self.clusters: dict[str, fleet_pb2.ClusterStatus] = {}
        self.groups: dict[str, fleet_pb2.GroupStatus] = {}
        self.bundles: dict[str, fleet_pb2.BundleStatus] = {}
        # A snapshot comes in chunks (at most 500 clusters each): until its last, the picture
        # is partial and not to be shown or judged (--wait would see clusters missing).
        self.partial = True

    def update(self, msg: fleet_pb2.WatchStatusResponse) -> None:
        self.partial = msg.snapshot_continues
        if msg.snapshot:
            self.clusters.clear()
            self.groups.clear()
            self.bundles.clear()
        self.clusters.update({c.name: c for c in msg.clusters})
        self.groups.update({g.name: g for g in msg.groups})
        self.bundles.update({b.name: b for b in msg.bundles})
        for name in msg.removed_clusters:
            self.clusters.pop(name, None)
        for name in msg.removed_groups:
            self.groups.pop(name, None)
        for name in msg.removed_bundles:
            self.bundles.pop(name, None)

    def as_response(self) -> fleet_pb2.GetStatusResponse:
        return fleet_pb2.GetStatusResponse(
            clusters=[self.clusters[k] for k in sorted(self.clusters)],
            groups=[self.groups[k] for k in sorted(self.groups)],
            bundles=[self.bundles[k] for k in sorted(self.bundles)],
        )


async def follow(hub: Hub, *, bundle: str = "", cluster: str = "") -> AsyncIterator[LiveStatus]:
    """Yield the live status after each message from the hub; a snapshot's chunks as one."""
    live = LiveStatus()
    request = fleet_pb2.WatchStatusRequest(bundle=bundle, cluster=cluster)
    async with hub.stub() as stub:
        async for msg in stub.WatchStatus(request):
            live.update(msg)
            if not live.partial:
                yield live


def snapshot_text(status: fleet_pb2.GetStatusResponse, *, address: str, tty: bool) -> str:
    """One redraw of the text view. A terminal is cleared first; a pipe or a file gets plain
    snapshots with no escape codes, each under a timestamp header, a blank line between them."""
    stamp = time.strftime("%H:%M:%S")
    tables = output.status_tables(status)
    if tty:
        return f"{CLEAR}Every change · {address} · {stamp}\n\n{tables}\n"
    return f"# {stamp} · {address}\n{tables}\n\n"


async def watch_status(hub: Hub, *, fmt: str, bundle: str = "", cluster: str = "") -> None:
    tty = sys.stdout.isatty()
    async for live in follow(hub, bundle=bundle, cluster=cluster):
        status = live.as_response()
        if fmt == "text":
            sys.stdout.write(snapshot_text(status, address=hub.address, tty=tty))
        else:
            sys.stdout.write(output.dump(output.status_dict(status), fmt) + "\n---\n")
        sys.stdout.flush()
