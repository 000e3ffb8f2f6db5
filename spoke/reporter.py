"""StatusReporter: coalesces resource-state changes into one report per burst.

A rollout touches many objects within milliseconds; the hub gets one message for all of them,
sent a short window after the first change, and nothing at all while nothing changes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from argosy.api.v1 import spoke_pb2
from spoke.reconciler import Reconciler, StatusSink


class StatusReporter(StatusSink):
    def __init__(self, *, window: float = 0.1) -> None:
        self._window = window
        self._dirty: set[str] = set()
        self._wake = asyncio.Event()
        self.reports_sent = 0

    def mark(self, bundle: str) -> None:
        self._dirty.add(bundle)
        self._wake.set()

    async def run(
        self,
        reconciler: Reconciler,
        send: Callable[[spoke_pb2.ConnectRequest], Awaitable[None]],
    ) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(self._window)
            self._wake.clear()
            dirty, self._dirty = self._dirty, set()
            # A bundle deleted meanwhile has nothing to report; the hub already forgot it.
            present = set(reconciler.bundles())
            statuses = [reconciler.status(b) for b in sorted(dirty) if b in present]
            if not statuses:
                continue
            try:
                await send(
                    spoke_pb2.ConnectRequest(status=spoke_pb2.StatusReport(deployments=statuses))
                )
            except BaseException:
                self._dirty |= dirty  # not delivered: report again once we can
                self._wake.set()
                raise
            self.reports_sent += 1
