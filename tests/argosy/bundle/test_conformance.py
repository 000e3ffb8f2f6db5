"""Rendering Fleet's example bundles must give Fleet's own golden output, object for object."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from argosy.bundle import Cluster, load_bundle, read_bundle_dirs, render, target_for
from argosy.hashing import canonical_json

CASES = [
    f"{kind}/{style}"
    for kind in ("single-cluster", "multi-cluster")
    for style in ("manifests", "helm", "kustomize")
]
ENVS = ("dev", "test", "prod")
BOOKKEEPING = "objectset.rio.cattle.io/"


def _clean(obj: dict[str, Any]) -> dict[str, Any]:
    """The object without Fleet's bookkeeping labels/annotations (and maps left empty)."""
    meta = dict(obj.get("metadata") or {})
    for key in ("labels", "annotations"):
        kept = {k: v for k, v in (meta.get(key) or {}).items() if not k.startswith(BOOKKEEPING)}
        if kept:
            meta[key] = kept
        else:
            meta.pop(key, None)
    return {**obj, "metadata": meta}


def _as_set(objects: list[dict[str, Any]]) -> set[bytes]:
    return {canonical_json(_clean(o)) for o in objects}


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("case", CASES)
async def test_render_matches_fleet_golden_output(
    fleet_examples: Path, case: str, env: str
) -> None:
    [source] = read_bundle_dirs([fleet_examples / case])
    bundle = load_bundle(source)
    # single-cluster golden files were made without labels; the labels change nothing there.
    labels = {"env": env} if case.startswith("multi-cluster") else {}
    target = target_for(bundle, Cluster("test", labels), {})
    assert target is not None
    rendered = await render(bundle, target)
    golden_text = (fleet_examples / "tests/expected" / case / f"{env}-output.yaml").read_text()
    golden = [d for d in yaml.safe_load_all(golden_text) if d]
    got = _as_set([dict(m.obj) for m in rendered.items.values()])
    want = _as_set(golden)
    assert got == want, f"missing: {want - got}\nextra: {got - want}"
