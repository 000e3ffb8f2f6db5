"""Numbered migrations: which are due (pure), and SQLite files written before the list."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from hub.models import ClusterRecord, RevokedName
from hub.persistence.migrations import (
    POSTGRES_MIGRATIONS,
    SQLITE_MIGRATIONS,
    Migration,
    SchemaTooNew,
    due,
)
from hub.persistence.sqlite import SCHEMA_VERSION, SqliteStore

M = (Migration(1, "one", ""), Migration(2, "two", ""), Migration(3, "three", ""))


def test_due_is_what_is_missing_in_order() -> None:
    assert [m.version for m in due(M, set())] == [1, 2, 3]
    assert [m.version for m in due(M, {1})] == [2, 3]
    assert due(M, {1, 2, 3}) == []


def test_a_database_newer_than_the_hub_is_refused() -> None:
    with pytest.raises(SchemaTooNew, match="version 4, but this hub knows only up to 3"):
        due(M, {1, 2, 3, 4})


@pytest.mark.parametrize("migrations", [SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS])
def test_versions_are_numbered_from_one_without_gaps(migrations: tuple[Migration, ...]) -> None:
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))


# The schema as the hub wrote it before revoked_names existed (commit 574ddfd), still recorded
# as version 1: hubs then grew the file in place.
BEFORE_REVOKED_NAMES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE bundles (
    name TEXT PRIMARY KEY, labels TEXT NOT NULL, files TEXT NOT NULL, revision TEXT NOT NULL,
    resource_count INTEGER NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL);
CREATE TABLE resource_sets (revision TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE clusters (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, labels TEXT NOT NULL,
    credential_hash TEXT NOT NULL, created INTEGER NOT NULL, last_seen INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE groups_ (name TEXT PRIMARY KEY, selector TEXT NOT NULL);
CREATE TABLE tokens (
    id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL UNIQUE, created INTEGER NOT NULL,
    expires INTEGER NOT NULL, revoked INTEGER NOT NULL, uses INTEGER NOT NULL,
    max_uses INTEGER NOT NULL DEFAULT 0);
CREATE TABLE admin_tokens (
    id TEXT PRIMARY KEY, secret_hash TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
    created INTEGER NOT NULL, revoked INTEGER NOT NULL);
CREATE TABLE secrets (name TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE deployments (
    bundle TEXT NOT NULL, cluster_id TEXT NOT NULL, desired TEXT NOT NULL, acked TEXT NOT NULL,
    error TEXT NOT NULL, status_revision TEXT NOT NULL, ready INTEGER NOT NULL,
    resources TEXT NOT NULL, released TEXT NOT NULL, PRIMARY KEY (bundle, cluster_id));
CREATE TABLE bundle_control (name TEXT PRIMARY KEY, paused INTEGER, halted TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO clusters VALUES ('c-1', 'one', '{"env": "prod"}', 'h', 10, 20, 0);
"""


def write(path: Path, script: str) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.executescript(script)
    finally:
        conn.close()


def version(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(
            conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        )
    finally:
        conn.close()


async def test_an_older_version_1_file_keeps_its_data_and_gains_the_later_tables(
    tmp_path: Path,
) -> None:
    path = tmp_path / "argosy.db"
    write(path, BEFORE_REVOKED_NAMES)
    store = SqliteStore(path)
    await store.open()
    try:
        snap = await store.load()
        assert snap.clusters == [ClusterRecord("c-1", "one", {"env": "prod"}, "h", 10, 20)]
        await store.put_revoked_name(RevokedName("two", 5, ("t1",)))
        assert await store.get_revoked_name("two") == RevokedName("two", 5, ("t1",))
    finally:
        await store.close()
    assert version(path) == str(SCHEMA_VERSION)


async def test_a_new_file_records_the_latest_version_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "argosy.db"
    for _ in range(2):
        store = SqliteStore(path)
        await store.open()
        await store.put_cluster(ClusterRecord("c-1", "one", {}, "h", 1, 1))
        await store.close()
    assert version(path) == str(SCHEMA_VERSION)


async def test_a_file_from_a_newer_hub_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "argosy.db"
    newer = SCHEMA_VERSION + 1
    write(
        path,
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        f"INSERT INTO meta VALUES ('schema_version', '{newer}');",
    )
    store = SqliteStore(path)
    with pytest.raises(SchemaTooNew, match=f"version {newer}"):
        await store.open()
    await store.close()
    conn = sqlite3.connect(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        conn.close()
    assert tables == {"meta"}
