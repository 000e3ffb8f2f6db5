"""The fleet benchmark: one real hub process, N real spokes in P simulator processes.

    python -m bench.fleet --spokes N [--processes P] [--json FILE] [--idle-seconds 30]
    python -m bench.fleet --spokes N --hubs K   # K hub replicas on one PostgreSQL

With --hubs K (K >= 2) the hubs are replicas on one throwaway PostgreSQL (tests/pg.py starts
it), all on one port with --reuse-port, so the kernel spreads the spokes over them; the admin
calls land on whichever replica the kernel picks. Hub figures are summed over the replicas
(CPU, RSS, counters), and the reconnect phase kill -9s one replica without restarting it: its
spokes fail over to the others.

The hub runs as `python -m bench.hubproc` (the code of `argosy hub`, with observers; see there),
on SQLite in a temporary directory. Spokes run in `python -m bench.simhost` processes, each
spoke with its own channel and TCP connection. With two or more CPUs the hub is pinned to CPU 0
and everything else to the other CPUs, so "one hub process on one core" is what is measured.

Phases, each bounded by a deadline: connect, propagation, diff update, idle, drift reports,
hub kill -9 and restart, then the raw asyncio TCP fan-out baseline. Times are CLOCK_MONOTONIC,
which all processes on one machine share.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import math
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import grpc

from argosy.api.v1 import fleet_pb2, fleet_pb2_grpc, resources_pb2
from bench.control import Child, cpu_seconds, raise_fd_limit, rss_bytes, socket_fds
from tests.pg import _bin_dir, _start, _stop  # --hubs: the pg test fixture's throwaway server

T = TypeVar("T")

PROPAGATE = "bench-propagate"
DIFF = "bench-diff"
DIFF_RESOURCES = 20
DRIFT_KEY = "/ConfigMap/default/diff-cm-01"
SPOKES_PER_PROCESS = 2500
RAW_ROUNDS = 3

# (figure, goal text, check) for N = 10,000, from issue #6.
GOALS: list[tuple[str, str, Callable[[Mapping[str, Any]], bool]]] = [
    ("spokes_connected", "= spokes", lambda r: r["spokes_connected"] == r["spokes"]),
    ("propagation_p99_ms", "<= 4,000", lambda r: r["propagation_p99_ms"] <= 4000),
    ("hub_rss_bytes_per_spoke", "<= 60 KB", lambda r: r["hub_rss_bytes_per_spoke"] <= 60_000),
    ("hub_idle_cpu_percent", "<= 10", lambda r: r["hub_idle_cpu_percent"] <= 10),
    (
        "update_diff_bytes",
        "<= 15 % of full",
        lambda r: r["update_diff_bytes"] <= 0.15 * r["full_bytes"],
    ),
    (
        "reconnect_seconds",
        "<= 30, 0 full resends",
        lambda r: r["reconnect_seconds"] <= 30 and r["reconnect_full_resends"] == 0,
    ),
    ("raw_limit_ratio", "<= 8", lambda r: r["raw_limit_ratio"] <= 8),
]


@dataclass(frozen=True)
class Options:
    spokes: int
    processes: int
    json_path: Path | None
    idle_seconds: float
    drift_rounds: int
    drift_interval: float
    payload_kb: int
    concurrency: int
    pin: bool
    keep: bool
    profile: Path | None
    hubs: int = 1


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


# --- helpers ---------------------------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


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


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return {
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "cpu": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "grpcio": metadata.version("grpcio"),
        "protobuf": metadata.version("protobuf"),
    }


def _cpu_model() -> str:
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    return platform.processor()


# --- the run ---------------------------------------------------------------------------------


class Bench:
    def __init__(self, opts: Options) -> None:
        self.o = opts
        self.tmp = Path(tempfile.mkdtemp(prefix="argosy-bench-"))
        self.data_dir = self.tmp / "hub"
        self.logs = self.tmp / "logs"
        self.logs.mkdir()
        ncpu = os.cpu_count() or 1
        pin = opts.pin and ncpu >= 2
        self.hub_cpus = "0" if pin else ""
        self.other_cpus = ",".join(str(c) for c in range(1, ncpu)) if pin else ""
        self.hub: Child | None = None
        # --hubs K: replicas 2..K, beside self.hub, on one PostgreSQL and one port.
        self.replicas: list[Child] = []
        self.pg: Any = None
        self.store = ""
        self.hub_argv: list[str] = []
        if opts.hubs > 1:
            # One CPU per replica when there are enough; else nothing is pinned.
            pin = opts.pin and ncpu > opts.hubs
            self.hub_cpus = "0" if pin else ""
            self.other_cpus = ",".join(str(c) for c in range(opts.hubs, ncpu)) if pin else ""
        self.hosts: list[Child] = []
        self.port = 0
        self.r: dict[str, Any] = {"spokes": opts.spokes, "processes": opts.processes}
        if opts.hubs > 1:
            self.r["hubs"] = opts.hubs

    async def start_hub(self) -> Child:
        argv = [sys.executable, "-m", "bench.hubproc", "--cpus", self.hub_cpus, "--"]
        argv += ["--data-dir", str(self.data_dir), "--listen", f"127.0.0.1:{self.port}"]
        # Plaintext, as the reference figures were measured; TLS costs extra CPU.
        argv += ["--log-level", "WARNING", "--insecure"]
        if self.store:
            argv += ["--store", self.store, "--reuse-port"]
        self.hub_argv = argv
        hub = await Child.start("hub", argv, stderr_path=str(self.logs / "hub.log"))
        ready = await hub.event(120)
        if ready.get("event") != "ready":
            raise RuntimeError(f"hub did not start; see {self.logs / 'hub.log'}")
        self.port = int(ready["port"])
        return hub

    async def start_replicas(self) -> None:
        """Hubs 2..K: the same command on the first hub's port (SO_REUSEPORT), own data dirs."""
        for i in range(1, self.o.hubs):
            argv = list(self.hub_argv)
            argv[argv.index("--cpus") + 1] = str(i) if self.hub_cpus else ""
            argv[argv.index("--data-dir") + 1] = str(self.tmp / f"hub{i}")
            argv[argv.index("--listen") + 1] = f"127.0.0.1:{self.port}"
            log = self.logs / f"hub{i}.log"
            hub = await Child.start(f"hub{i}", argv, stderr_path=str(log))
            ready = await hub.event(120)
            if ready.get("event") != "ready":
                raise RuntimeError(f"hub replica {i} did not start; see {log}")
            self.replicas.append(hub)

    async def start_postgresql(self) -> None:
        # The test fixture's server: initdb in a temp dir, 127.0.0.1, stopped at the end.
        bin_dir = _bin_dir()
        if bin_dir is None:
            raise RuntimeError("--hubs needs PostgreSQL (initdb, pg_ctl); see docs/postgresql.md")
        server, owner = await asyncio.to_thread(_start, bin_dir)
        self.pg = (bin_dir, server, owner)
        self.store = await server.create_database()
        say(f"PostgreSQL on port {server.port} for {self.o.hubs} hub replicas")

    def all_hubs(self) -> list[Child]:
        return [h for h in (self.hub, *self.replicas) if h is not None]

    async def run(self) -> dict[str, Any]:
        o, r = self.o, self.r
        r["machine"] = machine()
        r["pinned"] = {"hub": self.hub_cpus or "any", "others": self.other_cpus or "any"}
        if o.hubs > 1:
            await self.start_postgresql()
        self.hub = await self.start_hub()
        await self.start_replicas()
        address = f"127.0.0.1:{self.port}"
        pids = ", ".join(str(h.pid) for h in self.all_hubs())
        say(f"hub pid {pids} on {address}; logs in {self.logs}")
        async with grpc.aio.insecure_channel(address) as channel:
            stub = fleet_pb2_grpc.FleetServiceStub(channel)
            token = (await stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=10)).token
            await stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=10)
            rss_before = self.hubs_rss()
            r["hub_rss_before_bytes"] = rss_before
            await self.start_hosts(address, token)
            await self.connect()
            r["hub_rss_connected_bytes"] = self.hubs_rss()
            r["hub_rss_bytes_per_spoke_connected_only"] = round(
                (r["hub_rss_connected_bytes"] - rss_before) / o.spokes
            )
            await self.propagation(stub)
            await self.diff_update(stub)
            await self.settle()
            await self.idle(rss_before)
            await self.drift()
            sample = base64.b64decode(
                (await self.hosts[0].call("sample", bundle=PROPAGATE))["data"]
            )
            r["propagation_payload_bytes"] = len(sample)
        await self.reconnect()
        await self.stop_all()
        await self.raw_baseline(sample)
        r["raw_limit_ratio"] = round(r["propagation_p99_ms"] / r["raw_fanout_p99_ms"], 2)
        return r

    async def start_hosts(self, address: str, token: str) -> None:
        n, p = self.o.spokes, self.o.processes
        first = 0
        for i in range(p):
            count = n // p + (1 if i < n % p else 0)
            argv = [sys.executable, "-m", "bench.simhost", "--hub", address, "--token", token]
            argv += ["--first", str(first), "--count", str(count), "--cpus", self.other_cpus]
            self.hosts.append(
                await Child.start(f"sim{i}", argv, stderr_path=str(self.logs / f"sim{i}.log"))
            )
            first += count
        for h in self.hosts:
            await h.call("status", timeout=60)

    async def hosts_status(self) -> dict[str, Any]:
        docs = await asyncio.gather(*(h.call("status") for h in self.hosts))
        out: dict[str, Any] = {}
        for d in docs:
            for k, v in d.items():
                if isinstance(v, int | float) and not isinstance(v, bool):
                    out[k] = out.get(k, 0) + v
        sizes: dict[str, dict[str, list[int]]] = {}
        for d in docs:
            for bundle, kinds in d["sizes"].items():
                for kind, (lo, hi) in kinds.items():
                    span = sizes.setdefault(bundle, {}).setdefault(kind, [lo, hi])
                    span[0], span[1] = min(span[0], lo), max(span[1], hi)
        out["sizes"] = sizes
        return out

    async def start_profiles(self, phase: str) -> list[asyncio.subprocess.Process]:
        """py-spy on the hub and the first simulator for one phase, when --profile is given."""
        if self.o.profile is None or self.hub is None:
            return []
        self.o.profile.mkdir(parents=True, exist_ok=True)
        procs = []
        search = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        spy = shutil.which("py-spy", path=search) or "py-spy"
        for who, pid in (("hub", self.hub.pid), ("sim0", self.hosts[0].pid)):
            out = self.o.profile / f"{phase}-{who}.txt"
            procs.append(
                await asyncio.create_subprocess_exec(
                    spy, "record", "--pid", str(pid), "--rate", "200", "--format", "raw",
                    "--nonblocking", "--output", str(out),
                    stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                )
            )  # fmt: skip
        await asyncio.sleep(1.0)  # let py-spy attach before the phase starts
        return procs

    @staticmethod
    async def stop_profiles(procs: list[asyncio.subprocess.Process]) -> None:
        for p in procs:
            p.send_signal(signal.SIGINT)  # py-spy writes its output on SIGINT
        for p in procs:
            try:
                await asyncio.wait_for(p.wait(), 30)
            except TimeoutError:
                p.kill()

    def cpu(self) -> tuple[float, float]:
        """CPU seconds used so far by the hub, and by all simulator processes together."""
        return self.hubs_cpu(), sum(cpu_seconds(h.pid) for h in self.hosts)

    def hubs_cpu(self) -> float:
        """CPU seconds of every hub process together (one, or the replicas)."""
        return sum(cpu_seconds(h.pid) for h in self.all_hubs())

    def hubs_rss(self) -> int:
        return sum(rss_bytes(h.pid) for h in self.all_hubs())

    async def hub_call(self, cmd: str, **args: Any) -> dict[str, Any]:
        assert self.hub is not None
        if not self.replicas:
            return await self.hub.call(cmd, **args)
        return combine(cmd, await asyncio.gather(*(h.call(cmd, **args) for h in self.all_hubs())))

    async def connect(self) -> None:
        assert self.hub is not None
        n = self.o.spokes
        say(f"connecting {n} spokes from {len(self.hosts)} processes ...")
        per_host = max(1, self.o.concurrency // len(self.hosts))
        cpu = self.cpu()
        started = time.monotonic()
        await asyncio.gather(*(h.call("connect", concurrency=per_host) for h in self.hosts))
        state, ok = await until(
            lambda: self.hub_call("sync"),
            lambda s: s["connected"] >= n,
            timeout=max(120.0, n / 50),
            interval=0.2,
        )
        self.r["connect_seconds"] = round(time.monotonic() - started, 2)
        hub_cpu, sim_cpu = (b - a for a, b in zip(cpu, self.cpu(), strict=True))
        self.r["connect_cpu_seconds"] = {"hub": round(hub_cpu, 2), "simulators": round(sim_cpu, 2)}
        self.r["spokes_connected"] = state["connected"]
        hosts = await self.hosts_status()
        self.r["connect_failures"] = hosts["connect_failures"]
        self.r["hub_socket_fds"] = sum(socket_fds(h.pid) for h in self.all_hubs())
        say(f"  {state['connected']}/{n} connected in {self.r['connect_seconds']} s")
        if not ok:
            say("  not all spokes connected before the deadline; continuing with those that did")

    async def apply_and_wait(
        self, stub: fleet_pb2_grpc.FleetServiceAsyncStub, spec: fleet_pb2.BundleSpec
    ) -> tuple[list[float], float]:
        """Apply a bundle; latencies (ms) from the apply to each ack as the hub read it."""
        assert self.hub is not None
        n = self.r["spokes_connected"]
        await self.hub_call("track", bundle=spec.name)
        profiles = await self.start_profiles(spec.name)
        cpu = self.cpu()
        started = time.monotonic()
        await stub.ApplyBundles(fleet_pb2.ApplyBundlesRequest(bundles=[spec]), timeout=300)
        applied = time.monotonic() - started
        state, ok = await until(
            lambda: self.hub_call("acks", bundle=spec.name),
            lambda s: s["count"] >= n,
            timeout=max(60.0, n / 100),
            interval=0.05,
        )
        if not ok:
            say(f"  only {state['count']}/{n} acked {spec.name} before the deadline")
        wall = time.monotonic() - started
        await self.stop_profiles(profiles)
        hub_cpu, sim_cpu = (b - a for a, b in zip(cpu, self.cpu(), strict=True))
        self.r[f"{spec.name}_cpu_percent"] = {
            "hub": round(hub_cpu / wall * 100, 1),
            "simulators": round(sim_cpu / wall * 100, 1),
        }
        acks = await self.hub_call("acks", bundle=spec.name, times=True)
        sent = [(t - started) * 1000 for t in acks["sent"]]
        self.r[f"{spec.name}_sent_ms"] = {
            "p50": round(percentile(sent, 50), 1),
            "p99": round(percentile(sent, 99), 1),
            "max": round(percentile(sent, 100), 1),
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
        r["propagation_sent_p99_ms"] = r[f"{PROPAGATE}_sent_ms"]["p99"]
        say(f"  p50 {r['propagation_p50_ms']} ms, p99 {r['propagation_p99_ms']} ms")

    async def diff_update(self, stub: fleet_pb2_grpc.FleetServiceAsyncStub) -> None:
        say(f"diff: applying {DIFF} v1 ({DIFF_RESOURCES} resources), then v2 (one changed) ...")
        await self.apply_and_wait(stub, diff_bundle(1))
        before = (await self.hub_call("stats"))["sends"]
        lat, _ = await self.apply_and_wait(stub, diff_bundle(2))
        after = (await self.hub_call("stats"))["sends"]
        sizes = (await self.hosts_status())["sizes"].get(DIFF, {})
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
            count = (await self.hub_call("stats"))["status_reports"]
            if count != last:
                last, since = count, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return
            await asyncio.sleep(0.25)

    async def idle(self, rss_before: int) -> None:
        assert self.hub is not None
        secs = self.o.idle_seconds
        say(f"idle: hub CPU over {secs:g} s with every spoke connected, nothing changing ...")
        rss = self.hubs_rss()
        cpu = self.hubs_cpu()
        await asyncio.sleep(secs)
        used = self.hubs_cpu() - cpu
        r = self.r
        r["hub_rss_connected_idle_bytes"] = rss
        r["hub_rss_bytes_per_spoke"] = round((rss - rss_before) / max(1, self.o.spokes))
        r["hub_idle_cpu_percent"] = round(used / secs * 100, 2)
        r["idle_seconds"] = secs
        say(f"  {r['hub_idle_cpu_percent']} % CPU, {r['hub_rss_bytes_per_spoke']} B RSS/spoke")

    async def drift(self) -> None:
        assert self.hub is not None
        o = self.o
        say(f"drift: every spoke reports drift, {o.drift_rounds} rounds {o.drift_interval} s apart")
        sent0 = (await self.hosts_status())["reports_sent"]
        await self.hub_call("reset_status")
        cpu, started = self.hubs_cpu(), time.monotonic()
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
                for h in self.hosts
            )
        )
        await self.settle(quiet=1.0)
        stats = await self.hub_call("stats")
        wall = time.monotonic() - started
        used = self.hubs_cpu() - cpu
        sent = (await self.hosts_status())["reports_sent"] - sent0
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

    async def reconnect(self) -> None:
        if self.replicas:
            await self.failover()
            return
        assert self.hub is not None
        n = self.r["spokes_connected"]
        say("reconnect: kill -9 the hub, restart it on the same data dir and port ...")
        await asyncio.gather(*(h.call("mark") for h in self.hosts))
        opened0 = (await self.hosts_status())["streams_opened"]
        await self.hub.kill()
        killed = time.monotonic()
        self.hub = await self.start_hub()
        self.r["hub_restart_seconds"] = round(time.monotonic() - killed, 2)
        state, ok = await until(
            lambda: self.hub_call("sync", bundles=[PROPAGATE, DIFF]),
            lambda s: s["in_sync"] >= n,
            timeout=max(120.0, n / 50),
            interval=0.2,
        )
        self.r["reconnect_seconds"] = round(time.monotonic() - killed, 2)
        self.r["reconnected_in_sync"] = state["in_sync"]
        # The hub counts a stream once it wrote the welcome; wait until every spoke has read it
        # too (a busy simulator lags), so that anything resent is counted below.
        hosts, _ = await until(
            self.hosts_status,
            lambda h: h["streams_opened"] - opened0 >= n,
            timeout=max(60.0, n / 100),
            interval=0.5,
        )
        self.r["reconnect_spoke_side_seconds"] = round(time.monotonic() - killed, 2)
        await asyncio.sleep(1.0)  # anything resent arrives within this
        hosts = await self.hosts_status()
        sends = (await self.hub_call("stats"))["sends"]
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

    async def failover(self) -> None:
        """--hubs K: kill -9 one replica, not restarted; its spokes move to the others."""
        n = self.r["spokes_connected"]
        victim = self.replicas.pop()
        lost = (await victim.call("sync"))["connected"]
        say(f"failover: kill -9 one of {self.o.hubs} replicas ({lost} spokes on it) ...")
        await asyncio.gather(*(h.call("mark") for h in self.hosts))
        opened0 = (await self.hosts_status())["streams_opened"]
        sends0 = (await self.hub_call("stats"))["sends"]
        await victim.kill()
        killed = time.monotonic()
        state, ok = await until(
            lambda: self.hub_call("sync", bundles=[PROPAGATE, DIFF]),
            lambda s: s["in_sync"] >= n,
            timeout=max(120.0, n / 50),
            interval=0.2,
        )
        self.r["reconnect_seconds"] = round(time.monotonic() - killed, 2)
        self.r["reconnected_in_sync"] = state["in_sync"]
        self.r["failover_spokes_moved"] = lost
        hosts, _ = await until(
            self.hosts_status,
            lambda h: h["streams_opened"] - opened0 >= lost,
            timeout=max(60.0, n / 100),
            interval=0.5,
        )
        await asyncio.sleep(1.0)  # anything resent arrives within this
        hosts = await self.hosts_status()
        sends = (await self.hub_call("stats"))["sends"]
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

    async def stop_all(self) -> None:
        await asyncio.gather(*(h.stop() for h in self.hosts))
        self.hosts = []
        await asyncio.gather(*(h.stop() for h in self.replicas))
        self.replicas = []
        if self.hub is not None:
            await self.hub.stop()
            self.hub = None

    async def raw_baseline(self, payload: bytes) -> None:
        n, p = self.o.spokes, self.o.processes
        say(f"raw baseline: asyncio TCP fan-out of {len(payload)} B to {n} connections, x3 ...")
        server = await Child.start(
            "raw-server",
            [sys.executable, "-m", "bench.rawfanout", "server", "--cpus", self.hub_cpus],
            stderr_path=str(self.logs / "raw.log"),
        )
        clients: list[Child] = []
        try:
            port = (await server.call("listen"))["port"]
            for i in range(p):
                count = n // p + (1 if i < n % p else 0)
                argv = [sys.executable, "-m", "bench.rawfanout", "clients", "--port", str(port)]
                argv += ["--count", str(count), "--rounds", str(RAW_ROUNDS)]
                argv += ["--cpus", self.other_cpus]
                c = await Child.start(f"raw{i}", argv, stderr_path=str(self.logs / "raw.log"))
                await c.event(30)
                clients.append(c)
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

    async def close(self) -> None:
        for h in self.hosts:
            await h.kill()
        if self.hub is not None:
            await self.hub.kill()
        for h in self.replicas:
            await h.kill()
        if self.pg is not None:
            await asyncio.to_thread(_stop, *self.pg)
        if not self.o.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


