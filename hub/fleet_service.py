"""FleetService: the admin and programmatic API. Thin: convert, delegate to the fleet, convert."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc

import argosy
from argosy.api.v1 import fleet_pb2, fleet_pb2_grpc, resources_pb2
from argosy.bundle import BundleSource
from argosy.convert import selector_from_pb, selector_to_pb
from argosy.errors import ArgosyError, InvalidInput, NotFound
from argosy.runtime import STREAM_OPEN
from argosy.states import ORDER
from hub import paging
from hub.admin_auth import AdminAuth, caller
from hub.core.events import EventFilter
from hub.errors import grpc_errors, status_for
from hub.fleet import AppliedBundle, Fleet
from hub.models import BundleRecord, ClusterRecord, EventRecord, GroupRecord, TokenRecord
from hub.repo_service import RepoMethods
from hub.sources.git import GitSource
from hub.sources.secrets import Secrets
from hub.status import StatusBook, detail, rollout_view
from hub.status.book import WAIT_CHECK_IN
from hub.watch import StatusBroadcaster, WatchFilter, bundle_pb, cluster_pb, group_pb

log = logging.getLogger(__name__)

STATES: tuple[str, ...] = (*ORDER, WAIT_CHECK_IN)
"""What `state` filters may name: the deployment states, and a cluster's WaitCheckIn."""
STATUS_SECTIONS = ("clusters", "bundles")
# GetStatus's paged detail: one section per bundle (its clusters) or cluster (its bundles).
BUNDLE_DETAIL = "bundle-detail:"
CLUSTER_DETAIL = "cluster-detail:"
DETAIL_SECTIONS = (BUNDLE_DETAIL, CLUSTER_DETAIL)

Context = grpc.aio.ServicerContext[Any, Any]


def bundle_to_pb(rec: BundleRecord, *, with_files: bool) -> fleet_pb2.Bundle:
    files = (
        [resources_pb2.BundleFile(path=p, content=c) for p, c in sorted(rec.files.items())]
        if with_files
        else []
    )
    return fleet_pb2.Bundle(
        spec=fleet_pb2.BundleSpec(name=rec.name, labels=dict(rec.labels), files=files),
        revision=rec.revision,
        created_unix=rec.created,
        updated_unix=rec.updated,
        resource_count=rec.resource_count,
    )


def applied_to_pb(a: AppliedBundle) -> fleet_pb2.BundleApplied:
    return fleet_pb2.BundleApplied(
        name=a.name,
        revision=a.revision,
        changed=a.changed,
        resource_count=a.resource_count,
        warnings=a.warnings,
        skipped=a.skipped,
        planned=[
            fleet_pb2.PlannedChange(
                clusters=p.clusters,
                added=p.added,
                changed=p.changed,
                removed=p.removed,
                diff=p.diff,
                error=p.error,
                revision=p.revision,
                held_revision=p.held_revision,
                options_changed=p.options_changed,
            )
            for p in a.planned
        ],
    )


def group_to_pb(group: GroupRecord) -> fleet_pb2.ClusterGroup:
    return fleet_pb2.ClusterGroup(name=group.name, selector=selector_to_pb(group.selector))


def event_to_pb(e: EventRecord) -> fleet_pb2.Event:
    return fleet_pb2.Event(
        seq=e.seq,
        time_unix_ms=round(e.time * 1000),
        kind=e.kind,
        bundle=e.bundle,
        cluster=e.cluster,
        revision=e.revision,
        actor=e.actor,
        message=e.message,
    )


def token_to_pb(token: TokenRecord) -> fleet_pb2.Token:
    return fleet_pb2.Token(
        id=token.id,
        created_unix=token.created,
        expires_unix=token.expires,
        revoked=token.revoked,
        uses=token.uses,
        max_uses=token.max_uses,
    )


