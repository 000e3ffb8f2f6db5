"""Secret values kept out of what people read: the spoke's drift reports and the hub's dry-run
diffs end up in status, viewer-token reads and CI logs.

Not even a hash of a value: a short unsalted hash of a weak value is guessed offline. A diff
still shows which values differ, by a different placeholder on the side that changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

REDACTED = "(redacted)"
DIFFERS = "(redacted, differs)"
_FIELDS = ("data", "stringData")


def is_secret(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "Secret" and obj.get("apiVersion") == "v1"


def redacted(obj: Any) -> Any:
    """A Secret (or a patch of one) with every data/stringData value replaced."""
    return _replaced(obj, lambda field, key, value: REDACTED)


def redacted_pair(before: Any, after: Any) -> tuple[Any, Any]:
    """Both sides of a Secret diff, redacted; a value of `after` that differs from the same
    key's value in `before` reads DIFFERS, so a line diff still shows that it changed."""

    def placeholder(field: str, key: str, value: Any) -> str:
        old = before.get(field) if isinstance(before, Mapping) else None
        if isinstance(old, Mapping) and key in old and old[key] != value:
            return DIFFERS
        return REDACTED

    return redacted(before), _replaced(after, placeholder)


def _replaced(obj: Any, placeholder: Callable[[str, str, Any], str]) -> Any:
    out = dict(obj) if isinstance(obj, Mapping) else obj
    if isinstance(out, dict):
        for field in _FIELDS:
            values = out.get(field)
            if isinstance(values, Mapping):
                out[field] = {k: placeholder(field, k, v) for k, v in values.items()}
    return out
