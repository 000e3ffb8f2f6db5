"""The cache of cluster messages (hub/watch.py ClusterPbs) never serves a stale cluster: after
any sequence of changes, a cached snapshot equals one built from scratch."""

from __future__ import annotations

import random

from hub.states import STATES
from hub.status import ClusterInfo, StatusBook
from hub.watch import ClusterPbs, snapshot


def test_cached_snapshot_equals_a_fresh_one_after_random_changes() -> None:
    rng = random.Random(11)
    book = StatusBook()
    cache = ClusterPbs()
    clusters = [f"c{i}" for i in range(12)]
    for c in clusters:
        book.put_cluster(c, ClusterInfo(c, {"env": "dev"}))
    for step in range(1500):
        c = rng.choice(clusters)
        if c not in book.cluster_ids():
            # Registered again under the same id after a removal.
            book.put_cluster(c, ClusterInfo(c, {"env": "again"}))
        what = rng.randrange(5)
        if what == 0:
            book.set_state(rng.choice(["a", "b"]), c, rng.choice([*STATES, None]))
        elif what == 1:
            book.set_connected(c, rng.random() < 0.5)
        elif what == 2:
            book.set_offline(c, rng.random() < 0.5)
        elif what == 3:
            # A new name or labels for a known cluster.
            book.put_cluster(c, ClusterInfo(f"{c}-{rng.randrange(3)}", {"env": str(step)}))
        else:
            book.remove_cluster(c)
        if step % 7 == 0:
            assert snapshot(book, clusters=cache) == snapshot(book), step


def test_a_cluster_untouched_keeps_its_version() -> None:
    book = StatusBook()
    book.put_cluster("a", ClusterInfo("a", {}))
    book.put_cluster("b", ClusterInfo("b", {}))
    v = book.cluster_version("a")
    book.set_state("x", "b", "Ready")
    book.set_connected("b", True)
    assert book.cluster_version("a") == v
    book.set_offline("a", True)
    assert book.cluster_version("a") != v


def test_a_cluster_added_again_never_reuses_a_version() -> None:
    book = StatusBook()
    book.put_cluster("a", ClusterInfo("a", {}))
    first = book.cluster_version("a")
    book.remove_cluster("a")
    assert book.cluster_version("a") == 0
    book.put_cluster("a", ClusterInfo("a", {"new": "labels"}))
    assert book.cluster_version("a") not in (0, first)


def test_the_response_holds_copies() -> None:
    book = StatusBook()
    book.put_cluster("a", ClusterInfo("a", {}))
    cache = ClusterPbs()
    first = snapshot(book, clusters=cache)
    first.clusters[0].name = "changed by a caller"
    assert snapshot(book, clusters=cache).clusters[0].name == "a"
