"""--agent-namespace: where fleet.yaml serviceAccount names an account."""

from __future__ import annotations

from pathlib import Path

import pytest

from spoke.app import Spoke, parse_settings


def test_agent_namespace_reaches_the_backend(tmp_path: Path) -> None:
    argv = ["--hub", "h:1", "--name", "c1", "--simulate", "--data-dir", str(tmp_path)]
    spoke = Spoke(parse_settings([*argv, "--agent-namespace", "tenant-agents"]))
    assert spoke.backend.agent_namespace == "tenant-agents"
    assert Spoke(parse_settings(argv)).backend.agent_namespace == "argosy-system"
    with pytest.raises(SystemExit):
        parse_settings([*argv, "--agent-namespace", "Not_A_Namespace"])
