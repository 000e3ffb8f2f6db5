"""The dashboard over HTTP against a real TLS hub with simulated spokes: login, the lists, the
event stream, and who may write."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from hub.core.events import EventFilter, EventKind
from tests.dashboard import client_ssl, fleet_with_dashboard, logged_in, origin
from tests.harness import eventually


async def test_data_routes_need_a_valid_token(tmp_path: Path) -> None:
    async with (
        fleet_with_dashboard(tmp_path, clusters=1) as fleet,
        aiohttp.ClientSession(
            base_url=fleet.url, connector=aiohttp.TCPConnector(ssl=client_ssl(fleet.hub))
        ) as anonymous,
    ):
        for path in ("/api/summary", "/api/bundles", "/api/clusters", "/events"):
            async with anonymous.get(path) as resp:
                assert resp.status == 401, path
        async with anonymous.get("/", allow_redirects=False) as resp:
            assert resp.status == 302 and resp.headers["Location"] == "/login"
        async with anonymous.post(
            "/login", data={"token": "argosy-adm-nope.x"}, headers={"Origin": origin(fleet)}
        ) as resp:
            assert resp.status == 401
            assert "not valid" in await resp.text()
        async with anonymous.get(
            "/api/bundles", cookies={"argosy_dashboard": "argosy-adm-nope.x"}
        ) as resp:
            assert resp.status == 401


async def test_login_sets_a_strict_httponly_secure_cookie(tmp_path: Path) -> None:
    async with (
        fleet_with_dashboard(tmp_path, clusters=1) as fleet,
        aiohttp.ClientSession(
            base_url=fleet.url, connector=aiohttp.TCPConnector(ssl=client_ssl(fleet.hub))
        ) as session,
        session.post(
            "/login",
            data={"token": fleet.admin_token},
            headers={"Origin": origin(fleet)},
            allow_redirects=False,
        ) as resp,
    ):
        assert resp.status == 302
        cookie = resp.cookies["argosy_dashboard"]
        assert cookie["httponly"] and cookie["secure"]
        assert cookie["samesite"] == "Strict"


async def test_lists_are_paged_searched_and_filtered(tmp_path: Path) -> None:
    async with (
        fleet_with_dashboard(tmp_path, clusters=3) as fleet,
        logged_in(fleet, await fleet.viewer_token()) as web,
    ):
        async with web.get("/api/summary") as resp:
            summary = await resp.json()
        assert summary["role"] == "viewer"
        assert summary["health"]["deployments"] == {"Ready": 3}
        async with web.get("/api/bundles") as resp:
            bundles = await resp.json()
        assert [b["name"] for b in bundles["items"]] == ["web"]
        assert bundles["items"][0]["ready"] == bundles["items"][0]["desired"] == 3
        async with web.get("/api/clusters", params={"limit": "2"}) as resp:
            first = await resp.json()
        assert first["total"] == 3 and [c["name"] for c in first["items"]] == ["c0", "c1"]
        assert all(c["last_seen"] > 0 for c in first["items"])
        async with web.get("/api/clusters", params={"limit": "2", "offset": "2"}) as resp:
            assert [c["name"] for c in (await resp.json())["items"]] == ["c2"]
        async with web.get("/api/clusters", params={"q": "env=prod"}) as resp:
            assert [c["name"] for c in (await resp.json())["items"]] == ["c1"]
        async with web.get("/api/clusters", params={"state": "Modified"}) as resp:
            assert (await resp.json())["total"] == 0
        async with web.get("/api/clusters", params={"limit": "x"}) as resp:
            assert resp.status == 400 and "'limit'" in await resp.text()
        async with web.get("/api/bundles/web") as resp:
            page = await resp.json()
        assert page["history"][0]["current"] and page["history"][0]["revision"]
        async with web.get("/api/bundles/web/clusters") as resp:
            assert (await resp.json())["total"] == 3
        async with web.get("/api/bundles/nope") as resp:
            assert resp.status == 404


async def _next_status(events: aiohttp.ClientResponse) -> dict[str, object]:
    """The next `status` event of a Server-Sent Events stream."""
    kind = ""
    while True:
        line = (await events.content.readline()).decode().rstrip("\n")
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind == "status":
            data = json.loads(line.removeprefix("data: "))
            assert isinstance(data, dict)
            return data


async def test_drift_reaches_the_event_stream_and_the_lists(tmp_path: Path) -> None:
    async with (
        fleet_with_dashboard(tmp_path, clusters=2) as fleet,
        logged_in(fleet, await fleet.viewer_token()) as web,
    ):
        async with web.get("/events") as events:
            assert events.headers["Content-Type"].startswith("text/event-stream")
            fleet.spoke("c1").cluster.inject_drift("/ConfigMap/default/app", {"data": {"v": "2"}})

            async def modified() -> bool:
                data = await asyncio.wait_for(_next_status(events), 5)
                return "c1" in data["clusters"] and any(  # type: ignore[operator]
                    b["state"] == "Modified"
                    for b in data["bundles"]  # type: ignore[attr-defined]
                )

            await eventually(modified, timeout=5, what="a status event naming c1 Modified")
        async with web.get("/api/clusters", params={"state": "Modified"}) as resp:
            assert [c["name"] for c in (await resp.json())["items"]] == ["c1"]
        async with web.get("/api/attention") as resp:
            rows = (await resp.json())["items"]
        assert [(r["bundle"], r["cluster"], r["resource"]) for r in rows] == [
            ("web", "c1", "configmap default/app")
        ]
        assert rows[0]["message"].startswith("modified")


async def test_a_viewer_cannot_write_and_an_admin_can(tmp_path: Path) -> None:
    async with fleet_with_dashboard(tmp_path, clusters=1) as fleet:
        hub_fleet = fleet.hub.hub.fleet
        assert hub_fleet is not None
        async with (
            logged_in(fleet, await fleet.viewer_token()) as viewer,
            viewer.post("/api/bundles/web/pause", headers={"Origin": origin(fleet)}) as resp,
        ):
            assert resp.status == 403
        assert not hub_fleet.paused("web")
        async with logged_in(fleet, fleet.admin_token) as admin:
            # No Origin, or another site's: refused even for an admin (CSRF).
            for headers in ({}, {"Origin": "https://evil.example"}):
                async with admin.post("/api/bundles/web/pause", headers=headers) as resp:
                    assert resp.status == 403
            assert not hub_fleet.paused("web")
            async with admin.post(
                "/api/bundles/web/pause", headers={"Origin": origin(fleet)}
            ) as resp:
                assert resp.status == 200
            assert hub_fleet.paused("web")
            async with admin.post(
                "/api/bundles/web/unpause", headers={"Origin": origin(fleet)}
            ) as resp:
                assert resp.status == 200
            assert not hub_fleet.paused("web")


async def test_a_rollout_resumed_from_the_dashboard_names_the_token(tmp_path: Path) -> None:
    async with fleet_with_dashboard(tmp_path, clusters=1) as fleet:
        hub_fleet = fleet.hub.hub.fleet
        assert hub_fleet is not None
        resumed = hub_fleet.events.subscribe(EventFilter(kind=EventKind.ROLLOUT_RESUMED))
        async with (
            logged_in(fleet, fleet.admin_token) as admin,
            admin.post(
                "/api/bundles/web/resume-rollout", headers={"Origin": origin(fleet)}
            ) as resp,
        ):
            assert resp.status == 200
        event = await asyncio.wait_for(anext(resumed), 5)
        token_id = fleet.admin_token.removeprefix("argosy-adm-").partition(".")[0]
        assert token_id and event.actor == f"token/{token_id}"
