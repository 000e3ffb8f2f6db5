"""The SQLite store keeps what it is given, across close and reopen."""

from __future__ import annotations

from pathlib import Path

from argosy.selectors import LabelSelector, Requirement
from hub.models import (
    BundleRecord,
    ClusterRecord,
    DeploymentRecord,
    GroupRecord,
    ResourceStateRecord,
    TokenRecord,
)
from hub.store import SqliteStore


async def test_round_trip_and_token_use(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    store = SqliteStore(path)
    await store.open()
    bundle = BundleRecord("web", {"team": "x"}, {"a.yaml": b"\xffbinary-ish"}, "rev1", 3, 1, 2)
    await store.put_bundles([bundle], {"rev1": b"{}"})
    cluster = ClusterRecord("c-1", "one", {"env": "dev"}, "hash", 5)
    await store.put_cluster(cluster)
    group = GroupRecord("prod", LabelSelector({"env": "prod"}, (Requirement("x", "Exists"),)))
    await store.put_group(group)
    await store.put_token(TokenRecord("t-1", "secrethash", 1, expires=0))
    await store.put_token(TokenRecord("t-2", "expiredhash", 1, expires=10))
    dep = DeploymentRecord(
        "web",
        "c-1",
        "rev1",
        "rev1",
        "",
        "rev1",
        True,
        (ResourceStateRecord("/ConfigMap//a", False, True, False, '{"data":1}'),),
    )
    await store.save_deployments([dep], [])
    assert await store.use_token("secrethash", now=100) is not None
    assert await store.use_token("expiredhash", now=100) is None
    assert await store.use_token("unknown", now=100) is None
    await store.close()

    store = SqliteStore(path)
    await store.open()
    snap = await store.load()
    assert snap.bundles == [bundle]
    assert snap.clusters == [cluster]
    assert snap.groups == [group]
    assert snap.deployments == [dep]
    assert await store.get_resource_set("rev1") == b"{}"
    tokens = {t.id: t for t in await store.list_tokens()}
    assert tokens["t-1"].uses == 1 and tokens["t-2"].uses == 0
    await store.save_deployments([], [("web", "c-1")])
    await store.delete_cluster("c-1")
    await store.delete_bundle("web")
    snap = await store.load()
    assert (snap.bundles, snap.clusters, snap.deployments) == ([], [], [])
    await store.close()
