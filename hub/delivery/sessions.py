"""One SpokeSession per connected spoke: the hub's side of its stream.

A session's queue is the set of bundles to look at again, keyed by bundle: bounded by the number
of bundles, and a newer revision overwrites an unsent older one (coalescing), so a slow spoke
never makes the hub hold intermediate revisions for it. What to send is decided when the
stream can take it, from the fleet's desired state and the revision the spoke holds. A request
to apply a bundle again (a retry) rides in the same entry, and gives way to a new revision.

Payloads come from the shared cache (hub/delivery/payloads.py), serialised once for every spoke.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Protocol

from argosy.api.v1 import spoke_pb2
from hub.core.deployments import Deployment, StatusUpdate
from hub.delivery.payloads import PayloadCache, RevisionMissing
from hub.models import ClusterRecord, ResourceStateRecord

log = logging.getLogger(__name__)


class Desk(Protocol):
    """What a session needs of the fleet (hub/fleet.py): what its cluster should hold, and where
    to say what the spoke did."""

    def desired(self, cluster_id: str) -> Mapping[str, Deployment]: ...
    def on_sent(self, cluster_id: str, bundle: str, revision: str) -> None: ...
    def on_ack(self, cluster_id: str, *, bundle: str, revision: str, error: str) -> None: ...
    def on_status(self, cluster_id: str, updates: Iterable[StatusUpdate]) -> None: ...
    def on_heartbeat(self, cluster_id: str) -> None: ...


class SessionClosed(Exception):
    """The fleet closed this session (replaced, deleted, revoked)."""


class SpokeSession:
    """The hub's side of one spoke's stream."""

    def __init__(
        self,
        *,
        fleet: Desk,
        payloads: PayloadCache,
        cluster: ClusterRecord,
        write: Callable[[bytes], Awaitable[None]],
        held: dict[str, str],
        send_deadline: float = 30.0,
    ) -> None:
        self._fleet = fleet
        self._payloads = payloads
        self.cluster = cluster
        self._raw_write = write
        self._send_deadline = send_deadline
        # bundle -> revision the spoke will hold once it has processed everything we sent.
        self._held = held
        # bundle -> whether the spoke is also to apply it again (a retry), in arrival order.
        self._pending: dict[str, bool] = {}
        self._wake = asyncio.Event()
        self._closed: str | None = None
        # The spoke stopped reading: nothing more, not even a status, can be written to it.
        self.stuck = False

    def notify(self, bundles: Iterable[str]) -> None:
        for bundle in bundles:
            self._pending.setdefault(bundle, False)
        self._wake.set()

    def retry(self, bundles: Iterable[str]) -> None:
        """Have the spoke apply what it holds of these bundles again, now."""
        for bundle in bundles:
            self._pending[bundle] = True
        self._wake.set()

    def close(self, reason: str) -> None:
        self._closed = reason
        self._wake.set()

    async def run(self) -> None:
        """Send what the spoke is missing, whenever something changes, until closed."""
        self.notify([*self._fleet.desired(self.cluster.id), *self._held])
        while True:
            await self._wake.wait()
            self._wake.clear()
            if self._closed is not None:
                raise SessionClosed(self._closed)
            while self._pending and self._closed is None:
                bundle, retry = next(iter(self._pending.items()))
                del self._pending[bundle]
                await self._send(bundle, retry=retry)
            if self._closed is not None:
                raise SessionClosed(self._closed)

    async def _write(self, data: bytes) -> None:
        """Write one message; a spoke that does not take it within the deadline is cut off.

        Only this session waits on a slow spoke, but a stuck one would hold its payloads and
        its place forever: disconnected, it resyncs from its hello when it comes back.
        """
        try:
            # asyncio.timeout, not wait_for: no extra task per write on the fan-out path.
            async with asyncio.timeout(self._send_deadline):
                await self._raw_write(data)
        except TimeoutError:
            self.stuck = True
            raise SessionClosed(
                f"the spoke did not read its stream for {self._send_deadline:g}s"
            ) from None

    async def _send(self, bundle: str, *, retry: bool = False) -> None:
        dep = self._fleet.desired(self.cluster.id).get(bundle)
        held = self._held.get(bundle, "")
        counters = self._payloads.counters
        if dep is None:
            if bundle in self._held:
                data = spoke_pb2.ConnectResponse(
                    delete=spoke_pb2.DeploymentDelete(bundle=bundle)
                ).SerializeToString()
                await self._write(data)
                del self._held[bundle]
                counters.deletes += 1
                counters.control_bytes += len(data)
            return
        target = dep.released  # the rollout may hold the desired revision back
        if not target or target == held:
            if retry and held:
                data = spoke_pb2.ConnectResponse(
                    retry=spoke_pb2.DeploymentRetry(bundle=bundle)
                ).SerializeToString()
                await self._write(data)
                counters.retries += 1
                counters.control_bytes += len(data)
            return
        try:
            chunks, full = await self._payloads.upsert(bundle, held, target)
        except RevisionMissing as exc:
            # Never expected (revisions are stored before any deployment names them); one
            # bundle failing must not take the stream down.
            log.error("cluster %s: %s", self.cluster.name, exc)
            return
        for data in chunks:
            await self._write(data)
        self._held[bundle] = target
        self._fleet.on_sent(self.cluster.id, bundle, target)
        size = sum(len(c) for c in chunks)
        if full:
            counters.full += 1
            counters.full_bytes += size
        else:
            counters.diff += 1
            counters.diff_bytes += size

    def handle(self, msg: spoke_pb2.ConnectRequest) -> None:
        """One message up from the spoke. Never awaits: the read loop must keep up."""
        kind = msg.WhichOneof("msg")
        cluster_id = self.cluster.id
        if kind == "ack":
            ack = msg.ack
            if ack.resync:
                # The spoke's copy does not match the base we diffed against: start over.
                self._held.pop(ack.bundle, None)
                self.notify([ack.bundle])
                return
            self._fleet.on_ack(
                cluster_id, bundle=ack.bundle, revision=ack.revision, error=ack.error
            )
        elif kind == "status":
            self._fleet.on_status(
                cluster_id,
                [
                    StatusUpdate(
                        bundle=d.bundle,
                        revision=d.revision,
                        ready=d.ready,
                        apply_error=d.apply_error,
                        resources=tuple(
                            ResourceStateRecord(
                                r.key,
                                r.ready,
                                r.modified,
                                r.missing,
                                r.message,
                                tuple(r.drift_paths),
                                r.drift_diff,
                                r.api_version,
                            )
                            for r in d.resources
                        ),
                    )
                    for d in msg.status.deployments
                ],
            )
        elif kind == "heartbeat":
            self._fleet.on_heartbeat(cluster_id)
        elif kind == "hello":
            log.warning("cluster %s sent a second hello; ignored", self.cluster.name)
