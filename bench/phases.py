"""What the benchmark measures: its bundles and its phases, each bounded by a deadline.

Phases, in the order bench/fleet.py runs them: connect, propagation, diff update, idle, drift
reports, hub kill -9 and restart (or, with replicas, failover), then the raw asyncio TCP
fan-out baseline. Each writes its figures into the run's results dict, under the keys
docs/benchmarks.md and CI compare. Times are CLOCK_MONOTONIC, which all processes on one
machine share. The processes themselves belong to bench/rig.py.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import grpc

from argosy.api.v1 import fleet_pb2, fleet_pb2_grpc, resources_pb2
from bench.control import Child, cpu_seconds, socket_fds
from bench.report import percentile
from bench.rig import Rig, say

T = TypeVar("T")

PROPAGATE = "bench-propagate"
DIFF = "bench-diff"
DIFF_RESOURCES = 20
DRIFT_KEY = "/ConfigMap/default/diff-cm-01"
RAW_ROUNDS = 3


# --- bundles ---------------------------------------------------------------------------------


def _blob(seed: str, size: int) -> str:
    """Deterministic, incompressible-looking text of about `size` characters."""
    out: list[str] = []
    n = 0
    while sum(len(p) for p in out) < size:
        out.append(hashlib.sha256(f"{seed}-{n}".encode()).hexdigest())
        n += 1
    return "".join(out)[:size]


def _configmap(name: str, payload: str) -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
        f'data:\n  payload: "{payload}"\n'
    )


def propagate_bundle(payload_kb: int) -> fleet_pb2.BundleSpec:
    """About payload_kb KB of manifests in four ConfigMaps, for every cluster."""
    per = payload_kb * 1024 // 4
    files = {f"cm-{i}.yaml": _configmap(f"prop-cm-{i}", _blob(f"p{i}", per)) for i in range(4)}
    return _spec(PROPAGATE, files)


def diff_bundle(version: int) -> fleet_pb2.BundleSpec:
    """Twenty resources (18 ConfigMaps of ~1 KB, a Deployment, a Service); v2 changes one."""
    files = {
        f"cm-{i:02d}.yaml": _configmap(
            f"diff-cm-{i:02d}", _blob(f"d{i}-v{version if i == 0 else 1}", 1000)
        )
        for i in range(DIFF_RESOURCES - 2)
    }
    files["web.yaml"] = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n"
        "spec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n"
        "  template:\n    metadata:\n      labels: {app: web}\n"
        "    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n"
        "        ports:\n        - containerPort: 80\n"
        "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n"
        "spec:\n  selector: {app: web}\n  ports:\n  - port: 80\n"
    )
    return _spec(DIFF, files)


def _spec(name: str, files: Mapping[str, str]) -> fleet_pb2.BundleSpec:
    return fleet_pb2.BundleSpec(
        name=name,
        files=[resources_pb2.BundleFile(path=p, content=c.encode()) for p, c in files.items()],
    )


async def until(
    probe: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    timeout: float,
    interval: float = 0.1,
) -> tuple[T, bool]:
    """Poll probe() until done(value) or the deadline; the last value, and whether it was done."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if done(value):
            return value, True
        if time.monotonic() >= deadline:
            return value, False
        await asyncio.sleep(interval)


# --- the phases ------------------------------------------------------------------------------


