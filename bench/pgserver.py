"""A throwaway PostgreSQL server: initdb in a temporary directory, started on 127.0.0.1.

Shared by the `pg`-marked tests (tests/pg.py wraps it in a session fixture) and by
`python -m bench.fleet --hubs K` (replicas on one database); it lives here, not in tests/, so
that the benchmark imports no test module. The server runs at a free port with durability
turned off (these databases die with the session or the run). PostgreSQL refuses to run as
root, so as root the server runs as the `postgres` user, which owns the directory.
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

USER = "argosy"


def find_binaries() -> Path | None:
    """The directory holding initdb and pg_ctl: ARGOSY_PG_BIN, a Debian install, or PATH."""
    env = os.environ.get("ARGOSY_PG_BIN")
    if env:
        return Path(env)
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def free_port() -> int:
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


def as_owner(argv: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *argv] if owner else argv


def start(bin_dir: Path) -> tuple[PgServer, str | None]:
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
        as_owner(
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
        port = free_port()
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        try:
            subprocess.run(
                as_owner(
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


def stop(bin_dir: Path, server: PgServer, owner: str | None) -> None:
    with contextlib.suppress(subprocess.SubprocessError):
        subprocess.run(
            as_owner(
                [str(bin_dir / "pg_ctl"), "stop", "-D", str(server.data_dir), "-m", "fast", "-w"],
                owner,
            ),
            check=False,
            capture_output=True,
            timeout=60,
        )
    shutil.rmtree(server.data_dir.parent, ignore_errors=True)
