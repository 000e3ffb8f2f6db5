"""`argosy bundle diff`: drift as people read it, as data, and as the fleet.yaml
`diff.comparePatches` that would silence it (Fleet's schema: apiVersion, kind, name,
namespace, operations of `op: remove`)."""

from __future__ import annotations

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
            lines.append(f"  {describe_key(r.key)}: {', '.join(r.drift_paths) or r.message}")
            lines += [f"    {line}" for line in r.drift_diff.splitlines()]
    return "\n".join(lines) + "\n"


def compare_patches(resp: fleet_pb2.GetBundleDiffResponse) -> list[dict[str, Any]]:
    """One comparePatches entry per drifted object, removing the paths that differ on any
    cluster; objects missing from a cluster are not drift a patch can silence."""
    paths: dict[tuple[str, str, str, str], set[str]] = {}
    for c in resp.clusters:
        for r in c.resources:
            if r.missing or not r.drift_paths:
                continue
            _, kind, namespace, name = r.key.split("/", 3)
            paths.setdefault((r.api_version, kind, namespace, name), set()).update(r.drift_paths)
    out = []
    for (api_version, kind, namespace, name), found in sorted(paths.items()):
        entry: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "name": name}
        if namespace:
            entry["namespace"] = namespace
        entry["operations"] = [{"op": "remove", "path": p} for p in sorted(found)]
        out.append(entry)
    return out


def compare_patches_yaml(resp: fleet_pb2.GetBundleDiffResponse) -> str:
    patches = compare_patches(resp)
    if not patches:
        return "# no drift reported: nothing to silence\n"
    head = "# fleet.yaml: these paths no longer count as drift (merge with any diff: you have)\n"
    return head + str(
        yaml.safe_dump({"diff": {"comparePatches": patches}}, sort_keys=False, width=1000)
    )
