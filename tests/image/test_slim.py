"""image/slim.py: identical copies of a shared library become symlinks to one."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def slim() -> ModuleType:
    spec = importlib.util.spec_from_file_location("image_slim", ROOT / "image" / "slim.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_copies_become_links_to_the_most_specific_name(tmp_path: Path) -> None:
    lib = tmp_path / "pkg" / "lib"
    lib.mkdir(parents=True)
    for name in ("libx.so", "libx.so.0", "libx.so.0.2.2"):
        (lib / name).write_bytes(b"ELF the library")
    (lib / "liby.so").write_bytes(b"ELF another library")
    # Same bytes in another directory, or a file that is not a library: left alone.
    (tmp_path / "pkg" / "libx.so").write_bytes(b"ELF the library")
    (lib / "notes.txt").write_bytes(b"ELF the library")
    module = slim()
    saved = module.link(module.duplicates(tmp_path))
    assert saved == 2 * len(b"ELF the library")
    assert (lib / "libx.so").readlink() == Path("libx.so.0.2.2")
    assert (lib / "libx.so.0").readlink() == Path("libx.so.0.2.2")
    assert (lib / "libx.so").read_bytes() == b"ELF the library"
    for kept in ("libx.so.0.2.2", "liby.so", "notes.txt"):
        assert not (lib / kept).is_symlink()
    assert not (tmp_path / "pkg" / "libx.so").is_symlink()
    # A second run finds nothing more.
    assert module.duplicates(tmp_path) == []
