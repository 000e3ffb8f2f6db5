"""Git repositories end to end: a real git daemon on 127.0.0.1, a real hub, simulated spokes.

Push a commit and every cluster converges to it; a bad fleet.yaml errors its path only; a
force-push to an older commit rolls the bundles back; an unreachable repository backs off.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
from pathlib import Path

import aiohttp
import grpc
import pytest

from argosy.api.v1 import fleet_pb2
from tests.chartrepo import tls_server
from tests.gitserver import free_port, git_server, http_git_server
from tests.harness import RunningHub, RunningSpoke, eventually, running_hub, start_spoke

CM = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  namespace: default\n"
    "data:\n  v: {v}\n"
)
CLUSTERS = 3


async def spokes(hub: RunningHub, tmp_path: Path) -> list[RunningSpoke]:
    token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
    return [
        start_spoke(hub=hub, name=f"c{i}", labels={"env": "dev"}, token=token,
                    data_dir=tmp_path / f"spoke{i}")
        for i in range(CLUSTERS)
    ]  # fmt: skip


def values(spoke: RunningSpoke, name: str) -> str | None:
    obj = spoke.cluster.objects.get(f"/ConfigMap/default/{name}")
    return None if obj is None else obj["data"]["v"]


async def repo(hub: RunningHub, name: str) -> fleet_pb2.Repo:
    return (await hub.stub.GetRepo(fleet_pb2.GetRepoRequest(name=name), timeout=5)).repo


async def test_push_converge_bad_path_and_force_push_rollback(tmp_path: Path) -> None:
    async with git_server(tmp_path / "git") as server, running_hub(tmp_path / "hub") as hub:
        first = server.commit(
            {
                "apps/a/cm.yaml": CM.format(name="a", v="one"),
                "apps/b/cm.yaml": CM.format(name="b", v="one"),
            }
        )
        running = await spokes(hub, tmp_path)
        try:
            spec = fleet_pb2.RepoSpec(name="demo", url=server.url, branch="main", paths=["apps"])
            await hub.stub.AddRepo(fleet_pb2.AddRepoRequest(spec=spec), timeout=5)

            async def converged(v: str) -> bool:
                return all(values(s, "a") == v and values(s, "b") == v for s in running)

            await eventually(lambda: converged("one"), timeout=20, what="first commit everywhere")
            got = await repo(hub, "demo")
            assert got.status.commit == first
            assert list(got.status.bundles) == ["demo-apps-a", "demo-apps-b"]
            assert (
                got.status.last_fetch_unix > 0
                and got.status.next_fetch_unix >= got.status.last_fetch_unix
            )

            # A push, then `repo sync`: every cluster converges to the new commit.
            second = server.commit(
                {
                    "apps/a/cm.yaml": CM.format(name="a", v="two"),
                    "apps/b/cm.yaml": CM.format(name="b", v="two"),
                }
            )
            await hub.stub.SyncRepo(fleet_pb2.SyncRepoRequest(name="demo"), timeout=5)
            await eventually(lambda: converged("two"), timeout=20, what="second commit everywhere")

            # A bad fleet.yaml in b errors b only; a still deploys.
            server.commit(
                {
                    "apps/a/cm.yaml": CM.format(name="a", v="three"),
                    "apps/b/fleet.yaml": "helm: [oops\n",
                }
            )
            await hub.stub.SyncRepo(fleet_pb2.SyncRepoRequest(name="demo"), timeout=5)
            await eventually(
                lambda: all(values(s, "a") == "three" for s in running),
                timeout=20,
                what="a at three",
            )
            got = await repo(hub, "demo")
            assert [e.path for e in got.status.path_errors] == ["apps/b"]
            assert "fleet.yaml" in got.status.path_errors[0].message
            assert all(values(s, "b") == "two" for s in running)  # b stays as it was
            status = await hub.stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=5)
            assert [r.spec.name for r in status.repos] == ["demo"]

            # A force-push back to the second commit rolls a back and clears b's error.
            server.force_push(second)
            await hub.stub.SyncRepo(fleet_pb2.SyncRepoRequest(name="demo"), timeout=5)
            await eventually(lambda: converged("two"), timeout=20, what="rolled back to two")
            got = await repo(hub, "demo")
            assert got.status.commit == second and not got.status.path_errors

            # A path removed from the repository deletes its bundle.
            server.commit({"apps/b": None})
            await hub.stub.SyncRepo(fleet_pb2.SyncRepoRequest(name="demo"), timeout=5)
            await eventually(
                lambda: all(values(s, "b") is None for s in running), timeout=20, what="b pruned"
            )
            assert list((await repo(hub, "demo")).status.bundles) == ["demo-apps-a"]

            # Deleting the repository deletes its bundles.
            await hub.stub.DeleteRepo(fleet_pb2.DeleteRepoRequest(name="demo"), timeout=5)
            await eventually(
                lambda: all(values(s, "a") is None for s in running), timeout=20, what="a pruned"
            )
        finally:
            for s in running:
                await s.stop()


async def test_an_unreachable_repo_backs_off(tmp_path: Path) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        url = f"git://127.0.0.1:{free_port()}/nothing.git"
        spec = fleet_pb2.RepoSpec(name="gone", url=url, interval_seconds=1)
        await hub.stub.AddRepo(fleet_pb2.AddRepoRequest(spec=spec), timeout=5)
        source = hub.hub.git_source
        assert source is not None
        await eventually(lambda: source.state("gone").failures >= 2, timeout=10, what="2 failures")
        state = source.state("gone")
        assert state.attempts >= state.failures >= 2  # every attempt so far failed
        # Two failures in a row: the next fetch waits 4 intervals (±10%), not 1.
        gap = state.next_fetch - state.last_fetch
        assert gap >= 2**state.failures * 0.9
        got = await repo(hub, "gone")
        assert got.status.error.startswith("git fetch:") and got.status.failures == state.failures


async def test_a_signed_webhook_fetches_at_once_and_a_bad_one_is_refused(tmp_path: Path) -> None:
    secret = "hook-s3cret"
    async with (
        git_server(tmp_path / "git") as server,
        running_hub(tmp_path / "hub", webhook_listen="127.0.0.1:0", webhook_secret=secret) as hub,
    ):
        server.commit({"app/cm.yaml": CM.format(name="a", v="one")})
        running = await spokes(hub, tmp_path)
        try:
            # An hour's interval: only the webhook can bring the second commit in time.
            spec = fleet_pb2.RepoSpec(name="hooked", url=server.url, interval_seconds=3600)
            await hub.stub.AddRepo(fleet_pb2.AddRepoRequest(spec=spec), timeout=5)
            await eventually(
                lambda: all(values(s, "a") == "one" for s in running), timeout=20, what="one"
            )
            receiver = hub.hub.webhooks
            assert receiver is not None
            await receiver.ready.wait()
            tls = ssl.create_default_context(cafile=str(hub.ca_path))
            url = f"https://127.0.0.1:{receiver.port}/"
            second = server.commit({"app/cm.yaml": CM.format(name="a", v="two")})
            body = json.dumps({"ref": "refs/heads/main", "repository": {"clone_url": server.url}})
            good = "sha256=" + hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
            async with aiohttp.ClientSession() as http:
                async with http.post(
                    url, data=body, headers={"X-Hub-Signature-256": "sha256=" + "0" * 64}, ssl=tls
                ) as refused:
                    assert refused.status == 401
                source = hub.hub.git_source
                assert source is not None
                assert not source.state("hooked").wake.is_set()  # no fetch was asked for
                assert source.state("hooked").commit != second
                async with http.post(
                    url, data=body, headers={"X-Hub-Signature-256": good}, ssl=tls
                ) as accepted:
                    assert accepted.status == 202
                    assert (await accepted.json()) == {"fetching": ["hooked"]}
            await eventually(
                lambda: all(values(s, "a") == "two" for s in running), timeout=20, what="two"
            )
            assert (await repo(hub, "hooked")).status.commit == second
        finally:
            for s in running:
                await s.stop()


async def test_a_private_https_repo_with_a_secret_and_a_pinned_revision(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = "t0ken-never-logged"
    server_tls, ca = tls_server(tmp_path)
    monkeypatch.setenv("GIT_SSL_CAINFO", str(ca))  # the hub's git trusts the test CA
    async with (
        http_git_server(
            tmp_path / "git", username="me", password=password, tls=server_tls
        ) as server,
        running_hub(tmp_path / "hub") as hub,
    ):
        first = server.commit({"app/cm.yaml": CM.format(name="a", v="one")})
        server.commit({"app/cm.yaml": CM.format(name="a", v="two")})
        running = await spokes(hub, tmp_path)
        try:
            # No secret: the host refuses, and the error says so without prompting.
            spec = fleet_pb2.RepoSpec(name="private", url=server.url, revision=first)
            await hub.stub.AddRepo(fleet_pb2.AddRepoRequest(spec=spec), timeout=5)
            source = hub.hub.git_source
            assert source is not None
            await eventually(lambda: source.state("private").failures >= 1, what="refused")
            assert "git fetch:" in (await repo(hub, "private")).status.error

            secret = fleet_pb2.SecretSpec(name="creds", username="me", password=password.encode())
            await hub.stub.CreateSecret(fleet_pb2.CreateSecretRequest(spec=secret), timeout=5)
            spec.secret = "creds"
            await hub.stub.AddRepo(fleet_pb2.AddRepoRequest(spec=spec), timeout=5)
            # Pinned to the first commit: "one", though the branch is at "two".
            await eventually(
                lambda: all(values(s, "a") == "one" for s in running), timeout=20, what="one"
            )
            got = await repo(hub, "private")
            assert got.status.commit == first and got.status.error == ""
            assert any(h.startswith("Basic ") for h in server.auth_headers)  # askpass answered
            names = await hub.stub.ListSecrets(fleet_pb2.ListSecretsRequest(), timeout=5)
            assert list(names.names) == ["creds"]
            assert password not in str(names) and password not in str(got)
            assert password not in caplog.text
            # The same secret for a plain http:// URL is refused: the password would be readable.
            plain = fleet_pb2.RepoSpec(name="plain", url="http://127.0.0.1:1/r.git", secret="creds")
            with pytest.raises(grpc.aio.AioRpcError, match="https:// only"):
                await hub.stub.AddRepo(fleet_pb2.AddRepoRequest(spec=plain), timeout=5)
        finally:
            for s in running:
                await s.stop()
