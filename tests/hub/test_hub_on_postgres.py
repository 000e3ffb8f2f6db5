"""A hub on PostgreSQL, end to end: `--store postgresql://...`, a spoke, a restart.

The restarted hub gets a fresh data directory, so whatever it knows came from PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import grpc
import pytest

from argosy.api.v1 import fleet_pb2, fleet_pb2_grpc
from hub.app import Settings, parse_settings
from tests.harness import bundle_spec, bundle_status, eventually, running_hub, start_spoke
from tests.pg import PgServer

ROOT = Path(__file__).resolve().parents[2]
CONFIG = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  color: {color}
"""


@pytest.mark.pg
async def test_hub_on_postgresql_keeps_everything_across_a_restart(
    tmp_path: Path, hub_port: int, pg_server: PgServer
) -> None:
    dsn = await pg_server.create_database()
    async with running_hub(tmp_path / "hub1", port=hub_port, store=dsn) as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        spare = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        await hub.stub.CreateGroup(
            fleet_pb2.CreateGroupRequest(
                group=fleet_pb2.ClusterGroup(
                    name="dev", selector=fleet_pb2.LabelSelector(match_labels={"env": "dev"})
                )
            ),
            timeout=5,
        )
        spoke = start_spoke(
            hub=hub, name="one", labels={"env": "dev"}, token=token, data_dir=tmp_path / "spoke"
        )
        await hub.stub.ApplyBundles(
            fleet_pb2.ApplyBundlesRequest(
                bundles=[bundle_spec("web", {"config.yaml": CONFIG.format(color="blue")})]
            ),
            timeout=10,
        )

        async def ready() -> bool:
            b = await bundle_status(hub.stub, "web")
            return b is not None and b.clusters_desired == 1 and b.clusters_ready == 1

        await eventually(ready, what="web Ready on the spoke")
    try:
        assert not (tmp_path / "hub1" / "argosy.db").exists(), "SQLite was used, not PostgreSQL"
        await eventually(lambda: not spoke.spoke.link.connected.is_set(), what="stream down")
        seen = len(spoke.received)
        async with running_hub(tmp_path / "hub2", port=hub_port, store=dsn) as hub:
            bundles = await hub.stub.ListBundles(fleet_pb2.ListBundlesRequest(), timeout=5)
            assert [b.spec.name for b in bundles.bundles] == ["web"]
            clusters = await hub.stub.ListClusters(fleet_pb2.ListClustersRequest(), timeout=5)
            assert [(c.name, dict(c.labels)) for c in clusters.clusters] == [
                ("one", {"env": "dev"})
            ]
            groups = await hub.stub.ListGroups(fleet_pb2.ListGroupsRequest(), timeout=5)
            assert "dev" in [g.name for g in groups.groups]
            tokens = await hub.stub.ListTokens(fleet_pb2.ListTokensRequest(), timeout=5)
            assert len(tokens.tokens) == 2

            # The spoke comes back with its credential, and nothing but the welcome is resent:
            # the deployment rows (acked revisions) were in PostgreSQL too.
            await eventually(lambda: spoke.spoke.link.streams_opened == 2, timeout=20)
            await eventually(ready, what="web Ready again after the restart")
            kinds = [m.WhichOneof("msg") for m in spoke.received[seen:]]
            assert kinds == ["welcome"], kinds

            # The unused token still registers a cluster.
            resp = await hub.register(token=spare, name="late")
            assert resp.cluster_id and resp.certificate_pem
        assert not (tmp_path / "hub2" / "argosy.db").exists()
    finally:
        await spoke.stop()


@pytest.mark.pg
async def test_argosy_hub_store_flag_serves_from_postgresql(
    tmp_path: Path, pg_server: PgServer
) -> None:
    """The real command line: `python -m hub --store postgresql://...` serves, and stops on TERM."""
    dsn = await pg_server.create_database()
    data = tmp_path / "hub"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARGOSY_HUB_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "--store",
        dsn,
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        str(data),
        "--insecure",  # this test is about the store; TLS is tested elsewhere
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        await eventually(lambda: (data / "hub.addr").exists() or proc.returncode is not None)
        assert proc.returncode is None, "the hub exited"
        address = (data / "hub.addr").read_text().strip()
        async with grpc.aio.insecure_channel(address) as channel:
            stub = fleet_pb2_grpc.FleetServiceStub(channel)
            await stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(
                    bundles=[bundle_spec("web", {"config.yaml": CONFIG.format(color="red")})]
                ),
                timeout=10,
            )
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), 30)
        assert proc.returncode == 0, stderr.decode(errors="replace")[-2000:]
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert not (data / "argosy.db").exists()
    # The bundle is in PostgreSQL: an in-process hub on the same database sees it.
    async with running_hub(tmp_path / "again", store=dsn) as hub:
        bundles = await hub.stub.ListBundles(fleet_pb2.ListBundlesRequest(), timeout=5)
        assert [b.spec.name for b in bundles.bundles] == ["web"]


def test_store_flag_env_and_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARGOSY_HUB_STORE", raising=False)
    assert parse_settings([]).store == "sqlite"
    assert parse_settings(["--store", "postgresql://a@h:1/d"]).store == "postgresql://a@h:1/d"
    monkeypatch.setenv("ARGOSY_HUB_STORE", "postgresql://env@h/d")
    assert parse_settings([]).store == "postgresql://env@h/d"
    assert parse_settings(["--store", "sqlite"]).store == "sqlite"  # the flag wins
    with pytest.raises(ValueError, match=r"--store / ARGOSY_HUB_STORE: 'mysql://u:\*\*\*@h/d'"):
        Settings(store="mysql://u:secret@h/d")
