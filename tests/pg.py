"""A real PostgreSQL for `pg`-marked tests: one throwaway server per test session.

The fixture runs `initdb` in a temporary directory and starts the server on 127.0.0.1 at a free
port with durability turned off (these databases die with the session). PostgreSQL refuses to
run as root, so as root the server runs as the `postgres` user, which owns the directory.
Without the binaries the tests skip, saying why, unless ARGOSY_REQUIRE_PG is set: then they
fail, so CI cannot pass by silently skipping them.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest

USER = "argosy"


def _bin_dir() -> Path | None:
    env = os.environ.get("ARGOSY_PG_BIN")
    if env:
        return Path(env)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running server: `dsn(db)` names a database on it, `create_database` makes a fresh one."""

    port: int
    data_dir: Path
    _names: Iterator[int] = field(default_factory=itertools.count)

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    async def create_database(self) -> str:
        """A new empty database, so every test starts from nothing; returns its DSN."""
        name = f"t{next(self._names)}"
        conn = await asyncpg.connect(self.dsn(), timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close(timeout=10)
        return self.dsn(name)


def _as_owner(argv: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *argv] if owner else argv


def _start(bin_dir: Path) -> tuple[PgServer, str | None]:
    owner: str | None = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            raise RuntimeError("as root, PostgreSQL needs a 'postgres' user to run as") from None
        owner = "postgres"
    root = Path(tempfile.mkdtemp(prefix="argosy-pg-"))
    data = root / "data"
    if owner:
        shutil.chown(root, owner)
    subprocess.run(
        _as_owner(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                USER,
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            owner,
        ),
        check=True,
        capture_output=True,
        timeout=120,
    )
    last: subprocess.CalledProcessError | None = None
    for _ in range(5):  # a free port can be taken between the check and the start
        port = _free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        try:
            subprocess.run(
                _as_owner(
                    [
                        str(bin_dir / "pg_ctl"),
                        "start",
                        "-D",
                        str(data),
                        "-w",
                        "-t",
                        "60",
                        "-l",
                        str(root / "server.log"),
                        "-o",
                        options,
                    ],
                    owner,
                ),
                check=True,
                capture_output=True,
                timeout=90,
            )
        except subprocess.CalledProcessError as exc:
            last = exc
            continue
        return PgServer(port, data), owner
    log = (
        (root / "server.log").read_text(errors="replace") if (root / "server.log").exists() else ""
    )
    raise RuntimeError(f"PostgreSQL did not start: {last!r}\n{log[-2000:]}")


def _stop(bin_dir: Path, server: PgServer, owner: str | None) -> None:
    with contextlib.suppress(subprocess.SubprocessError):
        subprocess.run(
            _as_owner(
                [str(bin_dir / "pg_ctl"), "stop", "-D", str(server.data_dir), "-m", "fast", "-w"],
                owner,
            ),
            check=False,
            capture_output=True,
            timeout=60,
        )
    shutil.rmtree(server.data_dir.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bin_dir = _bin_dir()
    if bin_dir is None or not (bin_dir / "pg_ctl").exists():
        reason = "PostgreSQL binaries (initdb, pg_ctl) not found; apt-get install postgresql-15"
        if os.environ.get("ARGOSY_REQUIRE_PG"):
            pytest.fail(f"ARGOSY_REQUIRE_PG is set but {reason}")
        pytest.skip(reason)
    server, owner = _start(bin_dir)
    try:
        yield server
    finally:
        _stop(bin_dir, server, owner)
