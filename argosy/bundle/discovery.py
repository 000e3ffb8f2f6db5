"""Finding the bundles of a checked-out tree, as both `argosy apply DIR` and the hub's git
source do, with every problem named by the path it comes from.

The CLI reads the directories a user names and refuses the whole apply on any problem. The hub
reads a repository's paths and must keep going: a bad fleet.yaml in one path errors that path
only (Fleet's behaviour), so `discover` reports each bundle directory on its own, loaded or with
its problem. Both go through `load_located`, so a bundle the CLI accepts is one the hub accepts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from argosy.bundle.fleetyaml import FLEET_YAML
from argosy.bundle.loader import Bundle, load_bundle
from argosy.bundle.reader import BundleSource, fleet_yaml_name, read_bundle_dirs
from argosy.errors import InvalidInput
from argosy.names import derive_name


@dataclass(frozen=True)
class Found:
    """One bundle directory of a tree: its source, or the problem that stops it loading.

    `path` is the directory relative to the tree's root ("" for the root itself), as Fleet
    reports a GitRepo's failing path.
    """

    path: str
    source: BundleSource | None
    problem: str = ""


def load_located(source: BundleSource, *, labels: Mapping[str, str] | None = None) -> Bundle:
    """load_bundle, with each problem naming its file by the path the source came from."""
    try:
        return load_bundle(source, labels=labels)
    except InvalidInput as exc:
        raise InvalidInput.of(located(p, source) for p in exc.problems) from None


def located(problem: str, source: BundleSource) -> str:
    """A problem found in a bundle, with paths as the user wrote them: 'big/cm.yaml:1: ...'.

    load_bundle names files relative to the bundle; the user knows the directory they passed.
    """
    if not source.origin:
        return problem
    if problem.split(":", 1)[0] in source.files:
        return f"{source.origin.rstrip('/')}/{problem}"
    return f"{source.origin}: {problem}"


def bundle_name(prefix: str, path: str) -> str:
    """Fleet's GitRepo naming: REPO-PATH, slashes as dashes; the root path is REPO alone."""
    return derive_name("-".join([prefix, *([path] if path else [])]))


def clean_path(path: str) -> str:
    """A repository path as given to `--paths`, normalised; '..' and absolute paths refused."""
    pure = PurePosixPath(path.strip())
    if pure.is_absolute() or ".." in pure.parts:
        raise InvalidInput(f"path {path!r}: must be relative to the repository, without '..'")
    text = pure.as_posix()
    return "" if text == "." else text


def discover(
    root: Path, *, prefix: str, paths: Sequence[str] = (), labels: Mapping[str, str] | None = None
) -> list[Found]:
    """Every bundle directory under each of paths (all of root when none), loaded on its own.

    A bundle is named by its fleet.yaml `name`, else REPO-PATH from prefix and its directory.
    A path that is not a directory, a bundle that does not load, and two directories that would
    be the same bundle are each a Found with a problem; the other bundles are unaffected. A
    directory with no bundle in it finds nothing, so that removing a repository's last bundle
    deletes it (a problem at the root would keep every bundle).
    """
    found: list[Found] = []
    for given in paths or [""]:
        path = clean_path(given)
        if not (root / path).resolve().is_relative_to(root.resolve()):
            found.append(Found(path, None, f"{path}: a symbolic link out of the repository"))
            continue
        try:
            sources = read_bundle_dirs([root / path], allow_empty=True)
        except InvalidInput as exc:
            found.append(Found(path, None, _relative(exc, root)))
            continue
        for source in sources:
            rel = Path(source.origin).relative_to(root).as_posix()
            rel = "" if rel == "." else rel
            own = fleet_yaml_name(source.files[FLEET_YAML]) if FLEET_YAML in source.files else ""
            name = own or bundle_name(prefix, rel)
            named = BundleSource(name=name, files=source.files, origin=rel or ".")
            try:
                load_located(named, labels=labels)
            except InvalidInput as exc:
                found.append(Found(rel, None, "\n".join(exc.problems)))
                continue
            found.append(Found(rel, named))
    return _unique(found)


def _relative(exc: InvalidInput, root: Path) -> str:
    """A reader problem without the hub's data directory in it: users know repository paths."""
    base = str(root).rstrip("/") + "/"
    return "\n".join(p.replace(base, "").replace(str(root), ".") for p in exc.problems)


def _unique(found: list[Found]) -> list[Found]:
    """Two directories that would be one bundle are both errors, named by their paths."""
    by_name: dict[str, list[Found]] = {}
    for f in found:
        if f.source is not None:
            by_name.setdefault(f.source.name, []).append(f)
    clashes = {n: fs for n, fs in by_name.items() if len(fs) > 1}
    if not clashes:
        return found
    out = []
    for f in found:
        if f.source is not None and f.source.name in clashes:
            others = ", ".join(o.path or "." for o in clashes[f.source.name] if o is not f)
            problem = f"{f.path or '.'} and {others} would both be bundle {f.source.name!r}"
            out.append(Found(f.path, None, problem))
        else:
            out.append(f)
    return out
