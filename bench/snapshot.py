"""What one `argosy status` (GetStatus) costs the hub's event loop at N clusters: the status
snapshot built from scratch, and from the cache of cluster messages (hub/watch.py ClusterPbs)
with nothing, 10 % or every cluster changed since the last call. In-process, no gRPC.

    python -m bench.snapshot --clusters 10000
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence

from hub.status import ClusterInfo, StatusBook
from hub.watch import ClusterPbs, snapshot

BUNDLES = ("bench-propagate", "bench-diff")


def book_of(n: int) -> StatusBook:
    book = StatusBook()
    for b in BUNDLES:
        book.add_bundle(b)
    for i in range(n):
        cid = f"c{i}"
        book.put_cluster(cid, ClusterInfo(f"sim-{i:05d}", {"bench": "fleet", "host": "1"}))
        book.set_connected(cid, True)
        for b in BUNDLES:
            book.set_state(b, cid, "Ready")
    return book


def timed(label: str, f: Callable[[], object], rounds: int) -> None:
    best = min(_once(f) for _ in range(rounds))
    print(f"{label:<40} {best * 1000:8.1f} ms (best of {rounds})")


def _once(f: Callable[[], object]) -> float:
    started = time.perf_counter()
    f()
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.snapshot", description=__doc__.split("\n")[0])
    p.add_argument("--clusters", type=int, default=10_000)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args(argv)
    n = a.clusters
    book = book_of(n)
    cache = ClusterPbs()
    print(f"N = {n:,} clusters, {len(BUNDLES)} bundles")
    timed("from scratch", lambda: snapshot(book), a.rounds)
    snapshot(book, clusters=cache)  # fills the cache
    timed("cached, nothing changed", lambda: snapshot(book, clusters=cache), a.rounds)

    def after_changing(step: int) -> float:
        """Flip every step-th cluster's connection, then time one cached snapshot."""
        for i in range(0, n, step):
            view = book.cluster_view(f"c{i}")
            book.set_connected(f"c{i}", not (view and view.connected))
        started = time.perf_counter()
        snapshot(book, clusters=cache)
        return time.perf_counter() - started

    for label, step in (("cached, 10 % changed", 10), ("cached, all changed", 1)):
        best = min(after_changing(step) for _ in range(a.rounds))
        print(f"{label:<40} {best * 1000:8.1f} ms (best of {a.rounds})")


if __name__ == "__main__":
    main()
