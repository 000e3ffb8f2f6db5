"""Turning directories on disk into bundle sources (name plus files), as `argosy apply` does.

Fleet's rule: every directory holding a fleet.yaml is a bundle, with every file beneath it except
the subtrees of nested fleet.yaml directories (bundles of their own). Argosy adds the same for a
directory holding a Chart.yaml or kustomization.yaml with no fleet.yaml above it, since its
subdirectories (templates/, base/, overlays/) only mean something together. Anywhere else, each
directory with YAML files directly in it is one bundle of raw manifests. `.fleetignore` files
exclude paths beneath their directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from argosy.bundle.fleetyaml import FLEET_YAML, parse_fleet_yaml
from argosy.bundle.ignore import FLEETIGNORE, Rule, is_ignored, parse_rules
from argosy.errors import InvalidInput, Problems
from argosy.names import check_name, derive_name

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
# Files that make their directory a bundle root even without a fleet.yaml.
ROOT_MARKERS = ("Chart.yaml", "kustomization.yaml", "kustomization.yml", "Kustomization")


@dataclass(frozen=True)
class BundleSource:
    """A bundle as the user wrote it: its name and its files, by path relative to its dir."""

    name: str
    files: Mapping[str, bytes]
    origin: str = ""


def is_manifest_file(path: str) -> bool:
    return path.endswith(MANIFEST_SUFFIXES)


def _within(path: Path, base: Path) -> bool:
    return path.resolve().is_relative_to(base)


def _scan(root: Path) -> dict[str, list[str]]:
    """Every directory (relative, "" for root) with its non-ignored, non-hidden files.

    A file or directory that resolves outside root (a symlink to /etc/passwd, or to /) is
    skipped: a repository's bundle must not read the hub's files.
    """
    found: dict[str, list[str]] = {}
    rules: list[Rule] = []
    base = root.resolve()
    for dirpath, dirnames, filenames in os.walk(root):
        rel = Path(dirpath).relative_to(root).as_posix()
        rel = "" if rel == "." else rel
        if FLEETIGNORE in filenames:
            text = (Path(dirpath) / FLEETIGNORE).read_text(encoding="utf-8", errors="replace")
            rules.extend(parse_rules(text, base=rel))

        def child(name: str) -> str:
            return f"{rel}/{name}" if rel else name  # noqa: B023 - used within this iteration

        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".")
            and not is_ignored(child(d), is_dir=True, rules=rules)
            and _within(Path(dirpath) / d, base)
        )
        found[rel] = sorted(
            f
            for f in filenames
            if not f.startswith(".")
            and not is_ignored(child(f), is_dir=False, rules=rules)
            and _within(Path(dirpath) / f, base)
        )
    return found


def _is_under(path: str, ancestor: str) -> bool:
    return ancestor in ("", path) or path.startswith(ancestor + "/")


def _bundle_roots(tree: Mapping[str, list[str]]) -> list[str]:
    fleet_roots = {d for d, files in tree.items() if FLEET_YAML in files}
    roots = set(fleet_roots)
    for d in sorted(tree, key=lambda p: (p.count("/") + bool(p), p)):
        if d in roots or not any(m in tree[d] for m in ROOT_MARKERS):
            continue
        # A chart or kustomization inside another bundle (subcharts, bases) belongs to it.
        if not any(_is_under(d, r) for r in roots):
            roots.add(d)
    return sorted(roots)


def _owner(directory: str, roots: Sequence[str]) -> str | None:
    owners = [r for r in roots if _is_under(directory, r)]
    return max(owners, key=len) if owners else None


def _sources_in(root: Path) -> list[BundleSource]:
    tree = _scan(root)
    roots = _bundle_roots(tree)
    base = root.resolve().name
    grouped: dict[str, dict[str, bytes]] = {}
    plain: dict[str, dict[str, bytes]] = {}
    for directory, names in tree.items():
        owner = _owner(directory, roots)
        for name in names:
            rel = f"{directory}/{name}" if directory else name
            if owner is not None:
                inner = rel[len(owner) + 1 :] if owner else rel
                grouped.setdefault(owner, {})[inner] = (root / rel).read_bytes()
            elif is_manifest_file(name):
                plain.setdefault(directory, {})[name] = (root / rel).read_bytes()
    sources = []
    for directory, files in sorted({**plain, **grouped}.items()):
        derived = derive_name("-".join([base, *([directory] if directory else [])]))
        name = fleet_yaml_name(files[FLEET_YAML]) if FLEET_YAML in files else ""
        sources.append(
            BundleSource(
                name=name or derived,
                files=dict(sorted(files.items())),
                origin=str(root / directory),
            )
        )
    return sources


def fleet_yaml_name(data: bytes) -> str:
    """fleet.yaml's `name`. A fleet.yaml that does not parse names nothing here: loading the
    bundle reports it, together with the problems of every other bundle."""
    try:
        return parse_fleet_yaml(data.decode("utf-8")).name
    except (UnicodeDecodeError, InvalidInput):
        return ""


def _sources_of_root(root: Path, *, allow_empty: bool) -> list[BundleSource]:
    if not root.is_dir():
        raise InvalidInput(f"{root}: not a directory")
    found = _sources_in(root)
    if not found and not allow_empty:
        raise InvalidInput(
            f"{root}: no fleet.yaml and no Kubernetes YAML files (.yaml, .yml, .json) found"
        )
    return found


def read_bundle_dirs(
    roots: Sequence[str | Path], *, name: str | None = None, allow_empty: bool = False
) -> list[BundleSource]:
    """Every bundle directory under roots becomes one BundleSource (see the module docstring).

    A bundle is named by its fleet.yaml `name`, else after its path (the root's own name, then
    the subdirectories), or after `name`: exactly, when there is one bundle, else as a prefix.
    A root with no bundle is an error unless allow_empty (a repository whose bundles were all
    removed: nothing to deploy, not a problem).
    """
    sources: list[BundleSource] = []
    problems = Problems()
    for root_arg in roots:
        with problems.check():
            sources.extend(_sources_of_root(Path(root_arg), allow_empty=allow_empty))
    problems.raise_any()
    if name is not None:
        check_name(name, what="--name")
        if len(sources) == 1:
            sources = [BundleSource(name=name, files=sources[0].files, origin=sources[0].origin)]
        else:
            prefix_len = len(derive_name(Path(roots[0]).resolve().name))
            sources = [
                BundleSource(
                    name=derive_name(name + s.name[prefix_len:]), files=s.files, origin=s.origin
                )
                for s in sources
            ]
    seen: dict[str, str] = {}
    for s in sources:
        if s.name in seen:
            raise InvalidInput(f"{s.origin} and {seen[s.name]} would both be bundle {s.name!r}")
        seen[s.name] = s.origin
    return sources
