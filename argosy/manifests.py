"""Kubernetes manifests: parsing YAML with line numbers, identity, and content-addressed sets.

Every error names the file and line, because the user has to find and fix it. A ResourceSet is
the unit the hub ships: its revision is the hash of its canonical objects, so formatting changes
and re-applies of the same content change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from argosy.errors import InvalidInput, Problems
from argosy.hashing import canonical_json, combine, sha256_hex

# etcd's request limit as the API server enforces it on one object (its JSON); a bigger one is
# refused on every cluster ("Request entity too large"), so it is refused before it is stored.
MAX_OBJECT_BYTES = 1_572_864


@dataclass(frozen=True)
class Source:
    """Where a document came from, for error messages."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


def resource_key(obj: Mapping[str, Any]) -> str:
    """'group/Kind/namespace/name'; the group is empty for the core API ('v1')."""
    api_version = str(obj.get("apiVersion", ""))
    group = api_version.rpartition("/")[0]
    meta = obj.get("metadata") or {}
    return f"{group}/{obj.get('kind', '')}/{meta.get('namespace') or ''}/{meta.get('name', '')}"


def describe_key(key: str) -> str:
    """A key as kubectl users read it: 'deployment.apps web/frontend'."""
    group, kind, namespace, name = key.split("/", 3)
    kind_part = f"{kind.lower()}.{group}" if group else kind.lower()
    return f"{kind_part} {namespace}/{name}" if namespace else f"{kind_part} {name}"


@dataclass(frozen=True)
class Manifest:
    """One object, with its canonical bytes and hash computed once."""

    obj: Mapping[str, Any] = field(compare=False, hash=False)
    key: str
    manifest: bytes = field(compare=False, hash=False, repr=False)
    hash: str = ""

    @classmethod
    def of(cls, obj: Mapping[str, Any]) -> Manifest:
        data = canonical_json(obj)
        return cls(obj=obj, key=resource_key(obj), manifest=data, hash=sha256_hex(data))


@dataclass(frozen=True)
class ResourceSet:
    """Objects keyed by resource key; the revision is the hash of all keys and hashes."""

    items: Mapping[str, Manifest]
    revision: str

    @classmethod
    def of(cls, manifests: Iterable[Manifest]) -> ResourceSet:
        items = {m.key: m for m in sorted(manifests, key=lambda m: m.key)}
        return cls(items=items, revision=combine(f"{k} {m.hash}" for k, m in items.items()))

    def __len__(self) -> int:
        return len(self.items)


def _construct_documents(text: str, path: str) -> Iterator[tuple[Any, int]]:
    try:
        # Even constructing the loader reads the text (and refuses control characters).
        loader = yaml.SafeLoader(text)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: invalid YAML: {exc}") from None
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            yield loader.construct_document(node), node.start_mark.line + 1
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = exc.problem or exc.context or "invalid YAML"
        raise InvalidInput(f"{path}:{line}: invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: invalid YAML: {exc}") from None
    finally:
        loader.dispose()


def load_yaml_documents(text: str, *, path: str) -> list[tuple[Any, int]]:
    """Every non-empty YAML document of text, with the line it starts on."""
    return [(doc, line) for doc, line in _construct_documents(text, path) if doc is not None]


def check_object(obj: Any, where: Source) -> dict[str, Any]:
    """An object fit to apply, or InvalidInput naming the file, line and field."""
    if not isinstance(obj, dict):
        raise InvalidInput(
            f"{where}: a Kubernetes object must be a mapping, got {type(obj).__name__}"
        )
    for field_name in ("apiVersion", "kind"):
        value = obj.get(field_name)
        if not isinstance(value, str) or not value:
            raise InvalidInput(f"{where}: missing or empty '{field_name}'")
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        raise InvalidInput(f"{where}: {obj['kind']} has no 'metadata' mapping")
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInput(f"{where}: {obj['kind']} has no 'metadata.name'")
    namespace = meta.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise InvalidInput(f"{where}: 'metadata.namespace' must be a string")
    return obj


def parse_manifests(text: str, *, path: str) -> list[tuple[dict[str, Any], Source]]:
    """The Kubernetes objects in a YAML file; a v1 List is expanded into its items."""
    out: list[tuple[dict[str, Any], Source]] = []
    for doc, line in load_yaml_documents(text, path=path):
        where = Source(path, line)
        if isinstance(doc, dict) and doc.get("kind") == "List" and "items" in doc:
            items = doc["items"] or []
            if not isinstance(items, list):
                raise InvalidInput(f"{where}: List 'items' must be a sequence")
            out.extend((check_object(item, where), where) for item in items)
        else:
            out.append((check_object(doc, where), where))
    return out


def describe_object(obj: Mapping[str, Any]) -> str:
    """'ConfigMap default/huge' (or 'ConfigMap huge' without a namespace), for messages."""
    meta = obj.get("metadata") or {}
    namespace, name = meta.get("namespace") or "", meta.get("name", "")
    return f"{obj.get('kind', '')} {namespace}/{name}" if namespace else f"{obj.get('kind')} {name}"


def build_resource_set(objects: Iterable[tuple[Mapping[str, Any], Source]]) -> ResourceSet:
    """A ResourceSet, refusing two objects with the same identity and objects too big to store.

    Every such problem is reported, not only the first.
    """
    problems = Problems()
    seen: dict[str, Source] = {}
    manifests = []
    for obj, where in objects:
        m = Manifest.of(obj)
        if m.key in seen:
            problems.found.append(
                f"{where}: {describe_key(m.key)} is defined twice (first at {seen[m.key]})"
            )
            continue
        if len(m.manifest) > MAX_OBJECT_BYTES:
            problems.found.append(
                f"{where}: {describe_object(obj)} is {len(m.manifest):,} bytes; the Kubernetes "
                f"API server takes at most {MAX_OBJECT_BYTES:,} per object"
            )
        seen[m.key] = where
        manifests.append(m)
    problems.raise_any()
    return ResourceSet.of(manifests)
