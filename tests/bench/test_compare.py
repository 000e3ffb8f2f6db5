"""The regression gate's judgement (bench/compare.py) and the report's ratios: pure, no runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import compare
from bench.fleet import parse
from bench.report import ratios, table

BASELINE: dict[str, Any] = {
    "spokes": 500,
    "transport": "mtls",
    "handoff_floor_ratio": 2.0,
    "propagation_floor_ratio": 6.0,
    "hub_cpu_floor_ratio": 4.0,
    "raw_limit_ratio": 5.0,
    "hub_rss_bytes_per_spoke": 100_000,
    "update_diff_bytes": 1342,
    "hub_idle_cpu_percent": 0.0,
    "reconnect_seconds": 3.0,
    "reconnect_full_resends": 0,
    "connect_failures": 0,
    "spokes_connected": 500,
}


def failed(current: dict[str, Any], tolerance: float = 2.0) -> list[str]:
    return [v.key for v in compare.compare(current, BASELINE, tolerance=tolerance) if not v.ok]


def test_the_baseline_itself_passes() -> None:
    assert failed(dict(BASELINE)) == []


def test_within_tolerance_passes() -> None:
    run = {**BASELINE, "handoff_floor_ratio": 4.4, "hub_rss_bytes_per_spoke": 190_000}
    assert failed(run) == []


def test_a_2x_regression_fails_naming_the_figure() -> None:
    run = {**BASELINE, "hub_rss_bytes_per_spoke": 210_000, "propagation_floor_ratio": 13.5}
    assert failed(run) == ["propagation_floor_ratio", "hub_rss_bytes_per_spoke"]


def test_a_zero_that_must_stay_zero() -> None:
    assert failed({**BASELINE, "reconnect_full_resends": 1}) == ["reconnect_full_resends"]


def test_a_near_zero_baseline_has_slack() -> None:
    # Idle CPU measured 0.0 % must not fail on 0.5 % of noise, but 5 % is a regression.
    assert failed({**BASELINE, "hub_idle_cpu_percent": 0.5}) == []
    assert failed({**BASELINE, "hub_idle_cpu_percent": 5.0}) == ["hub_idle_cpu_percent"]


def test_higher_is_better() -> None:
    assert failed({**BASELINE, "spokes_connected": 200}) == ["spokes_connected"]


def test_a_figure_gone_from_the_run_fails() -> None:
    run = dict(BASELINE)
    del run["handoff_floor_ratio"]
    assert failed(run) == ["handoff_floor_ratio"]


def test_a_figure_new_since_the_baseline_passes() -> None:
    base = dict(BASELINE)
    del base["hub_cpu_floor_ratio"]
    verdicts = compare.compare({**BASELINE}, base, tolerance=2.0)
    assert all(v.ok for v in verdicts)


def test_a_different_n_fails() -> None:
    assert failed({**BASELINE, "spokes": 1000}) == ["spokes"]


def test_tolerance_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="--tolerance"):
        compare.compare(BASELINE, BASELINE, tolerance=0.5)


def test_main_exits_1_and_names_the_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base, run = tmp_path / "base.json", tmp_path / "run.json"
    base.write_text(json.dumps(BASELINE))
    run.write_text(json.dumps({**BASELINE, "update_diff_bytes": 22061}))
    assert compare.main([str(run), str(base), "--tolerance", "2.0"]) == 1
    out = capsys.readouterr()
    assert "BENCHMARK REGRESSION: update_diff_bytes" in out.err
    assert "REGRESSION update_diff_bytes" in out.out
    run.write_text(json.dumps(BASELINE))
    assert compare.main([str(run), str(base)]) == 0


def test_main_names_an_unreadable_file(tmp_path: Path) -> None:
    bad, run = tmp_path / "bad.json", tmp_path / "run.json"
    bad.write_text("{not json")
    run.write_text(json.dumps(BASELINE))
    with pytest.raises(SystemExit, match=r"baseline .*bad\.json: cannot read it as JSON"):
        compare.main([str(run), str(bad)])


def test_the_committed_baseline_has_every_tracked_figure() -> None:
    doc = json.loads((Path(__file__).parents[2] / "docs" / "bench-baseline-500.json").read_text())
    assert doc["spokes"] == 500 and doc["transport"] == "mtls"
    for t in compare.TRACKED:
        assert isinstance(doc.get(t.key), int | float), t.key


def test_ratios_against_the_floors() -> None:
    r = {
        "propagation_p99_ms": 300.0,
        "raw_fanout_p99_ms": 50.0,
        "propagation_sent_p99_ms": 40.0,
        "floor_sent_p99_ms": 20.0,
        "floor_ack_p99_ms": 0.0,
        "propagation_hub_cpu_seconds": 0.3,
        "floor_cpu_seconds": 0.1,
    }
    # A zero floor gives no ratio rather than a division error.
    assert ratios(r) == {
        "raw_limit_ratio": 6.0,
        "handoff_floor_ratio": 2.0,
        "hub_cpu_floor_ratio": 3.0,
    }


def test_table_puts_the_other_transport_beside() -> None:
    r = {
        "spokes": 10,
        "processes": 1,
        "transport": "mtls",
        "propagation_p99_ms": 100.0,
        "compare": {"insecure": {"transport": "insecure", "propagation_p99_ms": 80.0}},
    }
    lines = table(r).splitlines()
    assert "mtls" in lines[1] and "insecure" in lines[1]
    row = next(line for line in lines if line.startswith("propagation p99 "))
    assert "100.0 ms" in row and "80.0 ms" in row and "yes" in row


def test_modes_default_to_mtls_and_compare_adds_insecure() -> None:
    assert parse(["--spokes", "5"]).modes == ("mtls",)
    o = parse(["--spokes", "5", "--compare-insecure"])
    assert o.modes == ("mtls", "insecure") and o.transport == "mtls"
    assert parse(["--spokes", "5", "--modes", "insecure"]).transport == "insecure"


def test_an_unknown_mode_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse(["--spokes", "5", "--modes", "mtls,tls13"])
    assert "'tls13' is not one of mtls, insecure" in capsys.readouterr().err
