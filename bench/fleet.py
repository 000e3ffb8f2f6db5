"""The fleet benchmark: one real hub process, N real spokes in P simulator processes.

    python -m bench.fleet --spokes N [--processes P] [--json FILE] [--idle-seconds 30]
    python -m bench.fleet --spokes N --hubs K   # K hub replicas on one PostgreSQL
    python -m bench.fleet --spokes N --compare-insecure   # mTLS and plaintext, side by side

The hub serves TLS on its admin port and mTLS on its spoke port, as deployed: the simulated
spokes register with a token (a CSR; the hub signs their certificates) and stream with their
client certificates. `--modes mtls,insecure` (or `--compare-insecure`) adds a full plaintext
run (`--insecure` hub) after it, printed beside it. Each run ends with two floors over the same
bytes: a bare grpc.aio fan-out over the same transport (bench/grpcfloor.py) and a raw asyncio
TCP one (bench/rawfanout.py).

With --hubs K (K >= 2) the hubs are replicas on one throwaway PostgreSQL (bench/pgserver.py
starts it), all on one port with --reuse-port, so the kernel spreads the spokes over them; the
admin calls land on whichever replica the kernel picks. Hub figures are summed over the
replicas (CPU, RSS, counters), and the reconnect phase kill -9s one replica without restarting
it: its spokes fail over to the others.

This module is the run's order and its flags. The processes (hub, simulators, CPU pinning) are
bench/rig.py's; what is measured, phase by phase, is bench/phases.py's; the table and the goals
are bench/report.py's.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from argosy.api.v1 import fleet_pb2, fleet_pb2_grpc
from bench.control import raise_fd_limit
from bench.phases import Phases
from bench.report import ratios, table
from bench.rig import MODES, Options, Rig, machine, say

SPOKES_PER_PROCESS = 2500


async def measure(rig: Rig) -> dict[str, Any]:
    """Start the rig, run every phase in order, and return the figures."""
    o = rig.o
    r: dict[str, Any] = {"spokes": o.spokes, "processes": o.processes, "transport": o.transport}
    if o.hubs > 1:
        r["hubs"] = o.hubs
    phases = Phases(rig, r)
    r["machine"] = machine()
    r["pinned"] = {"hub": rig.hub_cpus or "any", "others": rig.other_cpus or "any"}
    if o.hubs > 1:
        await rig.start_postgresql()
    rig.hub = await rig.start_hub()
    await rig.start_replicas()
    address = f"127.0.0.1:{rig.port}"
    pids = ", ".join(str(h.pid) for h in rig.all_hubs())
    say(f"hub pid {pids} on {address} ({o.transport}); logs in {rig.logs}")
    async with rig.admin_channel() as channel:
        stub = fleet_pb2_grpc.FleetServiceStub(channel)
        token = (await stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=10)).token
        await stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=10)
        rss_before = rig.hubs_rss()
        r["hub_rss_before_bytes"] = rss_before
        await rig.start_hosts(address, token)
        await phases.connect()
        r["hub_rss_connected_bytes"] = rig.hubs_rss()
        r["hub_rss_bytes_per_spoke_connected_only"] = round(
            (r["hub_rss_connected_bytes"] - rss_before) / o.spokes
        )
        await phases.propagation(stub)
        await phases.diff_update(stub)
        await phases.settle()
        await phases.idle(rss_before)
        await phases.drift()
        sample = await phases.sample()
        r["propagation_payload_bytes"] = len(sample)
    await phases.reconnect()
    await rig.stop_all()
    await phases.grpc_floor(sample)
    await phases.raw_baseline(sample)
    r.update(ratios(r))
    return r


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
        help="py-spy every hub (each replica) and one simulator during connect, each apply, "
        "idle and the reconnect (py-spy must be on PATH)",
    )
    p.add_argument(
        "--modes",
        default="mtls",
        help="transports to measure, one full run each, side by side: mtls (TLS admin port, "
        "mTLS spoke port, as deployed) and/or insecure (plaintext); default mtls",
    )
    p.add_argument(
        "--compare-insecure",
        action="store_true",
        help="the same as --modes mtls,insecure",
    )
    a = p.parse_args(argv)
    modes = tuple(m.strip() for m in a.modes.split(",") if m.strip())
    if a.compare_insecure and "insecure" not in modes:
        modes = (*modes, "insecure")
    for m in modes:
        if m not in MODES:
            p.error(f"--modes: {m!r} is not one of {', '.join(MODES)}")
    if not modes or len(set(modes)) != len(modes):
        p.error(f"--modes: {a.modes!r} must name each of {', '.join(MODES)} at most once")
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
        transport=modes[0],
        modes=modes,
    )


async def amain(opts: Options) -> dict[str, Any]:
    """One full run per transport, one after the other; the first mode's figures at the top
    level of the result (the keys earlier runs wrote), the others under "compare"."""
    results: list[dict[str, Any]] = []
    for mode in opts.modes:
        rig = Rig(dataclasses.replace(opts, transport=mode))
        try:
            results.append(await measure(rig))
        finally:
            await rig.close()
    first = results[0]
    if len(results) > 1:
        first["compare"] = {r["transport"]: r for r in results[1:]}
    return first


def main(argv: Sequence[str] | None = None) -> None:
    opts = parse(argv)
    raise_fd_limit()
    result = asyncio.run(amain(opts))
    print(table(result))
    if opts.json_path is not None:
        opts.json_path.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
