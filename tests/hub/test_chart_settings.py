"""The hub's chart cache and chart credentials settings, from flags and from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy.bundle.charts import DEFAULT_CACHE_BYTES
from hub.app import parse_settings


def test_chart_flags_are_read() -> None:
    s = parse_settings(["--chart-cache-bytes", "1000", "--chart-credentials", "/etc/c.yaml"])
    assert (s.chart_cache_bytes, s.chart_credentials) == (1000, Path("/etc/c.yaml"))


def test_chart_settings_from_the_environment_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (parse_settings([]).chart_cache_bytes, parse_settings([]).chart_credentials) == (
        DEFAULT_CACHE_BYTES,
        None,
    )
    monkeypatch.setenv("ARGOSY_HUB_CHART_CACHE_BYTES", "42")
    monkeypatch.setenv("ARGOSY_HUB_CHART_CREDENTIALS", "/run/creds.yaml")
    s = parse_settings([])
    assert (s.chart_cache_bytes, s.chart_credentials) == (42, Path("/run/creds.yaml"))


def test_a_cache_of_no_bytes_is_refused_naming_the_flag() -> None:
    with pytest.raises(SystemExit):
        parse_settings(["--chart-cache-bytes", "0"])
