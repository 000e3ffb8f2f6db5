"""The processes a benchmark run measures, and their plumbing: hub, replicas, simulators, pins.

`Rig` starts and stops them and reads their figures (CPU, RSS, sockets, the hub's counters); it
decides nothing about what is measured (bench/phases.py does). The hub runs as `python -m
bench.hubproc` (the code of `argosy hub`, with observers), on SQLite in a temporary directory,
or with --hubs K as K replicas on one throwaway PostgreSQL (bench/pgserver.py), all on one port
with --reuse-port. With transport `mtls` (the default) the hub serves TLS and its spoke port
mTLS, the driver's admin channel uses the hub's CA and admin token (DATA_DIR/admin.yaml), and
the simulators register with a token and stream with their certificates; the spoke port is
fixed after the first start so a restarted hub or a replica serves it where the spokes'
credentials say. With `insecure` the hub runs --insecure.
Spokes run in `python -m bench.simhost` processes. With two or more CPUs the
hub is pinned to CPU 0 and everything else to the other CPUs, so "one hub process on one core"
is what is measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import shutil
import signal
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import grpc

from argosy import config
from bench import grpcfloor, pgserver
from bench.control import Child, cpu_seconds, rss_bytes

MODES = ("mtls", "insecure")


@dataclass(frozen=True)
class Options:
    """What one run is asked for: the flags of `python -m bench.fleet`."""

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
    transport: str = "mtls"
    """`mtls`: the hub serves TLS, spokes register with a token and stream with a client
    certificate, as deployed; `insecure`: the hub runs --insecure (plaintext, no auth)."""
    modes: tuple[str, ...] = ("mtls",)
    """Every transport to measure, in order (one Rig each, transport set to it)."""


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


class Rig:
    """The hub process (or replicas), the simulator processes, and their temp dir and logs."""

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
        self.pg: tuple[Path, pgserver.PgServer, str | None] | None = None
        self.store = ""
        self.hub_argv: list[str] = []
        if opts.hubs > 1:
            # One CPU per replica when there are enough; else nothing is pinned.
            pin = opts.pin and ncpu > opts.hubs
            self.hub_cpus = "0" if pin else ""
            self.other_cpus = ",".join(str(c) for c in range(opts.hubs, ncpu)) if pin else ""
        self.hosts: list[Child] = []
        self.port = 0
        # mTLS: the spoke port, fixed after the first start so that a restarted hub and the
        # replicas serve spokes where their credentials (stream_port) say.
        self.spoke_port = 0

    @property
    def insecure(self) -> bool:
        return self.o.transport == "insecure"

    @property
    def ca_path(self) -> Path:
        """The hub CA (PEM) that spokes and the admin channel trust; written by the hub."""
        return self.data_dir / "ca.pem"

    def admin_channel(self) -> grpc.aio.Channel:
        """The admin API as `argosy` sees it: TLS and the admin token of DATA_DIR/admin.yaml."""
        address = f"127.0.0.1:{self.port}"
        if self.insecure:
            return grpc.aio.insecure_channel(address)
        ctx = config.load(self.data_dir / "admin.yaml").context()
        if ctx is None or not ctx.token:
            raise RuntimeError(f"no admin token in {self.data_dir / 'admin.yaml'}")
        creds = grpc.composite_channel_credentials(
            grpc.ssl_channel_credentials(root_certificates=self.ca_path.read_bytes()),
            grpc.access_token_call_credentials(ctx.token),
        )
        return grpc.aio.secure_channel(address, creds)

    # --- hubs ----------------------------------------------------------------------------------

    async def start_hub(self) -> Child:
        argv = [sys.executable, "-m", "bench.hubproc", "--cpus", self.hub_cpus, "--"]
        argv += ["--data-dir", str(self.data_dir), "--listen", f"127.0.0.1:{self.port}"]
        argv += ["--log-level", "WARNING"]
        if self.insecure:
            argv += ["--insecure"]
        elif self.spoke_port:
            argv += ["--spoke-listen", f"127.0.0.1:{self.spoke_port}"]
        if self.store:
            argv += ["--store", self.store, "--reuse-port"]
        self.hub_argv = argv
        hub = await Child.start("hub", argv, stderr_path=str(self.logs / "hub.log"))
        ready = await hub.event(120)
        if ready.get("event") != "ready":
            raise RuntimeError(f"hub did not start; see {self.logs / 'hub.log'}")
        self.port = int(ready["port"])
        self.spoke_port = int(ready.get("spoke_port") or self.port)
        if not self.insecure and "--spoke-listen" not in argv:
            # Replicas copy hub_argv: the same spoke port for all of them.
            argv += ["--spoke-listen", f"127.0.0.1:{self.spoke_port}"]
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
        # A throwaway server: initdb in a temp dir, 127.0.0.1, stopped in close().
        bin_dir = pgserver.find_binaries()
        if bin_dir is None:
            raise RuntimeError("--hubs needs PostgreSQL (initdb, pg_ctl); see docs/postgresql.md")
        server, owner = await asyncio.to_thread(pgserver.start, bin_dir)
        self.pg = (bin_dir, server, owner)
        self.store = await server.create_database()
        say(f"PostgreSQL on port {server.port} for {self.o.hubs} hub replicas")

    def all_hubs(self) -> list[Child]:
        return [h for h in (self.hub, *self.replicas) if h is not None]

    async def hub_call(self, cmd: str, **args: Any) -> dict[str, Any]:
        assert self.hub is not None
        if not self.replicas:
            return await self.hub.call(cmd, **args)
        return combine(cmd, await asyncio.gather(*(h.call(cmd, **args) for h in self.all_hubs())))

    # --- simulators ----------------------------------------------------------------------------

    async def start_hosts(self, address: str, token: str) -> None:
        n, p = self.o.spokes, self.o.processes
        first = 0
        for i in range(p):
            count = n // p + (1 if i < n % p else 0)
            argv = [sys.executable, "-m", "bench.simhost", "--hub", address, "--token", token]
            argv += ["--first", str(first), "--count", str(count), "--cpus", self.other_cpus]
            if not self.insecure:
                argv += ["--ca", str(self.ca_path)]
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

    # --- the raw baseline's processes ------------------------------------------------------------

    async def start_raw_server(self) -> Child:
        return await Child.start(
            "raw-server",
            [sys.executable, "-m", "bench.rawfanout", "server", "--cpus", self.hub_cpus],
            stderr_path=str(self.logs / "raw.log"),
        )

    async def start_raw_clients(self, port: int, *, rounds: int) -> list[Child]:
        n, p = self.o.spokes, self.o.processes
        clients: list[Child] = []
        try:
            for i in range(p):
                count = n // p + (1 if i < n % p else 0)
                argv = [sys.executable, "-m", "bench.rawfanout", "clients", "--port", str(port)]
                argv += ["--count", str(count), "--rounds", str(rounds)]
                argv += ["--cpus", self.other_cpus]
                c = await Child.start(f"raw{i}", argv, stderr_path=str(self.logs / "raw.log"))
                clients.append(c)
                await c.event(30)
        except BaseException:
            await asyncio.gather(*(c.kill() for c in clients))
            raise
        return clients

    async def start_floor(self) -> tuple[Child, list[Child], int]:
        """bench/grpcfloor.py over this run's transport: its server pinned like the hub, its
        clients spread over P processes like the spokes; started and connected."""
        tls = self.tmp / "floor-tls"
        args = [] if self.insecure else ["--tls", str(tls)]
        if not self.insecure:
            await asyncio.to_thread(grpcfloor.write_certs, tls)
        log = str(self.logs / "floor.log")
        module = [sys.executable, "-m", "bench.grpcfloor"]
        server = await Child.start(
            "floor-server", [*module, "server", "--cpus", self.hub_cpus, *args], stderr_path=log
        )
        clients: list[Child] = []
        try:
            port = (await server.call("listen"))["port"]
            n, p = self.o.spokes, self.o.processes
            for i in range(p):
                count = n // p + (1 if i < n % p else 0)
                argv = [*module, "clients", "--port", str(port), "--count", str(count), *args]
                c = await Child.start(
                    f"floor{i}", [*argv, "--cpus", self.other_cpus], stderr_path=log
                )
                clients.append(c)
                await c.event(30)
            await asyncio.gather(*(c.call("connect", timeout=600) for c in clients))
        except BaseException:
            await asyncio.gather(*(c.kill() for c in clients))
            await server.kill()
            raise
        return server, clients, port

    # --- figures -------------------------------------------------------------------------------

    def cpu(self) -> tuple[float, float]:
        """CPU seconds used so far by the hub, and by all simulator processes together."""
        return self.hubs_cpu(), sum(cpu_seconds(h.pid) for h in self.hosts)

    def hubs_cpu(self) -> float:
        """CPU seconds of every hub process together (one, or the replicas)."""
        return sum(cpu_seconds(h.pid) for h in self.all_hubs())

    def hubs_rss(self) -> int:
        return sum(rss_bytes(h.pid) for h in self.all_hubs())

    async def start_profiles(self, phase: str) -> list[asyncio.subprocess.Process]:
        """py-spy on the hub and the first simulator for one phase, when --profile is given
        (one directory per transport: DIR/mtls, DIR/insecure)."""
        if self.o.profile is None or self.hub is None:
            return []
        out_dir = self.o.profile / self.o.transport
        out_dir.mkdir(parents=True, exist_ok=True)
        procs = []
        search = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        spy = shutil.which("py-spy", path=search) or "py-spy"
        # With --hubs K, every replica: idle work that grows with N shows on each of them.
        hubs = self.all_hubs()
        named = [("hub" if len(hubs) == 1 else f"hub{i}", h.pid) for i, h in enumerate(hubs)]
        for who, pid in (*named, ("sim0", self.hosts[0].pid)):
            out = out_dir / f"{phase}-{who}.txt"
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

    # --- the end -------------------------------------------------------------------------------

    async def stop_all(self) -> None:
        await asyncio.gather(*(h.stop() for h in self.hosts))
        self.hosts = []
        await asyncio.gather(*(h.stop() for h in self.replicas))
        self.replicas = []
        if self.hub is not None:
            await self.hub.stop()
            self.hub = None

    async def close(self) -> None:
        for h in self.hosts:
            await h.kill()
        if self.hub is not None:
            await self.hub.kill()
        for h in self.replicas:
            await h.kill()
        if self.pg is not None:
            await asyncio.to_thread(pgserver.stop, *self.pg)
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
