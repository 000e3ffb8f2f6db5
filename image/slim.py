"""Turn the copies of a shared library that a wheel ships into symlinks to one (image build).

Wheels cannot hold symlinks, so a library's usual names (libx.so, libx.so.0, libx.so.0.2.2)
arrive as identical copies: helm-python-sdk's three are 85 MB each. Within one directory, the
identical `*.so*` files become relative symlinks to the one with the longest name (the most
specific version), which is what the library's own build had.

    python3 image/slim.py DIR...      prints what it linked, and the bytes saved
"""

from __future__ import annotations

import hashlib
import sys
from collections import defaultdict
from pathlib import Path


def digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def duplicates(root: Path) -> list[tuple[Path, Path]]:
    """(copy, original) pairs: same directory, same bytes; the original has the longest name."""
    groups: dict[tuple[Path, int, str], list[Path]] = defaultdict(list)
    for path in sorted(root.rglob("*.so*")):
        if path.is_file() and not path.is_symlink():
            groups[(path.parent, path.stat().st_size, digest(path))].append(path)
    pairs = []
    for paths in groups.values():
        original = max(paths, key=lambda p: (len(p.name), p.name))
        pairs += [(p, original) for p in paths if p != original]
    return pairs


def link(pairs: list[tuple[Path, Path]]) -> int:
    """Replace each copy with a symlink to its original; the bytes saved."""
    saved = 0
    for copy, original in pairs:
        saved += copy.stat().st_size
        copy.unlink()
        copy.symlink_to(original.name)
    return saved


def main(argv: list[str]) -> None:
    saved = 0
    for root in argv:
        pairs = duplicates(Path(root))
        for copy, original in pairs:
            print(f"{copy} -> {original.name}")
        saved += link(pairs)
    print(f"saved {saved // (1 << 20)} MiB")


if __name__ == "__main__":
    main(sys.argv[1:])
