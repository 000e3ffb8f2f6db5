"""Retrier: applies again the deployments whose apply failed, until they apply.

A failed apply is often fixed by something outside the bundle: a CRD installed by another
bundle, a namespace or permission granted, an owning bundle deleted. So each errored bundle is
retried with capped, jittered exponential backoff (its own, reset once it applies), and at once
when something that could have fixed it happens: the spoke starts, the cluster's served kinds
change, a bundle is deleted or prunes objects (what it owned is free), or the hub asks
(DeploymentRetry). Retries go through the reconciler, under its lock, so they never interleave
with a hub's upsert.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from argosy.runtime import backoff_delays
from spoke.backends.base import ChangeCounter
from spoke.reconciler import Reconciler, RetrySink

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RetrySettings:
    initial: float = 1.0
    """Seconds before the first retry of a failed apply (jittered down to half)."""
    maximum: float = 300.0
    """The backoff between retries grows to this many seconds, and stays there."""


class Retrier(RetrySink):
    def __init__(self, settings: RetrySettings | None = None) -> None:
        self.settings = settings or RetrySettings()
        # Errored bundles: their backoff, and when (loop time) each is due again.
        self._backoff: dict[str, Callable[[], float]] = {}
        self._due: dict[str, float] = {}
        self._wake = asyncio.Event()
        self.retries = 0
        """Applies this loop made (tests and logs count them)."""

    # --- what the reconciler says (RetrySink) ----------------------------------------------------

    def applied(self, bundle: str, error: str, *, reset: bool = False) -> None:
        if not error:
            self._backoff.pop(bundle, None)
            self._due.pop(bundle, None)
            return
        if reset or bundle not in self._backoff:
            s = self.settings
            self._backoff[bundle] = backoff_delays(initial=s.initial, maximum=s.maximum)
        self._due[bundle] = _now() + self._backoff[bundle]()
        self._wake.set()

    def deleted(self, bundle: str) -> None:
        self._backoff.pop(bundle, None)
        self._due.pop(bundle, None)
        self.freed()

    def freed(self) -> None:
        # Objects it owned are free now: a bundle refused them may take them.
        self.retry_errored()

    def seconds_to_retry(self, bundle: str) -> float | None:
        """How long until the bundle is applied again; None when it is not in error."""
        due = self._due.get(bundle)
        return None if due is None else max(0.0, due - _now())

    # --- causes to retry now ---------------------------------------------------------------------

    def retry_errored(self) -> None:
        """Every errored bundle is due now (their backoff keeps growing if they fail again)."""
        now = _now()
        for bundle in self._backoff:
            self._due[bundle] = now
        if self._backoff:
            self._wake.set()

    # --- the loop --------------------------------------------------------------------------------

    async def run(self, reconciler: Reconciler, kinds: ChangeCounter) -> None:
        # Whatever the spoke held in error when it started is retried first.
        self.retry_errored()
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(self._follow_kinds(kinds), name="retry-on-rediscovery")
            tasks.create_task(self._retry_due(reconciler), name="retry-due")

    async def _follow_kinds(self, kinds: ChangeCounter) -> None:
        seen = kinds.value
        while True:
            seen = await kinds.wait_past(seen)
            log.debug("served kinds changed; retrying errored deployments")
            self.retry_errored()

    async def _retry_due(self, reconciler: Reconciler) -> None:
        while True:
            now = _now()
            due = sorted(b for b, at in self._due.items() if at <= now)
            for bundle in due:
                # applied() (called by the reconciler) schedules the next try, if any.
                self._due.pop(bundle, None)
                self.retries += 1
                if await reconciler.retry(bundle) is None:
                    self._backoff.pop(bundle, None)  # deleted meanwhile
            if due:
                continue
            self._wake.clear()
            deadline = min(self._due.values(), default=None)
            try:
                async with asyncio.timeout_at(deadline):
                    await self._wake.wait()
            except TimeoutError:
                pass


def _now() -> float:
    return asyncio.get_running_loop().time()
