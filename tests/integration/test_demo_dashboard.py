"""`argosy demo` serves the dashboard: the URL and viewer token it prints log in, and the
page's data shows the demo's bundles (what a new user opens after `make demo`)."""

from __future__ import annotations

import asyncio
import re
import signal
import ssl
import sys
from pathlib import Path

import aiohttp
import pytest

from tests.harness import eventually

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]


async def test_the_demo_prints_a_dashboard_url_and_token_that_work(tmp_path: Path) -> None:
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
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert demo.stdout is not None
    seen = ""
    try:
        while "read-only): " not in seen:
            line = await asyncio.wait_for(demo.stdout.readline(), 90)
            assert line, f"the demo ended early:\n{seen}"
            seen += line.decode()
        url = re.search(r"dashboard: (https://\S+)", seen)
        token = re.search(r"read-only\): (\S+)", seen)
        assert url and token, seen
        tls = ssl.create_default_context(cafile=str(tmp_path / "hub" / "ca.pem"))
        async with aiohttp.ClientSession(
            base_url=url[1],
            connector=aiohttp.TCPConnector(ssl=tls),
            cookie_jar=aiohttp.CookieJar(unsafe=True),
        ) as web:
            async with web.post(
                "/login", data={"token": token[1]}, headers={"Origin": url[1].rstrip("/")}
            ) as resp:
                assert resp.status == 200 and "app.js" in await resp.text()

            async def bundles() -> list[str]:
                async with web.get("/api/bundles") as resp:
                    return [b["name"] for b in (await resp.json())["items"]]

            await eventually(bundles, timeout=60, what="the demo's bundles on the dashboard")
            assert "settings" in await bundles()
    finally:
        if demo.returncode is None:
            demo.send_signal(signal.SIGTERM)
        await asyncio.wait_for(demo.wait(), 30)
