"""Turning directories on disk into bundle sources (name plus files), as `argosy apply` does."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from argosy.errors import InvalidInput
from argosy.names import check_name, derive_name

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class BundleSource:
    """A bundle as the user wrote it: its name and its files, by path relative to its dir."""

    name: str
    files: Mapping[str, bytes]
    origin: str = ""


def is_manifest_file(path: str) -> bool:
    return path.endswith(MANIFEST_SUFFIXES)


def _manifest_dirs(root: Path) -> list[Path]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if any(is_manifest_file(f) and not f.startswith(".") for f in filenames):
            found.append(Path(dirpath))
    return found


def _read_dir(directory: Path) -> dict[str, bytes]:
    return {
        p.name: p.read_bytes()
        for p in sorted(directory.iterdir())
        if p.is_file() and is_manifest_file(p.name) and not p.name.startswith(".")
    }


def read_bundle_dirs(roots: Sequence[str | Path], *, name: str | None = None) -> list[BundleSource]:
    """Every directory holding Kubernetes YAML under roots becomes one bundle.

    A bundle is named after its path (the root's own name, then the subdirectories), or after
    `name`: exactly, when there is one bundle, else as a prefix.
    """
    sources: list[BundleSource] = []
    for root_arg in roots:
        root = Path(root_arg)
        if not root.is_dir():
            raise InvalidInput(f"{root}: not a directory")
        base = root.resolve().name
        for directory in _manifest_dirs(root):
            rel = directory.relative_to(root).as_posix()
            parts = [] if rel == "." else [rel]
            sources.append(
                BundleSource(
                    name=derive_name("-".join([base, *parts])),
                    files=_read_dir(directory),
                    origin=str(directory),
                )
            )
        if not any(s.origin.startswith(str(root)) for s in sources):
            raise InvalidInput(f"{root}: no Kubernetes YAML files (.yaml, .yml, .json) found")
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
