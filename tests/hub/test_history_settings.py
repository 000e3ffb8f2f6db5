"""The hub's --history-limit: from the flag or the environment, and refused below 1."""

from __future__ import annotations

import pytest

from hub.app import Settings, parse_settings


def test_history_limit_from_flag_environment_and_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARGOSY_HUB_HISTORY_LIMIT", raising=False)
    assert parse_settings([]).history_limit == 10
    assert parse_settings(["--history-limit", "3"]).history_limit == 3
    monkeypatch.setenv("ARGOSY_HUB_HISTORY_LIMIT", "5")
    assert parse_settings([]).history_limit == 5


@pytest.mark.parametrize("value", ["0", "-2", "ten"])
def test_a_bad_history_limit_is_refused_naming_the_flag(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        parse_settings(["--history-limit", value])
    assert "--history-limit" in capsys.readouterr().err


def test_settings_refuse_a_history_limit_below_1() -> None:
    with pytest.raises(ValueError, match="--history-limit / ARGOSY_HUB_HISTORY_LIMIT: 0"):
        Settings(history_limit=0)


@pytest.mark.parametrize(
    "name",
    [
        "ARGOSY_HUB_EVENT_RETENTION",
        "ARGOSY_HUB_METRICS_MAX_DEPLOYMENT_SERIES",
        "ARGOSY_HUB_HEARTBEAT_SECONDS",
        "ARGOSY_HUB_OFFLINE_GRACE_SECONDS",
        "ARGOSY_HUB_CHART_CACHE_BYTES",
        "ARGOSY_HUB_HISTORY_LIMIT",
    ],
)
def test_a_bad_number_in_the_environment_is_a_usage_error_naming_the_variable(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(name, "lots")
    with pytest.raises(SystemExit) as exited:
        parse_settings([])
    assert exited.value.code == 2
    assert f"{name}='lots': expected a" in capsys.readouterr().err
