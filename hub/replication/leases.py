"""Rollout leases: which replica decides a bundle's rollout releases.

One replica per bundle, the holder of a session-level advisory lock on the bundle
(`pg_try_advisory_lock`). PostgreSQL frees the lock with the connection that took it, so a
dead replica's leases pass to the others without a timeout.
"""

from __future__ import annotations

import hashlib

import asyncpg


def lock_key(bundle: str) -> int:
    """The advisory lock key for a bundle's rollout: 64 bits of a hash, signed as PG wants."""
    digest = hashlib.sha256(b"argosy-rollout\0" + bundle.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def try_lease(
    conn: asyncpg.Connection[asyncpg.Record], bundle: str, *, timeout: float
) -> bool:
    """Take the bundle's lease on `conn` if no other session holds it; whether we hold it now."""
    won = await conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_key(bundle), timeout=timeout)
    return bool(won)
