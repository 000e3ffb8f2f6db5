"""image/requirements.lock: what the image installs agrees with pyproject.toml's pins."""

from __future__ import annotations

import importlib.util
import re
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "image" / "requirements.lock"


def lock_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("image_lock", ROOT / "image" / "lock.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for raw in lines:
        line = raw.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"{LOCK}: {raw!r} is not NAME==VERSION"
            found[canonical(name)] = version
    return found


def test_every_pyproject_pin_is_locked_at_its_version() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    locked = pins(LOCK.read_text().splitlines())
    wanted = pins([dep.split(";")[0] for dep in project["dependencies"]])
    stale = {name: (v, locked.get(name)) for name, v in wanted.items() if locked.get(name) != v}
    assert not stale, f"run `make lock`: pyproject.toml pin vs {LOCK.name}: {stale}"
    # And the build backend the Dockerfile builds Argosy with (--no-build-isolation).
    assert {"setuptools", "wheel"} <= locked.keys()


def test_lock_lines_are_sorted_exact_pins_without_argosy() -> None:
    report = {
        "install": [
            {"metadata": {"name": "argosy", "version": "0.1.0"}},
            {"metadata": {"name": "PyYAML", "version": "6.0.3"}},
            {"metadata": {"name": "aiohttp", "version": "3.14.5"}},
        ]
    }
    assert lock_module().lock_lines(report) == ["aiohttp==3.14.5", "PyYAML==6.0.3"]


def test_a_report_without_installs_is_refused() -> None:
    with pytest.raises(ValueError, match="install"):
        lock_module().lock_lines({"version": "1"})
