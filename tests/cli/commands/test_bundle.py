"""`argosy bundle list|get|delete`."""

from __future__ import annotations

import json

import pytest
import yaml

from argosy.api.v1 import fleet_pb2, resources_pb2
from tests.cli.fakes import FakeHub, FakeStub, run

WEB = fleet_pb2.Bundle(
    spec=fleet_pb2.BundleSpec(
        name="web",
        labels={"team": "a"},
        files=[resources_pb2.BundleFile(path="cm.yaml", content=b"kind: ConfigMap\n")],
    ),
    revision="0123456789abcdef",
    resource_count=1,
)


async def test_list_shortens_the_revision_for_people_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub = FakeHub(FakeStub(ListBundles=fleet_pb2.ListBundlesResponse(bundles=[WEB])))
    await run(hub, "bundle", "list")
    assert capsys.readouterr().out.splitlines() == [
        "NAME   RESOURCES   REVISION",
        "web    1           0123456789ab",
    ]
    await run(hub, "bundle", "list", "-o", "json")
    assert json.loads(capsys.readouterr().out) == [
        {"name": "web", "revision": "0123456789abcdef", "resources": 1, "labels": {"team": "a"}}
    ]


async def test_get_shows_the_files_as_yaml_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    hub = FakeHub(FakeStub(GetBundle=fleet_pb2.GetBundleResponse(bundle=WEB)))
    await run(hub, "bundle", "get", "web")
    assert hub.fake.calls == [("GetBundle", fleet_pb2.GetBundleRequest(name="web"))]
    doc = yaml.safe_load(capsys.readouterr().out)
    assert doc["files"] == {"cm.yaml": "kind: ConfigMap\n"} and doc["labels"] == {"team": "a"}


async def test_delete(capsys: pytest.CaptureFixture[str]) -> None:
    hub = FakeHub()
    await run(hub, "bundle", "delete", "web")
    assert hub.fake.calls == [("DeleteBundle", fleet_pb2.DeleteBundleRequest(name="web"))]
    assert capsys.readouterr().out == "bundle/web deleted\n"
