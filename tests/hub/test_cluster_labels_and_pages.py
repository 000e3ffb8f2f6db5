"""Cluster labels set on the hub (SetClusterLabels) and paged, filtered reads, through the
servicers over an in-memory store (no network, no spokes)."""

from __future__ import annotations

from typing import Any, cast

import grpc
import pytest

from argosy.api.v1 import fleet_pb2, resources_pb2, spoke_pb2
from hub.admin_auth import decide
from hub.delivery.payloads import PayloadCache
from hub.fleet import Fleet
from hub.fleet_service import FleetService
from hub.paging import DEFAULT_PAGE_SIZE, encode_token
from hub.rendering import Renderer
from hub.spoke_service import SpokeService
from hub.status import StatusBook
from tests.hub.fakes import Aborted, FakeContext, MemoryStore, configmap_bundle

PROD_ONLY = "targets:\n- clusterSelector:\n    matchLabels: {env: prod}\n"


def ctx() -> Any:
    return cast(Any, FakeContext(()))


class Rig:
    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store or MemoryStore()
        self.book = StatusBook()
        self.fleet = Fleet(store=self.store, status=self.book, renderer=Renderer())
        self.admin = FleetService(fleet=self.fleet, book=self.book)
        self.spokes = SpokeService(
            fleet=self.fleet, payloads=PayloadCache(self.fleet), heartbeat_seconds=10
        )
        self._token = ""

    async def register(self, name: str, labels: dict[str, str]) -> None:
        if not self._token:
            self._token = (
                await self.admin.CreateToken(fleet_pb2.CreateTokenRequest(), ctx())
            ).token
        request = spoke_pb2.RegisterRequest(token=self._token, cluster_name=name, labels=labels)
        await self.spokes.Register(request, ctx())

    async def apply(self, name: str, fleet_yaml: str = "") -> None:
        files = [
            resources_pb2.BundleFile(path=p, content=c)
            for p, c in configmap_bundle(name, fleet_yaml).items()
        ]
        spec = fleet_pb2.BundleSpec(name=name, files=files)
        await self.admin.ApplyBundles(fleet_pb2.ApplyBundlesRequest(bundles=[spec]), ctx())

    async def label(self, name: str, set_: dict[str, str], remove: list[str]) -> fleet_pb2.Cluster:
        request = fleet_pb2.SetClusterLabelsRequest(name=name, set=set_, remove=remove)
        return (await self.admin.SetClusterLabels(request, ctx())).cluster

    def has(self, cluster: str, bundle: str) -> bool:
        record = self.fleet.cluster_by_name(cluster)
        assert record is not None
        return self.fleet.deployment(record.id, bundle) is not None


async def rig(store: MemoryStore | None = None) -> Rig:
    r = Rig(store)
    await r.fleet.load()
    return r


async def test_a_hub_label_retargets_at_once_and_wins_over_the_spokes_labels() -> None:
    r = await rig()
    await r.register("one", {"env": "dev", "spot": "yes"})
    await r.apply("web", PROD_ONLY)
    await r.admin.CreateGroup(
        fleet_pb2.CreateGroupRequest(
            group=fleet_pb2.ClusterGroup(
                name="prod", selector=fleet_pb2.LabelSelector(match_labels={"env": "prod"})
            )
        ),
        ctx(),
    )
    assert not r.has("one", "web")

    cluster = await r.label("one", {"env": "prod"}, ["spot"])
    assert dict(cluster.labels) == {"env": "prod"}
    assert dict(cluster.hub_labels) == {"env": "prod"}
    assert list(cluster.hub_removed_labels) == ["spot"]
    assert r.has("one", "web")
    status = await r.admin.GetStatus(fleet_pb2.GetStatusRequest(), ctx())
    assert {g.name: g.cluster_count for g in status.groups}["prod"] == 1
    assert dict(status.clusters[0].labels) == {"env": "prod"}

    # The spoke registers again with its old --labels: the hub's keys stay as the hub set them.
    await r.register("one", {"env": "dev", "spot": "yes", "zone": "a"})
    listed = await r.admin.ListClusters(fleet_pb2.ListClustersRequest(), ctx())
    assert dict(listed.clusters[0].labels) == {"env": "prod", "zone": "a"}
    assert r.has("one", "web")

    # Removing the hub's key removes the label (it does not fall back to the spoke's value),
    # and the bundle leaves the cluster.
    cluster = await r.label("one", {}, ["env"])
    assert dict(cluster.labels) == {"zone": "a"}
    assert not r.has("one", "web")
    status = await r.admin.GetStatus(fleet_pb2.GetStatusRequest(), ctx())
    assert {g.name: g.cluster_count for g in status.groups}["prod"] == 0