class Phases:
    """The measuring steps of one run, on a started rig; figures go into `r`."""

    def __init__(self, rig: Rig, r: dict[str, Any]) -> None:
        self.rig = rig
        self.o = rig.o
        self.r = r

    async def connect(self) -> None:
        rig = self.rig
        assert rig.hub is not None
        n = self.o.spokes
        say(f"connecting {n} spokes from {len(rig.hosts)} processes ...")
        per_host = max(1, self.o.concurrency // len(rig.hosts))
        profiles = await rig.start_profiles("connect")
        cpu = rig.cpu()
        started = time.monotonic()
        await asyncio.gather(*(h.call("connect", concurrency=per_host) for h in rig.hosts))
        state, ok = await until(
            lambda: rig.hub_call("sync"),
            lambda s: s["connected"] >= n,
            timeout=max(120.0, n / 50),
            interval=0.2,
        )
        self.r["connect_seconds"] = round(time.monotonic() - started, 2)
        hub_cpu, sim_cpu = (b - a for a, b in zip(cpu, rig.cpu(), strict=True))
        await rig.stop_profiles(profiles)
        self.r["connect_cpu_seconds"] = {"hub": round(hub_cpu, 2), "simulators": round(sim_cpu, 2)}
        self.r["spokes_connected"] = state["connected"]
        hosts = await rig.hosts_status()
        self.r["connect_failures"] = hosts["connect_failures"]
        self.r["hub_socket_fds"] = sum(socket_fds(h.pid) for h in rig.all_hubs())
        say(f"  {state['connected']}/{n} connected in {self.r['connect_seconds']} s")
        if not ok:
            say("  not all spokes connected before the deadline; continuing with those that did")

    async def apply_and_wait(
        self, stub: fleet_pb2_grpc.FleetServiceAsyncStub, spec: fleet_pb2.BundleSpec
    ) -> tuple[list[float], float]:
        """Apply a bundle; latencies (ms) from the apply to each ack as the hub read it."""
        rig = self.rig
        assert rig.hub is not None
        n = self.r["spokes_connected"]
        await rig.hub_call("track", bundle=spec.name)
        profiles = await rig.start_profiles(spec.name)
        cpu = rig.cpu()
        started = time.monotonic()
        await stub.ApplyBundles(fleet_pb2.ApplyBundlesRequest(bundles=[spec]), timeout=300)
        applied = time.monotonic() - started
        state, ok = await until(
            lambda: rig.hub_call("acks", bundle=spec.name),
            lambda s: s["count"] >= n,
            timeout=max(60.0, n / 100),
            interval=0.05,
        )
        if not ok:
            say(f"  only {state['count']}/{n} acked {spec.name} before the deadline")
        wall = time.monotonic() - started
        await rig.stop_profiles(profiles)
        hub_cpu, sim_cpu = (b - a for a, b in zip(cpu, rig.cpu(), strict=True))
        self.r[f"{spec.name}_hub_cpu_seconds"] = round(hub_cpu, 3)
        self.r[f"{spec.name}_cpu_percent"] = {
            "hub": round(hub_cpu / wall * 100, 1),
            "simulators": round(sim_cpu / wall * 100, 1),
        }
        acks = await rig.hub_call("acks", bundle=spec.name, times=True)
        sent = [(t - started) * 1000 for t in acks["sent"]]
        self.r[f"{spec.name}_sent_ms"] = {
            "p50": round(percentile(sent, 50), 1),
            "p99": round(percentile(sent, 99), 1),
            "max": round(percentile(sent, 100), 1),
        }
        lag = [t * 1000 for t in acks["lag"]]
        self.r[f"{spec.name}_spoke_lag_ms"] = {
            "p50": round(percentile(lag, 50), 1),
            "p99": round(percentile(lag, 99), 1),
        }
        return [(t - started) * 1000 for t in acks["times"]], applied * 1000

    async def propagation(self, stub: fleet_pb2_grpc.FleetServiceAsyncStub) -> None:
        say(f"propagation: applying {PROPAGATE} (~{self.o.payload_kb} KB) to all ...")
        lat, applied_ms = await self.apply_and_wait(stub, propagate_bundle(self.o.payload_kb))
        r = self.r
        r["propagation_acked"] = len(lat)
        r["propagation_apply_rpc_ms"] = round(applied_ms, 1)
        r["propagation_p50_ms"] = round(percentile(lat, 50), 1)
        r["propagation_p99_ms"] = round(percentile(lat, 99), 1)
        r["propagation_max_ms"] = round(percentile(lat, 100), 1)
        r["propagation_sent_p50_ms"] = r[f"{PROPAGATE}_sent_ms"]["p50"]
        r["propagation_sent_p99_ms"] = r[f"{PROPAGATE}_sent_ms"]["p99"]
        r["propagation_spoke_lag_p99_ms"] = r[f"{PROPAGATE}_spoke_lag_ms"]["p99"]
        # Everything the hub spent from the apply to the last ack: render, store, serialise,
        # N writes, N acks and the status reports that follow them.
        r["propagation_hub_cpu_seconds"] = r[f"{PROPAGATE}_hub_cpu_seconds"]
        r["propagation_hub_cpu_us_per_spoke"] = round(
            r["propagation_hub_cpu_seconds"] / max(1, len(lat)) * 1e6
        )
        say(f"  p50 {r['propagation_p50_ms']} ms, p99 {r['propagation_p99_ms']} ms")

    async def diff_update(self, stub: fleet_pb2_grpc.FleetServiceAsyncStub) -> None:
        rig = self.rig
        say(f"diff: applying {DIFF} v1 ({DIFF_RESOURCES} resources), then v2 (one changed) ...")
        await self.apply_and_wait(stub, diff_bundle(1))
        before = (await rig.hub_call("stats"))["sends"]
        lat, _ = await self.apply_and_wait(stub, diff_bundle(2))
        after = (await rig.hub_call("stats"))["sends"]
        sizes = (await rig.hosts_status())["sizes"].get(DIFF, {})
        r = self.r
        r["full_bytes"] = sizes.get("full", [0, 0])[1]
        r["update_diff_bytes"] = sizes.get("diff", [0, 0])[1]
        diffs = after["diff"] - before["diff"]
        r["hub_diff_sends"] = diffs
        r["hub_full_sends_on_update"] = after["full"] - before["full"]
        r["hub_bytes_per_update_send"] = round((after["bytes"] - before["bytes"]) / max(1, diffs))
        r["update_propagation_p99_ms"] = round(percentile(lat, 99), 1)
        say(f"  diff {r['update_diff_bytes']} B vs full {r['full_bytes']} B")

    async def settle(self, quiet: float = 2.0, timeout: float = 120.0) -> None:
        """Wait until the hub has read no status report for `quiet` seconds (bounded)."""
        deadline = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = (await self.rig.hub_call("stats"))["status_reports"]
            if count != last:
                last, since = count, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            await asyncio.sleep(0.25)

    async def idle(self, rss_before: int) -> None:
        rig = self.rig
        assert rig.hub is not None
        secs = self.o.idle_seconds
        say(f"idle: hub CPU over {secs:g} s with every spoke connected, nothing changing ...")
        rss = rig.hubs_rss()
        profiles = await rig.start_profiles("idle")
        cpu = rig.hubs_cpu()
        await asyncio.sleep(secs)
        used = rig.hubs_cpu() - cpu
        await rig.stop_profiles(profiles)
        r = self.r
        r["hub_rss_connected_idle_bytes"] = rss
        r["hub_rss_bytes_per_spoke"] = round((rss - rss_before) / max(1, self.o.spokes))
        r["hub_idle_cpu_percent"] = round(used / secs * 100, 2)
        r["idle_seconds"] = secs
        say(f"  {r['hub_idle_cpu_percent']} % CPU, {r['hub_rss_bytes_per_spoke']} B RSS/spoke")

    async def drift(self) -> None:
        rig = self.rig
        assert rig.hub is not None
        o = self.o
        say(f"drift: every spoke reports drift, {o.drift_rounds} rounds {o.drift_interval} s apart")
        sent0 = (await rig.hosts_status())["reports_sent"]
        await rig.hub_call("reset_status")
        cpu, started = rig.hubs_cpu(), time.monotonic()
        await asyncio.gather(
            *(
                h.call(
                    "drift",
                    key=DRIFT_KEY,
                    field="payload",
                    rounds=o.drift_rounds,
                    interval=o.drift_interval,
                    timeout=o.drift_rounds * o.drift_interval + 600,
                )
                for h in rig.hosts
            )
        )
        await self.settle(quiet=1.0)
        stats = await rig.hub_call("stats")
        wall = time.monotonic() - started
        used = rig.hubs_cpu() - cpu
        sent = (await rig.hosts_status())["reports_sent"] - sent0
        span = stats["status_last"] - stats["status_first"]
        r = self.r
        r["status_reports_sent"] = sent
        r["status_reports_read_by_hub"] = stats["status_reports"]
        r["status_reports_per_second_sustained"] = round(stats["status_reports"] / max(span, 1e-9))
        r["status_window_seconds"] = round(span, 2)
        r["hub_cpu_percent_during_reports"] = round(used / wall * 100, 1)
        r["status_reports_per_hub_cpu_second"] = round(stats["status_reports"] / max(used, 1e-9))
        say(
            f"  {stats['status_reports']} reports read in {span:.2f} s "
            f"= {r['status_reports_per_second_sustained']}/s (hub CPU {used / wall * 100:.0f} %)"
        )

    async def sample(self) -> bytes:
        """The propagated bundle's payload as a spoke received it: the raw baseline sends it."""
        doc = await self.rig.hosts[0].call("sample", bundle=PROPAGATE)
        return base64.b64decode(doc["data"])

    async def reconnect(self) -> None:
        rig = self.rig
        if rig.replicas:
            await self.failover()
            return
        assert rig.hub is not None
        n = self.r["spokes_connected"]
        say("reconnect: kill -9 the hub, restart it on the same data dir and port ...")
        await asyncio.gather(*(h.call("mark") for h in rig.hosts))
        opened0 = (await rig.hosts_status())["streams_opened"]
        await rig.hub.kill()
        killed = time.monotonic()
        rig.hub = await rig.start_hub()
        self.r["hub_restart_seconds"] = round(time.monotonic() - killed, 2)
        # With --profile: the restarted hub during the storm (py-spy's attach delays it by 1 s).
        profiles = await rig.start_profiles("reconnect")
        async with rig.admin_channel() as channel:
            # `argosy status` during the storm of N spokes redialling, as an operator would.
            stop = asyncio.Event()
            status = asyncio.create_task(
                self.status_latencies(fleet_pb2_grpc.FleetServiceStub(channel), stop),
                name="status-during-reconnect",
            )
            try:
                state, ok = await until(
                    lambda: rig.hub_call("sync", bundles=[PROPAGATE, DIFF]),
                    lambda s: s["in_sync"] >= n,
                    timeout=max(120.0, n / 50),
                    interval=0.2,
                )
                self.r["reconnect_seconds"] = round(time.monotonic() - killed, 2)
            finally:
                stop.set()
            lat = sorted(await status)
        await rig.stop_profiles(profiles)
        self.r["status_during_reconnect_calls"] = len(lat)
        self.r["status_during_reconnect_p99_ms"] = round(percentile(lat, 99), 1)
        self.r["status_during_reconnect_max_ms"] = round(percentile(lat, 100), 1)
        self.r["reconnected_in_sync"] = state["in_sync"]
        # The hub counts a stream once it wrote the welcome; wait until every spoke has read it
        # too (a busy simulator lags), so that anything resent is counted below.
        hosts, _ = await until(
            rig.hosts_status,
            lambda h: h["streams_opened"] - opened0 >= n,
            timeout=max(60.0, n / 100),
            interval=0.5,
        )
        self.r["reconnect_spoke_side_seconds"] = round(time.monotonic() - killed, 2)
        await asyncio.sleep(1.0)  # anything resent arrives within this
        hosts = await rig.hosts_status()
        sends = (await rig.hub_call("stats"))["sends"]
        # The restarted hub's own counters start at zero, so they count its resends too.
        self.r["reconnect_full_resends"] = max(hosts["full"], sends["full"])
        self.r["reconnect_diff_resends"] = hosts["diff"]
        self.r["reconnect_hub_sends"] = sends
        self.r["reconnect_streams_opened"] = hosts["streams_opened"] - opened0
        say(
            f"  {state['in_sync']}/{n} back in sync in {self.r['reconnect_seconds']} s, "
            f"{hosts['full']} full resends"
        )
        if not ok:
            say("  not all spokes were back in sync before the deadline")

    @staticmethod
    async def status_latencies(
        stub: fleet_pb2_grpc.FleetServiceAsyncStub, stop: asyncio.Event, interval: float = 0.2
    ) -> list[float]:
        """GetStatus (what `argosy status` calls) every `interval` until `stop`; each call's
        latency in ms, a call that fails or passes its 10 s deadline counted as 10 s."""
        out: list[float] = []
        while not stop.is_set():
            started = time.monotonic()
            try:
                await stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=10)
            except grpc.aio.AioRpcError:
                out.append(10_000.0)
            else:
                out.append((time.monotonic() - started) * 1000)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
        return out

    async def failover(self) -> None:
        """--hubs K: kill -9 one replica, not restarted; its spokes move to the others."""
        rig = self.rig
        n = self.r["spokes_connected"]
        victim = rig.replicas.pop()
        lost = (await victim.call("sync"))["connected"]
        say(f"failover: kill -9 one of {self.o.hubs} replicas ({lost} spokes on it) ...")
        await asyncio.gather(*(h.call("mark") for h in rig.hosts))
        opened0 = (await rig.hosts_status())["streams_opened"]
        sends0 = (await rig.hub_call("stats"))["sends"]
        await victim.kill()
        killed = time.monotonic()
        state, ok = await until(
            lambda: rig.hub_call("sync", bundles=[PROPAGATE, DIFF]),
            lambda s: s["in_sync"] >= n,
            timeout=max(120.0, n / 50),
            interval=0.2,
        )
        self.r["reconnect_seconds"] = round(time.monotonic() - killed, 2)
        self.r["reconnected_in_sync"] = state["in_sync"]
        self.r["failover_spokes_moved"] = lost
        hosts, _ = await until(
            rig.hosts_status,
            lambda h: h["streams_opened"] - opened0 >= lost,
            timeout=max(60.0, n / 100),
            interval=0.5,
        )
        await asyncio.sleep(1.0)  # anything resent arrives within this
        hosts = await rig.hosts_status()
        sends = (await rig.hub_call("stats"))["sends"]
        full = sends["full"] - sends0["full"]
        self.r["reconnect_full_resends"] = max(hosts["full"], full)
        self.r["reconnect_diff_resends"] = hosts["diff"]
        self.r["reconnect_streams_opened"] = hosts["streams_opened"] - opened0
        say(
            f"  {state['in_sync']}/{n} in sync on the survivors in "
            f"{self.r['reconnect_seconds']} s, {self.r['reconnect_full_resends']} full resends"
        )
        if not ok:
            say("  not all spokes were back in sync before the deadline")

    async def grpc_floor(self, payload: bytes) -> None:
        """The floor the hub is held to: bench/grpcfloor.py, the same bytes over grpc.aio and
        the same transport to as many connections, with nothing of the hub; median of 3."""
        rig = self.rig
        n = self.o.spokes
        say(f"grpc.aio floor ({self.o.transport}): {len(payload)} B to {n} streams, x3 ...")
        started = time.monotonic()
        server, clients, _ = await rig.start_floor()
        try:
            self.r["floor_connect_seconds"] = round(time.monotonic() - started, 2)
            await until(lambda: server.call("count"), lambda s: s["connections"] >= n, timeout=60)
            rounds: list[tuple[list[float], list[float], float]] = []
            for _ in range(RAW_ROUNDS):
                cpu = cpu_seconds(server.pid)
                got = await server.call(
                    "fanout", payload=base64.b64encode(payload).decode(), timeout=300
                )
                used = cpu_seconds(server.pid) - cpu
                rounds.append(
                    ([t * 1000 for t in got["sent"]], [t * 1000 for t in got["acks"]], used)
                )
        finally:
            await asyncio.gather(*(c.kill() for c in clients))
            await server.stop()
        rounds.sort(key=lambda x: percentile(x[1], 99))
        sent, acks, used = rounds[len(rounds) // 2]
        r = self.r
        r["floor_rounds_ack_p99_ms"] = [round(percentile(x[1], 99), 1) for x in rounds]
        r["floor_sent_p50_ms"] = round(percentile(sent, 50), 1)
        r["floor_sent_p99_ms"] = round(percentile(sent, 99), 1)
        r["floor_ack_p50_ms"] = round(percentile(acks, 50), 1)
        r["floor_ack_p99_ms"] = round(percentile(acks, 99), 1)
        r["floor_cpu_seconds"] = round(used, 3)
        say(
            f"  hand-off p99 {r['floor_sent_p99_ms']} ms, ack p99 {r['floor_ack_p99_ms']} ms, "
            f"server CPU {used:.2f} s"
        )

    async def raw_baseline(self, payload: bytes) -> None:
        """The floor: the same payload over plain asyncio TCP to as many connections."""
        rig = self.rig
        n = self.o.spokes
        say(f"raw baseline: asyncio TCP fan-out of {len(payload)} B to {n} connections, x3 ...")
        server = await rig.start_raw_server()
        clients: list[Child] = []
        try:
            port = (await server.call("listen"))["port"]
            clients = await rig.start_raw_clients(port, rounds=RAW_ROUNDS)
            await asyncio.gather(*(c.call("connect", timeout=300) for c in clients))
            await until(lambda: server.call("count"), lambda s: s["connections"] >= n, timeout=60)
            rounds = []
            for _ in range(RAW_ROUNDS):
                acks = await server.call(
                    "fanout", payload=base64.b64encode(payload).decode(), timeout=300
                )
                rounds.append([a * 1000 for a in acks["acks"]])
        finally:
            await asyncio.gather(*(c.kill() for c in clients))
            await server.stop()
        # The round with the median p99 stands for the baseline; all are kept.
        rounds.sort(key=lambda lat: percentile(lat, 99))
        lat = rounds[len(rounds) // 2]
        r = self.r
        r["raw_fanout_rounds_p99_ms"] = [round(percentile(x, 99), 2) for x in rounds]
        r["raw_fanout_p50_ms"] = round(percentile(lat, 50), 2)
        r["raw_fanout_p99_ms"] = round(percentile(lat, 99), 2)
        r["raw_fanout_max_ms"] = round(percentile(lat, 100), 2)
        say(f"  p99 {r['raw_fanout_p99_ms']} ms, all {r['raw_fanout_max_ms']} ms")
