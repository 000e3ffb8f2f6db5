"""The change feed's wire format: one change as NOTIFY payloads, and back. Pure.

A payload is a JSON object `{"o": origin, "k": kind, "n": name, "r": revision, "ids": [...]}`.
PostgreSQL refuses a NOTIFY payload of 8000 bytes or more, so a change with many ids is split
into several payloads (`encode`); since the kinds that carry many ids are sets, not orders,
consecutive ones merge again on either side (`merge` before sending, `take` on receipt).
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

CHANNEL = "argosy_changes"
# PostgreSQL refuses a NOTIFY payload of 8000 bytes or more.
MAX_PAYLOAD = 7000
# Kinds whose consecutive messages merge into one (their ids are a set, not an order).
MERGEABLE = frozenset({"attach", "detach", "deployments"})


@dataclass(frozen=True)
class Change:
    """One change as a replica announces it; `origin` names the replica that made it."""

    origin: str
    kind: str
    name: str = ""
    revision: str = ""
    ids: tuple[str, ...] = ()


def encode(origin: str, kind: str, name: str, revision: str, ids: Sequence[str]) -> list[str]:
    """One change as NOTIFY payloads, its ids split so that none exceeds MAX_PAYLOAD."""
    head = {"o": origin, "k": kind, "n": name, "r": revision}
    base = len(json.dumps({**head, "ids": []}))
    out: list[str] = []
    chunk: list[str] = []
    size = base
    for i in ids:
        n = len(json.dumps(i)) + 2
        if chunk and size + n > MAX_PAYLOAD:
            out.append(json.dumps({**head, "ids": chunk}))
            chunk, size = [], base
        chunk.append(i)
        size += n
    if chunk or not ids:
        out.append(json.dumps({**head, "ids": chunk}))
    return out


def decode(payload: str) -> Change | None:
    """A payload as a Change; None when it is not one (logged by the caller)."""
    try:
        msg = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(msg, dict):
        return None
    return Change(
        origin=str(msg.get("o", "")),
        kind=str(msg.get("k")),
        name=str(msg.get("n", "")),
        revision=str(msg.get("r", "")),
        ids=tuple(str(i) for i in msg.get("ids", ())),
    )


Outgoing = tuple[str, str, str, tuple[str, ...]]  # kind, name, revision, ids


def merge(batch: Sequence[Outgoing]) -> list[Outgoing]:
    """Consecutive attach/detach/deployments messages as one each, and consecutive alives as
    one; order otherwise kept."""
    out: list[Outgoing] = []
    for kind, name, revision, ids in batch:
        if out and kind in MERGEABLE and out[-1][0] == kind:
            out[-1] = (kind, name, revision, out[-1][3] + ids)
        elif out and kind == "alive" and out[-1][0] == "alive":
            continue
        else:
            out.append((kind, name, revision, ids))
    return out


def take(inbox: deque[Change]) -> Change:
    """The next change to apply, popped from `inbox`; deployment changes queued right behind a
    deployment change come with it, so that they are re-read together, in one query."""
    change = inbox.popleft()
    if change.kind != "deployments":
        return change
    ids = list(change.ids)
    while inbox and inbox[0].kind == "deployments":
        ids.extend(inbox.popleft().ids)
    return Change(change.origin, change.kind, change.name, change.revision, tuple(ids))


def pair(text: str) -> tuple[str, str]:
    """An id of the form `a/b` (bundle/cluster, or cluster/revision) as its two parts."""
    a, _, b = str(text).partition("/")
    return a, b
