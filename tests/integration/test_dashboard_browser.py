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

from tests.dashboard import Fleetful, apply_version, chromium, fleet_with_dashboard

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
            assert not driver.find_element(By.ID, "rollback").is_enabled()
            assert not driver.find_element(By.ID, "unpin").is_enabled()
            # The buttons are only a hint: the server refuses the writes itself.
            for action in ("pause", "rollback"):
                status = await asyncio.to_thread(
                    driver.execute_async_script,
                    "const done = arguments[arguments.length - 1];"
                    f"fetch('/api/bundles/web/{action}', {{method: 'POST'}})"
                    ".then(r => done(r.status));",
                )
                assert status == 403, action
            assert not hub_fleet.paused("web")
            assert not hub_fleet.pinned("web")


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


def _history(driver: Any) -> list[list[str]]:
    """The revision history table's rows: rev, applied, actor, summary, revision, note."""
    return list(
        driver.execute_script(
            "return [...document.querySelectorAll('#history tbody tr')]"
            ".map(tr => [...tr.cells].slice(0, 6).map(td => td.textContent));"
        )
    )


def _events(driver: Any, table: str) -> list[list[str]]:
    """A recent-events table's rows: kind, bundle, cluster, actor, message (newest first)."""
    return list(
        driver.execute_script(
            "return [...document.querySelectorAll(`#${arguments[0]} tbody tr`)]"
            ".map(tr => [...tr.cells].slice(1).map(td => td.textContent));",
            table,
        )
    )


async def test_an_admin_sees_history_and_live_events_and_rolls_back(tmp_path: Path) -> None:
    async with fleet_with_dashboard(tmp_path, clusters=2) as fleet:
        hub_fleet = fleet.hub.hub.fleet
        assert hub_fleet is not None
        await apply_version(fleet, "2")
        with chromium() as driver:
            await _log_in(driver, fleet, fleet.admin_token)
            # The overview's recent events: both applies, newest first.
            await asyncio.to_thread(
                WebDriverWait(driver, 10).until,
                lambda d: (
                    [e[0] for e in _events(d, "events") if e[0] == "BundleApplied"]
                    == ["BundleApplied"] * 2
                ),
            )
            driver.execute_script("location.hash = '#/bundle/web';")
            await asyncio.to_thread(
                WebDriverWait(driver, 10).until, lambda d: len(_history(d)) == 2
            )
            history = _history(driver)
            assert [r[0] for r in history] == ["2", "1"]
            assert all(r[2].startswith("token/") for r in history)  # who applied each
            assert history[0][5] == "current" and history[1][5] == ""
            driver.execute_script("window.argosyMark = 'same page';")

            # An event appears on the open page, without a reload.
            fleet.spoke("c1").cluster.inject_drift("/ConfigMap/default/app", {"data": {"v": "9"}})
            await asyncio.to_thread(
                WebDriverWait(driver, 10).until,
                lambda d: any(
                    e[0] == "DeploymentStateChanged" and e[2] == "c1" and "Modified" in e[4]
                    for e in _events(d, "bundle-events")
                ),
            )
            assert driver.execute_script("return window.argosyMark") == "same page"

            # Roll back to rev 1 from its history row: a new rev 3, pinned.
            driver.find_element(By.CSS_SELECTOR, '#history tr[data-rev="1"] button').click()
            await asyncio.to_thread(
                WebDriverWait(driver, 10).until,
                lambda d: "Pinned (rev 3)" in _text(d, "bundle-facts"),
            )
            assert hub_fleet.pinned("web") == 3
            await asyncio.to_thread(
                WebDriverWait(driver, 10).until, lambda d: len(_history(d)) == 3
            )
            top = _history(driver)[0]
            assert top[0] == "3" and top[5] == "current · rollback to rev 1 · pinned"
            assert driver.find_element(By.ID, "unpin").is_displayed()
            driver.find_element(By.ID, "unpin").click()
            await asyncio.to_thread(
                WebDriverWait(driver, 10).until,
                lambda d: "Pinned" not in _text(d, "bundle-facts"),
            )
            assert not hub_fleet.pinned("web")
            assert driver.execute_script("return window.argosyMark") == "same page"
