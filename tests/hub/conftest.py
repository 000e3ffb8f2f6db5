"""Hub test fixtures: the session's PostgreSQL server (tests/pg.py) for `pg`-marked tests."""

from __future__ import annotations

from tests.pg import pg_server

__all__ = ["pg_server"]
