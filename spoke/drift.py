"""Drift: does the live object still carry what we applied? (pure)

Only fields the bundle sets are compared, so defaults and fields other controllers own never
count as drift. The result is a JSON merge patch of the live values that differ, as Fleet shows
in its Modified message.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Written by the API server or by Argosy itself, never by the user's bundle.
_IGNORED_METADATA = {
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
}
_MISSING = object()


def _same(desired: Any, live: Any) -> bool:
    if isinstance(desired, bool) or isinstance(live, bool):
        return desired is live if isinstance(desired, bool) and isinstance(live, bool) else False
    if isinstance(desired, int | float) and isinstance(live, int | float):
        return desired == live
    return bool(desired == live)


def _diff(desired: Any, live: Any) -> Any:
    """The live values that differ from desired, shaped like a merge patch; _MISSING if none."""
    if isinstance(desired, Mapping):
        if not isinstance(live, Mapping):
            return live
        out: dict[str, Any] = {}
        for key, want in desired.items():
            have = live.get(key, _MISSING)
            if have is _MISSING:
                if want in (None, {}, []):
                    continue
                out[key] = None
                continue
            sub = _diff(want, have)
            if sub is not _MISSING:
                out[key] = sub
        return out if out else _MISSING
    if isinstance(desired, list):
        if not isinstance(live, list) or len(live) != len(desired):
            return live
        if any(_diff(w, h) is not _MISSING for w, h in zip(desired, live, strict=True)):
            return live
        return _MISSING
    return _MISSING if _same(desired, live) else live


def drift(desired: Mapping[str, Any], live: Mapping[str, Any]) -> dict[str, Any] | None:
    """A merge patch of what differs on the live object, or None when it is in sync."""
    want = dict(desired)
    meta = {k: v for k, v in (want.get("metadata") or {}).items() if k not in _IGNORED_METADATA}
    want["metadata"] = meta
    want.pop("status", None)
    result = _diff(want, live)
    return None if result is _MISSING else dict(result)
