"""The benchmark's figures as people read them: percentiles, the goals, and the table.

The JSON written by `--json` is the results dict itself (bench/fleet.py writes it); the keys are
compared by docs/benchmarks.md and CI, so phases add keys and never rename them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

# (figure, goal text, check) for N = 10,000, from issue #6.
GOALS: list[tuple[str, str, Callable[[Mapping[str, Any]], bool]]] = [
    ("spokes_connected", "= spokes", lambda r: r["spokes_connected"] == r["spokes"]),
    ("propagation_p99_ms", "<= 4,000", lambda r: r["propagation_p99_ms"] <= 4000),
    ("hub_rss_bytes_per_spoke", "<= 60 KB", lambda r: r["hub_rss_bytes_per_spoke"] <= 60_000),
    ("hub_idle_cpu_percent", "<= 10", lambda r: r["hub_idle_cpu_percent"] <= 10),
    (
        "update_diff_bytes",
        "<= 15 % of full",
        lambda r: r["update_diff_bytes"] <= 0.15 * r["full_bytes"],
    ),
    (
        "reconnect_seconds",
        "<= 30, 0 full resends",
        lambda r: r["reconnect_seconds"] <= 30 and r["reconnect_full_resends"] == 0,
    ),
    ("raw_limit_ratio", "<= 8", lambda r: r["raw_limit_ratio"] <= 8),
    ("handoff_floor_ratio", "<= 2", lambda r: r["handoff_floor_ratio"] <= 2),
    (
        "status_during_reconnect_max_ms",
        "<= 1,000",
        lambda r: r["status_during_reconnect_max_ms"] <= 1000,
    ),
]

ROWS = [
    ("spokes_connected", "spokes connected", ""),
    ("connect_seconds", "connect (first dial to all streaming)", "s"),
    ("propagation_p50_ms", "propagation p50 (apply to ack read by hub)", "ms"),
    ("propagation_p99_ms", "propagation p99", "ms"),
    ("propagation_max_ms", "propagation max", "ms"),
    ("propagation_apply_rpc_ms", "  of which ApplyBundles RPC", "ms"),
    ("propagation_sent_p99_ms", "  hub handed upsert to gRPC, p99", "ms"),
    ("propagation_spoke_lag_p99_ms", "  hand-off to ack, per spoke, p99", "ms"),
    ("update_diff_bytes", "update: one of 20 resources changed", "B"),
    ("full_bytes", "update: whole 20-resource bundle", "B"),
    ("hub_rss_bytes_per_spoke", "hub RSS per spoke", "B"),
    ("hub_idle_cpu_percent", "hub idle CPU", "%"),
    ("status_reports_per_second_sustained", "status reports read by hub", "/s"),
    ("hub_cpu_percent_during_reports", "hub CPU while reading reports", "%"),
    ("reconnect_seconds", "reconnect after kill -9 (all in sync)", "s"),
    ("reconnect_full_resends", "full resends after reconnect", ""),
    ("status_during_reconnect_max_ms", "  argosy status during it, slowest", "ms"),
    ("raw_fanout_p99_ms", "raw asyncio TCP fan-out p99", "ms"),
    ("raw_limit_ratio", "propagation p99 / raw fan-out p99", ""),
    ("propagation_hub_cpu_seconds", "hub CPU per full fan-out (apply to acks)", "s"),
    ("floor_cpu_seconds", "grpc.aio floor: server CPU per fan-out", "s"),
    ("hub_cpu_floor_ratio", "  hub CPU / floor CPU", ""),
    ("floor_sent_p99_ms", "grpc.aio floor: handed to gRPC, p99", "ms"),
    ("handoff_floor_ratio", "  hub hand-off p99 / floor hand-off p99", ""),
    ("floor_ack_p99_ms", "grpc.aio floor: ack read, p99", "ms"),
    ("propagation_floor_ratio", "  propagation p99 / floor ack p99", ""),
]


def ratios(r: Mapping[str, Any]) -> dict[str, float]:
    """The hub against its floors in the same run (pure); a missing figure gives no ratio."""
    pairs = {
        "raw_limit_ratio": ("propagation_p99_ms", "raw_fanout_p99_ms"),
        "handoff_floor_ratio": ("propagation_sent_p99_ms", "floor_sent_p99_ms"),
        "propagation_floor_ratio": ("propagation_p99_ms", "floor_ack_p99_ms"),
        "hub_cpu_floor_ratio": ("propagation_hub_cpu_seconds", "floor_cpu_seconds"),
    }
    out: dict[str, float] = {}
    for name, (num, den) in pairs.items():
        a, b = r.get(num), r.get(den)
        if isinstance(a, int | float) and isinstance(b, int | float) and b > 0:
            out[name] = round(a / b, 2)
    return out


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def _shown(value: Any, unit: str) -> str:
    if value is None:
        return "-"
    shown = f"{value:,}" if isinstance(value, int | float) else str(value)
    return f"{shown} {unit}".rstrip()


def table(r: Mapping[str, Any]) -> str:
    """The figures of a run, with those of the other transports (r["compare"]) beside them;
    goals are judged on the first (the one at the top level)."""
    goals = {name: (text, check) for name, text, check in GOALS}
    runs = [r, *r.get("compare", {}).values()]
    lines = [f"N = {r['spokes']:,} spokes in {r['processes']} simulator processes"]
    if r.get("hubs"):
        lines[0] += f", {r['hubs']} hub replicas on one PostgreSQL (figures summed over them)"
    heads = "".join(f" {x.get('transport', '?'):>12}" for x in runs)
    width = 44 + 13 * len(runs)
    lines.append(f"{'figure':<44}{heads}  {'goal (N=10,000)':<22} {'met'}")
    lines.append("-" * (width + 28))
    for key, label, unit in ROWS:
        cells = "".join(f" {_shown(x.get(key), unit):>12}" for x in runs)
        goal, met = "", ""
        if key in goals:
            goal = goals[key][0]
            try:
                met = "yes" if goals[key][1](r) else "NO"
            except (KeyError, TypeError):
                met = "?"
        lines.append(f"{label:<44}{cells}  {goal:<22} {met}")
    return "\n".join(lines)
