"""The incremental roll-ups agree with a from-scratch recount after any sequence of changes."""

from __future__ import annotations

import random
from collections import Counter

from hub.states import STATES
from hub.status import ClusterInfo, StatusBook, summarize


def recount(
    states: dict[tuple[str, str], str], members: dict[str, set[str]], cluster: str | None = None
) -> tuple[Counter[str], Counter[str]]:
    per_bundle: Counter[str] = Counter()
    per_group: Counter[str] = Counter()
    for (_bundle, c), s in states.items():
        if cluster is None or c == cluster:
            per_bundle[s] += 1
        if c in members["prod"]:
            per_group[s] += 1
    return per_bundle, per_group


def test_random_updates_match_recount() -> None:
    rng = random.Random(7)
    book = StatusBook()
    clusters = [f"c{i}" for i in range(20)]
    labels = {c: {"env": rng.choice(["prod", "dev"])} for c in clusters}
    for c in clusters:
        book.put_cluster(c, ClusterInfo(c, labels[c]))
    book.put_group("prod", [c for c in clusters if labels[c]["env"] == "prod"])
    truth: dict[tuple[str, str], str] = {}
    for step in range(2000):
        bundle = rng.choice(["a", "b", "c"])
        cluster = rng.choice(clusters)
        state = rng.choice([*STATES, None])
        book.set_state(bundle, cluster, state)
        if state is None:
            truth.pop((bundle, cluster), None)
        else:
            truth[(bundle, cluster)] = state
        if step % 500 == 0:  # regroup midway: membership changes must move tallies too
            moved = rng.choice(clusters)
            labels[moved] = {"env": "prod" if labels[moved]["env"] == "dev" else "dev"}
            book.set_groups(moved, {"prod"} if labels[moved]["env"] == "prod" else set())
    prod = {c for c in clusters if labels[c]["env"] == "prod"}
    for bundle in ["a", "b", "c"]:
        view = book.bundle_view(bundle)
        assert view is not None
        want = Counter(s for (b, _), s in truth.items() if b == bundle)
        assert dict(view.state_counts) == dict(want)
        assert view.clusters_desired == sum(want.values())
        assert view.clusters_ready == want["Ready"]
    for c in clusters:
        cv = book.cluster_view(c)
        assert cv is not None
        want = Counter(s for (_, cl), s in truth.items() if cl == c)
        assert (cv.bundles_ready, cv.bundles_desired) == (want["Ready"], sum(want.values()))
    gv = book.group_view("prod")
    assert gv is not None
    want = Counter(s for (_, cl), s in truth.items() if cl in prod)
    assert gv.cluster_count == len(prod)
    assert (gv.bundles_ready, gv.bundles_desired) == (want["Ready"], sum(want.values()))


def test_summary_names_clusters_worst_first_and_caps_the_list() -> None:
    members = {"NotReady": {"b", "a"}, "Modified": {"c1", "c2", "c3", "c4"}}
    counts = {"Modified": 4, "NotReady": 2, "Ready": 9}
    assert summarize(members, counts) == ("Modified: 4 (c1, c2, c3, +1 more); NotReady: 2 (a, b)")


def test_putting_a_known_cluster_again_keeps_its_presence() -> None:
    book = StatusBook()
    book.put_cluster("c1", ClusterInfo("one", {}))
    book.set_connected("c1", True)
    book.set_connected("c1", False)
    book.set_offline("c1", True)
    # Re-registered with new labels (or reloaded from another replica): still offline.
    book.put_cluster("c1", ClusterInfo("one", {"env": "prod"}))
    view = book.cluster_view("c1")
    assert view is not None
    assert (view.state, view.offline, dict(view.labels)) == ("Offline", True, {"env": "prod"})
    book.set_offline("c1", False)
    view = book.cluster_view("c1")
    assert view is not None and view.state != "WaitCheckIn"


def test_not_ready_names_a_bundles_clusters_by_state_without_the_ready_ones() -> None:
    book = StatusBook()
    for c in ("a", "b", "c"):
        book.put_cluster(f"id-{c}", ClusterInfo(c, {}))
    book.set_state("web", "id-a", "Ready")
    book.set_state("web", "id-b", "Modified")
    book.set_state("web", "id-c", "Modified")
    assert book.not_ready("web") == {"Modified": frozenset({"b", "c"})}
    book.set_state("web", "id-b", "Ready")
    book.set_state("web", "id-c", None)
    assert book.not_ready("web") == {}
    assert book.not_ready("nope") == {}


def test_a_bundles_version_moves_with_its_deployments_and_the_roster_with_cluster_facts() -> None:
    book = StatusBook()
    for bundle in ("web", "db"):
        book.add_bundle(bundle)
    book.put_cluster("id-a", ClusterInfo("a", {}))
    web, db, roster = book.bundle_version("web"), book.bundle_version("db"), book.roster_version
    book.set_state("web", "id-a", "NotReady")
    assert book.bundle_version("web") != web and book.bundle_version("db") == db
    assert book.roster_version == roster  # a state is the bundle's, not the roster's
    web = book.bundle_version("web")
    book.touch_bundle("web")  # its rollout moved
    assert book.bundle_version("web") != web
    book.set_offline("id-a", True)
    assert book.roster_version != roster
    roster = book.roster_version
    book.put_cluster("id-a", ClusterInfo("a2", {"env": "prod"}))
    assert book.roster_version != roster
    book.remove_bundle("db")
    assert book.bundle_version("db") == 0
