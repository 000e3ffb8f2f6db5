"""Raw-YAML overlays (`yaml.overlays`): replacing and patching base files per target (pure).

Fleet's rule: for each named overlay in order, `overlays/<name>/<path>` replaces the base file
`<path>`, and `overlays/<name>/<dir>/<file>_patch.<ext>` patches `<dir>/<file>.<ext>`. Files
under overlays/ are never deployed themselves. Fleet patches with a strategic merge for built-in
kinds; here maps merge as a JSON merge patch (null deletes) and lists of named items
(containers, env, volumes, ports with names) merge by name, which is what a strategic merge does
for those lists. Other lists are replaced.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from argosy.errors import InvalidInput
from argosy.hashing import canonical_json

OVERLAYS = "overlays/"
_PATCH_MARK = "_patch."


def patch_target(path: str) -> str | None:
    """The base file a patch file patches, or None if path is not a patch file."""
    directory, _, base = path.rpartition("/")
    if _PATCH_MARK not in base:
        return None
    target = base.replace(_PATCH_MARK, ".", 1)
    return f"{directory}/{target}" if directory else target


def _named_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, Mapping) and "name" in v for v in value)
    )


def merge_patch(base: Any, patch: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(patch, Mapping):
        out = dict(base)
        for key, value in patch.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = merge_patch(out.get(key), value)
        return out
    if _named_list(base) and _named_list(patch):
        merged = [dict(item) for item in base]
        index = {item["name"]: i for i, item in enumerate(merged)}
        for item in patch:
            if item["name"] in index:
                i = index[item["name"]]
                merged[i] = merge_patch(merged[i], item)
            else:
                merged.append(dict(item))
        return merged
    if isinstance(patch, Mapping):
        return merge_patch({}, patch)
    return patch


def _first_document(data: bytes, path: str) -> Any:
    try:
        docs = [d for d in yaml.safe_load_all(data.decode("utf-8")) if d is not None]
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read as YAML: {exc}") from None
    return docs[0] if docs else {}


def overlay_names(files: Mapping[str, bytes]) -> set[str]:
    return {p[len(OVERLAYS) :].partition("/")[0] for p in files if p.startswith(OVERLAYS)}


def apply_overlays(files: Mapping[str, bytes], overlays: Sequence[str]) -> dict[str, bytes]:
    """The bundle's files with the overlays applied and overlays/ removed."""
    content = dict(files)
    for overlay in overlays:
        prefix = f"{OVERLAYS}{overlay}/"
        members = sorted(p for p in files if p.startswith(prefix))
        if not members:
            raise InvalidInput(f"yaml.overlays: no directory {prefix} in the bundle")
        for path in members:
            rel = path[len(prefix) :]
            target = patch_target(rel)
            if target is None:
                content[rel] = files[path]
                continue
            if target not in content:
                raise InvalidInput(f"{path}: patches {target}, which is not in the bundle")
            patched = merge_patch(
                _first_document(content[target], target), _first_document(files[path], path)
            )
            content[target] = canonical_json(patched)
    return {p: data for p, data in content.items() if not p.startswith(OVERLAYS)}
