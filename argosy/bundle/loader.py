"""Loading a bundle's files into a validated Bundle, the same way on the CLI and the hub."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from argosy.bundle.reader import BundleSource, is_manifest_file
from argosy.errors import InvalidInput
from argosy.manifests import ResourceSet, build_resource_set, parse_manifests
from argosy.names import check_labels, check_name


@dataclass(frozen=True)
class Bundle:
    """A validated bundle. `revision` is the hash of its canonical rendered resources."""

    name: str
    labels: Mapping[str, str]
    files: Mapping[str, bytes] = field(repr=False)
    resources: ResourceSet = field(repr=False)

    @property
    def revision(self) -> str:
        return self.resources.revision


def load_bundle(source: BundleSource, *, labels: Mapping[str, str] | None = None) -> Bundle:
    """Parse and check every manifest of the bundle; InvalidInput names the file and line."""
    check_name(source.name, what="bundle name")
    check_labels(dict(labels or {}), what=f"bundle {source.name} labels")
    objects = []
    for path in sorted(source.files):
        if not is_manifest_file(path):
            continue
        try:
            text = source.files[path].decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"{path}: not UTF-8 text") from None
        objects.extend(parse_manifests(text, path=path))
    if not objects:
        raise InvalidInput(f"bundle {source.name}: no Kubernetes objects in its files")
    return Bundle(
        name=source.name,
        labels=dict(labels or {}),
        files=dict(source.files),
        resources=build_resource_set(objects),
    )
