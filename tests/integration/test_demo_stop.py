"""`argosy demo --keep` stopped with SIGTERM stops its hub and spokes too (a service manager,
`timeout` or `kill` sends SIGTERM, not Ctrl-C)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not collected it yet.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ", 1)[1][0] != "Z"


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


async def test_sigterm_stops_the_demo_and_every_process_it_started(tmp_path: Path) -> None:
    demo = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli",
        "demo",
        "--keep",
        "--clusters",
        "1",
        "--data-dir",
        str(tmp_path),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert demo.stdout is not None
    seen = b""
    started: list[int] = []
    try:
        while b"hub at" not in seen:
            line = await asyncio.wait_for(demo.stdout.readline(), 90)
            assert line, f"the demo ended early:\n{seen.decode()}"
            seen += line
        started = children(demo.pid)
        assert len(started) == 2, started  # the hub and one spoke
        # The demo hub's metrics, at the URL it printed: every deployment Ready by now.
        url = re.search(rb"metrics: (http://127\.0\.0\.1:\d+/metrics)", seen)
        assert url, seen.decode()
        async with (
            aiohttp.ClientSession() as session,
            session.get(url[1].decode(), timeout=aiohttp.ClientTimeout(total=10)) as resp,
        ):
            text = await resp.text()
        ready = [
            s.value
            for f in text_string_to_metric_families(text)
            for s in f.samples
            if s.name == "argosy_hub_bundle_deployments" and s.labels["state"] == "Ready"
        ]
        assert ready and all(v == 1 for v in ready), text
        demo.send_signal(signal.SIGTERM)
        await asyncio.wait_for(demo.wait(), 30)
        for pid in started:
            for _ in range(100):
                if not alive(pid):
                    break
                await asyncio.sleep(0.1)
            assert not alive(pid), f"process {pid} outlived the demo"
    finally:
        if demo.returncode is None:
            demo.kill()
            await demo.wait()
        for pid in started:  # a failed run must not leave a hub and spokes behind
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
