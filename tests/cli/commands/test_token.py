"""`argosy token`: what it asks the hub and what it prints."""

from __future__ import annotations

import json

import pytest

from argosy.api.v1 import fleet_pb2
from tests.cli.fakes import FakeHub, FakeStub, run


async def test_create_prints_only_the_token_and_passes_ttl_and_uses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub = FakeHub(FakeStub(CreateToken=fleet_pb2.CreateTokenResponse(token="argosy-reg-x")))
    await run(hub, "token", "create", "--ttl", "60", "--max-uses", "2")
    assert capsys.readouterr().out == "argosy-reg-x\n"
    ((rpc, request),) = hub.fake.calls
    assert rpc == "CreateToken"
    assert request == fleet_pb2.CreateTokenRequest(ttl_seconds=60, max_uses=2)


async def test_create_as_json_carries_the_ca_and_the_id(
    capsys: pytest.CaptureFixture[str],
) -> None:
    resp = fleet_pb2.CreateTokenResponse(token="t", ca_pem=b"PEM", info=fleet_pb2.Token(id="tok-1"))
    await run(FakeHub(FakeStub(CreateToken=resp)), "token", "create", "-o", "json")
    assert json.loads(capsys.readouterr().out) == {"token": "t", "caPem": "PEM", "id": "tok-1"}


async def test_list_shows_expiry_as_an_iso_utc_date_or_never(
    capsys: pytest.CaptureFixture[str],
) -> None:
    tokens = fleet_pb2.ListTokensResponse(
        tokens=[
            fleet_pb2.Token(id="a", uses=3),
            fleet_pb2.Token(id="b", expires_unix=1796236200, revoked=True),
        ]
    )
    hub = FakeHub(FakeStub(ListTokens=tokens))
    await run(hub, "token", "list")
    assert capsys.readouterr().out.splitlines() == [
        "ID   USES   REVOKED   EXPIRES",
        "a    3      False     never",
        "b    0      True      2026-12-02T18:30:00Z",
    ]
    await run(hub, "token", "list", "-o", "json")
    assert json.loads(capsys.readouterr().out)[1] == {
        "id": "b",
        "created": 0,
        "expires": 1796236200,
        "expiresAt": "2026-12-02T18:30:00Z",
        "revoked": True,
        "uses": 0,
    }


async def test_revoke_names_the_token(capsys: pytest.CaptureFixture[str]) -> None:
    hub = FakeHub()
    await run(hub, "token", "revoke", "tok-9")
    assert hub.fake.calls == [("RevokeToken", fleet_pb2.RevokeTokenRequest(id="tok-9"))]
    assert capsys.readouterr().out == "token tok-9 revoked\n"
