"""Rollout gating as a pure function: partition order, budgets, bake, halt and resume."""

from __future__ import annotations

from argosy.bundle.fleetyaml import Partition, RolloutStrategy
from argosy.selectors import LabelSelector
from hub.rollout import Candidate, Progress, limit, partition, plan_rollout


def fleet(n_per: int = 3, parts: int = 3, **state: object) -> list[Candidate]:
    return [
        Candidate(
            cluster_id=f"id-p{p}-{i}",
            name=f"p{p}-{i}",
            labels={"part": str(p)},
            **state,  # type: ignore[arg-type]
        )
        for p in range(1, parts + 1)
        for i in range(n_per)
    ]


PARTS = tuple(
    Partition(name=f"p{p}", cluster_selector=LabelSelector({"part": str(p)})) for p in (1, 2, 3)
)


def test_limit_follows_fleet() -> None:
    assert limit(10) == 10  # default 100%
    assert limit(10, "25%") == 2
    assert limit(3, "10%") == 1  # a percentage never floors to 0
    assert limit(10, 0) == 0
    assert limit(10, None, 4) == 4
    assert limit(0, 5) == 1


def test_no_strategy_releases_everything_at_once() -> None:
    cands = fleet()
    plan = plan_rollout(None, cands, now=0)
    assert plan.release == {c.cluster_id for c in cands}
    assert plan.state == "Progressing"


def test_partitions_in_order_with_bake() -> None:
    strategy = RolloutStrategy(partitions=PARTS, bake_seconds=10)
    cands = fleet()
    plan = plan_rollout(strategy, cands, now=0)
    assert plan.release == {c.cluster_id for c in cands if c.name.startswith("p1")}
    assert [p.state for p in plan.partitions] == ["Progressing", "Pending", "Pending"]
    # p1 up to date but still baking: p2 waits, and the plan asks to be woken when bake ends.
    done = [
        Candidate(**{**c.__dict__, "released": True, "up_to_date": True, "ready_since": 5.0})
        if c.name.startswith("p1")
        else c
        for c in cands
    ]
    plan = plan_rollout(strategy, done, now=8)
    assert plan.release == frozenset()
    assert plan.partitions[0].state == "Baking" and plan.wake_at == 15.0
    plan = plan_rollout(strategy, done, now=15)
    assert plan.release == {c.cluster_id for c in cands if c.name.startswith("p2")}


def test_partition_budget_releases_one_at_a_time() -> None:
    strategy = RolloutStrategy(
        partitions=(Partition(name="all", cluster_selector=LabelSelector(), max_unavailable=1),)
    )
    cands = fleet(n_per=4, parts=1)
    plan = plan_rollout(strategy, cands, now=0)
    assert len(plan.release) == 1
    # The released one is now upgrading (unavailable): nothing else goes.
    first = next(iter(plan.release))
    upgrading = [
        Candidate(**{**c.__dict__, "released": True, "available": False})
        if c.cluster_id == first
        else c
        for c in cands
    ]
    assert plan_rollout(strategy, upgrading, now=1).release == frozenset()


def test_unmatched_clusters_form_a_last_partition() -> None:
    strategy = RolloutStrategy(partitions=PARTS[:1])
    parts = partition(strategy, fleet())
    assert [(name, len(members)) for name, members, _ in parts] == [
        ("p1", 3),
        ("unpartitioned", 6),
    ]


def test_max_failures_halts_and_stays_halted_until_resumed() -> None:
    strategy = RolloutStrategy(partitions=PARTS, max_failures=1)
    cands = [
        Candidate(
            **{
                **c.__dict__,
                "released": True,
                "failed": c.name == "p1-0",
                "up_to_date": c.name != "p1-0",
                "available": c.name != "p1-0",
            }
        )
        if c.name.startswith("p1")
        else c
        for c in fleet()
    ]
    plan = plan_rollout(strategy, cands, now=0)
    assert plan.halt and plan.state == "Halted" and plan.release == frozenset()
    assert "1 cluster(s) failed" in plan.reason
    # Halted from an earlier evaluation: still nothing released.
    again = plan_rollout(strategy, cands, now=1, halted="earlier")
    assert again.state == "Halted" and again.release == frozenset() and not again.halt
    # Resumed (halted cleared) with the failure fixed: the rest goes (with Fleet's default
    # maxUnavailable of 100% and no bake, later partitions do not wait for each other).
    fixed = [
        Candidate(**{**c.__dict__, "failed": False, "up_to_date": c.released, "available": True})
        for c in cands
    ]
    plan = plan_rollout(strategy, fixed, now=2)
    assert plan.release == {c.cluster_id for c in cands if not c.name.startswith("p1")}


