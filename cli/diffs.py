"""`argosy bundle diff`: drift as people read it, as data, and as the fleet.yaml
`diff.comparePatches` that would silence it (Fleet's schema: apiVersion, kind, name,
namespace, operations of `op: remove`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from argosy.api.v1 import fleet_pb2
from argosy.manifests import describe_key


def diff_dict(resp: fleet_pb2.GetBundleDiffResponse) -> list[dict[str, Any]]:
    return [
        {
            "cluster": c.cluster,
            "state": c.state,
            "revision": c.revision,
            "resources": [
                {
                    "key": r.key,
                    "apiVersion": r.api_version,
                    "missing": r.missing,
                    "paths": list(r.drift_paths),
                    "diff": r.drift_diff,
                    "message": r.message,
                }
                for r in c.resources
            ],
        }
        for c in resp.clusters
    ]


# Drift paths and diffs are kept in memory by the replica that holds the cluster's stream,
# from the spoke's last report: another replica, or one just restarted, knows only "modified".
UNKNOWN_DETAIL = (
    "drift detail not known here: it is kept by the hub replica holding the cluster's stream, "
    "and after a hub restart arrives with the spoke's next report"
)


def unexplained(resp: fleet_pb2.GetBundleDiffResponse) -> list[tuple[str, str]]:
    """(cluster, key) of each modified object reported without its drift paths or diff."""
    return [
        (c.cluster, r.key)
        for c in resp.clusters
        for r in c.resources
        if not r.missing and not r.drift_paths and not r.drift_diff
    ]


def diff_text(name: str, resp: fleet_pb2.GetBundleDiffResponse) -> str:
    if not resp.clusters:
        return f"bundle/{name}: no cluster reports drift\n"
    lines = []
    for c in resp.clusters:
        lines.append(f"cluster {c.cluster}: {c.state} (revision {c.revision[:12]})")
        if not c.resources:
            lines.append("  no drift")
        for r in c.resources:
            if r.missing:
                lines.append(f"  {describe_key(r.key)}: missing")
                continue
            if not r.drift_paths and not r.drift_diff:
                lines.append(f"  {describe_key(r.key)}: modified; {UNKNOWN_DETAIL}")
                continue
            lines.append(f"  {describe_key(r.key)}: {', '.join(r.drift_paths) or r.message}")
            lines += [f"    {line}" for line in r.drift_diff.splitlines()]
    return "\n".join(lines) + "\n"


def compare_patches(
    resp: fleet_pb2.GetBundleDiffResponse, existing: Sequence[Mapping[str, Any]] = ()
) -> list[dict[str, Any]]:
    """One comparePatches entry per drifted object, removing the paths that differ on any
    cluster; objects missing from a cluster are not drift a patch can silence.

    existing: the bundle's comparePatches now (fleet.yaml), kept and merged into, so the
    block printed replaces the one in fleet.yaml without losing what it silenced already.
    """
    out = [dict(e) for e in existing]
    paths: dict[tuple[str, str, str, str], set[str]] = {}
    for c in resp.clusters:
        for r in c.resources:
            if r.missing or not r.drift_paths:
                continue
            _, kind, namespace, name = r.key.split("/", 3)
            paths.setdefault((r.api_version, kind, namespace, name), set()).update(r.drift_paths)
    for (api_version, kind, namespace, name), found in sorted(paths.items()):
        ident = {"apiVersion": api_version, "kind": kind, "name": name}
        if namespace:
            ident["namespace"] = namespace
        entry = next((e for e in out if _same_object(e, ident)), None)
        if entry is None:
            entry = {**ident, "operations": []}
            out.append(entry)
        ops = entry.setdefault("operations", [])
        known = {str(op.get("path")) for op in ops if op.get("op") == "remove"} | {
            str(p) for p in entry.get("jsonPointers") or ()
        }
        ops.extend({"op": "remove", "path": p} for p in sorted(found - known))
    return out


def _same_object(entry: Mapping[str, Any], ident: Mapping[str, str]) -> bool:
    return all(
        str(entry.get(k) or "") == ident.get(k, "")
        for k in ("apiVersion", "kind", "name", "namespace")
    )


def existing_patches(files: Mapping[str, bytes]) -> list[dict[str, Any]]:
    """The comparePatches of a bundle's fleet.yaml ([] without one)."""
    text = files.get("fleet.yaml") or files.get("fleet.yml")
    if not text:
        return []
    doc = yaml.safe_load(text) or {}
    patches = ((doc.get("diff") or {}) if isinstance(doc, dict) else {}).get("comparePatches")
    return [dict(p) for p in patches or () if isinstance(p, Mapping)]


def compare_patches_yaml(
    resp: fleet_pb2.GetBundleDiffResponse, existing: Sequence[Mapping[str, Any]] = ()
) -> str:
    patches = compare_patches(resp, existing)
    unknown = unexplained(resp)
    note = "".join(
        f"# {cluster}: {describe_key(key)}: modified, paths unknown\n" for cluster, key in unknown
    )
    if unknown:
        note += f"# {UNKNOWN_DETAIL}; ask again to include them\n"
    if not patches:
        if unknown:
            return note
        return "# no drift reported: nothing to silence\n"
    head = (
        "# fleet.yaml: replaces its diff: block; these paths no longer count as drift "
        "(with those it already had)\n"
    )
    return (
        note
        + head
        + str(yaml.safe_dump({"diff": {"comparePatches": patches}}, sort_keys=False, width=1000))
    )
