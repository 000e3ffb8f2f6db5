"""Shared fixtures: where Fleet's example corpus lives (beside the repo, or ARGOSY_CORPUS)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def corpus_dir() -> Path:
    env = os.environ.get("ARGOSY_CORPUS")
    if env:
        return Path(env)
    return (Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus").resolve()


@pytest.fixture
def fleet_examples() -> Path:
    path = corpus_dir() / "fleet-examples"
    if not path.is_dir():
        pytest.skip(f"Fleet example corpus not found at {path} (set ARGOSY_CORPUS)")
    return path
