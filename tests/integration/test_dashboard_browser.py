"""The dashboard in headless Chromium against a real TLS hub with simulated spokes.

Selenium is synchronous: its calls run in a thread (asyncio.to_thread) so that the hub and the
spokes, in this test's event loop, keep running while the browser waits.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.dashboard import Fleetful, chromium, fleet_with_dashboard

pytestmark = pytest.mark.browser


def _cell(driver: Any, table: str, name: str, column: int) -> str:
    """A table cell's text, read in one script: the page replaces rows as events arrive, so
    element handles held across calls could go stale."""
    return str(
        driver.execute_script(
            "const row = document.querySelector(`#${arguments[0]} tbody "
            'tr[data-name="${arguments[1]}"]`);'
            "return row ? row.cells[arguments[2]].textContent : '';",
            table,
            name,
            column,
        )
    )


def _text(driver: Any, element_id: str) -> str:
    return str(
        driver.execute_script(
            "return document.getElementById(arguments[0]).textContent;", element_id
        )
    )


async def _log_in(driver: Any, fleet: Fleetful, token: str) -> None:
    def run() -> None:
        driver.get(fleet.url)
        # Not logged in: the page sends the browser to the login form.
        WebDriverWait(driver, 10).until(lambda d: d.current_url.endswith("/login"))
        driver.find_element(By.ID, "token").send_keys(token)
        driver.find_element(By.ID, "login").click()
        WebDriverWait(driver, 10).until(lambda d: _cell(d, "bundles", "web", 0) == "web")
        WebDriverWait(driver, 10).until(lambda d: _text(d, "live") == "live")

    await asyncio.to_thread(run)


async def test_the_page_lists_bundles_and_shows_drift_live(tmp_path: Path) -> None:
    async with fleet_with_dashboard(tmp_path, clusters=3) as fleet:
        with chromium() as driver:
            await _log_in(driver, fleet, await fleet.viewer_token())
            assert _cell(driver, "bundles", "web", 1) == "3/3"
            assert _cell(driver, "clusters", "c1", 2) == "Ready"
            assert driver.find_element(By.ID, "role").text == "viewer"
            # A mark in the page's JavaScript state: a reload or navigation would lose it.
            driver.execute_script("window.argosyMark = 'same page';")

            fleet.spoke("c1").cluster.inject_drift("/ConfigMap/default/app", {"data": {"v": "2"}})

            def shows_drift() -> None:
                WebDriverWait(driver, 1.0, poll_frequency=0.02).until(
                    lambda d: _cell(d, "clusters", "c1", 2) == "Modified"
                )

            await asyncio.to_thread(shows_drift)
            assert driver.execute_script("return window.argosyMark") == "same page"
            # The other views follow the same event: the bundle and what needs attention.
            await asyncio.to_thread(
                WebDriverWait(driver, 5).until,
                lambda d: (
                    _cell(d, "bundles", "web", 1) == "2/3"
                    and d.find_elements(By.CSS_SELECTOR, '#attention tr[data-cluster="c1"]')
                ),
            )
            assert "Modified" in _text(driver, "health")


async def test_a_viewer_cannot_write_from_the_page(tmp_path: Path) -> None:
    async with fleet_with_dashboard(tmp_path, clusters=1) as fleet:
        hub_fleet = fleet.hub.hub.fleet
        assert hub_fleet is not None
        with chromium() as driver:
            await _log_in(driver, fleet, await fleet.viewer_token())
            driver.execute_script("location.hash = '#/bundle/web';")
            await asyncio.to_thread(
                WebDriverWait(driver, 10).until,
                lambda d: _text(d, "bundle-title") == "bundle/web",
            )
            assert not driver.find_element(By.ID, "pause").is_enabled()
            # The button is only a hint: the server refuses the write itself.
            status = await asyncio.to_thread(
                driver.execute_async_script,
                "const done = arguments[arguments.length - 1];"
                "fetch('/api/bundles/web/pause', {method: 'POST'}).then(r => done(r.status));",
            )
            assert status == 403
            assert not hub_fleet.paused("web")


async def test_an_admin_pauses_a_bundle_from_the_page(tmp_path: Path) -> None:
    async with fleet_with_dashboard(tmp_path, clusters=1) as fleet:
        hub_fleet = fleet.hub.hub.fleet
        assert hub_fleet is not None
        with chromium() as driver:
            await _log_in(driver, fleet, fleet.admin_token)
            driver.execute_script("location.hash = '#/bundle/web';")
            await asyncio.to_thread(
                WebDriverWait(driver, 10).until,
                lambda d: d.execute_script("return !document.getElementById('pause').disabled"),
            )
            driver.find_element(By.ID, "pause").click()
            await asyncio.to_thread(
                WebDriverWait(driver, 10).until,
                lambda d: "paused" in _text(d, "bundle-facts"),
            )
            assert hub_fleet.paused("web")
