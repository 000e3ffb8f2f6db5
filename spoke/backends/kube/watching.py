"""Following the objects Argosy manages: one list+watch per group/kind in use.

Each watch is label-selected on OWNER_LABEL, resumes from the last resourceVersion it saw, and
relists on 410 Gone (a relist reports the objects deleted while nobody watched). A kind is "in
use" once Argosy applies or reads an object of it, so a restarted spoke follows what it held
before. Every watch() subscriber gets its own per-kind tasks and queue; close() ends them all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field

import aiohttp

from argosy.manifests import resource_key
from argosy.runtime import backoff_delays
from spoke.backends.base import OWNER_LABEL, WatchEvent
from spoke.backends.kube.client import ApiError, KubeClient
from spoke.backends.kube.discovery import ApiResource

log = logging.getLogger(__name__)


@dataclass
class _Follow:
    """One subscriber of watch(): its queue and its per-kind watch tasks."""

    queue: asyncio.Queue[WatchEvent]
    tasks: dict[tuple[str, str], asyncio.Task[None]] = field(default_factory=dict)


class Watches:
    """The kinds in use, and the watches that follow them for each subscriber."""

    def __init__(self, client: KubeClient) -> None:
        self._client = client
        self._in_use: dict[tuple[str, str], ApiResource] = {}
        self._subscribers: list[Callable[[ApiResource], None]] = []
        # Every per-kind watch task, whichever watch() started it: close() ends them all, even
        # when a consumer was cancelled outside the generator and left it suspended.
        self._tasks: set[asyncio.Task[None]] = set()
        self.events = 0
        """Events delivered by watch(), initial listings included."""
        self.restarts = 0
        """Times a kind's watch started over: a relist (410 Gone, an ERROR event) or a resume
        after a failure. A watch the server ends in the ordinary way is not one."""

    def in_use(self, group: str, kind: str) -> ApiResource | None:
        return self._in_use.get((group, kind))

    def use(self, res: ApiResource) -> None:
        """Follow this kind from now on (one watch per group/kind, whatever the version)."""
        if (res.group, res.kind) in self._in_use:
            return
        self._in_use[(res.group, res.kind)] = res
        for subscriber in list(self._subscribers):
            subscriber(res)

    async def close(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def watch(self) -> AsyncIterator[WatchEvent]:
        follow = _Follow(asyncio.Queue())

        def start(res: ApiResource) -> None:
            if (res.group, res.kind) not in follow.tasks:
                task = asyncio.create_task(
                    self._follow_kind(res, follow.queue),
                    name=f"watch-{res.kind}.{res.group or 'core'}",
                )
                follow.tasks[(res.group, res.kind)] = task
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

        for res in list(self._in_use.values()):
            start(res)
        self._subscribers.append(start)
        try:
            while True:
                event = await follow.queue.get()
                self.events += 1
                yield event
        finally:
            self._subscribers.remove(start)
            for task in follow.tasks.values():
                task.cancel()
            await asyncio.gather(*follow.tasks.values(), return_exceptions=True)

    async def _follow_kind(self, res: ApiResource, queue: asyncio.Queue[WatchEvent]) -> None:
        """List, then watch from the list's resourceVersion; relist on 410 Gone. Forever."""
        selector = ("labelSelector", OWNER_LABEL)
        seen: set[str] = set()
        rv = ""
        delays = backoff_delays(initial=0.5, maximum=30.0)
        while True:
            try:
                if not rv:
                    listing = await self._client.request("GET", res.path(), query=[selector])
                    rv = str((listing.get("metadata") or {}).get("resourceVersion") or "")
                    now: set[str] = set()
                    for item in listing.get("items") or []:
                        item.setdefault("apiVersion", res.api_version)
                        item.setdefault("kind", res.kind)
                        key = resource_key(item)
                        now.add(key)
                        queue.put_nowait(WatchEvent(key, item))
                    for key in seen - now:
                        queue.put_nowait(WatchEvent(key, None))
                    seen = now
                stream = self._client.stream(res.path(), query=[selector], resource_version=rv)
                async with aclosing(stream) as events:
                    async for event_type, obj in events:
                        if event_type == "ERROR":
                            log.info("watch of %s: %s; relisting", res.plural, obj.get("message"))
                            self.restarts += 1
                            rv = ""
                            break
                        rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
                        if event_type == "BOOKMARK":
                            continue
                        key = resource_key(obj)
                        if event_type == "DELETED":
                            seen.discard(key)
                            queue.put_nowait(WatchEvent(key, None))
                        else:
                            seen.add(key)
                            queue.put_nowait(WatchEvent(key, obj))
                delays = backoff_delays(initial=0.5, maximum=30.0)
            except asyncio.CancelledError:
                raise
            except ApiError as exc:
                self.restarts += 1
                if exc.status == 410:
                    rv = ""
                    continue
                delay = delays()
                log.warning("watch of %s failed: %s; retrying in %.1fs", res.plural, exc, delay)
                await asyncio.sleep(delay)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                self.restarts += 1
                delay = delays()
                log.warning(
                    "watch of %s broke: %s; resuming in %.1fs",
                    res.plural,
                    exc or type(exc).__name__,
                    delay,
                )
                await asyncio.sleep(delay)
