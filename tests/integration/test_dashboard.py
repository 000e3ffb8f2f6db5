"""The dashboard over HTTP against a real TLS hub with simulated spokes: login, the lists, the
event stream, and who may write."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import aiohttp

from argosy.errors import TemporaryError
from hub.core.events import EventFilter, EventKind
from tests.dashboard import apply_version, client_ssl, fleet_with_dashboard, logged_in, origin
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
        assert page["bundle"]["revision"] and not page["pinned"]
        async with web.get("/api/bundles/web/history") as resp:
            history = await resp.json()
        assert [(r["rev"], r["current"]) for r in history["items"]] == [(1, True)]
        async with web.get("/api/bundles/web/clusters") as resp:
            assert (await resp.json())["total"] == 3
        for path in ("/api/bundles/nope", "/api/bundles/nope/history"):
            async with web.get(path) as resp:
                assert resp.status == 404, path


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


async def _next_sse(events: aiohttp.ClientResponse, wanted: str) -> dict[str, object]:
    """The data of the next Server-Sent Event of kind `wanted`."""
    kind = ""
    while True:
        line = (await events.content.readline()).decode().rstrip("\n")
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind == wanted:
            data = json.loads(line.removeprefix("data: "))
            assert isinstance(data, dict)
            return data


async def test_the_bundle_page_shows_stored_history_and_events(tmp_path: Path) -> None:
    async with (
        fleet_with_dashboard(tmp_path, clusters=2) as fleet,
        logged_in(fleet, await fleet.viewer_token()) as web,
    ):
        async with web.get("/events") as events:
            await apply_version(fleet, "2")

            async def applied_event() -> bool:
                data = await asyncio.wait_for(_next_sse(events, "events"), 5)
                return any(
                    e["kind"] == "BundleApplied" and e["bundle"] == "web"
                    for e in data["events"]  # type: ignore[attr-defined]
                )

            await eventually(applied_event, timeout=10, what="a live BundleApplied event")
        async with web.get("/api/bundles/web") as resp:
            page = await resp.json()
        async with web.get("/api/bundles/web/history") as resp:
            history = (await resp.json())["items"]
        # Newest first, both with who applied them (the config's admin token).
        assert [r["rev"] for r in history] == [2, 1]
        assert [r["current"] for r in history] == [True, False]
        assert all(r["actor"].startswith("token/") for r in history)
        assert history[0]["summary"] == "1 object: ConfigMap"
        assert history[0]["revision"] == page["bundle"]["revision"] != history[1]["revision"]
        async with web.get("/api/events", params={"bundle": "web"}) as resp:
            items = (await resp.json())["items"]
        applied = [e for e in items if e["kind"] == "BundleApplied"]
        assert len(applied) == 2 and applied[0]["seq"] > applied[1]["seq"]
        assert all(e["bundle"] == "web" for e in items)
        async with web.get("/api/events", params={"bundle": "nope"}) as resp:
            assert (await resp.json())["items"] == []
        async with web.get("/api/events", params={"limit": "lots"}) as resp:
            assert resp.status == 400 and "'limit'" in await resp.text()
        async with web.get("/api/events", params={"limit": "-1"}) as resp:
            assert resp.status == 400 and "limit" in await resp.text()


async def test_rollback_and_unpin_need_an_admin_from_this_origin(tmp_path: Path) -> None:
    async with fleet_with_dashboard(tmp_path, clusters=1) as fleet:
        hub_fleet = fleet.hub.hub.fleet
        assert hub_fleet is not None
        async with (
            logged_in(fleet, fleet.admin_token) as admin,
            admin.post("/api/bundles/web/rollback", headers={"Origin": origin(fleet)}) as resp,
        ):
            # Only rev 1: nothing to roll back to, and the page is told why.
            assert resp.status == 409 and "no previous revision" in await resp.text()
        await apply_version(fleet, "2")
        async with logged_in(fleet, await fleet.viewer_token()) as viewer:
            for action in ("rollback", "unpin"):
                async with viewer.post(
                    f"/api/bundles/web/{action}", headers={"Origin": origin(fleet)}
                ) as resp:
                    assert resp.status == 403, action
        assert not hub_fleet.pinned("web")
        async with logged_in(fleet, fleet.admin_token) as admin:
            async with admin.post("/api/bundles/web/rollback") as resp:
                assert resp.status == 403  # no Origin
            assert not hub_fleet.pinned("web")
            async with admin.post(
                "/api/bundles/web/rollback", params={"to": "x"}, headers={"Origin": origin(fleet)}
            ) as resp:
                assert resp.status == 400 and "'to'" in await resp.text()
            async with admin.post(
                "/api/bundles/web/rollback", params={"to": "9"}, headers={"Origin": origin(fleet)}
            ) as resp:
                assert resp.status == 404 and "no rev 9" in await resp.text()
            async with admin.post(
                "/api/bundles/web/rollback", headers={"Origin": origin(fleet)}
            ) as resp:
                assert resp.status == 200
                assert await resp.json() == {"ok": True, "pinned": 3, "rolled_back_to": 1}
            assert hub_fleet.pinned("web") == 3
            async with admin.get("/api/bundles/web") as resp:
                assert (await resp.json())["pinned"] == 3
            async with admin.get("/api/bundles/web/history") as resp:
                history = await resp.json()
            assert history["pinned"] == 3
            top = history["items"][0]
            assert (top["rev"], top["rollback_of"], top["current"], top["pinned"]) == (
                3,
                1,
                True,
                True,
            )
            assert top["actor"].startswith("token/")
            # The status stream says so too (the bundle row the overview shows).
            await eventually(
                lambda: fleet.hub.hub.dashboard.model.bundles["web"]["pinned"] == 3,  # type: ignore[union-attr]
                what="the dashboard's bundle row pinned",
            )
            async with admin.post(
                "/api/bundles/web/unpin", headers={"Origin": origin(fleet)}
            ) as resp:
                assert await resp.json() == {"ok": True, "was_pinned": True}
            assert not hub_fleet.pinned("web")


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


async def test_a_rollback_the_hub_asks_to_retry_is_503_with_the_reason(tmp_path: Path) -> None:
    # A replica behind the store refuses a rollback as temporary (the API's UNAVAILABLE); the
    # page must say so, not fail with an internal error.
    async with fleet_with_dashboard(tmp_path, clusters=1) as fleet:
        hub_fleet = fleet.hub.hub.fleet
        assert hub_fleet is not None

        async def behind(name: str, *, to: int = 0, actor: str = "") -> tuple[object, int, int]:
            raise TemporaryError(f"bundle {name!r} changed meanwhile; try again")

        hub_fleet.rollback = behind  # type: ignore[method-assign, assignment]
        async with (
            logged_in(fleet, fleet.admin_token) as admin,
            admin.post("/api/bundles/web/rollback", headers={"Origin": origin(fleet)}) as resp,
        ):
            assert resp.status == 503 and "changed meanwhile" in await resp.text()
