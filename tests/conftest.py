"""Fixtures shared by every test: the repository on sys.path, and Fleet's example corpus."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def corpus_dir() -> Path:
    env = os.environ.get("ARGOSY_CORPUS")
    if env:
        return Path(env)
    return (ROOT / ".." / "shared" / "corpus").resolve()


@pytest.fixture
def fleet_examples() -> Path:
    """../shared/corpus/fleet-examples; CI sets ARGOSY_CORPUS so it can never silently skip."""
    path = corpus_dir() / "fleet-examples"
    if not path.is_dir() and os.environ.get("ARGOSY_CORPUS"):
        pytest.fail(f"ARGOSY_CORPUS is set but {path} does not exist")
    if not path.is_dir():
        pytest.skip(f"Fleet example corpus not found at {path} (set ARGOSY_CORPUS)")
    return path


def _free_pair() -> int:
    """A port p with p + 1 free too: a TLS hub listens on both (main and spoke port)."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = int(a.getsockname()[1])
            with socket.socket() as b:
                try:
                    b.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise RuntimeError("no two adjacent free ports on 127.0.0.1")


@pytest.fixture
def hub_port() -> int:
    """A fixed port for a hub that restarts on the same address (its spoke port is + 1)."""
    return _free_pair()
