"""The dashboard benchmark: a hub status of N clusters x B bundles, in headless Chromium.

    python -m bench.dashboard --clusters 10000 [--bundles 1] [--updates 10]
    python -m bench.dashboard --clusters 300 --screenshots docs/
    python -m bench.dashboard --clusters 10000 --server-only   # routes and a rollout, no Chromium

The status is fed in-process, straight into a real StatusBook (the roll-ups the hub keeps)
and a real StatusBroadcaster and Dashboard: starting 10,000 simulated spokes as processes
would measure the spokes, not the page. What the dashboard reads from the fleet beyond the
book (clusters, deployments, heartbeats) comes from a synthetic FleetReader below.

Measured, in Chromium (Debian's chromium through its chromedriver):
- first render: navigation start to each list's first render (performance marks in app.js);
- live update: a cluster's state changed in the book to its row showing it on the open page,
  both on the epoch clock (performance.timeOrigin + now in the page, time.time() here);
- the server side: a page of clusters over HTTP, and the size of one change's event;
- a rollout (last; every deployment of one bundle OutOfSync or NotReady): a page of the
  bundle's clusters and the needs-attention page, right after a change in the book and with
  nothing changed, and the model applying a one-cluster broadcast.

With --screenshots DIR it writes DIR/dashboard-{login,overview,search,bundle}.png.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import aiohttp
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from argosy.api.v1 import fleet_pb2
from argosy.errors import NotFound
from argosy.states import State
from hub.core.deployments import Deployment
from hub.core.events import EventKind, EventLog
from hub.dashboard.server import Dashboard
from hub.models import BundleRecord, ClusterRecord, HistoryEntry, ResourceStateRecord
from hub.persistence.sqlite import SqliteStore
from hub.status import ClusterInfo, StatusBook
from hub.watch import StatusBroadcaster

ENVS = ("dev", "test", "prod")
REGIONS = ("eu-west", "us-east", "ap-south")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)


def say(text: str) -> None:
    print(text, flush=True)


class SyntheticFleet:
    """Clusters, deployments, heartbeats and bundle history for the dashboard, without
    spokes; its event log is a real one, on a throwaway SQLite file."""

    def __init__(self, store: SqliteStore) -> None:
        self.events = EventLog(store, cluster_name=self._name_of)
        self.pins: dict[str, int] = {}
        self.bundles: dict[str, BundleRecord] = {}
        self.records: dict[str, ClusterRecord] = {}
        self.by_name: dict[str, ClusterRecord] = {}
        self.deployments: dict[tuple[str, str], Deployment] = {}
        self.offline_ids: set[str] = set()
        self.paused: set[str] = set()
        self._sorted: list[ClusterRecord] | None = None

    def _name_of(self, cluster_id: str) -> str:
        record = self.records.get(cluster_id)
        return record.name if record is not None else cluster_id

    def bundle(self, name: str) -> BundleRecord:
        if name not in self.bundles:
            raise NotFound(f"no bundle named {name!r}")
        return self.bundles[name]

    def clusters(self) -> list[ClusterRecord]:
        return list(self.records.values())

    def cluster_by_name(self, name: str) -> ClusterRecord | None:
        return self.by_name.get(name)

    def deployment(self, cluster_id: str, bundle: str) -> Deployment | None:
        return self.deployments.get((bundle, cluster_id))

    def offline(self, cluster_id: str) -> bool:
        return cluster_id in self.offline_ids

    def last_seen(self, cluster_id: str) -> int:
        return int(time.time()) - (hash(cluster_id) % 40)

    async def set_paused(self, name: str, paused: bool) -> None:
        (self.paused.add if paused else self.paused.discard)(name)

    async def resume_rollout(self, name: str, *, actor: str = "") -> None:
        self.bundle(name)

    def pinned(self, name: str) -> int:
        return self.pins.get(name, 0)

    async def history(self, name: str) -> tuple[list[HistoryEntry], int]:
        """Three revisions: applied, changed by a git commit, rolled back to the first."""
        current = self.bundle(name).revision
        day = int(time.time()) - 86400
        summary = "4 objects: Deployment, Service"
        older = current[::-1]  # another revision, the same on every run
        entries = [
            HistoryEntry(name, 1, current, day, "token/3f9a1c", summary, {}, {}),
            HistoryEntry(name, 2, older, day + 3600, "repo/platform@9c1e2d4", summary, {}, {}),
            HistoryEntry(name, 3, current, day + 7200, "token/3f9a1c", summary, {}, {}, 1),
        ]
        return entries, 3

    async def rollback(self, name: str, *, to: int = 0, actor: str = "") -> tuple[object, int, int]:
        self.pins[name] = 3
        return None, 3, to or 1

    async def unpin(self, name: str) -> bool:
        return self.pins.pop(name, 0) > 0


async def record_events(events: EventLog, fleet: SyntheticFleet) -> None:
    """A few events of each kind the pages show, written to the store as the hub would."""
    events.record(EventKind.BUNDLE_APPLIED, bundle="web", actor="token/3f9a1c", message="rev 3")
    for cid in sorted(fleet.offline_ids)[:3]:
        events.record(EventKind.CLUSTER_OFFLINE, cluster=fleet.records[cid].name, actor="hub")
    for (bundle, cid), dep in list(fleet.deployments.items())[:40]:
        if dep.state != State.READY:
            events.deployment_changed(bundle, cid, State.READY, dep.state)
    await events.flush()


def _state_for(rng: random.Random) -> State:
    roll = rng.random()
    if roll < 0.010:
        return State.MODIFIED
    if roll < 0.015:
        return State.NOT_READY
    if roll < 0.017:
        return State.ERR_APPLIED
    return State.READY


def _resources(state: State, name: str) -> tuple[ResourceStateRecord, ...]:
    ok = ResourceStateRecord(key=f"apps/Deployment/{name}/{name}", ready=True)
    cm = f"/ConfigMap/{name}/{name}-config"
    if state == State.MODIFIED:
        bad = ResourceStateRecord(
            key=cm, ready=True, modified=True, message='{"data":{"replicas":"3"}}'
        )
        return ok, bad
    if state == State.NOT_READY:
        bad = ResourceStateRecord(
            key=f"apps/Deployment/{name}/{name}-worker",
            ready=False,
            message="0/2 replicas available: ImagePullBackOff",
        )
        return ok, bad
    return ok, ResourceStateRecord(key=cm, ready=True)


def populate(book: StatusBook, fleet: SyntheticFleet, *, clusters: int, bundles: int) -> None:
    rng = random.Random(14)
    now = int(time.time())
    names = ["web", "monitoring", "ingress", "payments", "search"]
    for b in range(bundles):
        name = names[b] if b < len(names) else f"bundle-{b}"
        fleet.bundles[name] = BundleRecord(
            name, {}, {}, f"{rng.getrandbits(64):016x}", 4, now - 86400, now - 600
        )
        book.add_bundle(name)
    for i in range(clusters):
        env = ENVS[i % 3]
        name = f"{env}-{REGIONS[(i // 3) % 3]}-{i:05}"
        cid = f"id-{i:05}"
        record = ClusterRecord(cid, name, {"env": env, "region": REGIONS[(i // 3) % 3]}, "", now)
        fleet.records[cid] = record
        fleet.by_name[name] = record
        book.put_cluster(cid, ClusterInfo(name, record.labels))
        offline = rng.random() < 0.003
        book.set_connected(cid, not offline)
        if offline:
            fleet.offline_ids.add(cid)
            book.set_offline(cid, True)
        for bundle, rec in fleet.bundles.items():
            state = State.OFFLINE if offline else _state_for(rng)
            dep = Deployment(
                bundle=bundle,
                cluster_id=cid,
                desired=rec.revision,
                sent=rec.revision,
                acked=rec.revision,
                status_revision=rec.revision,
                ready=state == State.READY,
                resources=_resources(state, bundle),
                error="apply failed: admission webhook denied"
                if state == State.ERR_APPLIED
                else "",
                state=state,
            )
            fleet.deployments[(bundle, cid)] = dep
            book.set_state(bundle, cid, state)


def rollout_enrich(fleet: SyntheticFleet) -> Any:
    """Rollout partitions as the hub's enrich would show them: per env, in order."""

    def enrich(pb: fleet_pb2.BundleStatus) -> None:
        pb.revision = fleet.bundles[pb.name].revision
        pb.rollout.state = "Progressing" if pb.clusters_ready < pb.clusters_desired else "Complete"
        third = max(1, pb.clusters_desired // 3)
        bad = pb.clusters_desired - pb.clusters_ready
        pb.rollout.partitions.extend(
            [
                fleet_pb2.PartitionStatus(
                    name="dev", count=third, unavailable=0, state="Complete", max_unavailable=1
                ),
                fleet_pb2.PartitionStatus(
                    name="test",
                    count=third,
                    unavailable=bad,
                    state="Progressing" if bad else "Complete",
                    max_unavailable=max(1, third // 10),
                ),
                fleet_pb2.PartitionStatus(
                    name="prod",
                    count=third,
                    unavailable=0,
                    state="Pending" if bad else "Complete",
                    max_unavailable=max(1, third // 10),
                ),
            ]
        )

    return enrich


def chromium(profile: str) -> Any:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    return webdriver.Chrome(
        options=options, service=Service(executable_path="/usr/bin/chromedriver")
    )


def _mark(driver: Any, name: str) -> float | None:
    got = driver.execute_script(
        "const e = performance.getEntriesByName(arguments[0]);"
        "return e.length ? e[0].startTime : null;",
        name,
    )
    return float(got) if got is not None else None


def load_page(driver: Any, url: str) -> dict[str, float]:
    driver.get(url)
    WebDriverWait(driver, 60, poll_frequency=0.05).until(
        lambda d: all(
            _mark(d, f"argosy:{n}") is not None for n in ("attention", "bundles", "clusters")
        )
    )
    marks = {n: _mark(driver, f"argosy:{n}") or 0.0 for n in ("attention", "bundles", "clusters")}
    nav = driver.execute_script(
        "const n = performance.getEntriesByType('navigation')[0];"
        "return {dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd};"
    )
    rows = driver.execute_script("return document.querySelectorAll('tr').length")
    return {
        **{f"{k}_ms": v for k, v in marks.items()},
        "dom_content_loaded_ms": nav["dcl"],
        "rows_in_dom": rows,
    }


WATCH_ROW = """
const name = arguments[0], state = arguments[1];
window.argosySeen = null;
const check = () => {
  const row = document.querySelector(`#clusters tbody tr[data-name="${name}"]`);
  if (row && row.cells[2].textContent === state && window.argosySeen === null) {
    window.argosySeen = performance.timeOrigin + performance.now();
  }
};
if (window.argosyObserver) window.argosyObserver.disconnect();
window.argosyObserver = new MutationObserver(check);
window.argosyObserver.observe(
  document.getElementById('clusters'), {childList: true, subtree: true});
"""


async def live_updates(
    driver: Any, book: StatusBook, fleet: SyntheticFleet, count: int
) -> list[float]:
    """Milliseconds from a state change in the book to the row showing it on the open page."""
    ready = [c for c in fleet.records.values() if book.cluster_view(c.id).state == State.READY]  # type: ignore[union-attr]
    bundle = next(iter(fleet.bundles))
    out = []
    for record in ready[:count]:
        await asyncio.to_thread(driver.execute_script, WATCH_ROW, record.name, State.ERR_APPLIED)
        dep = fleet.deployments[(bundle, record.id)]
        dep.state, dep.ready, dep.error = State.ERR_APPLIED, False, "apply failed: quota exceeded"
        changed = time.time() * 1000
        book.set_state(bundle, record.id, State.ERR_APPLIED)

        def seen() -> float:
            WebDriverWait(driver, 10, poll_frequency=0.01).until(
                lambda d: d.execute_script("return window.argosySeen") is not None
            )
            return float(driver.execute_script("return window.argosySeen"))

        out.append(await asyncio.to_thread(seen) - changed)
    return out


async def server_side(url: str, cookie: str) -> dict[str, float]:
    async with aiohttp.ClientSession(cookies={"argosy_dashboard": cookie}) as http:
        times = []
        for offset in (0, 5000, 9950):
            started = time.perf_counter()
            async with http.get(f"{url}api/clusters?offset={offset}&limit=50") as resp:
                await resp.read()
            times.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        async with http.get(f"{url}api/attention?limit=50") as resp:
            body = await resp.json()
        attention = (time.perf_counter() - started) * 1000
    return {
        "clusters_page_ms_median": statistics.median(times),
        "attention_page_ms": attention,
        "attention_rows": body["total"],
    }


async def rollout_side(
    url: str,
    cookie: str,
    *,
    book: StatusBook,
    fleet: SyntheticFleet,
    dashboard: Dashboard,
    rounds: int,
) -> dict[str, float]:
    """A rollout of the first bundle in full swing: every deployment OutOfSync or NotReady, one
    changing before each request (the book changes every broadcast window then), and the same
    request again with nothing changed. Timed: a page of the bundle's clusters, the
    needs-attention page, and the model applying a one-cluster broadcast."""
    bundle = next(iter(fleet.bundles))
    records = list(fleet.records.values())
    for i, record in enumerate(records):
        state = State.OUT_OF_SYNC if i % 2 else State.NOT_READY
        dep = fleet.deployments[(bundle, record.id)]
        dep.state, dep.ready, dep.resources = state, False, _resources(State.NOT_READY, bundle)
        book.set_state(bundle, record.id, state)
    while dashboard.model.bundles[bundle]["ready"]:  # noqa: ASYNC110 (the broadcast of it)
        await asyncio.sleep(0.05)
    routes = {
        "bundle_clusters": f"{url}api/bundles/{bundle}/clusters?limit=50",
        "bundle_clusters_last_page": (
            f"{url}api/bundles/{bundle}/clusters?limit=50&offset={len(records) - 50}"
        ),
        "attention": f"{url}api/attention?limit=50",
    }
    times: dict[str, list[float]] = {}
    total = 0
    async with aiohttp.ClientSession(cookies={"argosy_dashboard": cookie}) as http:
        for n in range(rounds):
            record = records[n % len(records)]
            dep = fleet.deployments[(bundle, record.id)]
            for key, route in routes.items():
                for when in ("changed", "unchanged"):
                    if when == "changed":
                        flip = (
                            State.OUT_OF_SYNC if dep.state == State.NOT_READY else State.NOT_READY
                        )
                        dep.state = flip
                        book.set_state(bundle, record.id, flip)
                    started = time.perf_counter()
                    async with http.get(route) as resp:
                        body = await resp.json()
                    times.setdefault(f"{key}_{when}_ms", []).append(
                        (time.perf_counter() - started) * 1000
                    )
                    if key == "attention":
                        total = body["total"]
    applies = []
    for n in range(max(rounds, 100)):
        msg = fleet_pb2.WatchStatusResponse(
            clusters=[
                fleet_pb2.ClusterStatus(
                    name=records[n % len(records)].name,
                    state=State.NOT_READY if n % 2 else State.OUT_OF_SYNC,
                    connected=True,
                )
            ]
        )
        started = time.perf_counter()
        dashboard.model.apply(msg)
        applies.append((time.perf_counter() - started) * 1000)
    out = {key: statistics.median(values) for key, values in times.items()}
    out["attention_rows"] = total
    out["model_apply_one_cluster_ms"] = statistics.median(applies)
    return out


async def screenshots(driver: Any, url: str, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)

    def shoot() -> None:
        driver.get(url)
        WebDriverWait(driver, 30).until(lambda d: _mark(d, "argosy:clusters") is not None)
        time.sleep(0.3)  # let the last list paint (a screenshot, not a measurement)
        driver.save_screenshot(str(out / "dashboard-overview.png"))
        search = driver.find_element(By.ID, "search")
        search.send_keys("env=prod")
        WebDriverWait(driver, 10).until(
            lambda d: (
                "prod"
                in d.execute_script(
                    "const r = document.querySelector('#clusters tbody tr');"
                    "return r ? r.textContent : ''"
                )
            )
        )
        time.sleep(0.3)
        driver.save_screenshot(str(out / "dashboard-search.png"))
        search.clear()
        driver.get(url + "#/bundle/web")
        driver.refresh()
        WebDriverWait(driver, 30).until(lambda d: _mark(d, "argosy:deployments") is not None)
        time.sleep(0.3)
        driver.save_screenshot(str(out / "dashboard-bundle.png"))
        driver.delete_all_cookies()
        driver.get(url + "login")
        driver.save_screenshot(str(out / "dashboard-login.png"))

    await asyncio.to_thread(shoot)
    say(f"screenshots in {out}/dashboard-{{overview,search,bundle,login}}.png")


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    book = StatusBook()
    scratch = tempfile.TemporaryDirectory(prefix="argosy-bench-events-")
    store = SqliteStore(Path(scratch.name) / "events.db")
    await store.open()
    fleet = SyntheticFleet(store)
    fleet.pins["web"] = 3
    started = time.perf_counter()
    populate(book, fleet, clusters=args.clusters, bundles=args.bundles)
    await record_events(fleet.events, fleet)
    fed = time.perf_counter() - started
    say(f"{args.clusters} clusters x {args.bundles} bundles fed in {fed:.1f}s")
    broadcaster = StatusBroadcaster(book, enrich=rollout_enrich(fleet))
    dashboard = Dashboard(
        listen="127.0.0.1:0",
        fleet=fleet,
        book=book,
        broadcaster=broadcaster,
        role_of=_viewer,
        ssl_context=None,
    )
    results: dict[str, Any] = {"clusters": args.clusters, "bundles": args.bundles}
    async with asyncio.TaskGroup() as tg:
        loops = [
            tg.create_task(broadcaster.run(), name="bench-broadcaster"),
            tg.create_task(dashboard.run(), name="bench-dashboard"),
        ]
        try:
            await asyncio.wait_for(dashboard.ready.wait(), 30)
            while not dashboard.model.clusters:  # noqa: ASYNC110 (the first snapshot)
                await asyncio.sleep(0.05)
            url = dashboard.url
            results["server"] = await server_side(url, "viewer")
            if args.server_only:
                results["rollout"] = await rollout_side(
                    url, "viewer", book=book, fleet=fleet, dashboard=dashboard, rounds=args.rounds
                )
                return results
            with tempfile.TemporaryDirectory(prefix="argosy-bench-chromium-") as profile:
                driver = await asyncio.to_thread(chromium, profile)
                try:
                    await asyncio.to_thread(driver.get, url + "login")
                    driver.add_cookie({"name": "argosy_dashboard", "value": "viewer", "path": "/"})
                    loads = [
                        await asyncio.to_thread(load_page, driver, url) for _ in range(args.loads)
                    ]
                    results["first_render"] = {
                        k: statistics.median(load[k] for load in loads) for k in loads[0]
                    }
                    updates = await live_updates(driver, book, fleet, args.updates)
                    results["live_update_ms"] = {
                        "median": statistics.median(updates),
                        "max": max(updates),
                        "count": len(updates),
                    }
                    if args.screenshots:
                        await screenshots(driver, url, args.screenshots)
                finally:
                    await asyncio.to_thread(driver.quit)
            # Last: it leaves every deployment of the first bundle out of Ready.
            results["rollout"] = await rollout_side(
                url, "viewer", book=book, fleet=fleet, dashboard=dashboard, rounds=args.rounds
            )
        finally:
            for task in loops:
                task.cancel()
    await store.close()
    scratch.cleanup()
    return results


async def _viewer(token: str) -> str | None:
    return "viewer" if token == "viewer" else None


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.dashboard", description=__doc__)
    parser.add_argument("--clusters", type=int, default=10_000)
    parser.add_argument("--bundles", type=int, default=1)
    parser.add_argument("--updates", type=int, default=10, help="live updates to time")
    parser.add_argument("--loads", type=int, default=3, help="page loads to time")
    parser.add_argument(
        "--rounds", type=int, default=20, help="requests timed per route during the rollout"
    )
    parser.add_argument(
        "--server-only",
        action="store_true",
        help="time the server's routes (and the rollout) only, without Chromium",
    )
    parser.add_argument("--screenshots", type=Path, default=None, help="write PNGs here")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here too")
    args = parser.parse_args(argv)
    if args.clusters < 10:
        parser.error("--clusters must be at least 10")
    try:
        results = asyncio.run(main_async(args))
    except* asyncio.CancelledError:
        raise SystemExit(1) from None
    deployments = results["clusters"] * results["bundles"]
    server = results["server"]
    say(f"\ndashboard, {results['clusters']} clusters, {deployments} deployments")
    if not args.server_only:
        fr, live = results["first_render"], results["live_update_ms"]
        say(
            f"  first render (median of {args.loads} loads): bundles {fr['bundles_ms']:.0f} ms, "
            f"clusters {fr['clusters_ms']:.0f} ms, "
            f"needs attention {fr['attention_ms']:.0f} ms after navigation start "
            f"(DOMContentLoaded {fr['dom_content_loaded_ms']:.0f} ms; "
            f"{fr['rows_in_dom']:.0f} table rows in the DOM)"
        )
        say(
            f"  live update (book change -> row on the open page): "
            f"median {live['median']:.0f} ms, max {live['max']:.0f} ms over {live['count']} "
            f"(includes the broadcaster's 50 ms window)"
        )
    say(
        f"  server: a page of 50 clusters {server['clusters_page_ms_median']:.1f} ms, "
        f"needs attention ({server['attention_rows']} rows) {server['attention_page_ms']:.1f} ms"
    )
    ro = results["rollout"]
    say(
        f"  rollout (every deployment of one bundle OutOfSync/NotReady; medians of {args.rounds}; "
        f"after a change / unchanged):\n"
        f"    the bundle's clusters, first page {ro['bundle_clusters_changed_ms']:.1f} / "
        f"{ro['bundle_clusters_unchanged_ms']:.1f} ms, last page "
        f"{ro['bundle_clusters_last_page_changed_ms']:.1f} / "
        f"{ro['bundle_clusters_last_page_unchanged_ms']:.1f} ms\n"
        f"    needs attention ({ro['attention_rows']:.0f} rows) {ro['attention_changed_ms']:.1f} / "
        f"{ro['attention_unchanged_ms']:.1f} ms\n"
        f"    the model applying a one-cluster broadcast {ro['model_apply_one_cluster_ms']:.2f} ms"
    )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
