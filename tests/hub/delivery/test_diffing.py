"""Diffs between rendered revisions (pure)."""

from __future__ import annotations

from argosy.manifests import Manifest, ResourceSet
from hub.delivery.diffing import diff_resource_sets


def cm(name: str, value: str) -> Manifest:
    return Manifest.of(
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"v": value}}
    )


def test_full_send_without_base() -> None:
    target = ResourceSet.of([cm("a", "1"), cm("b", "1")])
    diff = diff_resource_sets(None, target)
    assert [m.key for m in diff.upserts] == ["/ConfigMap//a", "/ConfigMap//b"]
    assert diff.removed == ()


def test_only_changed_added_and_removed() -> None:
    base = ResourceSet.of([cm("a", "1"), cm("b", "1"), cm("c", "1")])
    target = ResourceSet.of([cm("a", "1"), cm("b", "2"), cm("d", "1")])
    diff = diff_resource_sets(base, target)
    assert [m.key for m in diff.upserts] == ["/ConfigMap//b", "/ConfigMap//d"]
    assert diff.removed == ("/ConfigMap//c",)


def test_revision_ignores_key_order_and_formatting() -> None:
    a = Manifest.of({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "x"}})
    b = Manifest.of({"apiVersion": "v1", "metadata": {"name": "x"}, "kind": "ConfigMap"})
    assert ResourceSet.of([a]).revision == ResourceSet.of([b]).revision
    assert ResourceSet.of([a]).revision != ResourceSet.of([cm("x", "1")]).revision
