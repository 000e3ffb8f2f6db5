"""`argosy demo`: the main job on the embedded default, end to end on one machine.

It starts a real hub process on SQLite and one real spoke process per simulated cluster,
registers them with a token, applies examples/, follows WatchStatus until every bundle is
Ready everywhere, and prints the status tables.

The hub serves its web dashboard on a loopback port; the demo prints its URL and a viewer
token, and on a terminal waits for Enter before applying, so the rollout can be watched live.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from argosy.api.v1 import fleet_pb2
from cli import output
from cli.bundles import bundle_specs
from cli.client import Target, UserError, fleet_stub, resolve
from cli.output import ROLLOUT_COMPLETE
from cli.watch import follow

ENVS = ("dev", "test", "prod")


def default_examples() -> Path:
    return Path(__file__).resolve().parents[1] / "examples"


async def _wait_for_file(path: Path, proc: asyncio.subprocess.Process, log: Path) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        if proc.returncode is not None:
            raise UserError(f"the hub exited with {proc.returncode}; see {log}")
        await asyncio.sleep(0.05)
    raise UserError(f"the hub did not start within 30 s; see {log}")


async def _spawn(args: list[str], log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, *args, stdout=out, stderr=out, stdin=asyncio.subprocess.DEVNULL
        )


async def _stop(procs: list[asyncio.subprocess.Process]) -> None:
    for proc in procs:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def _bundle_ready(b: fleet_pb2.BundleStatus) -> bool:
    # A bundle that no cluster has yet is not ready: 0/0 says nothing has happened.
    return b.clusters_desired > 0 and b.clusters_ready == b.clusters_desired


def _partition_text(p: fleet_pb2.PartitionStatus) -> str:
    # An empty partition is "Complete" to the gate (nothing holds the next one back), which
    # reads as "rolled out" here; say what it is instead.
    if p.count == 0:
        return f"{p.name} (no clusters)"
    return f"{p.name} {p.count - p.unavailable}/{p.count} {p.state}"


def _progress(status: fleet_pb2.GetStatusResponse, started: float, clusters: int) -> str:
    ready = sum(b.clusters_ready for b in status.bundles)
    desired = sum(b.clusters_desired for b in status.bundles)
    bundles_ready = sum(1 for b in status.bundles if _bundle_ready(b))
    connected = sum(1 for c in status.clusters if c.connected)
    # Partitions in the hub's order, which is the rollout order of fleet.yaml.
    rollouts = [
        f"{b.name} rollout " + " → ".join(map(_partition_text, b.rollout.partitions))
        for b in status.bundles
        if len(b.rollout.partitions) > 1
    ]
    return (
        f"[{time.monotonic() - started:5.1f}s] clusters connected {connected}/"
        f"{clusters} · deployments ready {ready}/{desired} · "
        f"bundles ready {bundles_ready}/{len(status.bundles)}"
        + "".join(f" · {r}" for r in rollouts)
    )


def _all_ready(status: fleet_pb2.GetStatusResponse, clusters: int, bundles: int) -> bool:
    # A rollout still baking is not finished, even with every cluster Ready.
    return (
        len(status.bundles) == bundles
        and sum(1 for c in status.clusters if c.connected) == clusters
        and all(map(_bundle_ready, status.bundles))
        and all(b.rollout.state in ("", ROLLOUT_COMPLETE) for b in status.bundles)
        and all(p.state == ROLLOUT_COMPLETE for b in status.bundles for p in b.rollout.partitions)
    )


async def _wait_connected(hub: Target, clusters: int, timeout: float) -> None:
    """Until every spoke has its stream: a partitioned rollout then shows its real order
    (dev, test, prod) instead of the order in which the spokes happened to connect."""

    async def watch() -> None:
        async for live in follow(hub):
            status = live.as_response()
            if sum(1 for c in status.clusters if c.connected) == clusters:
                return

    try:
        await asyncio.wait_for(watch(), timeout)
    except TimeoutError:
        raise UserError(f"not every spoke connected within {timeout:.0f}s") from None


async def run_demo(args: argparse.Namespace) -> None:
    if args.clusters < 1:
        raise UserError("--clusters must be at least 1")
    examples = args.examples or default_examples()
    specs = bundle_specs([str(examples)], name=None, labels={})
    own_dir = args.data_dir is None
    # SIGTERM stops the demo as Ctrl-C does (a cancellation of this task), so the finally below
    # still stops the hub and spoke processes instead of leaving them running.
    main = asyncio.current_task()
    if main is not None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main.cancel)
    data = Path(args.data_dir or tempfile.mkdtemp(prefix="argosy-demo-"))
    data.mkdir(parents=True, exist_ok=True)
    procs: list[asyncio.subprocess.Process] = []
    started = time.monotonic()
    try:
        hub_log = data / "hub.log"
        (data / "hub").mkdir(exist_ok=True)
        (data / "hub" / "hub.addr").unlink(missing_ok=True)
        (data / "hub" / "metrics.addr").unlink(missing_ok=True)
        hub_args = [
            "-m",
            "hub",
            "--data-dir",
            str(data / "hub"),
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ]
        if args.dashboard_listen:
            hub_args += ["--dashboard-listen", args.dashboard_listen]
        hub_proc = await _spawn(hub_args, hub_log)
        procs.append(hub_proc)
        address = await _wait_for_file(data / "hub" / "hub.addr", hub_proc, hub_log)
        admin_config = data / "hub" / "admin.yaml"
        await _wait_for_file(admin_config, hub_proc, hub_log)
        hub = resolve(None, admin_config)
        print(f"hub: {address} (TLS; SQLite in {data / 'hub'}, log {hub_log})")
        print(f"admin context: {admin_config}")
        metrics = await _wait_for_file(data / "hub" / "metrics.addr", hub_proc, hub_log)
        print(f"metrics: http://{metrics}/metrics (Prometheus text; loopback only)")
        async with fleet_stub(hub) as stub:
            token = (await stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=10)).token
            for i in range(args.clusters):
                env = ENVS[i % len(ENVS)]
                name = f"{env}-{i // len(ENVS) + 1}"
                procs.append(
                    await _spawn(
                        [
                            "-m",
                            "spoke",
                            "--hub",
                            address,
                            "--ca",
                            str(data / "hub" / "ca.pem"),
                            "--name",
                            name,
                            "--labels",
                            f"env={env}",
                            "--token",
                            token,
                            "--data-dir",
                            str(data / "spokes" / name),
                            "--simulate",
                            "--simulate-ready-delay",
                            "1.5",
                        ],
                        data / f"spoke-{name}.log",
                    )
                )
            print(f"spokes: {args.clusters} simulated clusters labelled env=dev|test|prod")
            await _wait_connected(hub, args.clusters, args.timeout)
            print(f"[{time.monotonic() - started:5.1f}s] all {args.clusters} spokes connected")
            if args.dashboard_listen:
                url = await _wait_for_file(data / "hub" / "dashboard.url", hub_proc, hub_log)
                viewer = await stub.CreateAdminToken(
                    fleet_pb2.CreateAdminTokenRequest(role="viewer"), timeout=10
                )
                print(_dashboard_text(url, viewer.token, data / "hub"), flush=True)
                if sys.stdin.isatty():
                    print("press Enter to apply the bundles and start the rollout", flush=True)
                    await _enter_pressed()
            resp = await stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(bundles=specs), timeout=120
            )
            for b in resp.bundles:
                count = f"{b.resource_count} resources" if b.resource_count else "per cluster"
                print(f"applied bundle/{b.name} ({count})")
        await _wait_ready(hub, args.clusters, len(specs), started, args.timeout)
        async with fleet_stub(hub) as stub:
            status = await stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=10)
        print()
        print(output.status_tables(status))
        if args.keep:
            print(
                f"\nhub at {address}; try: argosy --config {admin_config} status --watch"
                "   (Ctrl-C stops)"
            )
            if args.dashboard_listen:
                print(f"dashboard at {url}", flush=True)
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()
    finally:
        await _stop(procs)
        if own_dir and not args.keep:
            shutil.rmtree(data, ignore_errors=True)


def _dashboard_text(url: str, viewer_token: str, hub_dir: Path) -> str:
    return (
        f"dashboard: {url}\n"
        f"  log in with this viewer token (read-only): {viewer_token}\n"
        f"  or the admin token in {hub_dir / 'admin.yaml'} (may pause and resume)\n"
        f"  the demo hub has its own CA: accept the browser's warning, or trust "
        f"{hub_dir / 'ca.pem'}"
    )


async def _enter_pressed() -> None:
    """Until a line is typed on the terminal. A reader on the event loop, not input() in a
    thread: Ctrl-C meanwhile must stop the demo, not wait for a line."""
    loop = asyncio.get_running_loop()
    typed = asyncio.Event()
    fd = sys.stdin.fileno()
    loop.add_reader(fd, typed.set)
    try:
        await typed.wait()
    finally:
        loop.remove_reader(fd)
    sys.stdin.readline()


async def _wait_ready(
    hub: Target, clusters: int, bundles: int, started: float, timeout: float
) -> None:
    last = ""

    async def watch() -> None:
        nonlocal last
        async for live in follow(hub):
            status = live.as_response()
            line = _progress(status, started, clusters)
            if line.split("] ", 1)[1] != last.split("] ", 1)[-1]:
                print(line, flush=True)
                last = line
            if _all_ready(status, clusters, bundles):
                return

    try:
        await asyncio.wait_for(watch(), timeout)
    except TimeoutError:
        raise UserError(f"not everything was Ready after {timeout:.0f}s: {last}") from None
