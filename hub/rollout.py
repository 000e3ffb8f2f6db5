"""Rollout gating: which clusters may receive a bundle's new revision now (pure functions).

Fleet's semantics, from its fleet.yaml `rolloutStrategy`: targets are split into partitions
(manual `partitions[]`, first match wins; or automatic chunks of `autoPartitionSize` once there
are at least `autoPartitionThreshold` targets, else one partition). Partitions are visited in
order; within each, a cluster is released only while the bundle-wide and the partition's
`maxUnavailable` budgets allow (a cluster that is already unavailable may always update). A
partition whose unavailable clusters exceed its budget counts as an unavailable partition; once
more partitions than `maxUnavailablePartitions` are unavailable, later partitions wait.

Beyond Fleet:
- `bakeSeconds`: a partition counts as unavailable until every cluster in it has been Ready at
  the new revision for this long, so the next partition starts only after it.
- `maxFailures`: the rollout halts (nothing more is released) once this many released clusters
  are ErrApplied, or still not Ready `progressDeadlineSeconds` after their release (or after
  they last left Ready). A halt sticks until resumed. `progressDeadlineSeconds` without
  `maxFailures` halts at the first failure: a deadline that never acts would be a lie.
- Time-based changes (a bake ending, a deadline passing) come back as `wake_at`: the caller
  sets a timer instead of polling.
- Offline clusters count as unavailable.
- Clusters that match no manual partition form a last partition, "unpartitioned", instead of
  never being updated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from argosy.bundle.fleetyaml import Partition, RolloutStrategy
from argosy.selectors import LabelSelector

DEFAULT_AUTO_PARTITION_SIZE = "25%"
DEFAULT_AUTO_PARTITION_THRESHOLD = 200

# A rollout's states (and, but Paused and Halted, a partition's): Fleet's names, not deployment
# states (argosy.states.State).
PROGRESSING, HALTED, COMPLETE, PAUSED = "Progressing", "Halted", "Complete", "Paused"
BAKING, PENDING = "Baking", "Pending"


def limit(count: int, *values: int | str | None, default: int | str = "100%") -> int:
    """Fleet's `limit`: the first value given, as a number or a percentage of count (floored,
    at least 1 for a percentage)."""
    if count <= 0:
        return 1
    value = next((v for v in values if v is not None), default)
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    percent = float(text.removesuffix("%"))
    return max(1, int(count * percent) // 100) if percent > 0 else 1


@dataclass(frozen=True)
class Candidate:
    """One targeted cluster, as gating sees it."""

    cluster_id: str
    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    groups: frozenset[str] = frozenset()
    released: bool = False
    """The new revision has been released to this cluster."""
    up_to_date: bool = False
    """Released, applied and Ready at the new revision."""
    available: bool = True
    """Whatever revision it holds is applied and Ready, and the cluster is online."""
    failed: bool = False
    """Released and ErrApplied (or its render failed)."""
    failure: str = ""
    """Why it failed, for the halt reason."""
    stalled_since: float | None = None
    """Released and applying or NotReady since then (None when Ready or not released): it
    fails once this is older than `progressDeadlineSeconds`."""
    blocked: str = ""
    """Why it may not be released whatever the budgets say (dependsOn), or ''."""
    ready_since: float | None = None
    """When it became Ready at the new revision."""


@dataclass(frozen=True)
class PartitionView:
    name: str
    count: int
    unavailable: int
    max_unavailable: int
    state: str
    ready_at: float = 0.0
    """When its last member became Ready at the new revision (for bakeSeconds)."""


@dataclass(frozen=True)
class RolloutPlan:
    release: frozenset[str]
    state: str
    partitions: tuple[PartitionView, ...]
    reason: str = ""
    failures: int = 0
    halt: bool = False
    """The plan halts the rollout now (maxFailures reached)."""
    halt_reason: str = ""
    """Why it halts now, naming the failed clusters (with halt)."""
    wake_at: float | None = None
    """When to look again even if nothing changes (a bake ends, a deadline passes)."""
    partition_of: Mapping[str, int] = field(default_factory=dict)
    """Each candidate's partition (an index into `partitions`)."""