def combine(cmd: str, docs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """One answer from every replica's: counts summed, times merged, spans widened."""
    out: dict[str, Any] = {}
    for d in docs:
        for k, v in d.items():
            if isinstance(v, dict):
                inner = out.setdefault(k, {})
                for ik, iv in v.items():
                    inner[ik] = inner.get(ik, 0) + iv
            elif isinstance(v, list):
                out[k] = sorted([*out.get(k, []), *v])
            elif k == "status_first":
                out[k] = min((x for x in (out.get(k, 0), v) if x), default=0)
            elif k == "status_last":
                out[k] = max(out.get(k, 0), v)
            elif isinstance(v, int | float) and not isinstance(v, bool):
                out[k] = out.get(k, 0) + v
            else:
                out[k] = v
    return out


# --- output ----------------------------------------------------------------------------------

ROWS = [
    ("spokes_connected", "spokes connected", ""),
    ("connect_seconds", "connect (first dial to all streaming)", "s"),
    ("propagation_p50_ms", "propagation p50 (apply to ack read by hub)", "ms"),
    ("propagation_p99_ms", "propagation p99", "ms"),
    ("propagation_max_ms", "propagation max", "ms"),
    ("propagation_apply_rpc_ms", "  of which ApplyBundles RPC", "ms"),
    ("propagation_sent_p99_ms", "  hub handed upsert to gRPC, p99", "ms"),
    ("update_diff_bytes", "update: one of 20 resources changed", "B"),
    ("full_bytes", "update: whole 20-resource bundle", "B"),
    ("hub_rss_bytes_per_spoke", "hub RSS per spoke", "B"),
    ("hub_idle_cpu_percent", "hub idle CPU", "%"),
    ("status_reports_per_second_sustained", "status reports read by hub", "/s"),
    ("hub_cpu_percent_during_reports", "hub CPU while reading reports", "%"),
    ("reconnect_seconds", "reconnect after kill -9 (all in sync)", "s"),
    ("reconnect_full_resends", "full resends after reconnect", ""),
    ("raw_fanout_p99_ms", "raw asyncio TCP fan-out p99", "ms"),
    ("raw_limit_ratio", "propagation p99 / raw fan-out p99", ""),
]


def table(r: Mapping[str, Any]) -> str:
    goals = {name: (text, check) for name, text, check in GOALS}
    lines = [f"N = {r['spokes']:,} spokes in {r['processes']} simulator processes"]
    if r.get("hubs"):
        lines[0] += f", {r['hubs']} hub replicas on one PostgreSQL (figures summed over them)"
    lines.append(f"{'figure':<44} {'value':>12}  {'goal (N=10,000)':<22} {'met'}")
    lines.append("-" * 86)
    for key, label, unit in ROWS:
        value = r.get(key)
        shown = f"{value:,}" if isinstance(value, int | float) else str(value)
        goal, met = "", ""
        if key in goals:
            goal = goals[key][0]
            try:
                met = "yes" if goals[key][1](r) else "NO"
            except (KeyError, TypeError):
                met = "?"
        lines.append(f"{label:<44} {shown + ' ' + unit:>12}  {goal:<22} {met}")
    return "\n".join(lines)


def parse(argv: Sequence[str] | None) -> Options:
    p = argparse.ArgumentParser(prog="python -m bench.fleet", description=__doc__.split("\n")[0])
    p.add_argument("--spokes", type=int, required=True, help="number of spokes (N)")
    p.add_argument(
        "--processes",
        type=int,
        default=0,
        help=f"simulator processes (default: one per {SPOKES_PER_PROCESS:,} spokes)",
    )
    p.add_argument("--json", type=Path, default=None, help="write the figures here")
    p.add_argument("--idle-seconds", type=float, default=30.0)
    p.add_argument("--drift-rounds", type=int, default=5)
    p.add_argument("--drift-interval", type=float, default=1.0, metavar="SECONDS")
    p.add_argument("--payload-kb", type=int, default=10, help="size of the propagated bundle")
    p.add_argument("--concurrency", type=int, default=400, help="spokes dialling at once, total")
    p.add_argument("--no-pin", action="store_true", help="do not pin the hub to CPU 0")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (logs, database)")
    p.add_argument(
        "--hubs",
        type=int,
        default=1,
        help="hub replicas on one PostgreSQL, sharing a port (--reuse-port); default 1 (SQLite)",
    )
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="py-spy the hub and one simulator during each apply (py-spy must be on PATH)",
    )
    a = p.parse_args(argv)
    if a.spokes < 1:
        p.error("--spokes must be at least 1")
    if a.hubs < 1:
        p.error("--hubs must be at least 1")
    processes = a.processes or max(1, math.ceil(a.spokes / SPOKES_PER_PROCESS))
    return Options(
        spokes=a.spokes,
        processes=min(processes, a.spokes),
        json_path=a.json,
        idle_seconds=a.idle_seconds,
        drift_rounds=a.drift_rounds,
        drift_interval=a.drift_interval,
        payload_kb=a.payload_kb,
        concurrency=a.concurrency,
        pin=not a.no_pin,
        keep=a.keep,
        profile=a.profile,
        hubs=a.hubs,
    )


async def amain(opts: Options) -> dict[str, Any]:
    bench = Bench(opts)
    try:
        return await bench.run()
    finally:
        await bench.close()


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse(argv)
    raise_fd_limit()
    result = asyncio.run(amain(opts))
    print(table(result))
    if opts.json_path is not None:
        opts.json_path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
