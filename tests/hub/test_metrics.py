"""The hub's metrics settings and the cap on per-cluster series (hub/metrics.py)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from hub.app import ListenError, parse_settings
from hub.metrics import bounded
from tests.harness import running_hub


def test_bounded_keeps_the_worst_states_first_and_counts_the_rest() -> None:
    entries = [
        ("web", "NotReady", "c3"),
        ("web", "ErrApplied", "c9"),
        ("api", "OutOfSync", "c1"),
        ("api", "ErrApplied", "c2"),
        ("web", "WaitApplied", "c1"),
    ]
    kept, dropped = bounded(entries, cap=3)
    assert kept == [
        ("api", "ErrApplied", "c2"),
        ("web", "ErrApplied", "c9"),
        ("web", "WaitApplied", "c1"),
    ]
    assert dropped == 2
    everything, none = bounded(entries, cap=5)
    assert none == 0 and len(everything) == 5
    assert everything[:3] == kept  # the same order whether capped or not
    assert bounded(entries, cap=0) == ([], 5)


def test_bounded_orders_names_alone_by_name() -> None:
    names = [(f"c{i:02}",) for i in range(10, 0, -1)]
    kept, dropped = bounded(names, cap=2, rank=0)
    assert kept == [("c01",), ("c02",)] and dropped == 8


def test_hub_refuses_public_metrics_without_the_opt_in(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        parse_settings(["--metrics-listen", "0.0.0.0:9100"])
    assert "--metrics-listen: 0.0.0.0 is not a loopback address" in capsys.readouterr().err
    s = parse_settings(["--metrics-listen", "0.0.0.0:9100", "--metrics-public"])
    assert (s.metrics_listen, s.metrics_public) == ("0.0.0.0:9100", True)
    assert parse_settings([]).metrics_listen == ""  # off by default
    with pytest.raises(SystemExit):
        parse_settings(["--metrics-max-deployment-series", "-1"])
    assert "--metrics-max-deployment-series" in capsys.readouterr().err


async def test_a_taken_metrics_port_stops_the_hub_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ListenError, match=f"cannot listen on 127.0.0.1:{port}"):
            async with running_hub(tmp_path, metrics_listen=f"127.0.0.1:{port}"):
                pass


def test_bounded_keeps_what_the_not_ready_alert_sees_before_offline_and_out_of_sync() -> None:
    # A partitioned rollout holds 2,000 deployments OutOfSync on purpose; the alert ignores
    # them (and Offline), so they must not crowd out the one NotReady it is for.
    held = [("web", "OutOfSync", f"c{i:04}") for i in range(2000)]
    gone = [("web", "Offline", f"o{i:04}") for i in range(10)]
    kept, dropped = bounded([*held, *gone, ("web", "NotReady", "z")], cap=1000)
    assert kept[0] == ("web", "NotReady", "z")
    assert kept[1:11] == gone and kept[11] == held[0]
    assert len(kept) == 1000 and dropped == 1011