async def test_hub_labels_survive_a_restart() -> None:
    r = await rig()
    await r.register("one", {"env": "dev"})
    await r.label("one", {"env": "prod"}, [])
    again = await rig(r.store)
    record = again.fleet.cluster_by_name("one")
    assert record is not None and dict(record.labels) == {"env": "prod"}
    await again.register("one", {"env": "dev"})
    record = again.fleet.cluster_by_name("one")
    assert record is not None and dict(record.labels) == {"env": "prod"}


async def test_label_errors_name_the_cluster_or_the_label() -> None:
    r = await rig()
    await r.register("one", {})
    with pytest.raises(Aborted) as refused:
        await r.label("nope", {"env": "prod"}, [])
    assert refused.value.code == grpc.StatusCode.NOT_FOUND
    with pytest.raises(Aborted) as refused:
        await r.label("one", {"env": "not ok"}, [])
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "cluster one labels: label env='not ok'" in str(refused.value)


def test_viewers_may_read_the_version_but_not_set_labels() -> None:
    assert decide("viewer", "GetVersion") is None
    refusal = decide("viewer", "SetClusterLabels")
    assert refusal is not None and refusal[0] == grpc.StatusCode.PERMISSION_DENIED
    assert decide("admin", "SetClusterLabels") is None


async def test_version_is_the_packages() -> None:
    import argosy  # noqa: PLC0415

    r = await rig()
    got = await r.admin.GetVersion(fleet_pb2.GetVersionRequest(), ctx())
    assert got.version == argosy.__version__


async def test_1200_clusters_come_in_bounded_pages_whose_union_is_complete() -> None:
    r = await rig()
    names = [f"c{i:04d}" for i in range(1200)]
    for i, name in enumerate(names):
        await r.register(name, {"env": "prod" if i % 3 == 0 else "dev"})
    await r.apply("web", PROD_ONLY)
    await r.apply("api")

    seen: list[str] = []
    token = ""
    while True:
        resp = await r.admin.ListClusters(fleet_pb2.ListClustersRequest(page_token=token), ctx())
        assert len(resp.clusters) <= DEFAULT_PAGE_SIZE
        seen += [c.name for c in resp.clusters]
        token = resp.next_page_token
        if not token:
            break
    assert seen == names

    prod: list[str] = []
    token = ""
    while True:
        resp = await r.admin.ListClusters(
            fleet_pb2.ListClustersRequest(
                page_token=token, page_size=100, label_selector="env=prod,tier!=web"
            ),
            ctx(),
        )
        assert len(resp.clusters) <= 100
        prod += [c.name for c in resp.clusters]
        token = resp.next_page_token
        if not token:
            break
    assert prod == names[::3]

    # Status: clusters and bundles side by side, each bounded; bundles, groups and repos come
    # on the first page.
    clusters: list[str] = []
    bundles: list[str] = []
    token = ""
    pages = 0
    while True:
        status = await r.admin.GetStatus(
            fleet_pb2.GetStatusRequest(page_token=token, page_size=250), ctx()
        )
        assert len(status.clusters) <= 250 and len(status.bundles) <= 250
        assert bool(status.groups) == bool(status.bundles) == (pages == 0)
        clusters += [c.name for c in status.clusters]
        bundles += [b.name for b in status.bundles]
        pages += 1
        token = status.next_page_token
        if not token:
            break
    assert (clusters, bundles) == (names, ["api", "web"])
    assert pages == 5

    # Every cluster waits for its first check-in: a state filter keeps them, another none.
    waiting = await r.admin.ListClusters(
        fleet_pb2.ListClustersRequest(state="waitcheckin", page_size=5), ctx()
    )
    assert [c.state for c in waiting.clusters] == ["WaitCheckIn"] * 5
    ready = await r.admin.GetStatus(fleet_pb2.GetStatusRequest(state="Ready"), ctx())
    assert list(ready.clusters) == [] and list(ready.bundles) == []
    pending = await r.admin.ListBundles(fleet_pb2.ListBundlesRequest(state="Pending"), ctx())
    assert [b.spec.name for b in pending.bundles] == ["api", "web"]


