"""Pure views of one deployment for people: what is wrong with it, in one line.

The bundle summary (hub/status/book.py) and `argosy status` details show it; no I/O, no state.
"""

from __future__ import annotations

from argosy.manifests import describe_key
from hub.core.deployments import Deployment


def explain(dep: Deployment, *, offline: bool) -> str:
    """One line on what is wrong with a deployment, for the bundle summary ('' if nothing)."""
    if dep.render_error:
        return dep.render_error
    if offline:
        return "cluster offline; last report is stale"
    if dep.held:
        return dep.held
    if dep.error:
        return dep.error
    for r in dep.resources:
        if r.missing:
            return f"{describe_key(r.key)} missing"
        if r.modified:
            return f"{describe_key(r.key)} modified {r.message}"
    for r in dep.resources:
        if not r.ready:
            return f"{describe_key(r.key)} not ready: {r.message}"
    return ""
