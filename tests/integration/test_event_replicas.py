"""The event log with two hub replicas on one PostgreSQL: each thing recorded once, and a
watcher on one replica sees what the other recorded."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import grpc
import pytest

from argosy.api.v1 import fleet_pb2, fleet_pb2_grpc
from tests.harness import bundle_spec, eventually
from tests.integration.test_replicas import (
    ROOT,
    HubProcess,
    SpokeUnderTest,
    _free_port,
    start_spoke,
    status,
)
from tests.pg import PgServer, pg_server  # noqa: F401  (the fixture)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n"


@asynccontextmanager
async def replica(dsn: str, data_dir: Path) -> AsyncIterator[HubProcess]:
    """`python -m hub --store DSN --insecure`, clusters Offline one second after they leave."""
    port = _free_port()
    argv = ["--store", dsn, "--listen", f"127.0.0.1:{port}", "--data-dir", str(data_dir)]
    argv += ["--insecure", "--offline-grace-seconds", "1"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARGOSY_HUB_")}
    log = (data_dir.parent / f"{data_dir.name}.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", *argv, cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        addr = data_dir / "hub.addr"
        # Written, not just created: the file exists a moment before its address is in it.
        await eventually(
            lambda: (
                (addr.exists() and addr.read_text().endswith("\n")) or proc.returncode is not None
            ),
            timeout=30,
        )
        assert proc.returncode is None, (data_dir.parent / f"{data_dir.name}.log").read_text()
        address = addr.read_text().strip()
        async with grpc.aio.insecure_channel(address) as channel:
            yield HubProcess(proc, address, channel, fleet_pb2_grpc.FleetServiceStub(channel))
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        log.close()


async def events_of(hub: HubProcess, *, kind: str = "", cluster: str = "") -> list[fleet_pb2.Event]:
    request = fleet_pb2.ListEventsRequest(kind=kind, cluster=cluster, limit=1000)
    return list((await hub.stub.ListEvents(request, timeout=5)).events)


@pytest.mark.pg
@pytest.mark.slow
async def test_replicas_record_each_thing_once_and_watch_each_other(
    tmp_path: Path,
    pg_server: PgServer,  # noqa: F811
) -> None:
    dsn = await pg_server.create_database()
    spokes: list[SpokeUnderTest] = []
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(replica(dsn, tmp_path / "hub-a"))
        b = await stack.enter_async_context(replica(dsn, tmp_path / "hub-b"))
        try:
            token = (await a.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
            # s0 streams to A only, s1 to B only.
            spokes = [
                start_spoke("s0", [a.address], token, tmp_path / "s0"),
                start_spoke("s1", [b.address], token, tmp_path / "s1"),
            ]

            async def connected() -> bool:
                for hub in (a, b):
                    if sum(c.connected for c in (await status(hub.stub)).clusters) != 2:
                        return False
                return True

            await eventually(connected, timeout=20, what="2 connected to each replica")

            # A watcher on B sees the apply served by A.
            watch = b.stub.WatchEvents(fleet_pb2.WatchEventsRequest(kind="BundleApplied"))
            await a.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec("web", {"cm.yaml": CM})]),
                timeout=10,
            )
            live = await asyncio.wait_for(watch.read(), 10)
            assert isinstance(live, fleet_pb2.WatchEventsResponse)
            assert (live.event.kind, live.event.bundle, live.event.actor) == (
                "BundleApplied",
                "web",
                "anonymous",  # --insecure: no admin tokens
            )
            watch.cancel()

            async def ready_recorded() -> bool:
                return {
                    e.cluster
                    for e in await events_of(b, kind="DeploymentStateChanged")
                    if e.message.split(" (")[0].endswith("-> Ready")
                } == {"s0", "s1"}

            await eventually(ready_recorded, timeout=20, what="Ready on s0 and s1, recorded")

            # s1 leaves B for good: Offline, on both replicas, past the grace.
            spokes[1].task.cancel()
            await asyncio.gather(spokes[1].task, return_exceptions=True)

            async def offline_everywhere() -> bool:
                for hub in (a, b):
                    states = {c.name: c.state for c in (await status(hub.stub)).clusters}
                    if states.get("s1") != "Offline":
                        return False
                return True

            await eventually(offline_everywhere, timeout=20, what="s1 Offline on A and B")
            # Something recorded after it on each replica: a second Offline for s1, had either
            # replica recorded one, is in the store once these are.
            await a.stub.RevokeCluster(fleet_pb2.RevokeClusterRequest(name="s0"), timeout=5)
            await b.stub.ResumeRollout(fleet_pb2.ResumeRolloutRequest(name="web"), timeout=5)

            async def marks() -> bool:
                kinds = {e.kind for e in await events_of(a)}
                return {"ClusterRevoked", "RolloutResumed"} <= kinds

            await eventually(marks, what="the marks recorded")

            every = await events_of(a)
            counts: dict[tuple[str, str], int] = {}
            for e in every:
                if e.kind != "DeploymentStateChanged":
                    counts[(e.kind, e.cluster or e.bundle)] = (
                        counts.get((e.kind, e.cluster or e.bundle), 0) + 1
                    )
            assert counts == {
                ("ClusterRegistered", "s0"): 1,
                ("ClusterRegistered", "s1"): 1,
                ("BundleApplied", "web"): 1,
                ("ClusterOffline", "s1"): 1,
                ("ClusterRevoked", "s0"): 1,
                ("RolloutResumed", "web"): 1,
            }, [(e.kind, e.bundle, e.cluster, e.message) for e in every]
            for cluster in ("s0", "s1"):
                ready = [
                    e
                    for e in every
                    if e.kind == "DeploymentStateChanged"
                    and e.cluster == cluster
                    and e.message.split(" (")[0].endswith("-> Ready")
                ]
                assert len(ready) == 1, ready
            # One sequence for both replicas, as B lists it too.
            assert [e.seq for e in every] == sorted({e.seq for e in every})
            assert [e.seq for e in await events_of(b)] == [e.seq for e in every]
        finally:
            for s in spokes:
                s.task.cancel()
            await asyncio.gather(*(s.task for s in spokes), return_exceptions=True)


@pytest.mark.pg
@pytest.mark.slow
async def test_a_single_replica_records_a_cluster_away_at_its_start(
    tmp_path: Path,
    pg_server: PgServer,  # noqa: F811
) -> None:
    # On PostgreSQL every hub runs with peers; a lone one (or all of them restarted) must
    # still record a cluster that does not come back as Offline, and its return after it.
    dsn = await pg_server.create_database()
    spoke: SpokeUnderTest | None = None
    try:
        async with replica(dsn, tmp_path / "hub-1") as hub:
            token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
            spoke = start_spoke("s0", [hub.address], token, tmp_path / "s0")

            async def connected() -> bool:
                return [c.connected for c in (await status(hub.stub)).clusters] == [True]

            await eventually(connected, timeout=20, what="s0 connected")
        # The hub was killed with s0 connected; s0 then goes too, and the hub starts again.
        spoke.task.cancel()
        await asyncio.gather(spoke.task, return_exceptions=True)
        async with replica(dsn, tmp_path / "hub-2") as hub:

            async def kinds() -> list[str]:
                return [
                    e.kind
                    for e in await events_of(hub, cluster="s0")
                    if e.kind in ("ClusterOffline", "ClusterOnline")
                ]

            async def offline_recorded() -> bool:
                return await kinds() == ["ClusterOffline"]

            await eventually(offline_recorded, timeout=20, what="s0's ClusterOffline recorded")
        # Started again, still without s0: Offline again, but not recorded twice.
        async with replica(dsn, tmp_path / "hub-3") as hub:

            async def offline() -> bool:
                return [c.state for c in (await status(hub.stub)).clusters] == ["Offline"]

            await eventually(offline, timeout=20, what="s0 Offline after the second restart")
            # A mark recorded after the Offline: once it is stored, so would a second Offline be.
            await hub.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec("web", {"cm.yaml": CM})]),
                timeout=10,
            )

            async def marked() -> bool:
                return bool(await events_of(hub, kind="BundleApplied"))

            await eventually(marked, timeout=20, what="the mark recorded")
            assert await kinds() == ["ClusterOffline"]
            spoke = start_spoke("s0", [hub.address], token, tmp_path / "s0")

            async def back_recorded() -> bool:
                return await kinds() == ["ClusterOffline", "ClusterOnline"]

            await eventually(back_recorded, timeout=20, what="s0's ClusterOnline after it")
    finally:
        if spoke is not None:
            spoke.task.cancel()
            await asyncio.gather(spoke.task, return_exceptions=True)
