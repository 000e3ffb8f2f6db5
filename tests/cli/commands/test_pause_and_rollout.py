"""`argosy pause|unpause BUNDLE` and `argosy rollout resume BUNDLE`."""

from __future__ import annotations

import pytest

from argosy.api.v1 import fleet_pb2
from tests.cli.fakes import FakeHub, run


@pytest.mark.parametrize("verb,paused", [("pause", True), ("unpause", False)])
async def test_pause_and_unpause_set_the_flag_they_name(
    verb: str, paused: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = FakeHub()
    await run(hub, verb, "web")
    assert hub.fake.calls == [
        ("SetBundlePaused", fleet_pb2.SetBundlePausedRequest(name="web", paused=paused))
    ]
    assert capsys.readouterr().out == f"bundle/web {verb}d\n"


async def test_rollout_resume(capsys: pytest.CaptureFixture[str]) -> None:
    hub = FakeHub()
    await run(hub, "rollout", "resume", "web")
    assert hub.fake.calls == [("ResumeRollout", fleet_pb2.ResumeRolloutRequest(name="web"))]
    assert capsys.readouterr().out == "bundle/web rollout resumed\n"
