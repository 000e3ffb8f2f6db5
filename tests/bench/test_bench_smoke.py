"""Smoke test of the benchmark itself: a small fleet end to end, every figure present.

Figures are printed for the record, never asserted as timings: the machine running the suite is
not the machine the benchmark describes.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

KEYS = {
    "spokes_connected": int,
    "connect_seconds": float,
    "propagation_p50_ms": float,
    "propagation_p99_ms": float,
    "propagation_max_ms": float,
    "update_diff_bytes": int,
    "full_bytes": int,
    "hub_rss_bytes_per_spoke": int,
    "hub_idle_cpu_percent": float,
    "status_reports_per_second_sustained": int,
    "reconnect_seconds": float,
    "reconnect_full_resends": int,
    "raw_limit_ratio": float,
    "propagation_hub_cpu_seconds": float,
    "propagation_sent_p99_ms": float,
    "floor_sent_p99_ms": float,
    "floor_ack_p99_ms": float,
    "floor_cpu_seconds": float,
    "handoff_floor_ratio": float,
    "propagation_floor_ratio": float,
    "status_during_reconnect_max_ms": float,
    "propagation_spoke_lag_p99_ms": float,
}


@pytest.mark.timeout(300)
def test_bench_fleet_200(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    argv = [sys.executable, "-m", "bench.fleet", "--spokes", "200", "--processes", "2"]
    argv += ["--idle-seconds", "2", "--drift-rounds", "2", "--json", str(out)]
    proc = subprocess.run(
        argv,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    print(proc.stdout)
    assert proc.returncode == 0, proc.stderr[-4000:]
    result = json.loads(out.read_text())
    for key, kind in KEYS.items():
        value = result[key]
        assert isinstance(value, int | float) and not isinstance(value, bool), (key, value)
        if kind is int:
            assert isinstance(value, int), (key, value)
        assert math.isfinite(value) and value >= 0, (key, value)
    # mTLS by default: spokes registered with the token and streamed with certificates.
    assert result["transport"] == "mtls"
    assert "compare" not in result
    assert result["spokes_connected"] == 200
    assert result["reconnect_full_resends"] == 0
    assert result["status_during_reconnect_calls"] >= 1
    assert 0 < result["update_diff_bytes"] < result["full_bytes"]
    assert "propagation p99" in proc.stdout
