"""A real git server on 127.0.0.1 for tests: `git daemon`, `git http-backend` or Debian's sshd
over a bare repository, and a work tree that commits and pushes to it (force-pushes too).

sshd runs as the current user from a temporary config (its own host key, authorized_keys and
pid file), so it needs no system setup. Without /usr/sbin/sshd the SSH tests skip, saying why,
unless ARGOSY_REQUIRE_SSHD is set: then they fail, so CI cannot pass by silently skipping them.
"""

from __future__ import annotations

import asyncio
import base64
import os
import pwd
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from tests.harness import eventually

ENV = {
    **os.environ,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_TERMINAL_PROMPT": "0",
}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, env=ENV, check=True, capture_output=True, text=True
    ).stdout.strip()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class GitServer:
    url: str
    work: Path
    # The Authorization headers the server saw (HTTP only).
    auth_headers: list[str] = field(default_factory=list)
    # SSH only: the client's private key, a known_hosts line for the server's host key, and
    # everything sshd wrote to stderr (-e) so far.
    client_key: Path | None = None
    known_hosts: str = ""
    log: Path | None = None

    def commit(self, files: Mapping[str, str | None], message: str = "change") -> str:
        """Write (or, for None, delete) files, commit and push; the new commit id."""
        for name, text in files.items():
            path = self.work / name
            if text is None:
                git(self.work, "rm", "-rq", name)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        git(self.work, "add", "-A")
        git(self.work, "commit", "-qm", message)
        git(self.work, "push", "-q", "origin", "HEAD:main")
        return git(self.work, "rev-parse", "HEAD")

    def force_push(self, commit: str) -> None:
        git(self.work, "reset", "-q", "--hard", commit)
        git(self.work, "push", "-qf", "origin", "HEAD:main")


def _repository(root: Path, name: str) -> tuple[Path, Path]:
    """ROOT/served/NAME.git (bare, on `main`) and ROOT/work, a work tree that pushes to it."""
    base = root / "served"
    bare = base / f"{name}.git"
    bare.mkdir(parents=True)
    git(bare, "init", "-q", "--bare", "-b", "main")
    work = root / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    git(work, "remote", "add", "origin", str(bare))
    return base, work


@asynccontextmanager
async def git_server(root: Path, name: str = "repo") -> AsyncIterator[GitServer]:
    """A bare repository `name` served by git daemon; its work tree pushes to `main`."""
    base, work = _repository(root, name)
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        "git", "daemon", f"--base-path={base}", "--export-all", "--reuseaddr",
        "--listen=127.0.0.1", f"--port={port}", "--informative-errors", str(base),
        env=ENV, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    url = f"git://127.0.0.1:{port}/{name}.git"
    try:
        await eventually(lambda: _reachable(port), timeout=10, what="git daemon listening")
        yield GitServer(url, work)
    finally:
        with suppress(ProcessLookupError):
            proc.terminate()
        await proc.wait()


def _reachable(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@asynccontextmanager
async def http_git_server(
    root: Path,
    *,
    username: str,
    password: str,
    name: str = "repo",
    tls: ssl.SSLContext | None = None,
) -> AsyncIterator[GitServer]:
    """The same repository over smart HTTP (`git http-backend` as CGI behind aiohttp), with
    basic auth: requests without the right credentials get 401, as a private host does.
    HTTPS when given a server TLS context."""
    base, work = _repository(root, name)
    want = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    seen: list[str] = []

    async def cgi(request: web.Request) -> web.StreamResponse:
        seen.append(request.headers.get("Authorization", ""))
        if request.headers.get("Authorization") != want:
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="git"'})
        body = await request.read()
        env = {
            **ENV,
            "GIT_PROJECT_ROOT": str(base),
            "GIT_HTTP_EXPORT_ALL": "1",
            "PATH_INFO": request.path,
            "QUERY_STRING": request.query_string,
            "REQUEST_METHOD": request.method,
            "CONTENT_TYPE": request.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "GIT_PROTOCOL": request.headers.get("Git-Protocol", ""),
            "REMOTE_USER": username,
        }
        proc = await asyncio.create_subprocess_exec(
            "git", "http-backend", env=env,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        out, _ = await proc.communicate(body)
        head, _, payload = out.partition(b"\r\n\r\n")
        response = web.Response(body=payload)
        for line in head.decode().split("\r\n"):
            key, _, value = line.partition(": ")
            if key.lower() == "status":
                response.set_status(int(value.split()[0]))
            elif key:
                response.headers[key] = value
        return response

    app = web.Application(client_max_size=64 << 20)
    app.router.add_route("*", "/{tail:.*}", cgi)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    port = int(runner.addresses[0][1])
    server = GitServer(f"{'https' if tls else 'http'}://127.0.0.1:{port}/{name}.git", work)
    server.auth_headers = seen
    try:
        yield server
    finally:
        await runner.cleanup()


SSHD = Path("/usr/sbin/sshd")


def keygen(path: Path) -> None:
    """An ed25519 key pair without a passphrase: PATH and PATH.pub."""
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)],
        check=True, capture_output=True,
    )  # fmt: skip


@asynccontextmanager
async def ssh_git_server(root: Path, name: str = "repo") -> AsyncIterator[GitServer]:
    """The same repository over SSH, served by path: `ssh://USER@127.0.0.1:PORT/ROOT/...`.

    A client key is authorized (only it: no passwords); known_hosts is the one line that
    vouches for this server's host key on its port, as `ssh-keyscan -p PORT` would print it."""
    if not SSHD.exists() or shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        reason = "sshd not found; apt-get install openssh-server"
        if os.environ.get("ARGOSY_REQUIRE_SSHD"):
            pytest.fail(f"ARGOSY_REQUIRE_SSHD is set but {reason}")
        pytest.skip(reason)
    if os.geteuid() == 0:
        # sshd started as root separates privileges into this directory; Debian's service
        # creates it at boot, which a container never runs.
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    base, work = _repository(root, name)
    keys = root / "ssh"
    keys.mkdir()
    keygen(keys / "host")
    keygen(keys / "client")
    shutil.copy(keys / "client.pub", keys / "authorized_keys")
    port = free_port()
    config = keys / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1\nPort {port}\nHostKey {keys / 'host'}\n"
        f"AuthorizedKeysFile {keys / 'authorized_keys'}\nPidFile {keys / 'sshd.pid'}\n"
        "StrictModes no\nUsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PermitRootLogin prohibit-password\nLogLevel VERBOSE\n"
    )
    log = keys / "sshd.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            str(SSHD), "-D", "-e", "-f", str(config),
            stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
        )  # fmt: skip
    algo, key = (keys / "host.pub").read_text().split()[:2]
    user = pwd.getpwuid(os.geteuid()).pw_name
    server = GitServer(f"ssh://{user}@127.0.0.1:{port}{base / name}.git", work)
    server.client_key = keys / "client"
    server.known_hosts = f"[127.0.0.1]:{port} {algo} {key}\n"
    server.log = log
    try:
        await eventually(lambda: _reachable(port), timeout=10, what="sshd listening")
        yield server
    finally:
        with suppress(ProcessLookupError):
            proc.terminate()
        await proc.wait()
