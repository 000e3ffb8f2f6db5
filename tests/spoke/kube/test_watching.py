"""Watches: resume from the resourceVersion, relist on 410 Gone, one watch per kind in use."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from spoke.backends.base import OWNER_LABEL
from spoke.backends.kube.discovery import ApiResource
from spoke.backends.kube.watching import Watches
from tests.harness import eventually
from tests.spoke.kube.fakes import ScriptedClient

CONFIGMAPS = ApiResource("", "v1", "ConfigMap", "configmaps", True)


def cm(name: str, rv: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "n", "resourceVersion": rv}}


async def test_watch_resumes_from_its_resource_version_and_relists_on_410() -> None:
    lists = [
        {"metadata": {"resourceVersion": "10"}, "items": [cm("a", "5"), cm("b", "6")]},
        # After 410 Gone: "b" was deleted while nobody watched.
        {"metadata": {"resourceVersion": "30"}, "items": [cm("a", "25")]},
    ]

    def server(method: str, path: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        assert (method, path) == ("GET", "/api/v1/configmaps")
        assert kwargs["query"] == [("labelSelector", OWNER_LABEL)]
        return lists.pop(0)

    client = ScriptedClient(
        server,
        watches=[
            [("MODIFIED", {"apiVersion": "v1", "kind": "ConfigMap", **cm("a", "11")})],
            [("BOOKMARK", {"metadata": {"resourceVersion": "20"}})],
            [("GONE", {})],
        ],
    )
    watches = Watches(client)
    watches.use(CONFIGMAPS)
    events: list[tuple[str, str | None]] = []

    async def consume() -> None:
        async for event in watches.watch():
            rv = None if event.obj is None else event.obj["metadata"]["resourceVersion"]
            events.append((event.key, rv))

    task = asyncio.create_task(consume())
    await asyncio.wait_for(client.out_of_script.wait(), 5)
    await asyncio.sleep(0)  # let the consumer take what is queued
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    # Resumed from the list, then from each event / bookmark; relisted after 410.
    assert client.watched_from == ["10", "11", "20", "30"]
    assert events == [
        ("/ConfigMap/n/a", "5"),
        ("/ConfigMap/n/b", "6"),
        ("/ConfigMap/n/a", "11"),
        ("/ConfigMap/n/a", "25"),
        ("/ConfigMap/n/b", None),
    ]
    assert watches.events == 5
    assert watches.restarts == 1, "the relist after 410 Gone"


async def test_a_kind_put_in_use_is_followed_by_every_subscriber_and_close_ends_them() -> None:
    client = ScriptedClient(
        lambda m, p, k: {"metadata": {"resourceVersion": "1"}, "items": [cm("a", "1")]}
    )
    watches = Watches(client)
    assert watches.in_use("", "ConfigMap") is None
    early, late = watches.watch(), watches.watch()
    # `early` subscribes before the kind is in use, `late` after: both follow it.
    first = asyncio.ensure_future(anext(early))
    await eventually(lambda: watches._subscribers, what="early subscribed")
    watches.use(CONFIGMAPS)
    watches.use(CONFIGMAPS)  # once per group/kind
    assert watches.in_use("", "ConfigMap") == CONFIGMAPS
    events = [await first, await anext(late)]
    assert [e.key for e in events] == ["/ConfigMap/n/a"] * 2
    assert client.calls == [("GET", "/api/v1/configmaps")] * 2, "one list per subscriber"
    running = [t for t in asyncio.all_tasks() if t.get_name() == "watch-ConfigMap.core"]
    assert len(running) == 2 and not any(t.done() for t in running)
    # Both consumers walked away, leaving their generators suspended (not closed): only
    # close() ends the watches they started.
    await watches.close()
    assert all(t.done() for t in running)
