"""`argosy install`: the token it mints or is given, and the hub it names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from argosy.api.v1 import fleet_pb2
from tests.cli.fakes import FakeHub, FakeStub, run


def secret(text: str) -> dict[str, Any]:
    docs = [d for d in yaml.safe_load_all(text) if d]
    found: dict[str, Any] = next(d for d in docs if d["kind"] == "Secret")["stringData"]
    return found


async def test_agent_token_mints_a_token_on_the_hub(capsys: pytest.CaptureFixture[str]) -> None:
    minted = fleet_pb2.CreateTokenResponse(token="argosy-reg-new", ca_pem=b"HUB-CA")
    hub = FakeHub(FakeStub(CreateToken=minted), ca_pem=b"CONTEXT-CA")
    await run(hub, "install", "agent-token", "--name", "edge-1", "-l", "env=prod", "--ttl", "600")
    assert hub.fake.calls == [("CreateToken", fleet_pb2.CreateTokenRequest(ttl_seconds=600))]
    assert secret(capsys.readouterr().out) == {
        "hub": "hub.test:7443",
        "name": "edge-1",
        "labels": "env=prod",
        "token": "argosy-reg-new",
        "caPem": "HUB-CA",
    }


async def test_agent_token_with_a_token_calls_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub = FakeHub(ca_pem=b"CONTEXT-CA")
    await run(
        hub,
        *("install", "agent-token", "--name", "edge-1", "--token", "given"),
        *("--agent-hub", "hub.public:443"),
    )
    assert hub.opened == 0
    data = secret(capsys.readouterr().out)
    assert (data["hub"], data["token"], data["caPem"]) == ("hub.public:443", "given", "CONTEXT-CA")


async def test_install_hub_needs_no_hub(capsys: pytest.CaptureFixture[str]) -> None:
    hub = FakeHub()
    await run(hub, "install", "hub", "--namespace", "fleet")
    kinds = [d["kind"] for d in yaml.safe_load_all(capsys.readouterr().out) if d]
    assert kinds == [
        "Namespace",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "PersistentVolumeClaim",
        "Deployment",
        "Service",
    ]
    assert hub.opened == 0


async def test_agent_token_hub_flag_names_another_hub(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # --hub of the verb (not of argosy) with a token given: no call, that address in the YAML.
    await run(
        FakeHub(),
        *("--config", str(tmp_path / "none.yaml"), "install", "agent-token", "--name", "e"),
        *("--hub", "other.example:7443", "--token", "t"),
    )
    assert secret(capsys.readouterr().out)["hub"] == "other.example:7443"
