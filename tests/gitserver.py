"""A real git server on 127.0.0.1 for tests: `git daemon` over a bare repository, and a work
tree that commits and pushes to it (force-pushes too)."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import subprocess
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

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


@asynccontextmanager
async def git_server(root: Path, name: str = "repo") -> AsyncIterator[GitServer]:
    """A bare repository `name` served by git daemon; its work tree pushes to `main`."""
    base = root / "served"
    bare = base / f"{name}.git"
    bare.mkdir(parents=True)
    git(bare, "init", "-q", "--bare", "-b", "main")
    work = root / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    git(work, "remote", "add", "origin", str(bare))
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
    root: Path, *, username: str, password: str, name: str = "repo"
) -> AsyncIterator[GitServer]:
    """The same repository over smart HTTP (`git http-backend` as CGI behind aiohttp), with
    basic auth: requests without the right credentials get 401, as a private host does."""
    base = root / "served"
    bare = base / f"{name}.git"
    bare.mkdir(parents=True)
    git(bare, "init", "-q", "--bare", "-b", "main")
    work = root / "work"
    work.mkdir()
    git(work, "init", "-q", "-b", "main")
    git(work, "remote", "add", "origin", str(bare))
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
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = int(runner.addresses[0][1])
    server = GitServer(f"http://127.0.0.1:{port}/{name}.git", work)
    server.auth_headers = seen
    try:
        yield server
    finally:
        await runner.cleanup()
