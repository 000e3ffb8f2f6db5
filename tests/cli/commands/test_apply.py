"""`argosy apply`: bundles are checked locally, sent once, and each reply is one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy.api.v1 import fleet_pb2
from argosy.errors import InvalidInput
from tests.cli.fakes import FakeHub, FakeStub, run

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"


async def test_apply_sends_the_files_and_labels_and_reports_each_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "cm.yaml").write_text(CM)
    reply = fleet_pb2.ApplyBundlesResponse(
        bundles=[
            fleet_pb2.BundleApplied(
                name="web",
                changed=True,
                resource_count=1,
                revision="0123456789abcdef",
                warnings=["objects already belong to bundle other"],
            )
        ]
    )
    hub = FakeHub(FakeStub(ApplyBundles=reply))
    await run(hub, "apply", str(tmp_path / "web"), "-l", "team=a", "-l", "tier=b")
    ((rpc, request),) = hub.fake.calls
    assert rpc == "ApplyBundles"
    assert isinstance(request, fleet_pb2.ApplyBundlesRequest)
    (spec,) = request.bundles
    assert spec.name == "web" and dict(spec.labels) == {"team": "a", "tier": "b"}
    assert [(f.path, f.content) for f in spec.files] == [("cm.yaml", CM.encode())]
    out, err = capsys.readouterr()
    assert out == "bundle/web configured (1 resources, revision 0123456789ab)\n"
    assert err == "argosy: warning: bundle/web: objects already belong to bundle other\n"


async def test_unchanged_and_per_cluster_bundles_say_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cm.yaml").write_text(CM)
    reply = fleet_pb2.ApplyBundlesResponse(
        bundles=[fleet_pb2.BundleApplied(name="x", changed=False, revision="r")]
    )
    await run(FakeHub(FakeStub(ApplyBundles=reply)), "apply", str(tmp_path), "--name", "x")
    assert capsys.readouterr().out == "bundle/x unchanged (rendered per cluster, revision r)\n"


async def test_a_bad_bundle_is_refused_before_the_hub_is_called(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_text("apiVersion: v1\nmetadata: {name: a}\n")
    hub = FakeHub()
    with pytest.raises(InvalidInput) as err:
        await run(hub, "apply", str(tmp_path))
    assert f"{tmp_path}/cm.yaml:1: missing or empty 'kind'" in err.value.problems
    assert hub.opened == 0


async def test_a_bad_label_flag_names_the_flag(tmp_path: Path) -> None:
    (tmp_path / "cm.yaml").write_text(CM)
    with pytest.raises(InvalidInput, match="--label"):
        await run(FakeHub(), "apply", str(tmp_path), "-l", "novalue")
