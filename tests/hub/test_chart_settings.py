"""The hub's chart cache, credentials and CA settings, from flags and from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy.bundle.charts import DEFAULT_CACHE_BYTES, trust
from argosy.errors import InvalidInput
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


def test_chart_ca_from_flag_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_settings([]).chart_ca is None
    assert parse_settings(["--chart-ca", "/etc/ca.pem"]).chart_ca == Path("/etc/ca.pem")
    monkeypatch.setenv("ARGOSY_HUB_CHART_CA", "/run/ca.pem")
    assert parse_settings([]).chart_ca == Path("/run/ca.pem")


def test_a_chart_ca_file_without_a_certificate_is_refused_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    for path in (bad, tmp_path / "missing.pem"):
        with pytest.raises(InvalidInput, match=f"{path}: cannot read chart repository CA"):
            trust(path)


def test_bad_chart_files_are_a_usage_error_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "c.yaml").write_text("host: 1\n")
    for argv, said in [
        (["--chart-ca", str(tmp_path / "no.pem")], "no.pem: cannot read chart repository CA"),
        (["--chart-credentials", str(tmp_path / "c.yaml")], "c.yaml: host: needs username"),
    ]:
        with pytest.raises(SystemExit):
            parse_settings(argv)
        assert said in capsys.readouterr().err
