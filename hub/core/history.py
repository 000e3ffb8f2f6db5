"""Bundle history and rollback pins: the pure decisions (issue #15).

A bundle's history is the source content of each revision it was applied at (the files and
labels the user or the git source applied), numbered 1, 2, 3... per bundle, kept in the store
(the last N, trimmed on write). A rollback applies an earlier entry's content again through
the ordinary apply, recorded as a new entry that names the one it rolled back to (as Helm and
Argo CD record a rollback), and pins the bundle: new applies and commits of it are skipped
until `argosy unpin`. Nothing here does I/O; hub/fleet.py stores and applies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from argosy.errors import InvalidInput, NotFound
from argosy.manifests import Manifest
from hub.models import HistoryEntry


def summarize(manifests: Iterable[Manifest]) -> str:
    """'3 objects: Deployment, Service, ConfigMap': the count, and each kind once, in the
    order the objects come."""
    kinds: dict[str, None] = {}
    count = 0
    for m in manifests:
        count += 1
        kinds.setdefault(str(m.obj.get("kind") or "?"), None)
    noun = "object" if count == 1 else "objects"
    return f"{count} {noun}: {', '.join(kinds)}" if count else "0 objects"


def pinned_message(name: str, rev: int) -> str:
    """Why an apply or a commit of a pinned bundle was skipped."""
    return (
        f"bundle {name} is pinned at rev {rev} by rollback; "
        f"`argosy unpin {name}` to accept new revisions"
    )


def rollback_target(name: str, entries: Sequence[HistoryEntry], to: int) -> HistoryEntry:
    """The entry a rollback of `name` applies: rev `to`, or (0) the one before the latest.

    Rolling back to the content the bundle runs now would pin it and change nothing: refused,
    so that a mistyped rev is noticed rather than silently pinning the wrong content.
    """
    if not entries:
        raise NotFound(f"bundle {name!r} has no history to roll back to")
    current = entries[-1]
    if not to:
        if len(entries) < 2:
            raise InvalidInput(
                f"bundle {name!r} has only rev {current.rev} in its history: "
                "there is no previous revision to roll back to"
            )
        target = entries[-2]
    else:
        found = [e for e in entries if e.rev == to]
        if not found:
            kept = ", ".join(str(e.rev) for e in entries)
            raise NotFound(
                f"bundle {name!r} has no rev {to} in its history (kept: {kept}; "
                "argosy bundle history " + name + ")"
            )
        target = found[0]
    if target.revision == current.revision:
        raise InvalidInput(
            f"bundle {name!r} runs rev {target.rev}'s content already (rev {current.rev}): "
            "nothing to roll back"
        )
    return target


def current_rev(entries: Sequence[HistoryEntry], revision: str) -> int:
    """The entry a bundle at `revision` runs now: the latest with that content (0: none)."""
    return next((e.rev for e in reversed(entries) if e.revision == revision), 0)
