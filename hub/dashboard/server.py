"""The dashboard's HTTP server: a login page, JSON list routes, one Server-Sent Events stream,
and the few writes (pause, unpause, resume a rollout), on its own port (--dashboard-listen).

Live, without polling: the dashboard is one more watcher of the status broadcaster
(hub/watch.py). Each change becomes one event, serialised once (model.py) and queued to every
browser; a browser whose bounded queue is full is dropped (its EventSource reconnects and the
page fetches afresh) rather than holding an ever-growing backlog.

Auth: the token of `argosy admin-token create` (admin or viewer, hub/admin_auth.py) is typed on
the login page and kept in an HttpOnly, SameSite=Strict cookie (Secure over TLS); every data
route checks it. Writes need role admin and an Origin header naming this server (CSRF: with
SameSite, a cross-site form post carries no cookie, and a same-site one no matching Origin).
An --insecure hub has no tokens, so its dashboard is open, as its admin API is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Protocol

from aiohttp import web

from argosy.errors import NotFound
from hub.core.deployments import Deployment
from hub.dashboard.model import Model
from hub.dashboard.views import (
    BadQuery,
    Query,
    Row,
    attention_rows,
    by_severity,
    deployment_row,
    page,
    parse_query,
    same_origin,
    severity,
)
from hub.models import BundleRecord, ClusterRecord
from hub.status import StatusBook
from hub.status.views import detail
from hub.watch import StatusBroadcaster

log = logging.getLogger(__name__)

COOKIE = "argosy_dashboard"
CLIENT_QUEUE = 32
"""Events a browser may be behind before it is dropped (it reconnects and starts afresh)."""
KEEPALIVE_SECONDS = 15.0
WRITE_DEADLINE_SECONDS = 10.0
STATIC_FILES = {
    "app.js": "text/javascript",
    "style.css": "text/css",
}


class FleetReader(Protocol):
    """What the dashboard reads from the fleet (hub/fleet.py) beyond the status book."""

    def bundle(self, name: str) -> BundleRecord: ...
    def clusters(self) -> list[ClusterRecord]: ...
    def cluster_by_name(self, name: str) -> ClusterRecord | None: ...
    def deployment(self, cluster_id: str, bundle: str) -> Deployment | None: ...
    def offline(self, cluster_id: str) -> bool: ...
    def last_seen(self, cluster_id: str) -> int: ...
    async def set_paused(self, name: str, paused: bool) -> None: ...
    async def resume_rollout(self, name: str) -> None: ...


RoleOf = Callable[[str], Awaitable[str | None]]


def _static(name: str) -> bytes:
    return resources.files("hub.dashboard").joinpath("static", name).read_bytes()


class Dashboard:
    """Serves the dashboard on `listen` until cancelled."""

    def __init__(
        self,
        *,
        listen: str,
        fleet: FleetReader,
        book: StatusBook,
        broadcaster: StatusBroadcaster,
        role_of: RoleOf | None,
        ssl_context: ssl.SSLContext | None,
        url_file: Path | None = None,
    ) -> None:
        self._host, _, port = listen.rpartition(":")
        self._port = int(port)
        self._fleet = fleet
        self._book = book
        self._broadcaster = broadcaster
        self._role_of = role_of
        self._ssl = ssl_context
        self._url_file = url_file
        self.model = Model()
        self._clients: set[asyncio.Queue[bytes | None]] = set()
        self.port = 0
        self.ready = asyncio.Event()
        self.dropped = 0
        """Browsers dropped for falling behind (for tests and logs)."""

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self._host in ("0.0.0.0", "") else self._host
        return f"{'https' if self._ssl else 'http'}://{host}:{self.port}/"

    # --- the loop ------------------------------------------------------------------------------

    async def run(self) -> None:
        runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await runner.setup()
        feed = asyncio.create_task(self._feed(), name="dashboard-feed")
        try:
            site = web.TCPSite(runner, self._host, self._port, ssl_context=self._ssl)
            await site.start()
            self.port = int(runner.addresses[0][1]) if runner.addresses else self._port
            log.info("dashboard on %s", self.url)
            if self._url_file is not None:
                self._url_file.write_text(self.url + "\n")
            self.ready.set()
            await feed  # runs until cancelled; its error, if any, stops the dashboard
        finally:
            self.ready.clear()
            feed.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feed
            # Open event streams end at once instead of holding the shutdown.
            for queue in list(self._clients):
                self._drop(queue)
            await runner.cleanup()

    async def _feed(self) -> None:
        watcher = self._broadcaster.subscribe()
        try:
            while True:
                # A snapshot in chunks comes as one message: the model starts afresh once.
                event = self.model.apply(await watcher.get())
                for queue in list(self._clients):
                    try:
                        queue.put_nowait(event)
                    except asyncio.QueueFull:
                        self.dropped += 1
                        log.info(
                            "dashboard: a browser fell %d events behind; dropped", CLIENT_QUEUE
                        )
                        self._drop(queue)
        finally:
            self._broadcaster.unsubscribe(watcher)

    def subscribe(self) -> asyncio.Queue[bytes | None]:
        """A browser's queue of events; None in it means: dropped, end the stream."""
        queue: asyncio.Queue[bytes | None] = asyncio.Queue(CLIENT_QUEUE)
        self._clients.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[bytes | None]) -> None:
        self._clients.discard(queue)

    def _drop(self, queue: asyncio.Queue[bytes | None]) -> None:
        self._clients.discard(queue)
        while not queue.empty():
            queue.get_nowait()
        queue.put_nowait(None)

    # --- routes --------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        r = app.router
        r.add_get("/", self.index)
        r.add_get("/login", self.login_page)
        r.add_post("/login", self.login)
        r.add_post("/logout", self.logout)
        r.add_get("/static/{name}", self.static)
        r.add_get("/api/summary", self.summary)
        r.add_get("/api/bundles", self.bundles)
        r.add_get("/api/clusters", self.clusters)
        r.add_get("/api/attention", self.attention)
        r.add_get("/api/bundles/{name}", self.bundle)
        r.add_get("/api/bundles/{name}/clusters", self.bundle_clusters)
        r.add_post("/api/bundles/{name}/{action}", self.write)
        r.add_get("/events", self.events)
        return app

    async def _role(self, request: web.Request) -> str | None:
        if self._role_of is None:
            return "admin"  # an --insecure hub: no tokens at all
        token = request.cookies.get(COOKIE, "")
        return await self._role_of(token) if token else None

    async def _reader(self, request: web.Request) -> str:
        role = await self._role(request)
        if role is None:
            raise web.HTTPUnauthorized(text="log in at /login with an admin or viewer token\n")
        return role

    async def index(self, request: web.Request) -> web.StreamResponse:
        if await self._role(request) is None:
            raise web.HTTPFound("/login")
        return _page("index.html")

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        return _page("login.html")

    async def login(self, request: web.Request) -> web.StreamResponse:
        self._check_origin(request)
        form = await request.post()
        token = str(form.get("token", "")).strip()
        role = await self._role_of(token) if self._role_of is not None and token else None
        if self._role_of is not None and role is None:
            log.warning("dashboard login from %s refused: unknown token", request.remote)
            body = _static("login.html").replace(
                b"<!--error-->", b'<p class="error">That token is not valid here.</p>'
            )
            return web.Response(status=401, body=body, content_type="text/html")
        response = web.HTTPFound("/")
        response.set_cookie(
            COOKIE,
            token,
            httponly=True,
            secure=self._ssl is not None,
            samesite="Strict",
            path="/",
        )
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        self._check_origin(request)
        response = web.HTTPFound("/login")
        response.del_cookie(COOKIE, path="/")
        raise response

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        kind = STATIC_FILES.get(name)
        if kind is None:
            raise web.HTTPNotFound()
        return web.Response(body=_static(name), content_type=kind)

    async def summary(self, request: web.Request) -> web.StreamResponse:
        role = await self._reader(request)
        return web.json_response(
            {"role": role, "health": self.model.health(), "now": int(time.time())}
        )

    async def bundles(self, request: web.Request) -> web.StreamResponse:
        await self._reader(request)
        return web.json_response(page(self.model.bundle_list(), _query(request)))

    async def clusters(self, request: web.Request) -> web.StreamResponse:
        await self._reader(request)
        result = page(self.model.cluster_list(), _query(request))
        # Heartbeats change no state, so they are read per page rather than broadcast.
        items = []
        for row in result["items"]:
            record = self._fleet.cluster_by_name(row["name"])
            seen = self._fleet.last_seen(record.id) if record is not None else 0
            items.append({**row, "last_seen": seen})
        return web.json_response({**result, "items": items, "now": int(time.time())})

    async def attention(self, request: web.Request) -> web.StreamResponse:
        await self._reader(request)
        return web.json_response(page(self._attention_rows(), _query(request)))

    def _attention_rows(self) -> list[Row]:
        """Every deployment that is not Ready, as bundle x cluster x resource rows, worst
        first. The book knows which clusters those are: O(deployments not Ready), not
        O(clusters), per request."""
        rows: list[Row] = []
        for bundle in self.model.bundle_list():
            if bundle["ready"] == bundle["desired"]:
                continue
            members = self._book.not_ready(bundle["name"])
            for state in sorted(members, key=severity):
                for name in sorted(members[state]):
                    cluster = self._fleet.cluster_by_name(name)
                    dep = self._fleet.deployment(cluster.id, bundle["name"]) if cluster else None
                    if cluster is None or dep is None:
                        continue
                    offline = self._fleet.offline(cluster.id)
                    view = detail(dep, cluster=cluster.name, offline=offline)
                    rows.extend(attention_rows(view, labels=cluster.labels))
        return rows

    async def bundle(self, request: web.Request) -> web.StreamResponse:
        await self._reader(request)
        name = request.match_info["name"]
        row = self.model.bundles.get(name)
        try:
            record = self._fleet.bundle(name)
        except NotFound:
            record = None
        if row is None or record is None:
            raise web.HTTPNotFound(text=f"no bundle named {name!r}\n")
        # Stored revision history comes with the history work (Fleet will get a method for
        # it); until then the page shows the current revision and when it was applied.
        history = [{"revision": record.revision, "time": record.updated, "current": True}]
        return web.json_response(
            {
                "bundle": row,
                "labels": dict(record.labels),
                "resource_count": record.resource_count,
                "created": record.created,
                "history": history,
            }
        )

    async def bundle_clusters(self, request: web.Request) -> web.StreamResponse:
        await self._reader(request)
        name = request.match_info["name"]
        if name not in self.model.bundles:
            raise web.HTTPNotFound(text=f"no bundle named {name!r}\n")
        rows = []
        for cluster in sorted(self._fleet.clusters(), key=lambda c: c.name):
            dep = self._fleet.deployment(cluster.id, name)
            if dep is not None:
                offline = self._fleet.offline(cluster.id)
                view = detail(dep, cluster=cluster.name, offline=offline)
                rows.append(deployment_row(view, labels=cluster.labels))
        return web.json_response(page(by_severity(rows), _query(request)))

    def _check_origin(self, request: web.Request) -> None:
        origin = request.headers.get("Origin", "")
        if not same_origin(origin, scheme=request.scheme, host=request.host):
            log.warning(
                "dashboard %s from %s refused: Origin %r", request.path, request.remote, origin
            )
            raise web.HTTPForbidden(text="cross-origin request refused (Origin does not match)\n")

    async def write(self, request: web.Request) -> web.StreamResponse:
        role = await self._reader(request)
        self._check_origin(request)
        if role != "admin":
            raise web.HTTPForbidden(text=f"role {role!r} may not change bundles\n")
        name, action = request.match_info["name"], request.match_info["action"]
        try:
            if action == "pause":
                await self._fleet.set_paused(name, True)
            elif action == "unpause":
                await self._fleet.set_paused(name, False)
            elif action == "resume-rollout":
                await self._fleet.resume_rollout(name)
            else:
                raise web.HTTPNotFound(
                    text=f"no action {action!r}: pause, unpause, resume-rollout\n"
                )
        except NotFound as exc:
            raise web.HTTPNotFound(text=f"{exc}\n") from None
        log.info("dashboard: %s %s", action, name)
        return web.json_response({"ok": True})

    async def events(self, request: web.Request) -> web.StreamResponse:
        await self._reader(request)
        queue = self.subscribe()
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-store",
                "X-Accel-Buffering": "no",
            }
        )
        try:
            await response.prepare(request)
            # The page fetches its lists itself on `hello`; events then say what changed.
            hello = json.dumps({"health": self.model.health()}, separators=(",", ":"))
            await response.write(f"retry: 1000\nevent: hello\ndata: {hello}\n\n".encode())
            while True:
                try:
                    item = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    item = b": keepalive\n\n"
                if item is None:
                    break
                await asyncio.wait_for(response.write(item), WRITE_DEADLINE_SECONDS)
        except (ConnectionResetError, TimeoutError):
            pass  # the browser went away or stopped reading: it reconnects if it can
        finally:
            self.unsubscribe(queue)
        return response


def _query(request: web.Request) -> Query:
    try:
        return parse_query(request.query)
    except BadQuery as exc:
        raise web.HTTPBadRequest(text=f"{exc}\n") from None


def _page(name: str) -> web.Response:
    return web.Response(
        body=_static(name),
        content_type="text/html",
        headers={
            "Cache-Control": "no-store",
            "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'",
            "X-Content-Type-Options": "nosniff",
        },
    )
