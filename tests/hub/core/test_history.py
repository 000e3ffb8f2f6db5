"""The pure decisions of bundle history (hub/core/history.py), and the fleet's pin kept
through the other rollout controls."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from argosy.bundle import BundleSource
from argosy.errors import InvalidInput, NotFound
from argosy.manifests import Manifest
from hub.core.history import current_rev, pinned_message, rollback_target, summarize
from hub.core.inventory import Inventory
from hub.fleet import Fleet
from hub.models import BundleControl, HistoryEntry
from hub.rendering import Renderer
from hub.status import StatusBook
from tests.hub.fakes import FakePeers, MemoryStore


def manifest(kind: str, name: str) -> Manifest:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name}}
    text = json.dumps(obj)
    return Manifest(obj=obj, key=f"/{kind}/default/{name}", manifest=text.encode(), hash=name)


def cm_files(v: str) -> dict[str, bytes]:
    return {
        "cm.yaml": (
            f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: web}}\ndata: {{v: '{v}'}}\n"
        ).encode()
    }


def entry(rev: int, revision: str) -> HistoryEntry:
    return HistoryEntry("web", rev, revision, 0, "token/a", "", {}, {})


def test_summarize_counts_objects_and_names_each_kind_once_in_order() -> None:
    got = summarize(
        [manifest("Deployment", "a"), manifest("Service", "a"), manifest("Deployment", "b")]
    )
    assert got == "3 objects: Deployment, Service"
    assert summarize([manifest("ConfigMap", "a")]) == "1 object: ConfigMap"
    assert summarize([]) == "0 objects"


def test_rollback_target_is_the_previous_entry_or_the_rev_asked_for() -> None:
    entries = [entry(4, "a"), entry(5, "b"), entry(6, "c")]
    assert rollback_target("web", entries, 0).rev == 5
    assert rollback_target("web", entries, 4).rev == 4


def test_rollback_target_refuses_what_it_cannot_do_clearly() -> None:
    entries = [entry(4, "a"), entry(5, "b"), entry(6, "a")]
    with pytest.raises(NotFound, match=r"bundle 'web' has no rev 2 in its history \(kept: 4, 5, 6"):
        rollback_target("web", entries, 2)
    with pytest.raises(NotFound, match="has no history"):
        rollback_target("web", [], 0)
    with pytest.raises(InvalidInput, match="no previous revision"):
        rollback_target("web", entries[:1], 0)
    # rev 4 has the content rev 6 runs: nothing would change.
    with pytest.raises(InvalidInput, match=r"runs rev 4's content already \(rev 6\)"):
        rollback_target("web", entries, 4)


def test_current_rev_is_the_latest_entry_with_the_running_content() -> None:
    entries = [entry(1, "a"), entry(2, "b"), entry(3, "a")]
    assert current_rev(entries, "a") == 3
    assert current_rev(entries, "b") == 2
    assert current_rev(entries, "z") == 0


def test_pinned_message_says_how_to_unpin() -> None:
    assert pinned_message("web", 3) == (
        "bundle web is pinned at rev 3 by rollback; `argosy unpin web` to accept new revisions"
    )


async def test_pause_and_resume_keep_a_rollbacks_pin() -> None:
    store = MemoryStore()
    f = Fleet(store=store, status=StatusBook(), renderer=Renderer())
    f.peers = FakePeers()
    await f.load()
    for v in ("1", "2"):
        await f.apply_bundles([(BundleSource("web", cm_files(v)), {})])
    _, pinned, target = await f.rollback("web", actor="token/a")
    assert (pinned, target) == (3, 1)
    await f.set_paused("web", True)
    await f.resume_rollout("web")
    assert f.pinned("web") == 3 and store.controls["web"].pinned == 3
    (skipped,) = await f.apply_bundles([(BundleSource("web", cm_files("9")), {})])
    assert skipped.skipped == pinned_message("web", 3)
    assert await f.unpin("web") and f.pinned("web") == 0 and store.controls["web"].paused


class SlowControls(MemoryStore):
    """Holds the first control write until released: another write lands in its await."""

    def __init__(self) -> None:
        super().__init__()
        self.held = asyncio.Event()
        self.release = asyncio.Event()

    async def put_bundle_control(self, control: BundleControl) -> None:
        if not self.held.is_set():
            self.held.set()
            await self.release.wait()
        await super().put_bundle_control(control)


async def test_a_pause_landing_while_a_rollback_stores_its_pin_is_kept() -> None:
    store = SlowControls()
    f = Fleet(store=store, status=StatusBook(), renderer=Renderer())
    f.peers = FakePeers()
    await f.load()
    for v in ("1", "2"):
        await f.apply_bundles([(BundleSource("web", cm_files(v)), {})])
    rollback = asyncio.create_task(f.rollback("web"), name="rollback")
    await store.held.wait()
    pause = asyncio.create_task(f.set_paused("web", True), name="pause")
    for _ in range(5):
        await asyncio.sleep(0)  # let the pause run as far as it can
    store.release.set()
    await rollback
    await pause
    assert f.pinned("web") == 3 and f.paused("web")
    assert store.controls["web"].pinned == 3 and store.controls["web"].paused


async def test_control_writes_in_flight_together_each_keep_the_others_field() -> None:
    # The rollout gate's halt stores while a pause and a resume of the pin land.
    inventory = Inventory()
    stored: list[BundleControl] = []
    release = asyncio.Event()

    async def slow_put(control: BundleControl) -> None:
        await release.wait()
        stored.append(control)

    async def put(control: BundleControl) -> None:
        stored.append(control)

    halt = asyncio.create_task(
        inventory.update_control("web", slow_put, halted="too many failures"), name="halt"
    )
    await asyncio.sleep(0)
    pause = asyncio.create_task(inventory.update_control("web", put, paused=True), name="pause")
    pin = asyncio.create_task(inventory.update_control("web", put, pinned=4), name="pin")
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(halt, pause, pin)
    assert inventory.controls["web"] == BundleControl("web", True, "too many failures", 4)
    assert stored[-1] == inventory.controls["web"]
