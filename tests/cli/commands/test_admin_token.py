"""`argosy admin-token create|list|revoke`."""

from __future__ import annotations

import json

import pytest

from argosy.api.v1 import fleet_pb2
from tests.cli.fakes import FakeHub, FakeStub, run


async def test_create_with_a_role(capsys: pytest.CaptureFixture[str]) -> None:
    resp = fleet_pb2.CreateAdminTokenResponse(token="argosy-adm-x", id="a1")
    hub = FakeHub(FakeStub(CreateAdminToken=resp))
    await run(hub, "admin-token", "create", "--role", "viewer")
    assert hub.fake.calls == [
        ("CreateAdminToken", fleet_pb2.CreateAdminTokenRequest(role="viewer"))
    ]
    assert capsys.readouterr().out == "argosy-adm-x\n"
    await run(hub, "admin-token", "create", "-o", "json")
    assert json.loads(capsys.readouterr().out) == {"token": "argosy-adm-x", "id": "a1"}
    assert hub.fake.calls[-1][1] == fleet_pb2.CreateAdminTokenRequest(role="admin")


async def test_list_and_revoke(capsys: pytest.CaptureFixture[str]) -> None:
    tokens = fleet_pb2.ListAdminTokensResponse(
        tokens=[fleet_pb2.AdminToken(id="a1", role="admin", created_unix=5)]
    )
    hub = FakeHub(FakeStub(ListAdminTokens=tokens))
    await run(hub, "admin-token", "list", "-o", "yaml")
    assert capsys.readouterr().out == "- id: a1\n  role: admin\n  created: 5\n  revoked: false\n"
    await run(hub, "admin-token", "revoke", "a1")
    assert hub.fake.calls[-1] == ("RevokeAdminToken", fleet_pb2.RevokeAdminTokenRequest(id="a1"))
    assert capsys.readouterr().out == "admin token a1 revoked\n"
