"""Drift: does the live object still carry what we applied? (pure)

Only fields the bundle sets are compared, so defaults and fields other controllers own never
count as drift. The result is a JSON merge patch of the live values that differ, as Fleet shows
in its Modified message.

`explain` says where a drifted object differs, for `argosy bundle diff`: the JSON pointers a
comparePatches `remove` would silence, and a bounded unified diff (Secret values as hashes).

Fleet's `diff.comparePatches` is supported: for a matching object, the paths of its `remove`
operations and its `jsonPointers` are left out of the comparison (other operations are not
meaningful for a comparison and are ignored, as in Fleet).
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml

from argosy.redaction import is_secret, redacted_pair

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
    result = _diff(_compared(desired, ignore), live)
    return None if result is _MISSING else dict(result)


def _compared(desired: Mapping[str, Any], ignore: Collection[str]) -> dict[str, Any]:
    """The part of desired that drift compares: without ignored paths, server-written
    metadata and status."""
    want = dict(desired)
    if ignore:
        want = copy.deepcopy(want)
        for pointer in ignore:
            _remove(want, _pointer_tokens(pointer))
    meta = {k: v for k, v in (want.get("metadata") or {}).items() if k not in _IGNORED_METADATA}
    want["metadata"] = meta
    want.pop("status", None)
    return want


# A drift diff travels in every status report of a Modified deployment and is kept by the hub
# per resource: bounded, so one object edited into a huge blob cannot bloat either.
MAX_DIFF_BYTES = 4096


@dataclass(frozen=True)
class Explained:
    """Where a drifted object differs: JSON pointers a comparePatches `remove` would silence,
    and a unified diff (YAML) of the fields the bundle sets, desired then live."""

    paths: tuple[str, ...]
    diff: str


def explain(
    desired: Mapping[str, Any],
    live: Mapping[str, Any],
    *,
    ignore: Collection[str] = (),
    max_bytes: int = MAX_DIFF_BYTES,
) -> Explained:
    """Explain drift that `drift` found, with the same comparison rules.

    A path goes into a list only where both sides have the same length and the differing items
    are objects: removing a whole item from the comparison would shift the others, so a list
    that changed length, or a list of scalars, is named as a whole.
    """
    want = _compared(desired, ignore)
    paths: list[str] = []
    _paths(want, live, "", paths)
    seen = _project(want, live)
    if is_secret(desired):
        want, seen = redacted_pair(want, seen)
    before = _yaml(want).splitlines(keepends=True)
    after = _yaml(seen).splitlines(keepends=True)
    text = "".join(difflib.unified_diff(before, after, "desired", "live", n=2))
    return Explained(tuple(paths), _bounded(text, max_bytes))


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _paths(want: Any, live: Any, at: str, out: list[str]) -> None:
    if isinstance(want, Mapping):
        if not isinstance(live, Mapping):
            out.append(at)
            return
        for key, sub in want.items():
            have = live.get(key, _MISSING)
            if have is _MISSING:
                if sub not in (None, {}, []):
                    out.append(f"{at}/{_escape(str(key))}")
                continue
            _paths(sub, have, f"{at}/{_escape(str(key))}", out)
        return
    if isinstance(want, list):
        if not isinstance(live, list) or len(live) != len(want):
            out.append(at)
            return
        differ = [
            i
            for i, (w, h) in enumerate(zip(want, live, strict=True))
            if _diff(w, h) is not _MISSING
        ]
        if all(isinstance(want[i], Mapping) and isinstance(live[i], Mapping) for i in differ):
            for i in differ:
                _paths(want[i], live[i], f"{at}/{i}", out)
        elif differ:
            out.append(at)
        return
    if not _same(want, live):
        out.append(at)


def _project(want: Any, live: Any) -> Any:
    """live, in want's shape: only the fields want sets (so defaults and status stay out)."""
    if isinstance(want, Mapping) and isinstance(live, Mapping):
        return {k: _project(w, live[k]) for k, w in want.items() if k in live}
    if isinstance(want, list) and isinstance(live, list) and len(want) == len(live):
        return [_project(w, h) for w, h in zip(want, live, strict=True)]
    return live


def _yaml(obj: Any) -> str:
    return str(yaml.safe_dump(obj, sort_keys=True, default_flow_style=False, allow_unicode=True))


def _bounded(text: str, max_bytes: int) -> str:
    data = text.encode()
    if len(data) <= max_bytes:
        return text
    cut = data[:max_bytes].decode(errors="ignore").rpartition("\n")[0]
    return f"{cut}\n... truncated ({len(data) - len(cut.encode())} more bytes)\n"
