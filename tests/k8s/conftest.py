"""A real kube-apiserver for k8s-marked tests (shared/tools/k8s-testenv), one per session.

The control plane starts once in a temporary directory on a free port and stops at the end.
Without the binaries the tests skip, saying why, unless ARGOSY_REQUIRE_K8S is set: then
they fail, so CI cannot pass by silently skipping them.
"""

from __future__ import annotations

import os
import random
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from spoke.backends.kube import KubernetesBackend, KubeSettings

ROOT = Path(__file__).resolve().parents[2]


def _testenv_dir() -> Path:
    env = os.environ.get("ARGOSY_K8S_TESTENV")
    if env:
        return Path(env)
    for candidate in (ROOT / "shared/tools/k8s-testenv", ROOT.parent / "shared/tools/k8s-testenv"):
        if (candidate / "start.sh").exists():
            return candidate
    return ROOT.parent / "shared/tools/k8s-testenv"


def _bin_dir() -> Path:
    home = os.environ.get("ARGOSY_K8S_HOME") or os.path.expanduser("~/.cache/argosy-k8s")
    return Path(home) / "bin"


def _free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    """A port p with p, p+1 (controller-manager) and p+10000..p+10002 (etcd) all free.

    All of them stay below Linux's ephemeral range (32768+), where outgoing connections could
    take one between this check and the start.
    """
    for _ in range(200):
        port = random.randrange(20000, 22700)
        if all(_free(p) for p in (port, port + 1, port + 10000, port + 10001, port + 10002)):
            return port
    raise RuntimeError("no free port range for the test apiserver")


def _check_controller_manager(run_dir: Path) -> None:
    """Fail clearly when the controller-manager died at start (no ReplicaSets, no Pods).

    kube-controller-manager 1.20 also serves an insecure port, 10252, that start.sh does not
    move: a second control plane on the same machine (another test session) takes it.
    """
    pid = int((run_dir / "kcm.pid").read_text())
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            log = (run_dir / "logs" / "kcm.log").read_text()[-1500:]
            pytest.fail(f"kube-controller-manager exited at start (another k8s-testenv?):\n{log}")
        time.sleep(0.1)


@dataclass(frozen=True)
class ApiServer:
    run_dir: Path
    kubeconfig: Path
    port: int

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> Path:
        return self.run_dir / "pki" / "ca.crt"


@pytest.fixture(scope="session")
def apiserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiServer]:
    missing = [
        b
        for b in ("etcd", "kube-apiserver", "kube-controller-manager")
        if not (_bin_dir() / b).exists()
    ]
    testenv = _testenv_dir()
    if missing or not (testenv / "start.sh").exists():
        reason = (
            f"k8s-testenv binaries missing in {_bin_dir()} ({', '.join(missing)}): "
            f"run {testenv}/build.sh"
            if missing
            else f"k8s-testenv scripts not found at {testenv}"
        )
        if os.environ.get("ARGOSY_REQUIRE_K8S"):
            pytest.fail(f"ARGOSY_REQUIRE_K8S is set but {reason}")
        pytest.skip(reason)
    run_dir = tmp_path_factory.mktemp("k8s")
    port = _free_port()
    try:
        out = subprocess.run(
            ["bash", str(testenv / "start.sh"), str(run_dir), str(port)],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        subprocess.run(["bash", str(testenv / "stop.sh"), str(run_dir)], check=False, timeout=60)
        logs = "\n".join(
            f"--- {p.name}\n{p.read_text()[-2000:]}" for p in (run_dir / "logs").glob("*.log")
        )
        pytest.fail(f"k8s-testenv start.sh failed: {exc}\n{logs}")
    try:
        _check_controller_manager(run_dir)
    except BaseException:
        subprocess.run(["bash", str(testenv / "stop.sh"), str(run_dir)], check=False, timeout=60)
        raise
    try:
        yield ApiServer(run_dir, Path(out.stdout.strip().splitlines()[-1]), port)
    finally:
        subprocess.run(["bash", str(testenv / "stop.sh"), str(run_dir)], check=False, timeout=60)


@pytest.fixture
async def kube(apiserver: ApiServer) -> AsyncIterator[KubernetesBackend]:
    """An admin connection to the test apiserver (the backend, used as a raw client too)."""
    backend = KubernetesBackend(KubeSettings(kubeconfig=str(apiserver.kubeconfig), crd_wait=30))
    await backend.connect()
    try:
        yield backend
    finally:
        await backend.close()
