"""--dashboard-listen: read from the flag or the environment, refused naming itself when bad."""

from __future__ import annotations

import pytest

from hub.app import Settings, parse_settings


def test_dashboard_listen_from_flag_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_settings([]).dashboard_listen == ""
    assert parse_settings(["--dashboard-listen", "0.0.0.0:7446"]).dashboard_listen == "0.0.0.0:7446"
    monkeypatch.setenv("ARGOSY_HUB_DASHBOARD_LISTEN", "127.0.0.1:9000")
    assert parse_settings([]).dashboard_listen == "127.0.0.1:9000"


def test_a_bad_dashboard_address_is_refused_naming_the_flag(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        parse_settings(["--dashboard-listen", "7446"])
    assert "--dashboard-listen" in capsys.readouterr().err
    with pytest.raises(ValueError, match="not HOST:PORT"):
        Settings(dashboard_listen="localhost:http")
