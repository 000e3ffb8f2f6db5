"""The dashboard's HTTP server: a login page, JSON list routes, one Server-Sent Events stream,
and the few writes (pause, unpause, resume a rollout, rollback, unpin), on its own port
(--dashboard-listen).

Live, without polling: the dashboard is one more watcher of the status broadcaster
(hub/watch.py) and one more subscriber of the event log (hub/core/events.py), each once for
every browser. Each change becomes one event, serialised once (model.py, views.events_event)
and queued to every browser; a browser whose bounded queue is full is dropped (its EventSource
reconnects and the page fetches afresh) rather than holding an ever-growing backlog.

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

from argosy.errors import InvalidInput, NotFound, TemporaryError
from hub.admin_auth import token_actor
from hub.core.deployments import Deployment
from hub.core.events import EventFilter, EventLog, WatcherDropped
from hub.dashboard.model import Model
from hub.dashboard.views import (
    BadQuery,
    Query,
    Row,
    attention_rows,
    deployment_row,
    event_row,
    events_event,
    events_reset_event,
    history_rows,
    matches,
    page,
    parse_query,
    same_origin,
    severity,
)
from hub.models import BundleRecord, ClusterRecord, HistoryEntry
from hub.status import StatusBook
from hub.status.views import detail, shown_state
from hub.watch import StatusBroadcaster

log = logging.getLogger(__name__)

COOKIE = "argosy_dashboard"
CLIENT_QUEUE = 32
"""Events a browser may be behind before it is dropped (it reconnects and starts afresh)."""
KEEPALIVE_SECONDS = 15.0
WRITE_DEADLINE_SECONDS = 10.0
EVENTS_PER_MESSAGE = 50
"""The newest events of a batch that travel in one `events` message (a page shows fewer)."""
RECENT_EVENTS = 20
"""Events /api/events returns unless asked (limit=) for more."""
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
    def pinned(self, name: str) -> int: ...
    async def history(self, name: str) -> tuple[list[HistoryEntry], int]: ...
    async def set_paused(self, name: str, paused: bool) -> None: ...
    async def resume_rollout(self, name: str, *, actor: str = "") -> None: ...
    async def rollback(
        self, name: str, *, to: int = 0, actor: str = ""
    ) -> tuple[object, int, int]: ...
    async def unpin(self, name: str) -> bool: ...
    @property
    def events(self) -> EventLog: ...


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
        # Per bundle, its deployments' order and the book versions it was built at.
        self._orders: dict[str, tuple[tuple[int, int], list[tuple[str, str]]]] = {}
        # Per bundle, the clusters whose deployment is not Ready, worst first (and the book
        # versions that order was taken at); per bundle and cluster, those deployments' rows
        # and what they were built from.
        self._attention_order: dict[str, tuple[tuple[int, int], list[str]]] = {}
        self._attention: dict[str, dict[str, tuple[tuple[object, ...], list[Row]]]] = {}
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
        feed = asyncio.create_task(self._feeds(), name="dashboard-feeds")
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

    async def _feeds(self) -> None:
        async with asyncio.TaskGroup() as group:
            group.create_task(self._feed_status(), name="dashboard-status-feed")
            group.create_task(self._feed_events(), name="dashboard-events-feed")

    async def _feed_status(self) -> None:
        watcher = self._broadcaster.subscribe()
        try:
            while True:
                # A snapshot in chunks comes as one message: the model starts afresh once.
                self._broadcast(self.model.apply(await watcher.get()))
        finally:
            self._broadcaster.unsubscribe(watcher)

    async def _feed_events(self) -> None:
        """The event log, one subscription for every browser: each written batch becomes one
        message. Dropped for falling behind (a batch bigger than the log's watcher queue, a
        rollout to thousands of clusters), it subscribes again and tells the pages to fetch
        their recent events afresh, since the feed may have missed some."""
        events = self._fleet.events
        while True:
            sub = events.subscribe()
            try:
                async for first in sub:
                    self._broadcast(events_event([first, *sub.pending()], keep=EVENTS_PER_MESSAGE))
            except WatcherDropped:
                log.info("dashboard: the event feed fell behind; subscribed again")
                self._broadcast(events_reset_event())
            finally:
                events.unsubscribe(sub)

    def _broadcast(self, event: bytes) -> None:
        for queue in list(self._clients):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                self.dropped += 1
                log.info("dashboard: a browser fell %d events behind; dropped", CLIENT_QUEUE)
                self._drop(queue)

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
        r.add_get("/api/bundles/{name}/history", self.bundle_history)
        r.add_get("/api/events", self.recent_events)
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
        O(clusters); and a deployment's rows are built again only when it (or its cluster)
        changed, so a request during a rollout rebuilds the few that moved, not all."""
        rows: list[Row] = []
        for bundle in self.model.bundle_list():
            if bundle["ready"] == bundle["desired"]:
                continue
            rows.extend(self._bundle_attention(bundle["name"]))
        for gone in [b for b in self._attention if b not in self.model.bundles]:
            del self._attention[gone]
            self._attention_order.pop(gone, None)
        return rows

    def _bundle_attention(self, bundle: str) -> list[Row]:
        key = (self._book.bundle_version(bundle), self._book.roster_version)
        order = self._attention_order.get(bundle)
        if order is None or order[0] != key:
            members = self._book.not_ready(bundle)
            names = [n for s in sorted(members, key=severity) for n in sorted(members[s])]
            self._attention_order[bundle] = order = (key, names)
        before = self._attention.get(bundle, {})
        # Rebuilt each time from what is not Ready now: a deployment Ready again is dropped.
        kept: dict[str, tuple[tuple[object, ...], list[Row]]] = {}
        rows: list[Row] = []
        for name in order[1]:
            cluster = self._fleet.cluster_by_name(name)
            dep = self._fleet.deployment(cluster.id, bundle) if cluster else None
            if cluster is None or dep is None:
                continue
            offline = self._fleet.offline(cluster.id)
            # All a deployment's rows are made of (the cluster's name, labels and presence are
            # in its version): a resource's message can change while the state does not.
            facts = (
                self._book.cluster_version(cluster.id),
                offline,
                dep.state,
                dep.resources,
                dep.error,
                dep.render_error,
                dep.held,
                dep.ready,
                dep.acked,
                dep.desired,
            )
            hit = before.get(name)
            if hit is None or hit[0] != facts:
                view = detail(dep, cluster=cluster.name, offline=offline)
                hit = (facts, attention_rows(view, labels=cluster.labels))
            kept[name] = hit
            rows.extend(hit[1])
        self._attention[bundle] = kept
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
        return web.json_response(
            {
                "bundle": row,
                "labels": dict(record.labels),
                "resource_count": record.resource_count,
                "created": record.created,
                "pinned": self._fleet.pinned(name),
            }
        )

    async def bundle_history(self, request: web.Request) -> web.StreamResponse:
        """A bundle's stored history, newest first. Its own route, not part of the bundle's:
        it is a store read (with each revision's files), which the page makes when the
        history can have changed (an apply, a rollback, a pin), not on every status change."""
        await self._reader(request)
        name = request.match_info["name"]
        try:
            entries, current = await self._fleet.history(name)
        except NotFound:
            raise web.HTTPNotFound(text=f"no bundle named {name!r}\n") from None
        pinned = self._fleet.pinned(name)
        return web.json_response(
            {"pinned": pinned, "items": history_rows(entries, current=current, pinned=pinned)}
        )

    async def recent_events(self, request: web.Request) -> web.StreamResponse:
        """The newest stored events, newest first (?bundle= for one bundle's, ?limit=)."""
        await self._reader(request)
        raw = request.query.get("limit", str(RECENT_EVENTS))
        try:
            limit = int(raw)
            wanted = EventFilter(bundle=request.query.get("bundle", ""))
            events = await self._fleet.events.list(wanted, limit=limit)
        except ValueError:
            raise web.HTTPBadRequest(text=f"'limit': {raw!r} is not a number\n") from None
        except InvalidInput as exc:
            raise web.HTTPBadRequest(text=f"{exc}\n") from None
        return web.json_response({"items": [event_row(e) for e in reversed(events)]})

    async def bundle_clusters(self, request: web.Request) -> web.StreamResponse:
        await self._reader(request)
        name = request.match_info["name"]
        if name not in self.model.bundles:
            raise web.HTTPNotFound(text=f"no bundle named {name!r}\n")
        query = _query(request)
        order = self._deployment_order(name)
        if query.q or query.state:
            # Searched by what a row shows besides its resources (name, labels, state, message):
            # all of it at hand without building every detail view.
            order = [o for o in order if matches(self._deployment_match_row(name, *o), query)]
        # Detail views only for the page returned: a page of 50, not one per cluster.
        rows = []
        for _state, cluster_name in order[query.offset : query.offset + query.limit]:
            cluster = self._fleet.cluster_by_name(cluster_name)
            dep = self._fleet.deployment(cluster.id, name) if cluster else None
            if cluster is None or dep is None:
                continue  # gone since the order was cached (the book has changed: next time)
            view = detail(dep, cluster=cluster.name, offline=self._fleet.offline(cluster.id))
            rows.append(deployment_row(view, labels=cluster.labels))
        return web.json_response(
            {"total": len(order), "offset": query.offset, "limit": query.limit, "items": rows}
        )

    def _deployment_order(self, bundle: str) -> list[tuple[str, str]]:
        """(state, cluster name) of the bundle's deployments, worst first, then by name: kept
        until the book says the bundle (a deployment's state) or a cluster (name, labels,
        offline) has changed, so a page is not a sort of every cluster."""
        key = (self._book.bundle_version(bundle), self._book.roster_version)
        hit = self._orders.get(bundle)
        if hit is not None and hit[0] == key:
            return hit[1]
        order = []
        for cluster in self._fleet.clusters():
            dep = self._fleet.deployment(cluster.id, bundle)
            if dep is not None:
                offline = self._fleet.offline(cluster.id)
                order.append((shown_state(dep, offline=offline), cluster.name))
        order.sort(key=lambda o: (severity(o[0]), o[1]))
        self._orders[bundle] = (key, order)
        # Bundles deleted since are dropped (their cache entries only: a few per bundle).
        for gone in [b for b in self._orders if b not in self.model.bundles]:
            del self._orders[gone]
        return order

    def _deployment_match_row(self, bundle: str, state: str, cluster_name: str) -> Row:
        cluster = self._fleet.cluster_by_name(cluster_name)
        dep = self._fleet.deployment(cluster.id, bundle) if cluster else None
        if cluster is None or dep is None:
            return {"name": cluster_name, "state": state}
        message = dep.render_error or dep.error
        return {"name": cluster_name, "state": state, "message": message, "labels": cluster.labels}

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
        # Without tokens (an --insecure hub) a cookie proves nothing: anyone is anonymous.
        actor = (
            token_actor(request.cookies.get(COOKIE, ""))
            if self._role_of is not None
            else "anonymous"
        )
        result: dict[str, object] = {"ok": True}
        try:
            if action == "pause":
                await self._fleet.set_paused(name, True)
            elif action == "unpause":
                await self._fleet.set_paused(name, False)
            elif action == "resume-rollout":
                await self._fleet.resume_rollout(name, actor=actor)
            elif action == "rollback":
                to = _rev(request.query.get("to", "0"))
                _, pinned, target = await self._fleet.rollback(name, to=to, actor=actor)
                result.update(pinned=pinned, rolled_back_to=target)
            elif action == "unpin":
                result.update(was_pinned=await self._fleet.unpin(name))
            else:
                raise web.HTTPNotFound(
                    text=f"no action {action!r}: pause, unpause, resume-rollout, rollback, unpin\n"
                )
        except NotFound as exc:
            raise web.HTTPNotFound(text=f"{exc}\n") from None
        except InvalidInput as exc:
            # Nothing to roll back to, or the rev runs already: the page shows why.
            raise web.HTTPConflict(text=f"{exc}\n") from None
        except TemporaryError as exc:
            # Changed meanwhile on another replica: the same answer as the API's UNAVAILABLE.
            raise web.HTTPServiceUnavailable(text=f"{exc}\n") from None
        log.info("dashboard: %s %s by %s", action, name, actor)
        return web.json_response(result)

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


def _rev(raw: str) -> int:
    """A rollback's `to`: a history rev, or 0 for the one before the current."""
    try:
        rev = int(raw)
    except ValueError:
        rev = -1
    if rev < 0:
        raise web.HTTPBadRequest(text=f"'to': {raw!r} is not a history rev (0: the previous)\n")
    return rev


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