async def test_detail_of_a_bundle_on_1200_clusters_is_paged_too() -> None:
    r = await rig()
    names = [f"c{i:04d}" for i in range(1200)]
    for name in names:
        await r.register(name, {})
    await r.apply("api")
    await r.apply("web")

    async def read(request: fleet_pb2.GetStatusRequest, size: int) -> list[Any]:
        pages = []
        while True:
            request.page_size = size
            status = await r.admin.GetStatus(request, ctx())
            pages.append(status)
            if not status.next_page_token:
                return pages
            request.page_token = status.next_page_token

    # One bundle: at most a page of its clusters a response; it comes again with the next
    # ones, flagged while more follow.
    pages = await read(fleet_pb2.GetStatusRequest(detail_bundles=["api"]), 250)
    details: list[str] = []
    flags = []
    for status in pages:
        assert len(status.clusters) <= 250
        for api in [b for b in status.bundles if b.deployments]:
            assert api.name == "api" and len(api.deployments) <= 250
            flags.append(api.more_deployments)
            details += [d.cluster for d in api.deployments]
    assert details == names
    assert flags == [True] * 4 + [False]
    # The clusters wait while the detail carries on, then go on from where they stopped.
    assert [c.name for p in pages for c in p.clusters] == names

    # Two bundles: the second's detail waits for the first's; until it is whole, it is flagged
    # as carrying on (a reader stops at the first page saying otherwise).
    pages = await read(fleet_pb2.GetStatusRequest(detail_bundles=["api", "web"]), 500)
    got: dict[str, list[str]] = {"api": [], "web": []}
    for status in pages:
        for b in status.bundles:
            got[b.name] += [d.cluster for d in b.deployments]
            assert b.more_deployments == (len(got[b.name]) < len(names)), (b.name, len(got[b.name]))
    assert got == {"api": names, "web": names}

    # Every bundle and every cluster in detail: at most page_size deployments in all a response.
    pages = await read(fleet_pb2.GetStatusRequest(detail_bundles=["*"], detail_clusters=["*"]), 300)
    per_bundle: dict[str, list[str]] = {}
    per_cluster: dict[str, list[str]] = {}
    for status in pages:
        sent = sum(len(b.deployments) for b in status.bundles)
        sent += sum(len(c.deployments) for c in status.clusters)
        assert sent <= 300 and len(status.clusters) <= 300 and len(status.bundles) <= 300
        assert len(status.next_page_token) < 40 * 300
        for b in status.bundles:
            per_bundle.setdefault(b.name, []).extend(d.cluster for d in b.deployments)
        for c in status.clusters:
            per_cluster.setdefault(c.name, []).extend(d.bundle for d in c.deployments)
    assert per_bundle == {"api": names, "web": names}
    assert per_cluster == {n: ["api", "web"] for n in names}


