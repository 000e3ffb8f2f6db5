"""Reads that page (target, the failure explanation of --wait, --limit past a page) and integer
flags checked against their proto fields' ranges; `bundle diff` where the drift detail is not
known (#15 review)."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy.api.v1 import fleet_pb2, resources_pb2
from argosy.convert import selector_to_pb
from argosy.selectors import parse_selector
from cli import waiting
from cli.diffs import compare_patches_yaml, diff_text
from cli.reads import collect_status
from tests.cli.commands.test_render import bundle
from tests.cli.fakes import FakeHub, FakeStub, Pages, parse, run


async def test_target_reads_every_page_of_clusters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    app = bundle(tmp_path / "app")
    first = fleet_pb2.ListClustersResponse(
        clusters=[fleet_pb2.Cluster(name="a1", labels={"env": "prod"})], next_page_token="a1"
    )
    last = fleet_pb2.ListClustersResponse(
        clusters=[fleet_pb2.Cluster(name="b1", labels={"env": "prod"})]
    )
    prod = fleet_pb2.ClusterGroup(name="prod", selector=selector_to_pb(parse_selector("env=prod")))
    hub = FakeHub(
        FakeStub(
            ListClusters=Pages({"": first, "a1": last}),
            ListGroups=fleet_pb2.ListGroupsResponse(groups=[prod]),
        )
    )
    await run(hub, "target", str(app))
    assert [line.split()[1] for line in capsys.readouterr().out.splitlines()[1:]] == ["a1", "b1"]


async def test_waiting_for_no_bundle_is_done_at_once() -> None:
    # Every bundle of the apply skipped (pinned): nothing to wait for, and nothing failed.
    hub = FakeHub()
    await waiting.wait_ready(hub, {}, timeout=1)
    assert hub.fake.rpcs() == []


async def test_the_failure_explanation_reads_pages_until_the_bundle_is_in(
    capsys: pytest.CaptureFixture[str],
) -> None:
    web = fleet_pb2.BundleStatus(
        name="web",
        deployments=[fleet_pb2.DeploymentDetail(cluster="c9", state="ErrApplied", message="boom")],
    )
    pages = Pages(
        {
            "": fleet_pb2.GetStatusResponse(
                bundles=[fleet_pb2.BundleStatus(name="api")], next_page_token="api"
            ),
            "api": fleet_pb2.GetStatusResponse(bundles=[web], next_page_token="web"),
        }
    )
    hub = FakeHub(FakeStub(GetStatus=pages))
    await waiting._explain(hub, ["web"])
    assert capsys.readouterr().err == "argosy: bundle/web: c9: ErrApplied: boom\n"
    assert [r.page_token for _, r in hub.fake.calls] == ["", "api"]  # type: ignore[attr-defined]


async def test_a_limit_past_the_hubs_largest_page_reads_on() -> None:
    # The hub caps a page at 5,000: a full capped page is not the end of the list.
    def clusters(start: int, n: int) -> list[fleet_pb2.ClusterStatus]:
        return [fleet_pb2.ClusterStatus(name=f"c{i:05}") for i in range(start, start + n)]

    pages = Pages(
        {
            "": fleet_pb2.GetStatusResponse(clusters=clusters(0, 5000), next_page_token="c04999"),
            "c04999": fleet_pb2.GetStatusResponse(clusters=clusters(5000, 1000)),
        }
    )
    stub = FakeStub(GetStatus=pages)
    got = await collect_status(stub, fleet_pb2.GetStatusRequest(), limit=6000)  # type: ignore[arg-type]
    assert len(got.clusters) == 6000


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["rollback", "web", "--to", "99999999999"], "--to"),
        (["rollback", "web", "--to", "-1"], "--to"),
        (["events", "--limit", "3000000000"], "--limit"),
        (["events", "--since", "99999999999999999999"], "--since"),
        (["token", "create", "--ttl", "-5"], "--ttl"),
        (["token", "create", "--max-uses", "4294967296"], "--max-uses"),
        (["cluster", "list", "--limit", "99999999999"], "--limit"),
    ],
)
def test_an_integer_out_of_its_fields_range_is_a_usage_error(
    argv: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parse(*argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert (f"argument {flag}" in err and "out of range" in err) or "not a positive" in err


def test_integers_in_range_parse() -> None:
    assert parse("rollback", "web", "--to", "4294967295").to == 4294967295
    assert parse("events", "--since", "9223372036854775807").since == 9223372036854775807


def test_drift_without_its_detail_says_where_the_detail_is_not_that_there_is_none() -> None:
    # As a replica that does not hold the spoke's stream (or just restarted) answers.
    resp = fleet_pb2.GetBundleDiffResponse(
        clusters=[
            fleet_pb2.ClusterDiff(
                cluster="c1",
                state="Modified",
                revision="abc",
                resources=[resources_pb2.ResourceState(key="/ConfigMap/default/a", modified=True)],
            )
        ]
    )
    text = diff_text("web", resp)
    assert "configmap default/a: modified; drift detail not known here" in text
    assert "replica holding the cluster's stream" in text
    block = compare_patches_yaml(resp)
    assert "no drift" not in block
    assert block.startswith("# c1: configmap default/a: modified, paths unknown\n")
    assert "after a hub restart arrives with the spoke's next report" in block
    assert compare_patches_yaml(fleet_pb2.GetBundleDiffResponse()).startswith("# no drift")
