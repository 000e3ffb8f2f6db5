"""A real git server on 127.0.0.1 for tests: `git daemon` over a bare repository, and a work
tree that commits and pushes to it (force-pushes too)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

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