@dataclass
class Progress:
    """A settled rollout (everything released) kept current without re-gating on every report.

    With nothing left to release, only whether each partition is wholly Ready (and baked)
    changes: each state change costs O(1) here, the view is exact at any read, and the caller
    re-gates (O(clusters)) only when a partition flips, for failures and timers.
    """

    partition_of: Mapping[str, int]
    behind: list[int]
    """Per partition, how many members are not Ready at the new revision."""
    ready_at: list[float]
    """Per partition, when a member last became Ready."""

    @classmethod
    def of(cls, plan: RolloutPlan) -> Progress:
        return cls(
            plan.partition_of,
            [p.unavailable for p in plan.partitions],
            [p.ready_at for p in plan.partitions],
        )

    def move(self, cluster_id: str, *, was_ready: bool, is_ready: bool, now: float) -> bool:
        """Count one cluster's change; True when its partition's completeness flipped."""
        i = self.partition_of.get(cluster_id)
        if i is None or was_ready == is_ready:
            return False
        before = self.behind[i]
        self.behind[i] = max(0, before + (-1 if is_ready else 1))
        if is_ready:
            self.ready_at[i] = max(self.ready_at[i], now)
        return (before == 0) != (self.behind[i] == 0)

    def current(self, plan: RolloutPlan, *, now: float, bake_seconds: float) -> RolloutPlan:
        """The plan as it stands now: partition counts and states, and Complete once all
        are Ready (what plan_rollout would say, without its O(clusters) pass)."""
        views = []
        for v, behind, ready_at in zip(plan.partitions, self.behind, self.ready_at, strict=True):
            if behind:
                state = PROGRESSING
            elif bake_seconds > 0 and now < ready_at + bake_seconds:
                state = BAKING
            else:
                state = COMPLETE
            views.append(replace(v, unavailable=behind, state=state, ready_at=ready_at))
        if plan.state not in (PROGRESSING, COMPLETE):
            return replace(plan, partitions=tuple(views))  # paused or halted stays so
        done = not any(self.behind)
        return replace(
            plan,
            partitions=tuple(views),
            state=COMPLETE if done else PROGRESSING,
            reason="" if done else plan.reason,
        )


def _matches(p: Partition, c: Candidate) -> bool:
    if p.cluster_name and p.cluster_name != c.name:
        return False
    if p.cluster_selector is not None and not p.cluster_selector.matches(c.labels):
        return False
    if p.cluster_group and p.cluster_group not in c.groups:
        return False
    if p.cluster_group_selector is not None:
        # Argosy's groups carry no labels of their own: only the empty selector matches.
        return p.cluster_group_selector == LabelSelector()
    return bool(
        p.cluster_name
        or p.cluster_selector is not None
        or p.cluster_group
        or p.cluster_group_selector is not None
    )


def partition(
    strategy: RolloutStrategy, candidates: Sequence[Candidate]
) -> list[tuple[str, list[Candidate], int]]:
    """(name, members, maxUnavailable) of each partition, in rollout order."""
    ordered = sorted(candidates, key=lambda c: c.name)
    if strategy.partitions:
        left = list(ordered)
        out = []
        for i, p in enumerate(strategy.partitions):
            members = [c for c in left if _matches(p, c)]
            left = [c for c in left if not _matches(p, c)]
            out.append(
                (
                    p.name or f"partition-{i}",
                    members,
                    limit(len(members), p.max_unavailable, strategy.max_unavailable),
                )
            )
        if left:
            out.append(("unpartitioned", left, limit(len(left), strategy.max_unavailable)))
        return out
    threshold = strategy.auto_partition_threshold or DEFAULT_AUTO_PARTITION_THRESHOLD
    size_setting = strategy.auto_partition_size
    disabled = isinstance(size_setting, int) and size_setting <= 0
    if disabled or len(ordered) < threshold:
        return [("All", ordered, limit(len(ordered), strategy.max_unavailable))]
    size = limit(len(ordered), size_setting, default=DEFAULT_AUTO_PARTITION_SIZE)
    chunks = [ordered[i : i + size] for i in range(0, len(ordered), size)]
    return [
        (
            f"Partition {i * size} - {i * size + len(chunk)}",
            chunk,
            limit(len(chunk), strategy.max_unavailable),
        )
        for i, chunk in enumerate(chunks)
    ]


