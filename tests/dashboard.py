"""Dashboard test helpers: a hub serving its dashboard with simulated spokes, an HTTP client
logged in with a token, and headless Chromium (Debian's chromium and chromedriver) for the
browser tests."""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from argosy import config
from argosy.api.v1 import fleet_pb2
from tests.harness import (
    RunningHub,
    RunningSpoke,
    bundle_spec,
    eventually,
    running_hub,
    start_spoke,
    status_of,
)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{v: '{v}'}}\n"
CHROMIUM = Path(os.environ.get("ARGOSY_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("ARGOSY_CHROMEDRIVER", "/usr/bin/chromedriver"))


@dataclass
class Fleetful:
    hub: RunningHub
    spokes: list[RunningSpoke]
    url: str

    @property
    def admin_token(self) -> str:
        ctx = config.load(self.hub.config_path).context()
        assert ctx is not None
        return ctx.token

    async def viewer_token(self) -> str:
        resp = await self.hub.stub.CreateAdminToken(
            fleet_pb2.CreateAdminTokenRequest(role="viewer"), timeout=5
        )
        return resp.token

    def spoke(self, name: str) -> RunningSpoke:
        return next(s for s in self.spokes if s.spoke.settings.name == name)


@asynccontextmanager
async def fleet_with_dashboard(
    data: Path, *, clusters: int = 3, bundle: str = "web"
) -> AsyncIterator[Fleetful]:
    """A TLS hub with its dashboard on a free port, `clusters` simulated spokes (c0, c1, ...,
    labelled env=dev|prod), and one bundle of one ConfigMap, Ready everywhere."""
    async with running_hub(data / "hub", dashboard_listen="127.0.0.1:0") as hub:
        dashboard = hub.hub.dashboard
        assert dashboard is not None
        await eventually(dashboard.ready.is_set, what="dashboard listening")
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        spokes = [
            start_spoke(
                hub=hub,
                name=f"c{i}",
                labels={"env": "prod" if i % 2 else "dev"},
                token=token,
                data_dir=data / f"c{i}",
            )
            for i in range(clusters)
        ]
        try:
            for s in spokes:
                await eventually(s.spoke.link.connected.is_set, what="spokes connected")
            await hub.stub.ApplyBundles(
                fleet_pb2.ApplyBundlesRequest(
                    bundles=[bundle_spec(bundle, {"app.yaml": CM.format(name="app", v="1")})]
                ),
                timeout=30,
            )

            async def ready() -> bool:
                st = await status_of(hub.stub)
                return any(
                    b.name == bundle and b.clusters_ready == clusters > 0 for b in st.bundles
                )

            await eventually(ready, what=f"{bundle} Ready on every cluster")
            # The dashboard hears of it a broadcast window later.
            await eventually(
                lambda: dashboard.model.bundles.get(bundle, {}).get("ready") == clusters,
                what=f"{bundle} Ready on the dashboard",
            )
            yield Fleetful(hub, spokes, dashboard.url)
        finally:
            for s in spokes:
                await s.stop()


async def apply_version(fleet: Fleetful, v: str, *, bundle: str = "web") -> None:
    """Apply the bundle again with ConfigMap data v=`v` (a new revision, a new history entry),
    with the admin token of the hub's config (the actor is `token/<its id>`)."""
    await fleet.hub.stub.ApplyBundles(
        fleet_pb2.ApplyBundlesRequest(
            bundles=[bundle_spec(bundle, {"app.yaml": CM.format(name="app", v=v)})]
        ),
        timeout=30,
    )


def client_ssl(hub: RunningHub) -> ssl.SSLContext:
    assert hub.ca_path is not None
    return ssl.create_default_context(cafile=str(hub.ca_path))


@asynccontextmanager
async def logged_in(fleet: Fleetful, token: str) -> AsyncIterator[aiohttp.ClientSession]:
    """An HTTP client that logged in with `token` (its cookie jar holds the session cookie).
    The jar is `unsafe`: aiohttp keeps no cookies for an IP address otherwise."""
    session = aiohttp.ClientSession(
        base_url=fleet.url,
        connector=aiohttp.TCPConnector(ssl=client_ssl(fleet.hub)),
        cookie_jar=aiohttp.CookieJar(unsafe=True),
    )
    try:
        async with session.post(
            "/login",
            data={"token": token},
            headers={"Origin": origin(fleet)},
            allow_redirects=False,
        ) as resp:
            assert resp.status == 302, await resp.text()
        yield session
    finally:
        await session.close()


def origin(fleet: Fleetful) -> str:
    return fleet.url.rstrip("/")


def browser_available() -> bool:
    """Whether the browser tests can run; with ARGOSY_REQUIRE_BROWSER=1 (CI) their absence
    fails instead of skipping."""
    present = CHROMIUM.exists() and CHROMEDRIVER.exists()
    if not present and os.environ.get("ARGOSY_REQUIRE_BROWSER") == "1":
        pytest.fail(f"ARGOSY_REQUIRE_BROWSER=1 but {CHROMIUM} or {CHROMEDRIVER} is missing")
    return present


CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # The hub's CA is its own; the page is what is under test here, not its certificate.
    "--ignore-certificate-errors",
    "--window-size=1400,1000",
)


@contextmanager
def chromium() -> Iterator[Any]:
    """Headless Chromium through Debian's chromedriver, with a fresh profile. The driver path
    is given, so Selenium Manager never tries to download one."""
    if not browser_available():
        pytest.skip(f"{CHROMIUM} / {CHROMEDRIVER} not installed (apt-get install chromium-driver)")
    profile = tempfile.mkdtemp(prefix="argosy-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
