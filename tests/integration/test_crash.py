"""kill -9 of the hub in the middle of a rollout loses nothing, and the rollout completes.

One run here; `python -m bench.crash --runs 20` repeats it as a stress run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.crash import run_once


@pytest.mark.timeout(300)
async def test_hub_killed_mid_rollout_recovers_everything(tmp_path: Path) -> None:
    took = await run_once(tmp_path)
    print(f"crash-and-recover run took {took:.1f}s")