class FleetService(RepoMethods, fleet_pb2_grpc.FleetServiceServicer):
    def __init__(
        self,
        *,
        fleet: Fleet,
        book: StatusBook,
        admin_auth: AdminAuth | None = None,
        ca_pem: bytes = b"",
        repos: GitSource | None = None,
        secrets: Secrets | None = None,
        authenticated: bool = False,
    ) -> None:
        """authenticated: the server checks admin tokens (AuthInterceptor). Without it (an
        --insecure hub) a caller's token is never checked, so it names no one."""
        self._fleet = fleet
        self._authenticated = authenticated
        self._repos = repos
        self._secrets = secrets
        self._book = book
        self._admin_auth = admin_auth
        self._ca_pem = ca_pem
        # Watchers see bundles enriched the same way GetStatus does.
        self._broadcaster = StatusBroadcaster(book, enrich=self.enrich)

    def _actor(self, context: grpc.aio.ServicerContext[Any, Any]) -> str:
        """Who made the call, for history and events."""
        if not self._authenticated:
            return "anonymous"
        return caller(context.invocation_metadata())

    @property
    def broadcaster(self) -> StatusBroadcaster:
        return self._broadcaster

    def _cluster_pb(self, c: ClusterRecord) -> fleet_pb2.Cluster:
        view = self._book.cluster_view(c.id)
        return fleet_pb2.Cluster(
            id=c.id,
            name=c.name,
            labels=dict(c.labels),
            connected=self._fleet.connected(c.id),
            created_unix=c.created,
            # What this replica heard last, else the store's (a resync no longer re-reads it).
            last_seen_unix=self._fleet.last_seen(c.id),
            revoked=c.revoked,
            hub_labels={k: v for k, v in c.label_overrides.items() if v is not None},
            hub_removed_labels=sorted(k for k, v in c.label_overrides.items() if v is None),
            state=view.state if view else "",
        )

    def _cluster_state(self, cluster_id: str) -> str:
        view = self._book.cluster_view(cluster_id)
        return view.state if view else ""

    def _bundle_state(self, name: str) -> str:
        view = self._book.bundle_view(name)
        return view.state if view else ""

    @grpc_errors
    async def ApplyBundles(
        self, request: fleet_pb2.ApplyBundlesRequest, context: Context
    ) -> fleet_pb2.ApplyBundlesResponse:
        if not request.bundles:
            raise InvalidInput("no bundles given")
        sources = [
            (BundleSource(b.name, {f.path: f.content for f in b.files}), dict(b.labels))
            for b in request.bundles
        ]
        applied = await self._fleet.apply_bundles(
            sources, actor=self._actor(context), dry_run=request.dry_run
        )
        return fleet_pb2.ApplyBundlesResponse(bundles=[applied_to_pb(a) for a in applied])

    @grpc_errors
    async def GetBundle(
        self, request: fleet_pb2.GetBundleRequest, context: Context
    ) -> fleet_pb2.GetBundleResponse:
        return fleet_pb2.GetBundleResponse(
            bundle=bundle_to_pb(self._fleet.bundle(request.name), with_files=True)
        )

    @grpc_errors
    async def ListBundles(
        self, request: fleet_pb2.ListBundlesRequest, context: Context
    ) -> fleet_pb2.ListBundlesResponse:
        size = paging.page_size(request.page_size)
        cursor = paging.decode_token(request.page_token, sections=("bundles",))
        match = paging.selector(request.label_selector)
        state = paging.state_filter(request.state, known=STATES)
        bundles = [
            b
            for b in self._fleet.bundles()
            if match.matches(self._fleet.inventory.bundle_labels(b.name))
            and (not state or self._bundle_state(b.name) == state)
        ]
        chunk, after = paging.page(
            bundles, key=lambda b: b.name, after=cursor["bundles"], size=size
        )
        return fleet_pb2.ListBundlesResponse(
            bundles=[bundle_to_pb(b, with_files=False) for b in chunk],
            next_page_token=paging.encode_token({"bundles": after} if after else {}),
        )

    @grpc_errors
    async def DeleteBundle(
        self, request: fleet_pb2.DeleteBundleRequest, context: Context
    ) -> fleet_pb2.DeleteBundleResponse:
        await self._fleet.delete_bundle(request.name, actor=self._actor(context))
        return fleet_pb2.DeleteBundleResponse()

    @grpc_errors
    async def ListClusters(
        self, request: fleet_pb2.ListClustersRequest, context: Context
    ) -> fleet_pb2.ListClustersResponse:
        size = paging.page_size(request.page_size)
        cursor = paging.decode_token(request.page_token, sections=("clusters",))
        match = paging.selector(request.label_selector)
        state = paging.state_filter(request.state, known=STATES)
        clusters = [
            c
            for c in self._fleet.clusters()
            if match.matches(c.labels) and (not state or self._cluster_state(c.id) == state)
        ]
        chunk, after = paging.page(
            clusters, key=lambda c: c.name, after=cursor["clusters"], size=size
        )
        return fleet_pb2.ListClustersResponse(
            clusters=[self._cluster_pb(c) for c in chunk],
            next_page_token=paging.encode_token({"clusters": after} if after else {}),
        )

    @grpc_errors
    async def SetClusterLabels(
        self, request: fleet_pb2.SetClusterLabelsRequest, context: Context
    ) -> fleet_pb2.SetClusterLabelsResponse:
        record = await self._fleet.set_cluster_labels(
            request.name, set_=dict(request.set), remove=list(request.remove)
        )
        return fleet_pb2.SetClusterLabelsResponse(cluster=self._cluster_pb(record))

    @grpc_errors
    async def GetVersion(
        self, request: fleet_pb2.GetVersionRequest, context: Context
    ) -> fleet_pb2.GetVersionResponse:
        return fleet_pb2.GetVersionResponse(version=argosy.__version__)

    @grpc_errors
    async def DeleteCluster(
        self, request: fleet_pb2.DeleteClusterRequest, context: Context
    ) -> fleet_pb2.DeleteClusterResponse:
        await self._fleet.delete_cluster(request.name, actor=self._actor(context))
        return fleet_pb2.DeleteClusterResponse()

    @grpc_errors
    async def CreateGroup(
        self, request: fleet_pb2.CreateGroupRequest, context: Context
    ) -> fleet_pb2.CreateGroupResponse:
        group = await self._fleet.put_group(
            request.group.name, selector_from_pb(request.group.selector)
        )
        return fleet_pb2.CreateGroupResponse(group=group_to_pb(group))

    @grpc_errors
    async def ListGroups(
        self, request: fleet_pb2.ListGroupsRequest, context: Context
    ) -> fleet_pb2.ListGroupsResponse:
        return fleet_pb2.ListGroupsResponse(groups=[group_to_pb(g) for g in self._fleet.groups()])

    @grpc_errors
    async def DeleteGroup(
        self, request: fleet_pb2.DeleteGroupRequest, context: Context
    ) -> fleet_pb2.DeleteGroupResponse:
        await self._fleet.delete_group(request.name)
        return fleet_pb2.DeleteGroupResponse()

    @grpc_errors
    async def CreateToken(
        self, request: fleet_pb2.CreateTokenRequest, context: Context
    ) -> fleet_pb2.CreateTokenResponse:
        record, secret = await self._fleet.create_token(
            ttl_seconds=request.ttl_seconds, max_uses=request.max_uses
        )
        return fleet_pb2.CreateTokenResponse(
            token=secret, info=token_to_pb(record), ca_pem=self._ca_pem
        )

    @grpc_errors
    async def CreateAdminToken(
        self, request: fleet_pb2.CreateAdminTokenRequest, context: Context
    ) -> fleet_pb2.CreateAdminTokenResponse:
        if self._admin_auth is None:
            raise InvalidInput("this hub runs with --insecure: it has no admin tokens")
        record, secret = await self._admin_auth.create(request.role)
        return fleet_pb2.CreateAdminTokenResponse(token=secret, id=record.id)

    @grpc_errors
    async def ListAdminTokens(
        self, request: fleet_pb2.ListAdminTokensRequest, context: Context
    ) -> fleet_pb2.ListAdminTokensResponse:
        if self._admin_auth is None:
            raise InvalidInput("this hub runs with --insecure: it has no admin tokens")
        return fleet_pb2.ListAdminTokensResponse(
            tokens=[
                fleet_pb2.AdminToken(
                    id=t.id, role=t.role, created_unix=t.created, revoked=t.revoked
                )
                for t in await self._admin_auth.list()
            ]
        )

    @grpc_errors
    async def RevokeAdminToken(
        self, request: fleet_pb2.RevokeAdminTokenRequest, context: Context
    ) -> fleet_pb2.RevokeAdminTokenResponse:
        if self._admin_auth is None:
            raise InvalidInput("this hub runs with --insecure: it has no admin tokens")
        await self._admin_auth.revoke(request.id)
        return fleet_pb2.RevokeAdminTokenResponse()

    @grpc_errors
    async def RevokeCluster(
        self, request: fleet_pb2.RevokeClusterRequest, context: Context
    ) -> fleet_pb2.RevokeClusterResponse:
        await self._fleet.revoke_cluster(request.name, actor=self._actor(context))
        return fleet_pb2.RevokeClusterResponse()

    @grpc_errors
    async def ListTokens(
        self, request: fleet_pb2.ListTokensRequest, context: Context
    ) -> fleet_pb2.ListTokensResponse:
        return fleet_pb2.ListTokensResponse(
            tokens=[token_to_pb(t) for t in await self._fleet.tokens()]
        )

    @grpc_errors
    async def RevokeToken(
        self, request: fleet_pb2.RevokeTokenRequest, context: Context
    ) -> fleet_pb2.RevokeTokenResponse:
        await self._fleet.revoke_token(request.id)
        return fleet_pb2.RevokeTokenResponse()

    @grpc_errors
    async def GetStatus(
        self, request: fleet_pb2.GetStatusRequest, context: Context
    ) -> fleet_pb2.GetStatusResponse:
        size = paging.page_size(request.page_size)
        cursor = paging.decode_token(
            request.page_token, sections=STATUS_SECTIONS, prefixes=DETAIL_SECTIONS
        )
        match = paging.selector(request.label_selector)
        state = paging.state_filter(request.state, known=STATES)
        book = self._book
        for name in [*request.detail_bundles, *request.detail_clusters]:
            known = name in self._fleet.inventory.bundles or self._fleet.cluster_by_name(name)
            if name != "*" and not known:
                raise NotFound(f"no bundle or cluster named {name!r}")
        # A token carries at most a page's worth of detail sections, each for a bundle or
        # cluster asked for and still there: a crafted one must not make the hub walk every
        # cluster once per invented owner.
        want_b = set(request.detail_bundles)
        want_c = set(request.detail_clusters)
        if sum(k.startswith(DETAIL_SECTIONS) for k in cursor) > 2 * size:
            raise InvalidInput("page_token: not a token this hub made (too many sections)")
        cursor = {
            k: v
            for k, v in cursor.items()
            if not k.startswith(DETAIL_SECTIONS)
            or (
                k.startswith(BUNDLE_DETAIL)
                and ("*" in want_b or k[len(BUNDLE_DETAIL) :] in want_b)
                and k[len(BUNDLE_DETAIL) :] in self._fleet.inventory.bundles
            )
            or (
                k.startswith(CLUSTER_DETAIL)
                and ("*" in want_c or k[len(CLUSTER_DETAIL) :] in want_c)
                and self._fleet.cluster_by_name(k[len(CLUSTER_DETAIL) :]) is not None
            )
        }
        # From the broadcaster's cache: only clusters the book touched since are converted again
        # (a 10,000-cluster status spent ~60 ms of the event loop re-making unchanged messages).
        cached = {c.name: c for c in self._broadcaster.cluster_pbs.all(book)}
        clusters = list(cached.values())
        if state or not match.is_empty():
            # Unfiltered (`argosy status`), skip reading every message's labels: during a
            # reconnect storm that scan was a third of GetStatus's time on the loop.
            clusters = [
                c for c in clusters if match.matches(c.labels) and (not state or c.state == state)
            ]
        # A bundle's view summarises its clusters: made for the page only, unless filtering
        # by state needs every one.
        bundles = [
            b
            for b in book.bundle_names()
            if not state or ((bv := book.bundle_view(b)) is not None and bv.state == state)
        ]
        # The detail is paged too, at most `size` deployments a page in all (a bundle on
        # 10,000 clusters has 10,000): a bundle's or cluster's detail starts on the page that
        # holds it and carries on in a section of its own; it comes again on the next pages,
        # with more_deployments set while more follows. Clusters and bundles wait while detail
        # is carried on, so the sections waiting in a token are never more than one page's.
        if any(k.startswith(DETAIL_SECTIONS) for k in cursor):
            page: dict[str, list[str]] = {"clusters": [], "bundles": []}
            following = {k: v for k, v in cursor.items() if k in STATUS_SECTIONS}
        else:
            page, following = paging.read_sections(
                {"clusters": [c.name for c in clusters], "bundles": bundles},
                cursor=cursor,
                size=size,
            )
        b_detail, b_following, left = paging.page_details(
            [b for b in page["bundles"] if "*" in want_b or b in want_b],
            cursor=cursor,
            prefix=BUNDLE_DETAIL,
            names=self._bundle_detail_names,
            budget=size,
        )
        c_detail, c_following, _ = paging.page_details(
            [c for c in page["clusters"] if "*" in want_c or c in want_c],
            cursor=cursor,
            prefix=CLUSTER_DETAIL,
            names=self._cluster_detail_names,
            budget=left,
        )
        response = fleet_pb2.GetStatusResponse(
            next_page_token=paging.encode_token(following | b_following | c_following)
        )
        if not request.page_token:
            # Groups and repositories are few: the first page holds them all.
            groups = {g.name: g for g in self._fleet.groups()}
            for g in book.group_names():
                gv = book.group_view(g)
                if gv is not None:
                    gpb = group_pb(gv)
                    if g in groups:
                        gpb.selector.CopyFrom(selector_to_pb(groups[g].selector))
                    response.groups.append(gpb)
            response.repos.extend(self.repos_pb())
        # Owners whose detail carries on from an earlier page come first, then the page's own.
        for name in [*[c for c in c_detail if c not in page["clusters"]], *page["clusters"]]:
            if name not in cached:
                continue
            response.clusters.append(cached[name])  # a copy: the cache is not changed below
            record = self._fleet.cluster_by_name(name)
            if record is not None and name in c_detail:
                response.clusters[-1].deployments.extend(
                    self._detail(b, record) for b in c_detail[name]
                )
            # Also for a cluster whose detail has not started: the page's budget went first.
            response.clusters[-1].more_deployments = CLUSTER_DETAIL + name in c_following
        for name in [*[b for b in b_detail if b not in page["bundles"]], *page["bundles"]]:
            view = book.bundle_view(name)
            if view is None:
                continue
            b = bundle_pb(view)
            self.enrich(b)
            if name in b_detail:
                for cluster in b_detail[name]:
                    record = self._fleet.cluster_by_name(cluster)
                    if record is not None:
                        b.deployments.append(self._detail(name, record))
            # Also for a bundle whose detail has not started: the page's budget went first.
            b.more_deployments = BUNDLE_DETAIL + name in b_following
            response.bundles.append(b)
        return response

    def _bundle_detail_names(self, bundle: str) -> list[str]:
        """The clusters a bundle is deployed to, by name: its detail, in page order."""
        return sorted(
            c.name for c in self._fleet.clusters() if self._fleet.deployment(c.id, bundle)
        )

    def _cluster_detail_names(self, cluster: str) -> list[str]:
        record = self._fleet.cluster_by_name(cluster)
        if record is None:
            return []
        return sorted(
            b for b in self._fleet.desired(record.id) if self._fleet.deployment(record.id, b)
        )

    def enrich(self, pb: fleet_pb2.BundleStatus) -> None:
        """Add what the status book does not hold: revision, pause and the rollout."""
        rec = self._fleet.bundle(pb.name)
        pb.revision = rec.revision
        pb.paused = self._fleet.paused(pb.name)
        pb.pinned_rev = self._fleet.pinned(pb.name)
        plan = rollout_view(
            self._fleet.rollout(pb.name), ready=pb.clusters_ready, desired=pb.clusters_desired
        )
        pb.rollout.state = plan.state
        pb.rollout.reason = plan.reason
        pb.rollout.failures = plan.failures
        pb.rollout.partitions.extend(
            fleet_pb2.PartitionStatus(
                name=p.name,
                count=p.count,
                unavailable=p.unavailable,
                state=p.state,
                max_unavailable=p.max_unavailable,
            )
            for p in plan.partitions
        )

    def _detail(self, bundle: str, cluster: ClusterRecord) -> fleet_pb2.DeploymentDetail:
        dep = self._fleet.deployment(cluster.id, bundle)
        assert dep is not None
        v = detail(dep, cluster=cluster.name, offline=self._fleet.offline(cluster.id))
        return fleet_pb2.DeploymentDetail(
            bundle=v.bundle,
            cluster=v.cluster,
            state=v.state,
            stale=v.stale,
            held=v.held,
            revision=v.revision,
            applied_revision=v.applied_revision,
            message=v.message,
            resources=[
                resources_pb2.ResourceState(
                    key=r.key,
                    ready=r.ready,
                    modified=r.modified,
                    missing=r.missing,
                    message=r.message,
                )
                for r in v.resources
            ],
        )

    @grpc_errors
    async def GetBundleDiff(
        self, request: fleet_pb2.GetBundleDiffRequest, context: Context
    ) -> fleet_pb2.GetBundleDiffResponse:
        return fleet_pb2.GetBundleDiffResponse(
            clusters=[
                fleet_pb2.ClusterDiff(
                    cluster=cluster,
                    state=dep.state or "",
                    revision=dep.status_revision,
                    resources=[
                        resources_pb2.ResourceState(
                            key=r.key,
                            ready=r.ready,
                            modified=r.modified,
                            missing=r.missing,
                            message=r.message,
                            drift_paths=r.drift_paths,
                            drift_diff=r.drift_diff,
                            api_version=r.api_version,
                        )
                        for r in dep.resources
                        if r.modified
                    ],
                )
                for cluster, dep in self._fleet.bundle_diff(request.name, request.cluster)
            ]
        )

    @grpc_errors
    async def SetBundlePaused(
        self, request: fleet_pb2.SetBundlePausedRequest, context: Context
    ) -> fleet_pb2.SetBundlePausedResponse:
        await self._fleet.set_paused(request.name, request.paused)
        return fleet_pb2.SetBundlePausedResponse()

    @grpc_errors
    async def ResumeRollout(
        self, request: fleet_pb2.ResumeRolloutRequest, context: Context
    ) -> fleet_pb2.ResumeRolloutResponse:
        await self._fleet.resume_rollout(request.name, actor=self._actor(context))
        return fleet_pb2.ResumeRolloutResponse()

    @grpc_errors
    async def GetBundleHistory(
        self, request: fleet_pb2.GetBundleHistoryRequest, context: Context
    ) -> fleet_pb2.GetBundleHistoryResponse:
        entries, current = await self._fleet.history(request.name)
        return fleet_pb2.GetBundleHistoryResponse(
            revisions=[
                fleet_pb2.BundleRevision(
                    rev=e.rev,
                    revision=e.revision,
                    created_unix=e.created,
                    actor=e.actor,
                    summary=e.summary,
                    rollback_of=e.rollback_of,
                    current=e.rev == current,
                )
                for e in entries
            ],
            pinned_rev=self._fleet.pinned(request.name),
        )

    @grpc_errors
    async def RollbackBundle(
        self, request: fleet_pb2.RollbackBundleRequest, context: Context
    ) -> fleet_pb2.RollbackBundleResponse:
        applied, rev, target = await self._fleet.rollback(
            request.name,
            to=request.to_revision,
            actor=self._actor(context),
        )
        return fleet_pb2.RollbackBundleResponse(
            bundle=applied_to_pb(applied), pinned_rev=rev, rolled_back_to=target
        )

    @grpc_errors
    async def UnpinBundle(
        self, request: fleet_pb2.UnpinBundleRequest, context: Context
    ) -> fleet_pb2.UnpinBundleResponse:
        return fleet_pb2.UnpinBundleResponse(was_pinned=await self._fleet.unpin(request.name))

    async def WatchStatus(  # type: ignore[override]  # bytes on the wire: see add_to_server
        self, request: fleet_pb2.WatchStatusRequest, context: Context
    ) -> AsyncIterator[bytes]:
        # Bytes: a frame is serialised once for every stream that sends it (add_to_server
        # registers WatchStatus with a serializer that passes them through).
        watcher = self._broadcaster.subscribe(
            WatchFilter(bundle=request.bundle, cluster=request.cluster, group=request.group)
        )
        try:
            while True:
                for frame in await watcher.queue.get():
                    yield frame.wire()
        finally:
            self._broadcaster.unsubscribe(watcher)

    @grpc_errors
    async def ListEvents(
        self, request: fleet_pb2.ListEventsRequest, context: Context
    ) -> fleet_pb2.ListEventsResponse:
        wanted = EventFilter(bundle=request.bundle, cluster=request.cluster, kind=request.kind)
        events = await self._fleet.events.list(
            wanted, since_seq=request.since_seq, limit=request.limit
        )
        return fleet_pb2.ListEventsResponse(events=[event_to_pb(e) for e in events])

    async def WatchEvents(
        self, request: fleet_pb2.WatchEventsRequest, context: Context
    ) -> AsyncIterator[fleet_pb2.WatchEventsResponse]:
        try:
            wanted = EventFilter(bundle=request.bundle, cluster=request.cluster, kind=request.kind)
            # At once, not with the first event: the CLI tells a drop from a hub never reached.
            await context.send_initial_metadata((STREAM_OPEN,))
            async for event in self._fleet.events.watch(
                wanted, since_seq=request.since_seq, limit=request.limit
            ):
                yield fleet_pb2.WatchEventsResponse(event=event_to_pb(event))
        except ArgosyError as exc:
            # A stream is no coroutine for grpc_errors: the same mapping, here.
            await context.abort(*status_for(exc))


def add_to_server(service: FleetService, server: grpc.aio.Server) -> None:
    """Register FleetService as the generated code does, but WatchStatus with a response
    serializer that takes bytes: the frames a broadcaster serialised once for every watcher."""
    fleet_pb2_grpc.add_FleetServiceServicer_to_server(service, server)
    # A registered handler takes precedence over the generic one the generated code also adds
    # (grpc.aio.Server.add_registered_method_handlers).
    server.add_registered_method_handlers(
        SERVICE_NAME,
        {
            "WatchStatus": grpc.unary_stream_rpc_method_handler(
                service.WatchStatus,
                request_deserializer=fleet_pb2.WatchStatusRequest.FromString,
                response_serializer=wire,
            )
        },
    )


def wire(msg: bytes | fleet_pb2.WatchStatusResponse) -> bytes:
    return msg if isinstance(msg, bytes) else msg.SerializeToString()


SERVICE_NAME = "argosy.api.v1.FleetService"

__all__ = ["FleetService", "add_to_server", "bundle_pb", "cluster_pb", "group_pb"]
