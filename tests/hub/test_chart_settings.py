"""The hub's chart cache, credentials and CA settings, from flags and from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy import pki
from argosy.bundle.charts import DEFAULT_CACHE_BYTES, trust
from argosy.errors import InvalidInput
from hub.app import parse_settings

CREDENTIALS = "charts.example: {username: u, password: p}\n"


def ca_file(path: Path) -> Path:
    path.write_bytes(pki.new_ca("test-chart-ca").cert_pem)
    return path


def test_chart_flags_are_read(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(CREDENTIALS)
    s = parse_settings(["--chart-cache-bytes", "1000", "--chart-credentials", f"{tmp_path}/c.yaml"])
    assert (s.chart_cache_bytes, s.chart_credentials) == (1000, tmp_path / "c.yaml")


def test_chart_settings_from_the_environment_and_defaults(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "creds.yaml").write_text(CREDENTIALS)
    assert (parse_settings([]).chart_cache_bytes, parse_settings([]).chart_credentials) == (
        DEFAULT_CACHE_BYTES,
        None,
    )
    monkeypatch.setenv("ARGOSY_HUB_CHART_CACHE_BYTES", "42")
    monkeypatch.setenv("ARGOSY_HUB_CHART_CREDENTIALS", f"{tmp_path}/creds.yaml")
    s = parse_settings([])
    assert (s.chart_cache_bytes, s.chart_credentials) == (42, tmp_path / "creds.yaml")


def test_a_cache_of_no_bytes_is_refused_naming_the_flag() -> None:
    with pytest.raises(SystemExit):
        parse_settings(["--chart-cache-bytes", "0"])


def test_chart_ca_from_flag_or_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert parse_settings([]).chart_ca is None
    flag, env = ca_file(tmp_path / "flag.pem"), ca_file(tmp_path / "env.pem")
    assert parse_settings(["--chart-ca", str(flag)]).chart_ca == flag
    monkeypatch.setenv("ARGOSY_HUB_CHART_CA", str(env))
    assert parse_settings([]).chart_ca == env


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
