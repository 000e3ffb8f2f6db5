"""What a dry run shows: the comparison and the grouping (pure)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import hub.fleet
from argosy.bundle import BundleSource
from argosy.manifests import Manifest, ResourceSet
from argosy.options import ApplyOptions
from hub.core.planning import Unrendered
from hub.dryrun import OMITTED, compare, planned_changes, planned_replies
from hub.fleet import Fleet
from hub.rendered import Rendered
from hub.rendering import Renderer
from hub.status import StatusBook
from tests.hub.fakes import FakePeers, MemoryStore, configmap_bundle


def cm(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def rendered(*objs: dict[str, Any], options: ApplyOptions | None = None) -> Rendered:
    return Rendered.of(ResourceSet.of(Manifest.of(o) for o in objs), options or ApplyOptions())


def test_compare_lists_added_changed_removed_with_a_diff_of_the_changed() -> None:
    held = rendered(cm("a", v="1"), cm("b", v="1"), cm("gone"))
    planned = rendered(cm("a", v="1"), cm("b", v="2"), cm("new"))
    change = compare(held, planned)
    assert change.added == ("/ConfigMap//new",)
    assert change.changed == ("/ConfigMap//b",)
    assert change.removed == ("/ConfigMap//gone",)
    assert change.diff.splitlines() == [
        "--- /ConfigMap//b (held)",
        "+++ /ConfigMap//b (planned)",
        "@@ -1,6 +1,6 @@",
        " apiVersion: v1",
        " data:",
        "-  v: '1'",
        "+  v: '2'",
        " kind: ConfigMap",
        " metadata:",
        "   name: b",
    ]
    assert (change.revision, change.held_revision) == (planned.revision, held.revision)
    assert not change.options_changed


def test_compare_with_nothing_held_adds_all_and_with_nothing_planned_removes_all() -> None:
    r = rendered(cm("a"), cm("b"))
    assert compare(None, r).added == ("/ConfigMap//a", "/ConfigMap//b")
    gone = compare(r, None)
    assert gone.removed == ("/ConfigMap//a", "/ConfigMap//b") and gone.revision == ""


def test_compare_notices_options_and_bounds_the_diff() -> None:
    held = rendered(cm("a", v="x" * 1000))
    planned = rendered(cm("a", v="y" * 1000), options=ApplyOptions(correct_drift=True))
    change = compare(held, planned, max_bytes=500)
    assert change.options_changed
    assert "truncated" in change.diff and len(change.diff.encode()) < 600


def test_groups_clusters_alike_and_compares_each_group_once() -> None:
    v1, v2 = rendered(cm("a", v="1")), rendered(cm("a", v="2"))
    other = rendered(cm("a", v="2"), cm("extra"))
    changes = planned_changes(
        [
            ("c3", v2, v1),
            ("c1", v2, v1),
            ("c2", v2, None),
            ("c4", other, v1),
            ("c5", v2, v2),
            ("c6", Unrendered("label 'region' missing"), v1),
            ("c7", None, v1),
            ("c8", None, None),
        ]
    )
    by = {c.clusters: c for c in changes}
    assert list(by) == [("c1", "c3"), ("c2",), ("c4",), ("c5",), ("c6",), ("c7",)]
    assert by[("c1", "c3")].changed == ("/ConfigMap//a",) and not by[("c1", "c3")].added
    assert by[("c2",)].added == ("/ConfigMap//a",)
    assert by[("c4",)].added == ("/ConfigMap//extra",) and by[("c4",)].changed
    # Up to date: a group with nothing to change.
    unchanged = by[("c5",)]
    assert unchanged.revision == unchanged.held_revision and not unchanged.diff
    assert not (unchanged.added or unchanged.changed or unchanged.removed)
    assert by[("c6",)].error == "label 'region' missing"
    assert by[("c7",)].removed == ("/ConfigMap//a",)


def secret(**data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": data}


def test_a_secrets_values_are_masked_in_the_diff_and_which_differ_is_shown() -> None:
    held = rendered(secret(same="c2FtZQ==", pw="b2xk", gone="Z29uZQ=="))
    planned = rendered({**secret(same="c2FtZQ==", pw="bmV3c2VjcmV0", new="bmV3"), "type": "Opaque"})
    diff = compare(held, planned).diff
    for value in ("c2FtZQ==", "b2xk", "bmV3c2VjcmV0", "Z29uZQ==", "bmV3"):
        assert value not in diff
    assert "sha256" not in diff
    assert "-  pw: (redacted)\n" in diff and "+  pw: (redacted, differs)\n" in diff
    assert "   same: (redacted)\n" in diff
    assert "+type: Opaque\n" in diff


def test_diffs_share_one_reply_budget_and_groups_past_it_list_their_keys_only() -> None:
    held = rendered(cm("a", v="x" * 100))
    per_cluster = [rendered(cm("a", v=str(i) * 100)) for i in range(4)]
    pairs = {
        "web": [(f"c{i}", r, held) for i, r in enumerate(per_cluster[:2])],
        "api": [(f"c{i}", r, held) for i, r in enumerate(per_cluster[2:])],
    }
    one = len(compare(held, per_cluster[0]).diff.encode())
    got = planned_replies(pairs, budget=one * 2 + 1)
    # Bundles in name order: api's two groups spend the budget, web's get none.
    assert [c.diff.startswith("--- /ConfigMap//a") for c in got["api"]] == [True, True]
    assert [c.diff for c in got["web"]] == [OMITTED, OMITTED]
    assert all(c.changed == ("/ConfigMap//a",) for c in got["web"])
    # Nothing to change: no diff, and nothing said about the budget.
    (same,) = planned_changes([("c9", held, held)], budget=0)
    assert same.diff == ""


async def test_a_dry_run_compares_off_the_event_loop_and_outside_the_fleet_lock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fleet = Fleet(store=MemoryStore(), status=StatusBook(), renderer=Renderer())
    fleet.peers = FakePeers()
    await fleet.load()
    seen: list[tuple[bool, bool]] = []

    def spy(pairs: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
            on_loop = True
        except RuntimeError:
            on_loop = False
        seen.append((on_loop, fleet.lock.locked()))
        return planned_replies(pairs, **kwargs)

    monkeypatch.setattr(hub.fleet, "planned_replies", spy)
    (result,) = await fleet.apply_bundles(
        [(BundleSource("web", configmap_bundle("web")), {})], dry_run=True
    )
    assert seen == [(False, False)]
    assert fleet.bundles() == [] and result.name == "web"
