"""Bundle history, rollback and pins end to end: a real hub, simulated spokes (issue #15).

Apply v1 and v2; history shows both with who applied them; a rollback deploys v1 again through
the normal rollout and pins the bundle; an apply of v3 skips that bundle only; unpin, and v3
deploys. The history and the pin survive a hub restart, history is trimmed to its limit, a
viewer may read history but not roll back or unpin, and a git commit to a pinned bundle is
skipped with a message in the repository's status.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from argosy import config
from argosy.api.v1 import fleet_pb2, fleet_pb2_grpc
from tests.gitserver import git_server
from tests.harness import (
    RunningHub,
    RunningSpoke,
    bundle_spec,
    bundle_status,
    eventually,
    running_hub,
    start_spoke,
)

CM = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\n"
    "data:\n  v: '{v}'\n"
)
SA = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: app\n  namespace: default\n"
V1 = {"cm.yaml": CM.format(name="app", v="1"), "sa.yaml": SA}
V2 = {"cm.yaml": CM.format(name="app", v="2")}
V3 = {"cm.yaml": CM.format(name="app", v="3")}


def value(spoke: RunningSpoke, name: str = "app") -> str | None:
    obj = spoke.cluster.objects.get(f"/ConfigMap/default/{name}")
    return None if obj is None else str(obj["data"]["v"])


def has_sa(spoke: RunningSpoke) -> bool:
    return "/ServiceAccount/default/app" in spoke.cluster.objects


def admin_actor(hub: RunningHub) -> str:
    ctx = config.load(hub.config_path).context()
    assert ctx is not None
    return "token/" + ctx.token.removeprefix("argosy-adm-").partition(".")[0]


async def apply(
    hub: RunningHub, *specs: fleet_pb2.BundleSpec
) -> dict[str, fleet_pb2.BundleApplied]:
    resp = await hub.stub.ApplyBundles(fleet_pb2.ApplyBundlesRequest(bundles=specs), timeout=30)
    return {b.name: b for b in resp.bundles}


async def history(
    stub: fleet_pb2_grpc.FleetServiceAsyncStub, name: str = "app"
) -> fleet_pb2.GetBundleHistoryResponse:
    return await stub.GetBundleHistory(fleet_pb2.GetBundleHistoryRequest(name=name), timeout=5)


async def rollback(
    hub: RunningHub, to: int = 0, name: str = "app"
) -> fleet_pb2.RollbackBundleResponse:
    return await hub.stub.RollbackBundle(
        fleet_pb2.RollbackBundleRequest(name=name, to_revision=to), timeout=30
    )


async def test_rollback_deploys_the_old_revision_pins_it_and_unpin_lets_new_ones_in(
    tmp_path: Path,
) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        spokes = [
            start_spoke(hub=hub, name=f"c{i}", labels={}, token=token, data_dir=tmp_path / f"s{i}")
            for i in range(2)
        ]
        try:
            await apply(hub, bundle_spec("app", V1))
            await eventually(lambda: all(value(s) == "1" and has_sa(s) for s in spokes))
            await apply(hub, bundle_spec("app", V2))
            await eventually(lambda: all(value(s) == "2" and not has_sa(s) for s in spokes))

            actor = admin_actor(hub)
            got = await history(hub.stub)
            assert [(r.rev, r.actor, r.summary, r.current) for r in got.revisions] == [
                (1, actor, "2 objects: ConfigMap, ServiceAccount", False),
                (2, actor, "1 object: ConfigMap", True),
            ]
            assert got.pinned_rev == 0 and all(r.created_unix > 0 for r in got.revisions)

            # Rollback (to the previous revision): every cluster runs v1 again, pinned.
            back = await rollback(hub)
            assert (back.rolled_back_to, back.pinned_rev) == (1, 3)
            assert back.bundle.changed and back.bundle.revision == got.revisions[0].revision
            await eventually(
                lambda: all(value(s) == "1" and has_sa(s) for s in spokes), what="v1 again"
            )
            b = await bundle_status(hub.stub, "app")
            assert b is not None and b.pinned_rev == 3
            got = await history(hub.stub)
            assert [(r.rev, r.rollback_of, r.current) for r in got.revisions] == [
                (1, 0, False),
                (2, 0, False),
                (3, 1, True),
            ]
            assert got.revisions[2].revision == got.revisions[0].revision
            assert got.pinned_rev == 3

            # v3 is skipped for the pinned bundle only; the other bundle of the apply deploys.
            result = await apply(
                hub,
                bundle_spec("app", V3),
                bundle_spec("other", {"cm.yaml": CM.format(name="o", v="x")}),
            )
            assert result["app"].skipped == (
                "bundle app is pinned at rev 3 by rollback; `argosy unpin app` to accept new "
                "revisions"
            )
            assert not result["app"].changed and result["app"].revision == back.bundle.revision
            assert result["other"].changed and not result["other"].skipped
            await eventually(lambda: all(value(s, "o") == "x" for s in spokes), what="other")
            assert all(value(s) == "1" for s in spokes)
            assert len((await history(hub.stub)).revisions) == 3  # nothing stored

            # Rolling back to a rev the history does not hold is a clear NotFound.
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await rollback(hub, to=99)
            assert err.value.code() == grpc.StatusCode.NOT_FOUND
            assert "bundle 'app' has no rev 99 in its history (kept: 1, 2, 3" in str(
                err.value.details()
            )

            # Unpinned, the next apply deploys (unpin itself deploys nothing).
            unpinned = await hub.stub.UnpinBundle(
                fleet_pb2.UnpinBundleRequest(name="app"), timeout=5
            )
            assert unpinned.was_pinned
            b = await bundle_status(hub.stub, "app")
            assert b is not None and b.pinned_rev == 0
            assert all(value(s) == "1" for s in spokes)
            result = await apply(hub, bundle_spec("app", V3))
            assert result["app"].changed and not result["app"].skipped
            await eventually(lambda: all(value(s) == "3" and not has_sa(s) for s in spokes))
            got = await history(hub.stub)
            assert [(r.rev, r.current) for r in got.revisions][-1] == (4, True)
        finally:
            for s in spokes:
                await s.stop()


async def test_history_and_pin_survive_a_restart_and_history_is_trimmed(tmp_path: Path) -> None:
    async with running_hub(tmp_path / "hub", history_limit=3) as hub:
        for v in ("1", "2", "3", "4"):
            await apply(hub, bundle_spec("app", {"cm.yaml": CM.format(name="app", v=v)}))
        got = await history(hub.stub)
        assert [r.rev for r in got.revisions] == [2, 3, 4]  # trimmed on write
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await rollback(hub, to=1)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
        assert "kept: 2, 3, 4" in str(err.value.details())
        back = await rollback(hub, to=2)
        assert back.pinned_rev == 5
    async with running_hub(tmp_path / "hub", history_limit=3) as hub:
        got = await history(hub.stub)
        assert [(r.rev, r.rollback_of, r.current) for r in got.revisions] == [
            (3, 0, False),
            (4, 0, False),
            (5, 2, True),
        ]
        assert got.pinned_rev == 5
        b = await bundle_status(hub.stub, "app")
        assert b is not None and b.pinned_rev == 5
        result = await apply(hub, bundle_spec("app", V3))
        assert "pinned at rev 5" in result["app"].skipped
        # Deleting the bundle drops its history and pin: a new one starts again at rev 1.
        await hub.stub.DeleteBundle(fleet_pb2.DeleteBundleRequest(name="app"), timeout=5)
        result = await apply(hub, bundle_spec("app", V3))
        assert result["app"].changed and not result["app"].skipped
        got = await history(hub.stub)
        assert [(r.rev, r.current) for r in got.revisions] == [(1, True)] and not got.pinned_rev


async def test_a_viewer_reads_history_but_may_not_roll_back_or_unpin(tmp_path: Path) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        await apply(hub, bundle_spec("app", V1))
        await apply(hub, bundle_spec("app", V2))
        viewer = await hub.stub.CreateAdminToken(
            fleet_pb2.CreateAdminTokenRequest(role="viewer"), timeout=5
        )
        async with hub.admin_channel(viewer.token) as channel:
            stub = fleet_pb2_grpc.FleetServiceStub(channel)
            assert [r.rev for r in (await history(stub)).revisions] == [1, 2]
            for call in (
                stub.RollbackBundle(fleet_pb2.RollbackBundleRequest(name="app"), timeout=5),
                stub.UnpinBundle(fleet_pb2.UnpinBundleRequest(name="app"), timeout=5),
            ):
                with pytest.raises(grpc.aio.AioRpcError) as err:
                    await call
                assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert (await history(hub.stub)).pinned_rev == 0
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await history(hub.stub, "nope")
        assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_git_commit_to_a_pinned_bundle_is_skipped(tmp_path: Path) -> None:
    async with git_server(tmp_path / "git") as server, running_hub(tmp_path / "hub") as hub:
        first = server.commit({"apps/a/cm.yaml": CM.format(name="a", v="one")})
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        spoke = start_spoke(hub=hub, name="c0", labels={}, token=token, data_dir=tmp_path / "s")
        try:
            spec = fleet_pb2.RepoSpec(name="demo", url=server.url, branch="main", paths=["apps"])
            await hub.stub.AddRepo(fleet_pb2.AddRepoRequest(spec=spec), timeout=5)
            await eventually(lambda: value(spoke, "a") == "one", timeout=20)
            second = server.commit({"apps/a/cm.yaml": CM.format(name="a", v="two")})
            await hub.stub.SyncRepo(fleet_pb2.SyncRepoRequest(name="demo"), timeout=5)
            await eventually(lambda: value(spoke, "a") == "two", timeout=20)
            got = await history(hub.stub, "demo-apps-a")
            assert [r.actor for r in got.revisions] == [
                f"repo/demo@{first[:12]}",
                f"repo/demo@{second[:12]}",
            ]

            await rollback(hub, name="demo-apps-a")
            await eventually(lambda: value(spoke, "a") == "one", timeout=20)
            third = server.commit({"apps/a/cm.yaml": CM.format(name="a", v="three")})
            await hub.stub.SyncRepo(fleet_pb2.SyncRepoRequest(name="demo"), timeout=5)

            async def skipped() -> bool:
                repo = (
                    await hub.stub.GetRepo(fleet_pb2.GetRepoRequest(name="demo"), timeout=5)
                ).repo
                return repo.status.commit == third and any(
                    "pinned at rev 3 by rollback" in e.message for e in repo.status.path_errors
                )

            await eventually(skipped, timeout=20, what="the commit skipped for the pinned bundle")
            assert value(spoke, "a") == "one"
            # The rolled-back bundle keeps its repository (the repo still owns it).
            repo = (await hub.stub.GetRepo(fleet_pb2.GetRepoRequest(name="demo"), timeout=5)).repo
            assert list(repo.status.bundles) == ["demo-apps-a"]

            # Unpinned, the next commit deploys.
            await hub.stub.UnpinBundle(fleet_pb2.UnpinBundleRequest(name="demo-apps-a"), timeout=5)
            server.commit({"apps/a/cm.yaml": CM.format(name="a", v="four")})
            await hub.stub.SyncRepo(fleet_pb2.SyncRepoRequest(name="demo"), timeout=5)
            await eventually(lambda: value(spoke, "a") == "four", timeout=20)
        finally:
            await spoke.stop()
