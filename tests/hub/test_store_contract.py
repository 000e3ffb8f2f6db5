"""The store contract: every `Store` implementation behaves alike, method by method.

Each test runs on SQLite and on a real PostgreSQL (the `pg` marker; see tests/pg.py). A test
that only one store passes is a bug in the other. `test_every_protocol_method_is_exercised`
fails when the Protocol gains a method that this suite does not call.
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, cast

import asyncpg
import pytest

from argosy.selectors import LabelSelector, Requirement
from hub.models import (
    AdminTokenRecord,
    BundleControl,
    BundleRecord,
    ClusterRecord,
    DeploymentRecord,
    EventRecord,
    GroupRecord,
    HistoryEntry,
    RepoRecord,
    ResourceStateRecord,
    RevokedName,
    SourceSecret,
    TokenRecord,
)
from hub.persistence.migrations import SchemaTooNew
from hub.persistence.postgres import LATEST, MIGRATIONS, PostgresStore
from hub.persistence.protocol import STATE_CHANGES, Snapshot, Store
from hub.persistence.sqlite import SqliteStore
from tests.pg import PgServer

MakeStore = Callable[[], Store]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
async def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> MakeStore:
    """Makes unopened stores over one fresh, empty database: a second one is a reopen."""
    if request.param == "sqlite":
        path = tmp_path / "argosy.db"
        return lambda: SqliteStore(path)
    server: PgServer = request.getfixturevalue("pg_server")
    dsn = await server.create_database()
    return lambda: PostgresStore(dsn, max_size=4)


@pytest.fixture
async def store(make_store: MakeStore) -> AsyncIterator[Store]:
    s = make_store()
    await s.open()
    try:
        yield s
    finally:
        await s.close()


async def reopened(make_store: MakeStore, old: Store) -> Store:
    await old.close()
    new = make_store()
    await new.open()
    return new


def bundle(name: str = "web", **changes: Any) -> BundleRecord:
    fields: dict[str, Any] = {
        "name": name,
        "labels": {"team": "x"},
        # NUL and bytes that are not UTF-8: files are bytes, and must come back as they went.
        "files": {"fleet.yaml": b"defaultNamespace: web\n", "bin/a.yaml": b"\x00\xff\xfe raw"},
        "revision": f"{name}-r1",
        "resource_count": 3,
        "created": 100,
        "updated": 100,
    }
    fields.update(changes)
    return BundleRecord(**fields)


def cluster(cid: str = "c-1", name: str = "one", **changes: Any) -> ClusterRecord:
    fields: dict[str, Any] = {
        "id": cid,
        "name": name,
        "labels": {"env": "dev"},
        "credential_hash": f"hash-{cid}",
        "created": 5,
        "last_seen": 0,
    }
    fields.update(changes)
    return ClusterRecord(**fields)


def deployment(bundle: str = "web", cluster_id: str = "c-1", **changes: Any) -> DeploymentRecord:
    fields: dict[str, Any] = {
        "bundle": bundle,
        "cluster_id": cluster_id,
        "desired": "r2",
        "acked": "r1",
        "error": "",
        "status_revision": "r1",
        "ready": True,
        "resources": (
            ResourceStateRecord("apps/v1/Deployment/web/web", True),
            ResourceStateRecord("/ConfigMap/web/a", False, True, False, '{"data": {"k": "é"}}'),
            ResourceStateRecord("/Secret/web/b", False, False, True, "missing"),
        ),
        "released": "r1",
    }
    fields.update(changes)
    return DeploymentRecord(**fields)


def sorted_deployments(snap: Snapshot) -> list[DeploymentRecord]:
    return sorted(snap.deployments, key=lambda d: (d.bundle, d.cluster_id))


# --- open / load -------------------------------------------------------------------------------


async def test_a_new_store_loads_empty(store: Store) -> None:
    snap = await store.load()
    assert (
        list(snap.bundles),
        list(snap.clusters),
        list(snap.groups),
        list(snap.deployments),
        list(snap.controls),
    ) == ([], [], [], [], [])
    assert await store.list_tokens() == []


async def test_everything_survives_close_and_reopen(make_store: MakeStore, store: Store) -> None:
    b = bundle()
    c = cluster()
    g = GroupRecord("prod", LabelSelector({"env": "prod"}, (Requirement("x", "Exists"),)))
    t = TokenRecord("t-1", "secrethash", 1, expires=0)
    d = deployment()
    ctl = BundleControl("web", paused=True, halted="too many failures")
    await store.put_bundles([b], {"web-r1": b"{}"})
    await store.put_cluster(c)
    await store.put_group(g)
    await store.put_token(t)
    await store.save_deployments([d], [])
    await store.put_bundle_control(ctl)
    assert await store.use_token("secrethash", now=10) is not None

    store = await reopened(make_store, store)
    try:
        snap = await store.load()
        assert list(snap.bundles) == [b]
        assert list(snap.clusters) == [c]
        assert list(snap.groups) == [g]
        assert list(snap.deployments) == [d]
        assert list(snap.controls) == [ctl]
        assert await store.get_resource_set("web-r1") == b"{}"
        assert await store.list_tokens() == [TokenRecord("t-1", "secrethash", 1, uses=1)]
    finally:
        await store.close()


async def test_load_orders_bundles_clusters_and_groups_by_name(store: Store) -> None:
    await store.put_bundles([bundle("b"), bundle("a"), bundle("c")], {})
    await store.put_cluster(cluster("c-1", "zed"))
    await store.put_cluster(cluster("c-2", "abe"))
    await store.put_group(GroupRecord("z", LabelSelector()))
    await store.put_group(GroupRecord("a", LabelSelector()))
    snap = await store.load()
    assert [x.name for x in snap.bundles] == ["a", "b", "c"]
    assert [x.name for x in snap.clusters] == ["abe", "zed"]
    assert [x.name for x in snap.groups] == ["a", "z"]


# --- bundles and resource sets -----------------------------------------------------------------


async def test_put_bundles_upserts_and_keeps_created(store: Store) -> None:
    await store.put_bundles([bundle(), bundle("api")], {"web-r1": b"one", "api-r1": b"two"})
    changed = bundle(
        labels={"team": "y", "tier": "front"},
        files={"fleet.yaml": b"namespace: other\n"},
        revision="web-r2",
        resource_count=1,
        created=999,  # ignored on update: a bundle keeps the time it was first made
        updated=200,
    )
    await store.put_bundles([changed], {"web-r2": b"three"})
    snap = await store.load()
    assert list(snap.bundles) == [
        bundle("api"),
        bundle(
            labels={"team": "y", "tier": "front"},
            files={"fleet.yaml": b"namespace: other\n"},
            revision="web-r2",
            resource_count=1,
            created=100,
            updated=200,
        ),
    ]
    assert await store.get_resource_set("web-r1") == b"one"  # old revisions stay readable
    assert await store.get_resource_set("web-r2") == b"three"


async def test_put_bundles_with_the_same_name_twice_keeps_the_last(store: Store) -> None:
    await store.put_bundles([bundle(revision="a"), bundle(revision="b", files={})], {})
    assert list((await store.load()).bundles) == [bundle(revision="b", files={})]


async def test_put_bundles_is_all_or_none(store: Store) -> None:
    await store.put_bundles([bundle("old")], {})
    bad = bundle("bad", resource_count=2**70)  # beyond any 64-bit integer column
    with pytest.raises((OverflowError, asyncpg.DataError)):
        await store.put_bundles([bundle("good"), bad], {"new-rev": b"data"})
    assert [b.name for b in (await store.load()).bundles] == ["old"]
    assert await store.get_resource_set("new-rev") is None


async def test_put_bundles_with_nothing_is_a_no_op(store: Store) -> None:
    await store.put_bundles([], {})
    await store.put_resource_sets({})
    assert list((await store.load()).bundles) == []


async def test_delete_bundle_removes_it_and_its_control(store: Store) -> None:
    await store.put_bundles([bundle(), bundle("api")], {"web-r1": b"x"})
    await store.put_bundle_control(BundleControl("web", paused=True))
    await store.put_bundle_control(BundleControl("api", halted="stop"))
    await store.delete_bundle("web")
    await store.delete_bundle("never-there")
    snap = await store.load()
    assert [b.name for b in snap.bundles] == ["api"]
    assert list(snap.controls) == [BundleControl("api", halted="stop")]
    # Resource sets are content-addressed and shared: deleting a bundle keeps them.
    assert await store.get_resource_set("web-r1") == b"x"
    # A re-created bundle starts with no stale files.
    await store.put_bundles([bundle(files={"only.yaml": b"a: 1\n"})], {})
    assert (await store.load()).bundles[1].files == {"only.yaml": b"a: 1\n"}


async def test_resource_sets_are_content_addressed(store: Store) -> None:
    data = bytes(range(256)) * 10
    await store.put_resource_sets({"r1": data, "r2": b""})
    # A revision names its content, so a second write of it changes nothing.
    await store.put_resource_sets({"r1": b"something else", "r3": b"three"})
    assert await store.get_resource_set("r1") == data
    assert await store.get_resource_set("r2") == b""
    assert await store.get_resource_set("r3") == b"three"
    assert await store.get_resource_set("unknown") is None


# --- clusters ----------------------------------------------------------------------------------


async def test_put_cluster_upserts_and_keeps_created(store: Store) -> None:
    await store.put_cluster(cluster())
    changed = cluster(
        name="renamed", labels={"env": "prod"}, credential_hash="new", created=77, last_seen=9
    )
    await store.put_cluster(changed)
    assert list((await store.load()).clusters) == [
        cluster(name="renamed", labels={"env": "prod"}, credential_hash="new", last_seen=9)
    ]


async def test_cluster_label_overrides_round_trip_and_survive_touch(store: Store) -> None:
    overrides = {"env": "prod", "spot": None}
    await store.put_cluster(cluster(labels={"env": "prod"}, label_overrides=overrides))
    await store.touch_clusters({"c-1": 7})
    expected = cluster(labels={"env": "prod"}, label_overrides=overrides, last_seen=7)
    assert list((await store.load()).clusters) == [expected]
    assert await store.load_cluster("c-1") == expected
    await store.put_cluster(cluster(label_overrides={}))
    assert (await store.load_cluster("c-1")) == cluster()


async def test_touch_clusters_sets_last_seen_only(store: Store) -> None:
    await store.put_cluster(cluster("c-1", "one"))
    await store.put_cluster(cluster("c-2", "two", last_seen=3))
    await store.touch_clusters({"c-1": 50, "c-unknown": 60})
    await store.touch_clusters({})
    assert list((await store.load()).clusters) == [
        cluster("c-1", "one", last_seen=50),
        cluster("c-2", "two", last_seen=3),
    ]


async def test_delete_cluster_deletes_its_deployments(store: Store) -> None:
    await store.put_cluster(cluster("c-1", "one"))
    await store.put_cluster(cluster("c-2", "two"))
    await store.save_deployments(
        [deployment("web", "c-1"), deployment("api", "c-1"), deployment("web", "c-2")], []
    )
    await store.delete_cluster("c-1")
    await store.delete_cluster("c-unknown")
    snap = await store.load()
    assert list(snap.clusters) == [cluster("c-2", "two")]
    assert list(snap.deployments) == [deployment("web", "c-2")]


# --- groups ------------------------------------------------------------------------------------


async def test_groups_round_trip_upsert_and_delete(store: Store) -> None:
    selector = LabelSelector(
        {"env": "prod", "region": "eu"},
        (
            Requirement("tier", "In", ("a", "b")),
            Requirement("legacy", "DoesNotExist"),
        ),
    )
    await store.put_group(GroupRecord("prod", selector))
    await store.put_group(GroupRecord("all", LabelSelector()))
    assert list((await store.load()).groups) == [
        GroupRecord("all", LabelSelector()),
        GroupRecord("prod", selector),
    ]
    await store.put_group(GroupRecord("prod", LabelSelector({"env": "live"})))
    await store.delete_group("all")
    await store.delete_group("never-there")
    assert list((await store.load()).groups) == [
        GroupRecord("prod", LabelSelector({"env": "live"}))
    ]


# --- tokens ------------------------------------------------------------------------------------


async def test_tokens_list_in_creation_order_and_upsert(store: Store) -> None:
    await store.put_token(TokenRecord("t-b", "hb", created=20))
    await store.put_token(TokenRecord("t-a", "ha", created=10, expires=500))
    assert await store.list_tokens() == [
        TokenRecord("t-a", "ha", 10, expires=500),
        TokenRecord("t-b", "hb", 20),
    ]
    # An upsert changes revoked, uses and expires; the secret and creation time stay.
    await store.put_token(TokenRecord("t-a", "other", 99, expires=700, revoked=True, uses=4))
    assert (await store.list_tokens())[0] == TokenRecord(
        "t-a", "ha", 10, expires=700, revoked=True, uses=4
    )


async def test_use_token_counts_uses_of_valid_tokens_only(store: Store) -> None:
    await store.put_token(TokenRecord("t-ok", "ok", 1))
    await store.put_token(TokenRecord("t-ttl", "ttl", 1, expires=100))
    await store.put_token(TokenRecord("t-revoked", "rev", 1, revoked=True))

    used = await store.use_token("ok", now=10**9)  # expires=0: never expires
    assert used is not None and (used.id, used.revoked) == ("t-ok", False)
    assert await store.use_token("ok", now=10**9) is not None
    assert await store.use_token("ttl", now=99) is not None
    assert await store.use_token("ttl", now=100) is None  # expired at `expires`, not after
    assert await store.use_token("rev", now=1) is None
    assert await store.use_token("unknown", now=1) is None
    uses = {t.id: t.uses for t in await store.list_tokens()}
    assert uses == {"t-ok": 2, "t-ttl": 1, "t-revoked": 0}


async def test_revoking_a_token_stops_its_use(store: Store) -> None:
    token = TokenRecord("t-1", "h", 1)
    await store.put_token(token)
    assert await store.use_token("h", now=2) is not None
    await store.put_token(TokenRecord("t-1", "h", 1, revoked=True, uses=1))
    assert await store.use_token("h", now=3) is None
    assert await store.list_tokens() == [TokenRecord("t-1", "h", 1, revoked=True, uses=1)]


async def test_use_token_is_atomic_under_concurrency(store: Store) -> None:
    await store.put_token(TokenRecord("t-1", "h", 1))
    results = await asyncio.gather(*(store.use_token("h", now=2) for _ in range(25)))
    assert all(r is not None for r in results)
    assert (await store.list_tokens())[0].uses == 25


# --- deployments -------------------------------------------------------------------------------


async def test_save_deployments_upserts_and_deletes(store: Store) -> None:
    await store.save_deployments([deployment("web", "c-1"), deployment("web", "c-2")], [])
    changed = deployment(
        "web",
        "c-1",
        desired="r3",
        acked="r3",
        error="apply failed:\nline 2",
        status_revision="r3",
        ready=False,
        resources=(),
        released="r3",
    )
    # Deletes run first, then upserts: a pair deleted and written in one batch is written.
    await store.save_deployments(
        [changed, deployment("api", "c-1")], [("web", "c-2"), ("api", "c-1"), ("x", "c-9")]
    )
    assert sorted_deployments(await store.load()) == [deployment("api", "c-1"), changed]
    await store.save_deployments([], [])
    await store.save_deployments([], [("api", "c-1")])
    assert list((await store.load()).deployments) == [changed]


async def test_save_deployments_with_the_same_pair_twice_keeps_the_last(store: Store) -> None:
    await store.save_deployments([deployment(acked="a"), deployment(acked="b")], [])
    assert list((await store.load()).deployments) == [deployment(acked="b")]


async def test_save_deployments_is_all_or_none(store: Store) -> None:
    await store.save_deployments([deployment("web", "c-1")], [])
    unencodable = ResourceStateRecord("k", True, message=cast(str, object()))
    with pytest.raises(TypeError):
        await store.save_deployments(
            [deployment("api", "c-1"), deployment("db", "c-1", resources=(unencodable,))],
            [("web", "c-1")],
        )
    assert list((await store.load()).deployments) == [deployment("web", "c-1")]


# --- bundle control ----------------------------------------------------------------------------


async def test_bundle_control_round_trip_and_upsert(store: Store) -> None:
    await store.put_bundle_control(BundleControl("a", paused=True))
    await store.put_bundle_control(BundleControl("b", paused=False, halted="2 of 4 failed"))
    await store.put_bundle_control(BundleControl("c"))
    await store.put_bundle_control(BundleControl("a", paused=None, halted="x"))
    controls = sorted((await store.load()).controls, key=lambda c: c.name)
    assert controls == [
        BundleControl("a", paused=None, halted="x"),
        BundleControl("b", paused=False, halted="2 of 4 failed"),
        BundleControl("c"),
    ]


async def test_bundle_control_pin_round_trips(make_store: MakeStore, store: Store) -> None:
    await store.put_bundle_control(BundleControl("a", pinned=3))
    assert await store.load_control("a") == BundleControl("a", pinned=3)
    store = await reopened(make_store, store)
    try:
        assert list((await store.load()).controls) == [BundleControl("a", pinned=3)]
        await store.put_bundle_control(BundleControl("a", paused=True))
        assert await store.load_control("a") == BundleControl("a", paused=True)
    finally:
        await store.close()


# --- bundle history ------------------------------------------------------------------------------


def entry(name: str = "web", revision: str = "r1", **changes: Any) -> HistoryEntry:
    fields: dict[str, Any] = {
        "bundle": name,
        "rev": 0,
        "revision": revision,
        "created": 100,
        "actor": "token/a-1",
        "summary": "1 object: ConfigMap",
        "labels": {"team": "x"},
        # Bytes that are not UTF-8, and a NUL: a rollback must apply exactly what was applied.
        "files": {"cm.yaml": b"kind: ConfigMap\n", "bin/x": b"\x00\xff raw"},
    }
    fields.update(changes)
    return HistoryEntry(**fields)


async def test_history_numbers_each_bundle_and_keeps_content(
    make_store: MakeStore, store: Store
) -> None:
    revs = await store.put_bundles(
        [bundle("web"), bundle("api")], {}, history=[entry("web"), entry("api")]
    )
    assert revs == {"web": 1, "api": 1}
    revs = await store.put_bundles(
        [bundle("web")], {}, history=[entry("web", "r2", rollback_of=1, actor="repo/x@abc")]
    )
    assert revs == {"web": 2}
    assert await store.put_bundles([bundle("web")], {}) == {}
    store = await reopened(make_store, store)
    try:
        assert await store.list_history("web") == [
            entry("web", rev=1),
            entry("web", "r2", rev=2, rollback_of=1, actor="repo/x@abc"),
        ]
        assert await store.list_history("api") == [entry("api", rev=1)]
        assert await store.list_history("nothing") == []
    finally:
        await store.close()


async def test_history_is_trimmed_to_the_limit_on_write(store: Store) -> None:
    for i in range(1, 6):
        revs = await store.put_bundles(
            [bundle("web")], {}, history=[entry("web", f"r{i}")], history_limit=3
        )
        assert revs == {"web": i}
    assert [(e.rev, e.revision) for e in await store.list_history("web")] == [
        (3, "r3"),
        (4, "r4"),
        (5, "r5"),
    ]


async def test_history_goes_with_its_bundle_and_a_new_one_starts_at_1(store: Store) -> None:
    await store.put_bundles([bundle("web")], {}, history=[entry("web"), entry("web", "r2")])
    await store.put_bundle_control(BundleControl("web", pinned=2))
    await store.delete_bundle("web")
    assert await store.list_history("web") == []
    assert await store.load_control("web") is None
    assert await store.put_bundles([bundle("web")], {}, history=[entry("web")]) == {"web": 1}


async def test_history_is_written_with_its_bundles_or_not_at_all(store: Store) -> None:
    bad = bundle("bad", resource_count=2**70)  # beyond any 64-bit integer column
    with pytest.raises((OverflowError, asyncpg.DataError)):
        await store.put_bundles([bad], {}, history=[entry("bad")])
    assert await store.list_history("bad") == []


# --- single-record re-reads (hub replicas) -----------------------------------------------------


async def test_single_records_read_back_as_load_has_them(store: Store) -> None:
    """What a replica re-reads when another says it changed something: the record, or None."""
    group = GroupRecord("dev", LabelSelector({"env": "dev"}))
    await store.put_bundles([bundle("web"), bundle("api")], {})
    await store.put_cluster(cluster("c-1", "one"))
    await store.put_group(group)
    await store.put_bundle_control(BundleControl("web", paused=True, halted="h"))
    await store.save_deployments([deployment("web", "c-1"), deployment("api", "c-1")], [])
    snap = await store.load()
    assert await store.load_bundle("web") == next(b for b in snap.bundles if b.name == "web")
    assert await store.load_cluster("c-1") == snap.clusters[0]
    assert await store.load_group("dev") == group
    assert await store.load_control("web") == BundleControl("web", paused=True, halted="h")
    rows = await store.load_deployments([("web", "c-1"), ("web", "c-9"), ("x", "c-1")])
    assert rows == [deployment("web", "c-1")]
    assert await store.load_deployments([]) == []
    await store.delete_bundle("web")
    await store.delete_cluster("c-1")
    await store.delete_group("dev")
    assert await store.load_bundle("web") is None
    assert await store.load_cluster("c-1") is None
    assert await store.load_group("dev") is None
    assert await store.load_control("web") is None


# --- PostgreSQL only: versioned migrations -----------------------------------------------------


@pytest.mark.pg
async def test_replicas_starting_together_migrate_once(pg_server: PgServer) -> None:
    dsn = await pg_server.create_database()
    stores = [PostgresStore(dsn, max_size=2) for _ in range(4)]
    await asyncio.gather(*(s.open() for s in stores))
    try:
        await stores[0].put_cluster(cluster())
        assert list((await stores[3].load()).clusters) == [cluster()]
    finally:
        await asyncio.gather(*(s.close() for s in stores))
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        rows = await conn.fetch("SELECT version, description FROM schema_migrations")
    finally:
        await conn.close(timeout=10)
    assert [(r["version"], r["description"]) for r in rows] == [
        (m.version, m.description) for m in MIGRATIONS
    ]


@pytest.mark.pg
async def test_a_hub_older_than_its_database_refuses_to_start(pg_server: PgServer) -> None:
    dsn = await pg_server.create_database()
    store = PostgresStore(dsn)
    await store.open()
    await store.close()
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(
            "INSERT INTO schema_migrations (version, description) VALUES ($1, 'from the future')",
            LATEST + 1,
        )
    finally:
        await conn.close(timeout=10)
    with pytest.raises(SchemaTooNew, match=f"version {LATEST + 1}"):
        await PostgresStore(dsn).open()


# --- trust: token limits, revocation, admin tokens, the shared CA ------------------------------


async def test_a_token_with_max_uses_is_used_up(store: Store) -> None:
    await store.put_token(TokenRecord("t-2", "twice", created=1, max_uses=2))
    assert await store.use_token("twice", now=5) is not None
    assert await store.use_token("twice", now=5) is not None
    assert await store.use_token("twice", now=5) is None
    [token] = [t for t in await store.list_tokens() if t.id == "t-2"]
    assert (token.uses, token.max_uses) == (2, 2)


async def test_a_revoked_cluster_stays_revoked(make_store: MakeStore, store: Store) -> None:
    cluster = ClusterRecord("c-r", "gone", {}, "serial", 1, 0, revoked=True)
    await store.put_cluster(cluster)
    store = await reopened(make_store, store)
    try:
        assert (await store.load()).clusters == [cluster]
    finally:
        await store.close()


async def test_revoked_names_outlive_their_cluster_until_forgotten(
    make_store: MakeStore, store: Store
) -> None:
    assert await store.get_revoked_name("gone") is None
    cluster = ClusterRecord("c-g", "gone", {}, "serial", 1, 0, revoked=True)
    await store.put_cluster(cluster)
    await store.put_revoked_name(RevokedName("gone", 5, ("t-1", "t-2")))
    await store.delete_cluster("c-g")
    store = await reopened(make_store, store)
    try:
        assert (await store.load()).clusters == []
        assert await store.get_revoked_name("gone") == RevokedName("gone", 5, ("t-1", "t-2"))
        # Revoked again (a later registration under a new token): the newer record wins.
        await store.put_revoked_name(RevokedName("gone", 9, ()))
        assert await store.get_revoked_name("gone") == RevokedName("gone", 9, ())
        await store.forget_revoked_name("gone")
        await store.forget_revoked_name("never-revoked")  # forgetting nothing is fine
        assert await store.get_revoked_name("gone") is None
    finally:
        await store.close()


async def test_admin_tokens_are_found_by_hash(store: Store) -> None:
    viewer = AdminTokenRecord("a-1", "h-viewer", "viewer", 3)
    await store.put_admin_token(viewer)
    assert await store.get_admin_token("h-viewer") == viewer
    assert await store.get_admin_token("nope") is None
    assert await store.list_admin_tokens() == [viewer]
    await store.put_admin_token(AdminTokenRecord("a-1", "h-viewer", "viewer", 3, revoked=True))
    found = await store.get_admin_token("h-viewer")
    assert found is not None and found.revoked


async def test_the_first_shared_secret_wins(store: Store) -> None:
    first = await store.shared_secret("ca", b"one")
    second = await store.shared_secret("ca", b"two")
    assert first == second == b"one"
    racing = await asyncio.gather(*(store.shared_secret("ca2", bytes([i])) for i in range(5)))
    assert len(set(racing)) == 1


async def test_repos_round_trip_upsert_and_delete(make_store: MakeStore, store: Store) -> None:
    web = RepoRecord(
        "web",
        "https://git.example/web.git",
        "branch",
        "main",
        ("apps/a", "b"),
        15_000,
        "creds",
        {"team": "x"},
        7,
    )
    bare = RepoRecord("bare", "git://127.0.0.1/bare")
    await store.put_repo(web)
    await store.put_repo(bare)
    store = await reopened(make_store, store)
    try:
        assert await store.list_repos() == [bare, web]
        moved = RepoRecord("web", "ssh://git@host/web", "tag", "v1", (), 60_000, "", {}, 7)
        await store.put_repo(moved)
        await store.delete_repo("bare")
        await store.delete_repo("never-was")  # deleting nothing is fine
        assert await store.list_repos() == [moved]
    finally:
        await store.close()


async def test_source_secrets_round_trip_and_list_names_only(store: Store) -> None:
    # Bytes that are not UTF-8 and a NUL: keys and tokens come back exactly as they went.
    basic = SourceSecret("basic", username="me", password=b"t\x00k\xff", created=3)
    ssh = SourceSecret("ssh", ssh_key=b"-----BEGIN KEY-----\n", known_hosts="host ssh-ed25519 AAA")
    await store.put_source_secret(basic)
    await store.put_source_secret(ssh)
    assert await store.get_source_secret("basic") == basic
    assert await store.get_source_secret("nope") is None
    assert await store.list_source_secrets() == ["basic", "ssh"]
    rotated = SourceSecret(
        "basic", username="me", password=b"new", created=4, helm_repo_hosts=("h", "h2:8443")
    )
    await store.put_source_secret(rotated)
    assert await store.get_source_secret("basic") == rotated
    rotated = SourceSecret("basic", username="me", password=b"new", created=5)
    await store.put_source_secret(rotated)
    assert await store.get_source_secret("basic") == rotated  # hosts replaced too
    await store.delete_source_secret("ssh")
    assert await store.list_source_secrets() == ["basic"]


def _event(i: int, **kw: str) -> EventRecord:
    fields = {"kind": "BundleApplied", "bundle": f"b{i % 2}", "cluster": f"c{i % 3}", **kw}
    return EventRecord(
        time=1_700_000_000.25 + i,
        kind=fields["kind"],
        bundle=fields["bundle"],
        cluster=fields["cluster"],
        revision=f"r{i}",
        actor="token/a-1",
        message=f"event {i}\x00",  # a NUL: one bad character must not fail a batch
    )


async def test_events_are_numbered_listed_filtered_and_trimmed(
    make_store: MakeStore, store: Store
) -> None:
    first = await store.append_events([_event(i) for i in range(5)], keep=100)
    seqs = [e.seq for e in first]
    assert seqs == list(range(seqs[0], seqs[0] + 5)) and seqs[0] >= 1
    assert [e.message.rstrip("\x00\ufffd") for e in first] == [f"event {i}" for i in range(5)]
    listed = await store.list_events()
    assert [e.seq for e in listed] == seqs  # oldest first
    assert listed[0].time == 1_700_000_000.25 and listed[0].actor == "token/a-1"
    assert listed[0].revision == "r0" and listed[0].kind == "BundleApplied"
    # Filters, since_seq, and the newest `limit`.
    assert [e.revision for e in await store.list_events(bundle="b0")] == ["r0", "r2", "r4"]
    assert [e.revision for e in await store.list_events(cluster="c1")] == ["r1", "r4"]
    assert [e.revision for e in await store.list_events(bundle="b1", cluster="c1")] == ["r1"]
    assert await store.list_events(kind="ClusterOffline") == []
    assert [e.seq for e in await store.list_events(since_seq=seqs[2])] == seqs[3:]
    assert [e.seq for e in await store.list_events(limit=2)] == seqs[3:]
    # After since_seq: the oldest `limit` after it, so that a resume pages forward.
    assert [e.seq for e in await store.list_events(since_seq=seqs[0], limit=2)] == seqs[1:3]
    assert [e.seq for e in await store.list_events(since_seq=seqs[2], limit=1)] == seqs[3:4]
    # Trimmed to the newest `keep`, with numbers that keep growing, across a reopen too.
    second = await store.append_events([_event(i) for i in range(5, 8)], keep=4)
    assert [e.seq for e in second] == [seqs[-1] + 1, seqs[-1] + 2, seqs[-1] + 3]
    assert [e.revision for e in await store.list_events()] == ["r4", "r5", "r6", "r7"]
    store = await reopened(make_store, store)
    try:
        assert [e.revision for e in await store.list_events()] == ["r4", "r5", "r6", "r7"]
        third = await store.append_events([_event(8)], keep=1)
        assert third[0].seq == second[-1].seq + 1
        assert [(e.seq, e.revision) for e in await store.list_events()] == [(third[0].seq, "r8")]
        assert await store.append_events([], keep=1) == []
    finally:
        await store.close()


async def test_state_changes_and_other_events_are_trimmed_apart(store: Store) -> None:
    # A rollout's state changes must not push the applies and cluster events out of the log.
    applied = await store.append_events([_event(i) for i in range(3)], keep=3)
    changes = [_event(i, kind=STATE_CHANGES) for i in range(3, 10)]
    await store.append_events(changes, keep=3)
    assert [e.revision for e in await store.list_events()] == ["r0", "r1", "r2", "r7", "r8", "r9"]
    await store.append_events([_event(10)], keep=3)
    kept = await store.list_events(since_seq=applied[0].seq)
    assert [e.revision for e in kept] == ["r1", "r2", "r7", "r8", "r9", "r10"]
    assert [e.revision for e in await store.list_events(kind=STATE_CHANGES)] == ["r7", "r8", "r9"]


# --- the suite itself --------------------------------------------------------------------------


def _protocol_methods() -> set[str]:
    return {
        name
        for name, member in vars(Store).items()
        if not name.startswith("_") and inspect.isfunction(member)
    }


def _conforms(sqlite: SqliteStore, postgres: PostgresStore) -> tuple[Store, Store]:
    return sqlite, postgres  # mypy checks both classes against the Protocol, signatures and all


def test_every_store_implements_the_protocol() -> None:
    for impl in (SqliteStore, PostgresStore):
        for name in _protocol_methods():
            ours = inspect.signature(getattr(Store, name))
            theirs = inspect.signature(getattr(impl, name))
            assert list(theirs.parameters) == list(ours.parameters), (impl.__name__, name)


def test_every_protocol_method_is_exercised() -> None:
    source = Path(__file__).read_text()
    called = set(re.findall(r"\.(\w+)\(", source))
    missing = _protocol_methods() - called
    assert not missing, f"the contract suite never calls {sorted(missing)}"
