"""The servicers called directly with a fake context (grpclib's ChannelFor idea, without the
channel): convert, delegate to a Fleet over an in-memory store, convert; errors leave as the
right gRPC status."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

import grpc
import pytest

from argosy.api.v1 import fleet_pb2, resources_pb2, spoke_pb2
from argosy.bundle import BundleSource
from argosy.runtime import STREAM_OPEN
from hub.core.events import EventKind
from hub.delivery.payloads import PayloadCache
from hub.fleet import Fleet
from hub.fleet_service import FleetService
from hub.rendering import Renderer
from hub.spoke_service import SpokeService
from hub.status import StatusBook
from tests.hub.fakes import Aborted, FakeContext, MemoryStore, configmap_bundle


class Rig:
    def __init__(self, *, authenticated: bool = True) -> None:
        self.book = StatusBook()
        self.fleet = Fleet(store=MemoryStore(), status=self.book, renderer=Renderer())
        # authenticated: as behind the AuthInterceptor (which these calls skip).
        self.admin = FleetService(fleet=self.fleet, book=self.book, authenticated=authenticated)
        self.spokes = SpokeService(
            fleet=self.fleet, payloads=PayloadCache(self.fleet), heartbeat_seconds=10
        )

    async def token(self) -> str:
        response = await self.admin.CreateToken(fleet_pb2.CreateTokenRequest(), ctx())
        return response.token

    async def register(self, name: str, token: str) -> spoke_pb2.RegisterResponse:
        request = spoke_pb2.RegisterRequest(token=token, cluster_name=name, labels={"env": "dev"})
        return await self.spokes.Register(request, ctx())


def ctx(metadata: tuple[tuple[str, str], ...] = ()) -> Any:
    return cast(Any, FakeContext(metadata))


async def rig(*, authenticated: bool = True) -> Rig:
    r = Rig(authenticated=authenticated)
    await r.fleet.load()
    return r


def spec(name: str) -> fleet_pb2.BundleSpec:
    files = [resources_pb2.BundleFile(path=p, content=c) for p, c in configmap_bundle(name).items()]
    return fleet_pb2.BundleSpec(name=name, files=files)


async def test_a_cluster_registers_with_a_token_and_is_listed() -> None:
    r = await rig()
    registered = await r.register("one", await r.token())
    assert registered.cluster_id.startswith("c-") and registered.credential
    listed = await r.admin.ListClusters(fleet_pb2.ListClustersRequest(), ctx())
    assert [(c.name, dict(c.labels)) for c in listed.clusters] == [("one", {"env": "dev"})]


async def test_an_unknown_token_is_unauthenticated() -> None:
    r = await rig()
    with pytest.raises(Aborted) as refused:
        await r.register("one", "t-nope.secret")
    assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED


async def test_a_bad_cluster_name_is_an_invalid_argument() -> None:
    r = await rig()
    with pytest.raises(Aborted) as refused:
        await r.register("Not A Name", await r.token())
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_renewal_on_a_hub_without_tls_is_refused_after_authentication() -> None:
    r = await rig()
    registered = await r.register("one", await r.token())
    request = spoke_pb2.RenewCertificateRequest(csr_pem=b"x")
    with pytest.raises(Aborted) as refused:
        await r.spokes.RenewCertificate(request, ctx())
    assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED
    bearer = (("authorization", f"Bearer {registered.credential}"),)
    with pytest.raises(Aborted) as refused:
        await r.spokes.RenewCertificate(request, ctx(bearer))
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT


async def test_bundles_are_applied_read_listed_and_deleted() -> None:
    r = await rig()
    await r.register("one", await r.token())
    applied = await r.admin.ApplyBundles(
        fleet_pb2.ApplyBundlesRequest(bundles=[spec("web")]), ctx()
    )
    assert [(b.name, b.changed, b.resource_count) for b in applied.bundles] == [("web", True, 1)]
    got = await r.admin.GetBundle(fleet_pb2.GetBundleRequest(name="web"), ctx())
    assert [f.path for f in got.bundle.spec.files] == ["cm.yaml"]
    status = await r.admin.GetStatus(fleet_pb2.GetStatusRequest(), ctx())
    [bundle] = status.bundles
    assert (bundle.name, bundle.clusters_desired, bundle.state) == ("web", 1, "Pending")
    await r.admin.DeleteBundle(fleet_pb2.DeleteBundleRequest(name="web"), ctx())
    listed = await r.admin.ListBundles(fleet_pb2.ListBundlesRequest(), ctx())
    assert list(listed.bundles) == []


async def test_errors_leave_with_their_status_codes() -> None:
    r = await rig()
    cases: list[tuple[Callable[[], Awaitable[object]], str]] = [
        (lambda: r.admin.ApplyBundles(fleet_pb2.ApplyBundlesRequest(), ctx()), "INVALID_ARGUMENT"),
        (lambda: r.admin.GetBundle(fleet_pb2.GetBundleRequest(name="web"), ctx()), "NOT_FOUND"),
        (
            lambda: r.admin.DeleteGroup(fleet_pb2.DeleteGroupRequest(name="default"), ctx()),
            "PERMISSION_DENIED",
        ),
        (
            lambda: r.admin.DeleteCluster(fleet_pb2.DeleteClusterRequest(name="one"), ctx()),
            "NOT_FOUND",
        ),
        (
            lambda: r.admin.RevokeToken(fleet_pb2.RevokeTokenRequest(id="t-nope"), ctx()),
            "NOT_FOUND",
        ),
    ]
    for call, code in cases:
        with pytest.raises(Aborted) as refused:
            await call()
        assert refused.value.code.name == code, refused.value


async def test_a_revoked_cluster_can_no_longer_authenticate_nor_register_with_its_token() -> None:
    r = await rig()
    token = await r.token()
    registered = await r.register("one", token)
    await r.admin.RevokeCluster(fleet_pb2.RevokeClusterRequest(name="one"), ctx())
    bearer = (("authorization", f"Bearer {registered.credential}"),)
    with pytest.raises(Aborted) as refused:
        await r.spokes.RenewCertificate(spoke_pb2.RenewCertificateRequest(), ctx(bearer))
    assert refused.value.code == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(Aborted) as refused:
        await r.register("one", token)
    assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED


async def test_events_name_who_applied_deleted_revoked_and_resumed() -> None:
    r = await rig()
    admin = ctx((("authorization", "Bearer argosy-adm-a-123.secret"),))
    await r.register("one", await r.token())
    applied = await r.admin.ApplyBundles(
        fleet_pb2.ApplyBundlesRequest(bundles=[spec("web")]), admin
    )
    await r.admin.ResumeRollout(fleet_pb2.ResumeRolloutRequest(name="web"), admin)
    await r.admin.DeleteBundle(fleet_pb2.DeleteBundleRequest(name="web"), admin)
    await r.admin.RevokeCluster(fleet_pb2.RevokeClusterRequest(name="one"), admin)
    await r.admin.DeleteCluster(fleet_pb2.DeleteClusterRequest(name="one"), ctx())
    await r.fleet.flush()
    listed = await r.admin.ListEvents(fleet_pb2.ListEventsRequest(), ctx())
    got = [
        (e.kind, e.bundle or e.cluster, e.actor)
        for e in listed.events
        if e.kind != "DeploymentStateChanged"
    ]
    assert got == [
        ("ClusterRegistered", "one", got[0][2]),
        ("BundleApplied", "web", "token/a-123"),
        ("RolloutResumed", "web", "token/a-123"),
        ("BundleDeleted", "web", "token/a-123"),
        ("ClusterRevoked", "one", "token/a-123"),
        ("ClusterDeleted", "one", "anonymous"),
    ]
    assert got[0][2].startswith("registration-token/t-")
    web = [e for e in listed.events if e.kind == "BundleApplied"]
    assert web[0].revision == applied.bundles[0].revision
    states = [e for e in listed.events if e.kind == "DeploymentStateChanged"]
    assert [(e.bundle, e.cluster) for e in states] == [("web", "one")]
    # Deleting the bundle removed its deployment: BundleDeleted says so, once.
    assert not states[0].message.endswith("removed")


async def test_a_git_source_is_the_actor_and_its_unchanged_reapplies_are_not_news() -> None:
    r = await rig()
    labels = {"argosy.io/repo": "apps", "argosy.io/commit": "0123456789abcdef0123"}
    source = (BundleSource("web", configmap_bundle("web")), labels)
    await r.fleet.apply_bundles([source], by_source=True)
    await r.fleet.apply_bundles([source], by_source=True)  # the next commit: web unchanged
    await r.fleet.delete_bundle("web")
    await r.fleet.flush()
    listed = await r.admin.ListEvents(fleet_pb2.ListEventsRequest(), ctx())
    assert [(e.kind, e.actor) for e in listed.events] == [
        ("BundleApplied", "repo/apps@0123456789ab"),
        ("BundleDeleted", "repo/apps"),
    ]


async def test_event_requests_are_checked_and_a_slow_watcher_is_dropped() -> None:
    r = await rig()
    for request in (
        fleet_pb2.ListEventsRequest(kind="Applied"),
        fleet_pb2.ListEventsRequest(limit=10_001),
        fleet_pb2.ListEventsRequest(since_seq=-1),
    ):
        with pytest.raises(Aborted) as refused:
            await r.admin.ListEvents(request, ctx())
        assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(Aborted) as refused:
        await anext(r.admin.WatchEvents(fleet_pb2.WatchEventsRequest(kind="Nope"), ctx()))
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT

    context = FakeContext()
    watch = r.admin.WatchEvents(fleet_pb2.WatchEventsRequest(), cast(Any, context))
    r.fleet.events.record(EventKind.CLUSTER_OFFLINE, cluster="one")
    await r.fleet.flush()
    assert (await anext(watch)).event.cluster == "one"  # the backlog
    # Sent as the stream opens: the CLI tells a drop (resume) from a hub never reached.
    assert context.sent_metadata == (STREAM_OPEN,)
    for i in range(r.fleet.events._watcher_queue + 1):  # more than it may fall behind
        r.fleet.events.record(EventKind.CLUSTER_ONLINE, cluster=f"c{i}")
    await r.fleet.flush()
    with pytest.raises(Aborted) as refused:
        async for _ in watch:
            pass
    assert refused.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "watch again from after event" in refused.value.details


async def test_a_hub_without_auth_records_every_caller_as_anonymous() -> None:
    # No interceptor checks the token (--insecure): whoever sends one could name any token.
    r = await rig(authenticated=False)
    forged = ctx((("authorization", "Bearer argosy-adm-a-123.anything"),))
    await r.admin.ApplyBundles(fleet_pb2.ApplyBundlesRequest(bundles=[spec("web")]), forged)
    await r.admin.DeleteBundle(fleet_pb2.DeleteBundleRequest(name="web"), forged)
    await r.fleet.flush()
    listed = await r.admin.ListEvents(fleet_pb2.ListEventsRequest(), ctx())
    assert [(e.kind, e.actor) for e in listed.events] == [
        ("BundleApplied", "anonymous"),
        ("BundleDeleted", "anonymous"),
    ]