async def test_bad_filters_are_invalid_arguments_naming_the_field() -> None:
    r = await rig()
    for request, field in (
        (fleet_pb2.ListClustersRequest(state="Broken"), "state"),
        (fleet_pb2.ListClustersRequest(page_token="zzz"), "page_token"),
        (fleet_pb2.ListClustersRequest(label_selector="=x"), "label_selector"),
    ):
        with pytest.raises(Aborted) as refused:
            await r.admin.ListClusters(request, ctx())
        assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
        assert field in str(refused.value)


async def test_bundles_filter_by_their_labels_and_page() -> None:
    r = await rig()
    for name, team in (("a", "web"), ("b", "db"), ("c", "web"), ("d", "web")):
        files = [
            resources_pb2.BundleFile(path=p, content=c) for p, c in configmap_bundle(name).items()
        ]
        spec = fleet_pb2.BundleSpec(name=name, files=files, labels={"team": team})
        await r.admin.ApplyBundles(fleet_pb2.ApplyBundlesRequest(bundles=[spec]), ctx())
    first = await r.admin.ListBundles(
        fleet_pb2.ListBundlesRequest(label_selector="team=web", page_size=2), ctx()
    )
    assert [b.spec.name for b in first.bundles] == ["a", "c"] and first.next_page_token
    rest = await r.admin.ListBundles(
        fleet_pb2.ListBundlesRequest(
            label_selector="team=web", page_size=2, page_token=first.next_page_token
        ),
        ctx(),
    )
    assert [b.spec.name for b in rest.bundles] == ["d"] and not rest.next_page_token
    # A cluster list's token is not a bundle list's.
    with pytest.raises(Aborted) as refused:
        await r.admin.ListClusters(
            fleet_pb2.ListClustersRequest(page_token=first.next_page_token), ctx()
        )
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_a_crafted_token_cannot_make_the_hub_walk_the_fleet_per_invented_owner() -> None:
    r = await rig()
    for name in ("c1", "c2", "c3"):
        await r.register(name, {})
    await r.apply("api")
    walked: list[str] = []
    real = r.admin._bundle_detail_names

    def counting(bundle: str) -> list[str]:
        walked.append(bundle)
        return real(bundle)

    r.admin._bundle_detail_names = counting  # type: ignore[method-assign]
    # More sections than any page of this size leaves: refused, naming the field.
    many = encode_token({f"bundle-detail:b{i}": "" for i in range(11)} | {"clusters": ""})
    with pytest.raises(Aborted) as refused:
        await r.admin.GetStatus(
            fleet_pb2.GetStatusRequest(detail_bundles=["*"], page_size=5, page_token=many), ctx()
        )
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in refused.value.details
    # Sections for bundles not asked for, or not there, are dropped unread.
    token = encode_token({"bundle-detail:api": "", "bundle-detail:ghost": "", "clusters": ""})
    status = await r.admin.GetStatus(fleet_pb2.GetStatusRequest(page_token=token), ctx())
    assert walked == [] and not any(b.deployments for b in status.bundles)
    status = await r.admin.GetStatus(
        fleet_pb2.GetStatusRequest(detail_bundles=["*"], page_token=token), ctx()
    )
    assert walked == ["api"]
    assert [d.cluster for b in status.bundles for d in b.deployments] == ["c1", "c2", "c3"]


async def test_cluster_lists_show_when_this_hub_last_heard_the_cluster() -> None:
    r = await rig()
    await r.register("c1", {})
    record = r.fleet.cluster_by_name("c1")
    assert record is not None
    # A heartbeat moves the write-behind's time, not the inventory's record (a resync no
    # longer re-reads last_seen alone): the list must show the newer one.
    r.fleet.writer.last_seen[record.id] = record.last_seen + 120
    listed = await r.admin.ListClusters(fleet_pb2.ListClustersRequest(), ctx())
    assert [c.last_seen_unix for c in listed.clusters] == [record.last_seen + 120]
