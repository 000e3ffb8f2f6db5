"""Rendered revisions in memory, and what the store still lacks."""

from __future__ import annotations

import pytest

from argosy.manifests import Manifest, ResourceSet
from argosy.options import ApplyOptions
from hub.core.planning import Plan
from hub.core.revisions import Revisions
from hub.rendered import Rendered
from tests.hub.fakes import MemoryStore


def rendered(name: str) -> Rendered:
    manifest = Manifest.of({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
    return Rendered.of(ResourceSet.of([manifest]), ApplyOptions())


def test_a_revision_many_clusters_share_is_encoded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    encoded: list[str] = []
    real = Rendered.encode

    def encode(self: Rendered) -> bytes:
        encoded.append(self.revision)
        return real(self)

    monkeypatch.setattr(Rendered, "encode", encode)
    revisions = Revisions(MemoryStore())
    a, b, kept = rendered("a"), rendered("b"), rendered("kept")
    revisions.keep(kept)
    plan: Plan = {(f"c{i}", "web"): a for i in range(5)}
    plan.update({(f"c{i}", "db"): b for i in range(5)})
    plan[("c0", "old")] = kept
    fresh = revisions.unstored(plan)
    assert set(fresh) == {a.revision, b.revision}
    assert sorted(encoded) == sorted([a.revision, b.revision])
