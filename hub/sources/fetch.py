"""Fetching one commit of a repository with the real `git` binary, into the hub's data dir.

Why the binary and not a library: git itself speaks every transport and auth scheme users
have (smart HTTP, SSH with their known_hosts, git://), handles shallow and sparse checkouts,
and is what Fleet's gitjob runs too; the pure-Python options (dulwich) lack sparse checkout
and partial clone. It runs as an asyncio subprocess with a deadline, never on the loop thread.

Credentials never reach a command line, an environment variable or a log: they are written to
files (mode 0600) in a private temporary directory that git reads through an askpass script
(HTTPS) or GIT_SSH_COMMAND's -i and UserKnownHostsFile (SSH), and the directory is removed
when the fetch ends. Git's own configuration (system, global) is ignored, and it never prompts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

from argosy.errors import TemporaryError
from hub.models import RepoRecord, SourceSecret
from hub.sources.policy import check_secret_for_url, redact_url

FETCH_TIMEOUT = 120.0
"""Seconds one git command may take before it is killed and the fetch counts as failed."""

_ASKPASS = """#!/bin/sh
case "$1" in
  Username*) cat "$(dirname "$0")/username" ;;
  *) cat "$(dirname "$0")/password" ;;
esac
"""


class FetchError(TemporaryError):
    """git failed: the message is its stderr, with any URL password removed."""


@contextlib.contextmanager
def credentials_env(secret: SourceSecret | None) -> Iterator[dict[str, str]]:
    """The environment variables that hand `secret` to git, through private temporary files."""
    if secret is None:
        yield {}
        return
    with tempfile.TemporaryDirectory(prefix="argosy-cred-") as tmp:
        d = Path(tmp)
        os.chmod(d, 0o700)
        env: dict[str, str] = {}

        def private(name: str, data: bytes, mode: int = 0o600) -> Path:
            path = d / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            return path

        if secret.username or secret.password:
            private("username", secret.username.encode())
            private("password", secret.password)
            env["GIT_ASKPASS"] = str(private("askpass", _ASKPASS.encode(), 0o700))
        if secret.ssh_key:
            key = private(
                "id", secret.ssh_key if secret.ssh_key.endswith(b"\n") else secret.ssh_key + b"\n"
            )
            hosts = private("known_hosts", secret.known_hosts.encode())
            env["GIT_SSH_COMMAND"] = " ".join(
                [
                    "ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes",
                    f"-o StrictHostKeyChecking=yes -o UserKnownHostsFile={shlex.quote(str(hosts))}",
                    f"-i {shlex.quote(str(key))}",
                ]
            )
        yield env


def _base_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/nonexistent"),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "LC_ALL": "C",
        # No askpass but ours: SSH_ASKPASS or a desktop helper must not prompt on the hub.
        "SSH_ASKPASS": "",
        "GIT_ASKPASS": "/bin/false",
    }
    # A private CA for HTTPS hosts is given to the hub as git's own variable (git's config is
    # ignored, so this is the one way in).
    if os.environ.get("GIT_SSL_CAINFO"):
        env["GIT_SSL_CAINFO"] = os.environ["GIT_SSL_CAINFO"]
    env.update(extra)
    return env


async def git(
    args: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float = FETCH_TIMEOUT
) -> str:
    """Run `git args` in cwd; its stdout, or FetchError naming the command and git's stderr."""
    command = _subcommand(args)
    proc = await asyncio.create_subprocess_exec(
        "git",
        *args,
        cwd=cwd,
        env=_base_env(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(timeout):
            out, err = await proc.communicate()
    except TimeoutError:
        await _kill(proc)
        raise FetchError(f"git {command}: no answer within {timeout:.0f}s") from None
    except BaseException:  # cancelled: git must not outlive the fetch that started it
        await _kill(proc)
        raise
    if proc.returncode != 0:
        text = err.decode("utf-8", "replace").strip() or f"exit status {proc.returncode}"
        raise FetchError(f"git {command}: {redact_url(text)}")
    return out.decode("utf-8", "replace")


def _subcommand(args: Sequence[str]) -> str:
    """The git subcommand of args, past any `-c name=value` options, for error messages."""
    rest = list(args)
    while len(rest) >= 2 and rest[0] == "-c":
        rest = rest[2:]
    return rest[0] if rest else "git"


async def _kill(proc: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    await proc.wait()


def _refspec(repo: RepoRecord) -> str:
    if repo.ref_kind == "branch":
        return f"refs/heads/{repo.ref}"
    if repo.ref_kind == "tag":
        return f"refs/tags/{repo.ref}"
    if repo.ref_kind == "revision":
        return repo.ref
    return "HEAD"


class GitFetcher:
    """Fetches repositories into DATA_DIR/repos/NAME: shallow, sparse when paths are given."""

    def __init__(self, root: Path, *, timeout: float = FETCH_TIMEOUT) -> None:
        self._root = root
        self._timeout = timeout

    def checkout(self, name: str) -> Path:
        return self._root / name

    async def fetch(self, repo: RepoRecord, secret: SourceSecret | None) -> tuple[str, Path]:
        """(commit, work tree) of the repository's ref, checked out."""
        tree = self.checkout(repo.name)
        basic = secret is not None and bool(secret.username or secret.password)
        check_secret_for_url(repo.url, has_password=basic)
        # The askpass script answers any host: a redirect must not carry the password elsewhere.
        no_redirects = ("-c", "http.followRedirects=false") if basic else ()
        with credentials_env(secret) as env:

            async def run(*args: str) -> str:
                return await git(args, cwd=tree, env=env, timeout=self._timeout)

            if not (tree / ".git").is_dir():
                await asyncio.to_thread(tree.mkdir, parents=True, exist_ok=True)
                await run("init", "--quiet")
                await run("remote", "add", "origin", repo.url)
            else:
                await run("remote", "set-url", "origin", repo.url)
            if repo.paths:
                await run("sparse-checkout", "set", "--cone", "--", *repo.paths)
            else:
                await run("sparse-checkout", "disable")
            await run(
                *no_redirects,
                "fetch",
                "--quiet",
                "--depth",
                "1",
                "--no-tags",
                "--force",
                "--",
                "origin",
                _refspec(repo),
            )
            commit = (await run("rev-parse", "--verify", "FETCH_HEAD^{commit}")).strip()
            await run(
                "-c",
                "advice.detachedHead=false",
                # Links are checked out as plain files holding their target: a repository's
                # symlink to / must not let its bundles read the hub's files.
                "-c",
                "core.symlinks=false",
                "checkout",
                "--quiet",
                "--force",
                "--detach",
                commit,
            )
            await run("clean", "-ffdxq")
        return commit, tree

    async def forget(self, name: str) -> None:
        """Remove a deleted repository's checkout."""
        await asyncio.to_thread(shutil.rmtree, self.checkout(name), True)
