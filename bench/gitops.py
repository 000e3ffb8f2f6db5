"""GitOps figures: how long one fetch takes, and one webhook to every cluster Ready.

`python -m bench.gitops --spokes 200` runs, in one process and event loop: a `git daemon` on
127.0.0.1 serving a repository of a few bundles, a hub (--insecure, as bench.fleet runs it;
its webhook receiver therefore plain HTTP), and N spokes on simulated clusters. It adds the
repository, waits for every cluster to be Ready, then:
- times fetches of an unchanged repository (GitFetcher.fetch: git fetch + checkout),
- pushes a commit that changes every bundle, POSTs a signed GitHub push webhook, and times
  until every cluster reports the new revision of every bundle Ready.
A script, not a test: the figures go to stdout (and docs/ by hand), never into an assertion.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import logging
import os
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import aiohttp
import grpc

from argosy.api.v1 import fleet_pb2, fleet_pb2_grpc
from hub.app import Hub, Settings
from hub.models import RepoRecord
from hub.sources.fetch import GitFetcher
from spoke.app import Settings as SpokeSettings
from spoke.app import Spoke
from spoke.backends.simulated import SimulatedCluster, SimulationSettings

BUNDLES = 4
SECRET = "bench-webhook-secret"
ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "b",
    "GIT_AUTHOR_EMAIL": "b@example.com",
    "GIT_COMMITTER_NAME": "b",
    "GIT_COMMITTER_EMAIL": "b@example.com",
}


def git(cwd: Path, *args: str) -> str:
    out = subprocess.run(["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True)
    return out.stdout.decode().strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_commit(work: Path, version: str) -> str:
    for i in range(BUNDLES):
        d = work / "apps" / f"app{i}"
        d.mkdir(parents=True, exist_ok=True)
        (d / "cm.yaml").write_text(
            f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app{i}\n  namespace: default\n"
            f"data:\n  version: {version!r}\n"
        )
    git(work, "add", "-A")
    git(work, "commit", "-qm", version)
    git(work, "push", "-q", "origin", "HEAD:main")
    return git(work, "rev-parse", "HEAD")


async def all_ready(stub: fleet_pb2_grpc.FleetServiceAsyncStub, spokes: int, commit: str) -> bool:
    status = await stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=30)
    repo = next((r for r in status.repos if r.spec.name == "bench"), None)
    if repo is None or repo.status.commit != commit:
        return False
    ours = [b for b in status.bundles if b.name.startswith("bench-")]
    return len(ours) == BUNDLES and all(
        b.clusters_ready == spokes and b.clusters_desired == spokes for b in ours
    )


async def wait_ready(stub: fleet_pb2_grpc.FleetServiceAsyncStub, spokes: int, commit: str) -> float:
    start = time.perf_counter()
    # Polls the API as a user's script would: no event crosses the process boundary.
    while not await all_ready(stub, spokes, commit):  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    return time.perf_counter() - start


async def main(spokes: int, fetches: int) -> None:
    with tempfile.TemporaryDirectory(prefix="argosy-bench-gitops-") as tmp:
        root = Path(tmp)
        served, work = root / "served", root / "work"
        (served / "bench.git").mkdir(parents=True)
        git(served / "bench.git", "init", "-q", "--bare", "-b", "main")
        work.mkdir()
        git(work, "init", "-q", "-b", "main")
        git(work, "remote", "add", "origin", str(served / "bench.git"))
        first = write_commit(work, "v1")
        port = free_port()
        daemon = await asyncio.create_subprocess_exec(
            "git", "daemon", f"--base-path={served}", "--export-all", "--reuseaddr",
            "--listen=127.0.0.1", f"--port={port}", str(served), env=ENV,
        )  # fmt: skip
        url = f"git://127.0.0.1:{port}/bench.git"
        hub = Hub(
            Settings(
                listen="127.0.0.1:0",
                data_dir=root / "hub",
                insecure=True,
                webhook_listen="127.0.0.1:0",
                webhook_secret=SECRET,
                log_level="WARNING",
            )
        )
        hub_task = asyncio.create_task(hub.run(), name="bench-hub")
        tasks: list[asyncio.Task[None]] = []
        try:
            await hub.ready.wait()
            address = f"127.0.0.1:{hub.port}"
            async with grpc.aio.insecure_channel(address) as channel:
                stub = fleet_pb2_grpc.FleetServiceStub(channel)
                token = (await stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=10)).token
                for i in range(spokes):
                    spoke = Spoke(
                        SpokeSettings(
                            hub=address, name=f"sim-{i:04d}", labels={"env": "bench"},
                            token=token, data_dir=root / "spokes" / str(i),
                            report_window=0.05, insecure=True, log_level="WARNING",
                        ),
                        backend=SimulatedCluster(SimulationSettings(ready_delay=0.05)),
                    )  # fmt: skip
                    tasks.append(asyncio.create_task(spoke.run(), name=f"bench-spoke-{i}"))
                spec = fleet_pb2.RepoSpec(name="bench", url=url, interval_seconds=3600)
                await stub.AddRepo(fleet_pb2.AddRepoRequest(spec=spec), timeout=30)
                took = await wait_ready(stub, spokes, first)
                print(f"{spokes} clusters, {BUNDLES} bundles: add to all Ready in {took:.2f}s")

                fetcher = GitFetcher(root / "fetch-bench")
                times = []
                for _ in range(fetches):
                    start = time.perf_counter()
                    await fetcher.fetch(RepoRecord("bench", url), None)
                    times.append(time.perf_counter() - start)
                print(
                    f"one fetch (git fetch --depth 1 + checkout, unchanged repo): median "
                    f"{statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
                    f"over {fetches}"
                )

                second = write_commit(work, "v2")
                receiver = hub.webhooks
                assert receiver is not None
                await receiver.ready.wait()
                body = json.dumps({"ref": "refs/heads/main", "repository": {"clone_url": url}})
                sig = hmac.new(SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
                start = time.perf_counter()
                async with (
                    aiohttp.ClientSession() as http,
                    http.post(
                        f"http://127.0.0.1:{receiver.port}/",
                        data=body,
                        headers={"X-Hub-Signature-256": f"sha256={sig}"},
                    ) as response,
                ):
                    assert response.status == 202, response.status
                await wait_ready(stub, spokes, second)
                took = time.perf_counter() - start
                print(f"webhook to all {spokes} clusters Ready at the new commit: {took:.2f}s")
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            hub.stop.set()
            await asyncio.wait_for(hub_task, 30)
            daemon.terminate()
            await daemon.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spokes", type=int, default=200)
    parser.add_argument("--fetches", type=int, default=10)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(args.spokes, args.fetches))
