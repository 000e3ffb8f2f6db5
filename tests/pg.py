"""A real PostgreSQL for `pg`-marked tests: one throwaway server per test session.

The server (bench/pgserver.py: initdb in a temporary directory, 127.0.0.1, a free port,
durability off) lives with the benchmark, which starts one too for `--hubs K`. Without the
binaries the tests skip, saying why, unless ARGOSY_REQUIRE_PG is set: then they fail, so CI
cannot pass by silently skipping them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from bench.pgserver import PgServer, find_binaries, start, stop

__all__ = ["PgServer", "pg_server"]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    bin_dir = find_binaries()
    if bin_dir is None or not (bin_dir / "pg_ctl").exists():
        reason = "PostgreSQL binaries (initdb, pg_ctl) not found; apt-get install postgresql-15"
        if os.environ.get("ARGOSY_REQUIRE_PG"):
            pytest.fail(f"ARGOSY_REQUIRE_PG is set but {reason}")
        pytest.skip(reason)
    server, owner = start(bin_dir)
    try:
        yield server
    finally:
        stop(bin_dir, server, owner)