def test_paused_releases_nothing_and_blocked_clusters_wait() -> None:
    cands = fleet()
    assert plan_rollout(None, cands, now=0, paused=True).release == frozenset()
    blocked = [
        Candidate(**{**c.__dict__, "blocked": "waiting for db (NotReady)"})
        if c.name == "p1-0"
        else c
        for c in cands
    ]
    plan = plan_rollout(None, blocked, now=0)
    assert "id-p1-0" not in plan.release and len(plan.release) == 8
    assert "waiting for db" in plan.reason


def test_auto_partitions_only_from_the_threshold() -> None:
    small = fleet(n_per=10, parts=1)
    assert [n for n, _, _ in partition(RolloutStrategy(), small)] == ["All"]
    big = [Candidate(cluster_id=f"c{i}", name=f"c{i:03d}") for i in range(200)]
    names = [n for n, _, _ in partition(RolloutStrategy(), big)]
    assert names == [
        "Partition 0 - 50",
        "Partition 50 - 100",
        "Partition 100 - 150",
        "Partition 150 - 200",
    ]


def test_progress_deadline_fails_a_stalled_cluster_and_halts_naming_it() -> None:
    strategy = RolloutStrategy(partitions=PARTS, progress_deadline_seconds=5, bake_seconds=1)
    cands = [
        Candidate(
            **{
                **c.__dict__,
                "released": True,
                "up_to_date": c.name != "p1-1",
                "available": c.name != "p1-1",
                "stalled_since": 10.0 if c.name == "p1-1" else None,
                "ready_since": 10.0 if c.name != "p1-1" else None,
            }
        )
        if c.name.startswith("p1")
        else c
        for c in fleet()
    ]
    # Before the deadline: no failure, and a timer for when it passes (no polling).
    plan = plan_rollout(strategy, cands, now=12)
    assert not plan.halt and plan.failures == 0 and plan.wake_at == 15.0
    # At the deadline, with no report in between: it fails, and with no maxFailures given
    # the first failure halts.
    plan = plan_rollout(strategy, cands, now=15)
    assert plan.halt and plan.state == "Halted" and plan.release == frozenset()
    assert plan.halt_reason == (
        "1 cluster(s) failed, maxFailures is 1 "
        "(p1-1: not Ready within progressDeadlineSeconds (5s))"
    )


def test_progress_counts_a_settled_rollout_and_flags_only_partition_flips() -> None:
    strategy = RolloutStrategy(partitions=PARTS, bake_seconds=10)
    cands = fleet(n_per=2, released=True, up_to_date=False, available=False)
    plan = plan_rollout(strategy, cands, now=0)
    progress = Progress.of(plan)
    assert progress.behind == [2, 2, 2]
    moves = [
        ("id-p3-0", False, True, 1.0, False),
        ("id-p3-1", False, True, 2.0, True),  # p3 wholly Ready: a flip
        ("id-p3-1", True, True, 3.0, False),  # no change
    ]
    for cluster_id, was, now_ready, at, flipped in moves:
        assert progress.move(cluster_id, was_ready=was, is_ready=now_ready, now=at) is flipped
    view = progress.current(plan, now=5, bake_seconds=10)
    assert [(v.state, v.unavailable) for v in view.partitions] == [
        ("Progressing", 2),
        ("Progressing", 2),
        ("Baking", 0),
    ]
    assert view.state == "Progressing"
    for i, cluster_id in enumerate(("id-p1-0", "id-p1-1", "id-p2-0", "id-p2-1")):
        progress.move(cluster_id, was_ready=False, is_ready=True, now=4.0 + i)
    # Everything Ready is a Complete rollout at once, whatever its partitions still bake.
    view = progress.current(plan, now=8, bake_seconds=10)
    assert view.state == "Complete" and view.reason == ""
    assert [v.state for v in view.partitions] == ["Baking", "Baking", "Baking"]
    view = progress.current(plan, now=30, bake_seconds=10)
    assert [v.state for v in view.partitions] == ["Complete", "Complete", "Complete"]
    assert progress.move("id-p3-0", was_ready=True, is_ready=False, now=31)  # p3 reopened
    assert progress.current(plan, now=32, bake_seconds=10).state == "Progressing"
    assert not progress.move("unknown", was_ready=False, is_ready=True, now=33)
