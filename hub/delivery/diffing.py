"""Diffs between two rendered revisions: what a spoke must change to move from one to the other."""

from __future__ import annotations

from dataclasses import dataclass

from argosy.manifests import Manifest, ResourceSet


@dataclass(frozen=True)
class ResourceDiff:
    upserts: tuple[Manifest, ...]
    removed: tuple[str, ...]


def diff_resource_sets(base: ResourceSet | None, target: ResourceSet) -> ResourceDiff:
    """Resources added or changed since base, and keys gone; everything when base is None."""
    if base is None:
        return ResourceDiff(tuple(target.items.values()), ())
    upserts = tuple(
        m
        for key, m in target.items.items()
        if (b := base.items.get(key)) is None or b.hash != m.hash
    )
    removed = tuple(key for key in base.items if key not in target.items)
    return ResourceDiff(upserts, removed)
