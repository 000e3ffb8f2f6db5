"""Drift: does the live object still carry what we applied? (pure)

Only fields the bundle sets are compared, so defaults and fields other controllers own never
count as drift. The result is a JSON merge patch of the live values that differ, as Fleet shows
in its Modified message.

Fleet's `diff.comparePatches` is supported: for a matching object, the paths of its `remove`
operations and its `jsonPointers` are left out of the comparison (other operations are not
meaningful for a comparison and are ignored, as in Fleet).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Collection, Iterable, Mapping
from decimal import Decimal, InvalidOperation
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


_QUANTITY = re.compile(
    r"^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$"
)
_SUFFIX = {
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal("1e3"),
    "M": Decimal("1e6"),
    "G": Decimal("1e9"),
    "T": Decimal("1e12"),
    "P": Decimal("1e15"),
    "E": Decimal("1e18"),
    **{s: Decimal(1024**i) for i, s in enumerate(("Ki", "Mi", "Gi", "Ti", "Pi", "Ei"), start=1)},
}


def quantity(value: Any) -> Decimal | None:
    """A Kubernetes resource quantity's value ("500m", "1Gi", 2, "1e3"), or None if not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    if not isinstance(value, str):
        return None
    match = _QUANTITY.match(value)
    if match is None:
        return None
    number, exponent, suffix = match.groups()
    try:
        return Decimal(number + (exponent or "")) * _SUFFIX.get(suffix or "", Decimal(1))
    except InvalidOperation:
        return None


def _same(desired: Any, live: Any) -> bool:
    if isinstance(desired, bool) or isinstance(live, bool):
        return desired is live if isinstance(desired, bool) and isinstance(live, bool) else False
    if isinstance(desired, int | float) and isinstance(live, int | float):
        return desired == live
    if desired == live:
        return True
    # The API server canonicalises quantities: `cpu: 0.5` reads back as "500m", `cpu: 1` as
    # "1". Equal amounts are not drift (else correctDrift would re-apply forever). Plain
    # strings without a unit ("1" vs "1.0" in a ConfigMap) stay strings.
    if isinstance(live, str) and (
        isinstance(desired, int | float)
        or (isinstance(desired, str) and (_has_unit(desired) or _has_unit(live)))
    ):
        want, have = quantity(desired), quantity(live)
        return want is not None and want == have
    return False


def _has_unit(text: str) -> bool:
    match = _QUANTITY.match(text)
    return match is not None and match.group(3) is not None


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


def _pointer_tokens(pointer: str) -> list[str]:
    if not pointer.startswith("/"):
        return []
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def _remove(doc: Any, tokens: list[str]) -> None:
    """Delete what a JSON pointer names, when it exists."""
    for i, token in enumerate(tokens):
        last = i == len(tokens) - 1
        if isinstance(doc, dict):
            if token not in doc:
                return
            if last:
                del doc[token]
                return
            doc = doc[token]
        elif isinstance(doc, list) and token.isdigit() and int(token) < len(doc):
            if last:
                del doc[int(token)]
                return
            doc = doc[int(token)]
        else:
            return


def ignored_paths(patches: Iterable[Mapping[str, Any]], obj: Mapping[str, Any]) -> list[str]:
    """The JSON pointers comparePatches exclude for obj (Fleet's matching: empty matches all)."""
    meta = obj.get("metadata") or {}
    here = {
        "apiVersion": obj.get("apiVersion"),
        "kind": obj.get("kind"),
        "name": meta.get("name"),
        "namespace": meta.get("namespace") or "",
    }
    out: list[str] = []
    for patch in patches:
        if any(patch.get(field) and patch.get(field) != value for field, value in here.items()):
            continue
        out.extend(str(p) for p in patch.get("jsonPointers") or ())
        out.extend(
            str(op["path"])
            for op in patch.get("operations") or ()
            if op.get("op") == "remove" and op.get("path")
        )
    return out


def drift(
    desired: Mapping[str, Any], live: Mapping[str, Any], *, ignore: Collection[str] = ()
) -> dict[str, Any] | None:
    """A merge patch of what differs on the live object, or None when it is in sync.

    ignore: JSON pointers (RFC 6901) never compared, from `ignored_paths`.
    """
    want = dict(desired)
    if ignore:
        want = copy.deepcopy(want)
        for pointer in ignore:
            _remove(want, _pointer_tokens(pointer))
    meta = {k: v for k, v in (want.get("metadata") or {}).items() if k not in _IGNORED_METADATA}
    want["metadata"] = meta
    want.pop("status", None)
    result = _diff(want, live)
    return None if result is _MISSING else dict(result)
