"""Crash safety: kill -9 the hub in the middle of a rollout, restart it, and check nothing is lost.

`python -m bench.crash --runs 20` repeats the scenario and prints how many runs passed; the test
suite runs it once (tests/integration/test_crash.py). Each run:
1. starts `argosy hub` as a subprocess (SQLite) and six in-process spokes on simulated clusters;
2. applies a bundle, then a new revision with a three-partition rollout (bakeSeconds 1);
3. kills the hub with SIGKILL once partition 1 is done and before the rollout completes;
4. restarts the hub on the same data dir and port, and checks that every bundle, cluster, token
   and deployment is still there, and that the rollout completes from where it was.
Only 127.0.0.1 is used; every wait has a deadline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import grpc

from argosy.api.v1 import fleet_pb2, fleet_pb2_grpc, resources_pb2
from spoke.app import Settings, Spoke

ROLLOUT = """\
rolloutStrategy:
  bakeSeconds: 1
  partitions:
  - {name: p1, clusterSelector: {matchLabels: {part: "1"}}}
  - {name: p2, clusterSelector: {matchLabels: {part: "2"}}}
  - {name: p3, clusterSelector: {matchLabels: {part: "3"}}}
"""


RUN_TIMEOUT = 180.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def spec(version: str) -> fleet_pb2.BundleSpec:
    files = {
        "fleet.yaml": ROLLOUT,
        "cm.yaml": f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\n"
        f"data: {{version: '{version}'}}\n",
    }
    return fleet_pb2.BundleSpec(
        name="web",
        files=[resources_pb2.BundleFile(path=p, content=c.encode()) for p, c in files.items()],
    )


async def until(check: Callable[[], Awaitable[bool]], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(grpc.aio.AioRpcError):
            if await check():
                return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s: {what}")


@contextlib.asynccontextmanager
async def hub_process(data: Path, port: int) -> AsyncIterator[asyncio.subprocess.Process]:
    log = (data / "hub.log").open("ab")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hub",
        "--data-dir",
        str(data),
        "--listen",
        f"127.0.0.1:{port}",
        "--offline-grace-seconds",
        "30",
        # Crash safety of the state, not TLS, is what this measures.
        "--insecure",
        stdout=log,
        stderr=log,
    )
    try:
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        log.close()


async def run_once(workdir: Path) -> float:
    """One crash-and-recover run; raises AssertionError on any loss. Returns its duration."""
    started = time.monotonic()
    data = workdir / "hub"
    data.mkdir(parents=True)
    port = free_port()
    address = f"127.0.0.1:{port}"
    # Reconnect quickly after the kill: gRPC's default backoff grows to two minutes.
    channel = grpc.aio.insecure_channel(
        address,
        options=[
            ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", 1000),
        ],
    )
    stub = fleet_pb2_grpc.FleetServiceStub(channel)
    spokes: list[tuple[Spoke, asyncio.Task[None]]] = []
    try:
        async with hub_process(data, port) as proc:
            await asyncio.wait_for(channel.channel_ready(), 30)
            token = (await stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
            for i in range(6):
                part = str(i % 3 + 1)
                spoke = Spoke(
                    Settings(
                        hub=address,
                        name=f"c{i}",
                        labels={"part": part},
                        token=token,
                        data_dir=workdir / f"c{i}",
                        simulate=True,
                        ready_delay=0.05,
                        report_window=0.02,
                        insecure=True,
                    )
                )
                spokes.append((spoke, asyncio.create_task(spoke.run(), name=f"crash-spoke-{i}")))
            await stub.ApplyBundles(fleet_pb2.ApplyBundlesRequest(bundles=[spec("1")]), timeout=30)

            async def rollout(state: str) -> bool:
                status = await stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=5)
                return any(
                    b.rollout.state == state and b.clusters_ready == 6 for b in status.bundles
                )

            await until(lambda: rollout("Complete"), timeout=60, what="first rollout")
            await stub.ApplyBundles(fleet_pb2.ApplyBundlesRequest(bundles=[spec("2")]), timeout=30)

            async def p1_done() -> bool:
                status = await stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=5)
                rollout = status.bundles[0].rollout
                parts = {p.name: p.state for p in rollout.partitions}
                return rollout.state == "Progressing" and parts.get("p1") == "Complete"

            await until(p1_done, timeout=60, what="partition 1 of the second rollout")
            before = await stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=5)
            assert before.bundles[0].rollout.state != "Complete", "too late to crash mid-rollout"
            proc.send_signal(signal.SIGKILL)
            await proc.wait()
        async with hub_process(data, port):
            # A fresh channel: the old one may still believe in the killed hub's socket.
            await channel.close()
            channel = grpc.aio.insecure_channel(address)
            stub = fleet_pb2_grpc.FleetServiceStub(channel)
            await asyncio.wait_for(channel.channel_ready(), 30)
            bundles = (await stub.ListBundles(fleet_pb2.ListBundlesRequest(), timeout=5)).bundles
            assert [b.spec.name for b in bundles] == ["web"], bundles
            clusters = (
                await stub.ListClusters(fleet_pb2.ListClustersRequest(), timeout=5)
            ).clusters
            assert sorted(c.name for c in clusters) == [f"c{i}" for i in range(6)]
            tokens = (await stub.ListTokens(fleet_pb2.ListTokensRequest(), timeout=5)).tokens
            assert len(tokens) == 1 and tokens[0].uses == 6
            await until(lambda: rollout("Complete"), timeout=60, what="rollout after restart")
            for spoke, _ in spokes:
                obj = spoke.backend.objects.get("/ConfigMap/default/app")  # type: ignore[attr-defined]
                assert obj is not None and obj["data"]["version"] == "2", spoke.settings.name
            status = await stub.GetStatus(
                fleet_pb2.GetStatusRequest(detail_bundles=["web"]), timeout=5
            )
            assert all(d.state == "Ready" for d in status.bundles[0].deployments)
    finally:
        for _, task in spokes:
            task.cancel()
        await asyncio.gather(*(t for _, t in spokes), return_exceptions=True)
        await channel.close()
    return time.monotonic() - started


async def main_async(runs: int) -> int:
    passed = 0
    for i in range(runs):
        workdir = Path(tempfile.mkdtemp(prefix="argosy-crash-"))
        try:
            took = await asyncio.wait_for(run_once(workdir), RUN_TIMEOUT)
            passed += 1
            print(f"run {i + 1}/{runs}: ok ({took:.1f}s)", flush=True)
        except TimeoutError:
            print(f"run {i + 1}/{runs}: FAILED: stuck for {RUN_TIMEOUT}s; tasks:", flush=True)
            for task in asyncio.all_tasks():
                task.print_stack(limit=6)
            continue
        except Exception as exc:
            print(f"run {i + 1}/{runs}: FAILED: {exc!r} (kept {workdir})", flush=True)
            continue
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"{passed} passed, {runs - passed} failed")
    return 0 if passed == runs else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(asyncio.run(main_async(args.runs)))


if __name__ == "__main__":
    main()