def plan_rollout(
    strategy: RolloutStrategy | None,
    candidates: Sequence[Candidate],
    *,
    now: float,
    paused: bool = False,
    halted: str = "",
) -> RolloutPlan:
    """Which clusters to release now, and the rollout's state, from the current states alone."""
    strategy = strategy or RolloutStrategy()
    deadline = strategy.progress_deadline_seconds
    failed: list[str] = []
    wake_at: float | None = None
    for c in sorted(candidates, key=lambda c: c.name):
        if not c.released:
            continue
        if c.failed:
            failed.append(f"{c.name}: {c.failure or 'ErrApplied'}")
        elif deadline and c.stalled_since is not None:
            if now >= c.stalled_since + deadline:
                failed.append(f"{c.name}: not Ready within progressDeadlineSeconds ({deadline}s)")
            else:
                wake_at = min(wake_at or float("inf"), c.stalled_since + deadline)
    failures = len(failed)
    max_failures = strategy.max_failures or (1 if deadline else 0)
    halt = bool(max_failures) and failures >= max_failures and not halted
    if halt:
        shown = "; ".join(failed[:3]) + (f"; +{failures - 3} more" if failures > 3 else "")
        halted = f"{failures} cluster(s) failed, maxFailures is {max_failures} ({shown})"
    parts = partition(strategy, candidates)
    g_max = limit(len(candidates), strategy.max_unavailable)
    g_unavailable = sum(1 for c in candidates if not c.available)
    mup = limit(len(parts), strategy.max_unavailable_partitions, default=0)
    release: set[str] = set()
    views: list[PartitionView] = []
    unavailable_partitions = 0
    stopped = bool(paused or halted)
    for name, members, p_max in parts:
        p_unavailable = sum(1 for c in members if not c.available)
        if not stopped:
            for c in members:
                if c.released or c.blocked:
                    continue
                if (g_unavailable < g_max or not c.available) and (
                    p_unavailable < p_max or not c.available
                ):
                    release.add(c.cluster_id)
                    if c.available:
                        g_unavailable += 1
                        p_unavailable += 1
        behind = [c for c in members if not c.up_to_date]
        baked_at = max((c.ready_since or 0.0 for c in members), default=0.0)
        baking = (
            not behind
            and bool(members)
            and strategy.bake_seconds > 0
            and now < baked_at + strategy.bake_seconds
        )
        if baking:
            wake_at = min(wake_at or float("inf"), baked_at + strategy.bake_seconds)
        if not behind and not baking:
            state = COMPLETE
        elif baking:
            state = BAKING
        elif any(c.released or c.cluster_id in release for c in members):
            state = PROGRESSING
        else:
            state = PENDING
        views.append(PartitionView(name, len(members), len(behind), p_max, state, baked_at))
        # With a bake time, the next partition waits for this one to be wholly Ready and baked.
        if len(behind) > p_max or (strategy.bake_seconds > 0 and state != COMPLETE):
            unavailable_partitions += 1
        if unavailable_partitions > mup:
            stopped = True
    if paused:
        overall, reason = PAUSED, "paused"
    elif halted:
        overall, reason = HALTED, f"halted: {halted}"
    elif all(c.up_to_date for c in candidates):
        overall, reason = COMPLETE, ""
    else:
        overall = PROGRESSING
        waiting = [v.name for v in views if v.state == PENDING]
        blocked = sorted({c.blocked for c in candidates if c.blocked and not c.released})
        parts_text = f"partitions waiting: {', '.join(waiting)}" if waiting else ""
        reason = "; ".join(filter(None, [parts_text, *blocked]))
    return RolloutPlan(
        release=frozenset(release),
        state=overall,
        partitions=tuple(views),
        reason=reason,
        failures=failures,
        halt=halt,
        halt_reason=halted if halt else "",
        wake_at=wake_at,
        partition_of={c.cluster_id: i for i, (_, members, _) in enumerate(parts) for c in members},
    )
