"""`argosy events --watch` rides out a hub restart: the CLI (a real process) resumes after the
last event it printed, notes it on stderr, and prints what happened since, once."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from argosy.api.v1 import fleet_pb2
from tests.cli.test_cli import ROOT
from tests.harness import RunningHub, bundle_spec, eventually, running_hub

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\n"


async def apply(hub: RunningHub, name: str) -> None:
    spec = bundle_spec(name, {"cm.yaml": CM.format(name=name)})
    await hub.stub.ApplyBundles(fleet_pb2.ApplyBundlesRequest(bundles=[spec]), timeout=10)


async def watch(hub: RunningHub, *args: str) -> asyncio.subprocess.Process:
    """`argosy events --watch -o json ARGS` as a user runs it, against this hub."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ARGOSY_HUB": hub.address}
    env["ARGOSY_CONFIG"] = str(hub.config_path)
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "cli", "events", "--watch", "-o", "json", *args),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )


async def next_event(proc: asyncio.subprocess.Process) -> dict[str, object]:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), 30)
    assert line, "the watch ended"
    event = json.loads(line)
    assert isinstance(event, dict)
    return event


async def test_events_watch_resumes_after_a_hub_restart(tmp_path: Path, hub_port: int) -> None:
    data = tmp_path / "hub"
    procs: list[asyncio.subprocess.Process] = []
    try:
        async with running_hub(data, port=hub_port) as hub:
            await apply(hub, "first")
            proc = await watch(hub, "--kind", "BundleApplied")
            procs.append(proc)
            first = await next_event(proc)
            assert first["bundle"] == "first"
        # The hub is down now; it comes back on the same port and data.
        async with running_hub(data, port=hub_port) as hub:
            await apply(hub, "second")
            second = await next_event(proc)
            assert second["bundle"] == "second"
            assert isinstance(second["seq"], int) and isinstance(first["seq"], int)
            assert second["seq"] > first["seq"]
    finally:
        for p in procs:
            if p.returncode is None:
                p.terminate()
            _, err = await asyncio.wait_for(p.communicate(), 30)
            print(err.decode())
    assert f"resuming after seq {first['seq']}" in err.decode()


async def test_a_quiet_watch_resumes_too(tmp_path: Path, hub_port: int) -> None:
    # Nothing printed before the restart: the stream's initial metadata says it was open, so
    # its end is a drop to resume, not a hub never reached.
    data = tmp_path / "hub"
    procs: list[asyncio.subprocess.Process] = []
    try:
        async with running_hub(data, port=hub_port) as hub:
            proc = await watch(hub, "--kind", "BundleApplied")
            procs.append(proc)
            fleet = hub.hub.fleet
            assert fleet is not None
            await eventually(lambda: bool(fleet.events._subscribers), what="the CLI watching")
        async with running_hub(data, port=hub_port) as hub:
            await apply(hub, "after")
            event = await next_event(proc)
            assert event["bundle"] == "after"
    finally:
        for p in procs:
            if p.returncode is None:
                p.terminate()
            _, err = await asyncio.wait_for(p.communicate(), 30)
            print(err.decode())
    assert "resuming from the start" in err.decode()
