"""What an apply would change on clusters, without making it (pure): `argosy apply --dry-run`.

The hub plans and renders a dry run exactly as an apply; this module compares each planned
render with what each cluster holds now (the revision its spoke acknowledged) and groups the
clusters whose comparison is the same: same planned input, same held revision. A fleet of
10,000 clusters in three groups is compared three times and shown as three verdicts.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from argosy.redaction import is_secret, redacted_pair
from hub.core.planning import Unrendered
from hub.rendered import Rendered

# The reply carries every group's diff; a bundle of large objects changed everywhere must not
# make a reply the client refuses (gRPC's default limit is 4 MiB).
MAX_DIFF_BYTES = 256 * 1024
# And all of a reply's diffs together (every bundle, every group): with per-cluster values
# every cluster is a group of its own. Past it a group lists its changed keys only, and no
# YAML is dumped or diffed for it (the CPU, not just the bytes).
REPLY_DIFF_BYTES = 4 * 1024 * 1024
OMITTED = "diff omitted: reply budget\n"


@dataclass(frozen=True)
class PlannedChange:
    clusters: tuple[str, ...]
    revision: str = ""
    held_revision: str = ""
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    diff: str = ""
    options_changed: bool = False
    error: str = ""


# One cluster's pair: its name, what the plan gives it (None: the bundle no longer reaches it)
# and what it holds (None: nothing).
Pair = tuple[str, Rendered | Unrendered | None, Rendered | None]


def compare(
    held: Rendered | None, planned: Rendered | None, *, max_bytes: int = MAX_DIFF_BYTES
) -> PlannedChange:
    """The change from held to planned, for no cluster in particular (clusters empty)."""
    before = held.resources.items if held else {}
    after = planned.resources.items if planned else {}
    added = tuple(k for k in after if k not in before)
    removed = tuple(k for k in before if k not in after)
    changed = tuple(k for k in after if k in before and before[k].hash != after[k].hash)
    if max_bytes > 0:
        text = _bounded("".join(_diff(k, before[k].obj, after[k].obj) for k in changed), max_bytes)
    else:
        text = OMITTED if changed else ""
    return PlannedChange(
        clusters=(),
        revision=planned.revision if planned else "",
        held_revision=held.revision if held else "",
        added=tuple(sorted(added)),
        changed=tuple(sorted(changed)),
        removed=tuple(sorted(removed)),
        diff=text,
        options_changed=held is not None
        and planned is not None
        and held.options.as_dict() != planned.options.as_dict(),
    )


def planned_replies(
    pairs: Mapping[str, Iterable[Pair]], *, budget: int = REPLY_DIFF_BYTES
) -> dict[str, list[PlannedChange]]:
    """planned_changes of each bundle (in name order), their diffs within one reply's budget.
    CPU-heavy on a large fleet: run it off the event loop."""
    out = {}
    for name in sorted(pairs):
        out[name] = changes = planned_changes(pairs[name], budget=budget)
        budget -= sum(len(c.diff.encode()) for c in changes)
    return out


def planned_changes(
    pairs: Iterable[Pair], *, budget: int = REPLY_DIFF_BYTES
) -> list[PlannedChange]:
    """One verdict per group of clusters alike, compared once per group; groups in order of
    their first cluster's name. Clusters the bundle neither reaches nor is held on are left out;
    those already holding the planned revision are a group with nothing in it to change.
    Diffs share `budget` bytes, first groups first; the groups past it say OMITTED."""
    groups: dict[tuple[str, ...], list[str]] = {}
    inputs: dict[tuple[str, ...], tuple[Rendered | Unrendered | None, Rendered | None]] = {}
    for cluster, planned, held in pairs:
        if planned is None and held is None:
            continue
        if isinstance(planned, Unrendered):
            key: tuple[str, ...] = ("error", planned.error)
        else:
            key = (
                "render",
                planned.revision if planned else "",
                held.revision if held else "",
            )
        groups.setdefault(key, []).append(cluster)
        inputs.setdefault(key, (planned, held))
    out = []
    for names, key in sorted((tuple(sorted(clusters)), key) for key, clusters in groups.items()):
        planned, held = inputs[key]
        if isinstance(planned, Unrendered):
            out.append(PlannedChange(clusters=names, error=planned.error))
            continue
        change = compare(held, planned, max_bytes=min(MAX_DIFF_BYTES, budget))
        budget -= len(change.diff.encode())
        out.append(
            PlannedChange(
                clusters=names,
                revision=change.revision,
                held_revision=change.held_revision,
                added=change.added,
                changed=change.changed,
                removed=change.removed,
                diff=change.diff,
                options_changed=change.options_changed,
            )
        )
    return out


def _diff(key: str, held: Mapping[str, Any], planned: Mapping[str, Any]) -> str:
    if is_secret(held) or is_secret(planned):
        # The diff is printed by `argosy apply --dry-run`, in CI logs too.
        held, planned = redacted_pair(held, planned)
    return "".join(
        difflib.unified_diff(
            _yaml(held).splitlines(keepends=True),
            _yaml(planned).splitlines(keepends=True),
            f"{key} (held)",
            f"{key} (planned)",
        )
    )


def _yaml(obj: Mapping[str, Any]) -> str:
    return str(yaml.safe_dump(dict(obj), sort_keys=True, default_flow_style=False))


def _bounded(text: str, max_bytes: int) -> str:
    data = text.encode()
    if len(data) <= max_bytes:
        return text
    cut = data[:max_bytes].decode(errors="ignore").rpartition("\n")[0]
    if not cut:
        return OMITTED  # what is left of the reply's budget holds not even one line
    return f"{cut}\n... truncated ({len(data) - len(cut.encode())} more bytes)\n"
