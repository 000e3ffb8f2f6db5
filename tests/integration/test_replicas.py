"""Two hub replicas on one PostgreSQL, six spokes split across them (issue #8).

The hubs are real processes (`python -m hub --store postgresql://...`), each on its own port;
the spokes run in this event loop, each given its replica first and the other as fallback.
Through either replica: the same fleet, the same status, and a dead replica's spokes carry on
through the other without a full resend.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from argosy.api.v1 import fleet_pb2, fleet_pb2_grpc, spoke_pb2
from hub.replication.feed import Replication
from spoke.app import Settings as SpokeSettings
from spoke.app import Spoke
from spoke.backends.simulated import SimulatedCluster, SimulationSettings
from tests.harness import bundle_spec, eventually
from tests.pg import PgServer, pg_server  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[2]
CM = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: app
data:
  v: "1"
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class HubProcess:
    proc: asyncio.subprocess.Process
    address: str
    channel: grpc.aio.Channel
    stub: fleet_pb2_grpc.FleetServiceAsyncStub


@asynccontextmanager
async def hub_process(dsn: str, data_dir: Path) -> AsyncIterator[HubProcess]:
    """`python -m hub --store DSN` on a port of its own, killed at the end if still alive."""
    port = _free_port()
    argv = ["--store", dsn, "--listen", f"127.0.0.1:{port}", "--data-dir", str(data_dir)]
    # Plaintext (--insecure): this test is about replication, not transport.
    argv += ["--insecure"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARGOSY_HUB_")}
    log = (data_dir.parent / f"{data_dir.name}.log").open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "hub", *argv, cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        await eventually(
            lambda: (data_dir / "hub.addr").exists() or proc.returncode is not None, timeout=30
        )
        assert proc.returncode is None, (data_dir.parent / f"{data_dir.name}.log").read_text()
        address = (data_dir / "hub.addr").read_text().strip()
        async with grpc.aio.insecure_channel(address) as channel:
            yield HubProcess(proc, address, channel, fleet_pb2_grpc.FleetServiceStub(channel))
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        log.close()


@dataclass
class SpokeUnderTest:
    spoke: Spoke
    cluster: SimulatedCluster
    received: list[tuple[float, spoke_pb2.ConnectResponse]]
    task: asyncio.Task[None]


def start_spoke(name: str, hubs: list[str], token: str, data_dir: Path) -> SpokeUnderTest:
    cluster = SimulatedCluster(SimulationSettings(ready_delay=0.05), name=name)
    received: list[tuple[float, spoke_pb2.ConnectResponse]] = []
    spoke = Spoke(
        SpokeSettings(
            hub=",".join(hubs),
            name=name,
            labels={},
            token=token,
            data_dir=data_dir,
            report_window=0.02,
            insecure=True,
        ),
        backend=cluster,
        on_message=lambda m: received.append((time.monotonic(), m)),
    )
    task = asyncio.create_task(spoke.run(), name=f"test-spoke-{name}")
    return SpokeUnderTest(spoke, cluster, received, task)


async def status(stub: fleet_pb2_grpc.FleetServiceAsyncStub) -> fleet_pb2.GetStatusResponse:
    return await stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=5)


async def ready_count(stub: fleet_pb2_grpc.FleetServiceAsyncStub) -> int:
    """How many clusters have `web` Ready, once all six want it (else -1)."""
    for b in (await status(stub)).bundles:
        if b.name == "web":
            return b.clusters_ready if b.clusters_desired == 6 else -1
    return -1


async def connected_count(stub: fleet_pb2_grpc.FleetServiceAsyncStub) -> int:
    return sum(c.connected for c in (await status(stub)).clusters)


@pytest.mark.pg
@pytest.mark.slow
async def test_two_replicas_share_one_fleet(tmp_path: Path, pg_server: PgServer) -> None:  # noqa: F811
    dsn = await pg_server.create_database()
    spokes: list[SpokeUnderTest] = []
    async with AsyncExitStack() as stack:
        a = await stack.enter_async_context(hub_process(dsn, tmp_path / "hub-a"))
        b = await stack.enter_async_context(hub_process(dsn, tmp_path / "hub-b"))
        try:
            # A token made through A registers spokes through B: one database.
            token = (await a.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
            for i in range(6):
                first, other = (a, b) if i < 3 else (b, a)
                spokes.append(
                    start_spoke(f"s{i}", [first.address, other.address], token, tmp_path / f"s{i}")
                )
            on_b = spokes[3:]  # the spokes that start on B
            # Each replica shows all six connected: its own streams and the other's.
            for hub in (a, b):
                await until(connected_count, hub.stub, 6, timeout=20, what="6 connected")

            # Apply through A: B's spokes get it within a second; all six Ready on both.
            await a.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec("web", {"a.yaml": CM})]),
                timeout=10,
            )
            returned = time.monotonic()

            def reached(s: SpokeUnderTest) -> float | None:
                return next(
                    (t for t, m in s.received if m.WhichOneof("msg") == "upsert"),
                    None,
                )

            await eventually(lambda: all(reached(s) for s in on_b), timeout=5, what="B's upserts")
            latest = max(t for s in on_b if (t := reached(s)) is not None)
            assert latest - returned < 1.0, f"B's spokes got it {latest - returned:.3f}s late"
            for hub in (a, b):
                await until(ready_count, hub.stub, 6, what="web Ready on 6")

            # Drift on a spoke of B shows in a WatchStatus stream on A within a second.
            stream = a.stub.WatchStatus(fleet_pb2.WatchStatusRequest(bundle="web"))
            first_msg = await asyncio.wait_for(stream.read(), 5)
            assert isinstance(first_msg, fleet_pb2.WatchStatusResponse) and first_msg.snapshot
            drifted = time.monotonic()
            on_b[0].cluster.inject_drift("/ConfigMap/default/app", {"data": {"v": "drifted"}})
            while True:
                msg = await asyncio.wait_for(stream.read(), 5)
                assert isinstance(msg, fleet_pb2.WatchStatusResponse)
                if any(x.state == "Modified" for x in msg.bundles):
                    break
            latency = time.monotonic() - drifted
            stream.cancel()
            assert latency < 1.0, f"drift on B took {latency:.3f}s to reach A's watcher"
            # (No correctDrift: the cluster stays Modified; put it back by hand.)
            on_b[0].cluster.inject_drift("/ConfigMap/default/app", {"data": {"v": "1"}})
            await until(ready_count, a.stub, 6, what="drift undone")

            # kill -9 B: its spokes move to A, stay Ready, and nothing is sent in full again.
            opened = [s.spoke.link.streams_opened for s in on_b]
            b.proc.kill()
            await b.proc.wait()
            killed = time.monotonic()
            await eventually(
                lambda: all(
                    s.spoke.link.streams_opened > n for s, n in zip(on_b, opened, strict=True)
                ),
                timeout=30,
                what="B's spokes reconnected (to A)",
            )
            await until(connected_count, a.stub, 6, timeout=20, what="6 connected to A")
            await until(ready_count, a.stub, 6, what="web Ready on 6, all on A")
            await asyncio.sleep(0.5)  # anything resent would arrive within this
            resent = [
                m.upsert
                for s in on_b
                for t, m in s.received
                if t > killed and m.WhichOneof("msg") == "upsert"
            ]
            full = [u for u in resent if not u.base_revision]
            assert full == [], f"{len(full)} full resends after the failover"
            assert resent == [], f"{len(resent)} upserts resent after the failover"
        finally:
            for s in spokes:
                s.task.cancel()
            await asyncio.gather(*(s.task for s in spokes), return_exceptions=True)


async def until(
    probe: Callable[[fleet_pb2_grpc.FleetServiceAsyncStub], Awaitable[int]],
    stub: fleet_pb2_grpc.FleetServiceAsyncStub,
    expected: int,
    *,
    timeout: float = 10.0,
    what: str,
) -> None:
    async def check() -> bool:
        return await probe(stub) == expected

    await eventually(check, timeout=timeout, what=what)


@pytest.mark.pg
async def test_one_replica_at_a_time_decides_a_rollout(pg_server: PgServer) -> None:  # noqa: F811
    """The rollout lease: pg_try_advisory_lock per bundle, freed when its holder's connection
    ends, so two replicas never release from the same budget at once."""
    dsn = await pg_server.create_database()
    one, two = Replication(dsn), Replication(dsn)
    await one.open()
    await two.open()
    try:
        assert await one.lead("web")
        assert not await two.lead("web")
        assert await two.lead("api")  # leases are per bundle
        assert await one.lead("web")  # held: no second round trip, still ours
        await one.close()  # a dead replica: PostgreSQL frees its locks with the connection
        await eventually(lambda: two.lead("web"), what="the lease passes to the survivor")
    finally:
        await one.close()
        await two.close()
