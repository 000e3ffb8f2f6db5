"""FleetService: the admin and programmatic API. Thin: convert, delegate to the fleet, convert."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import grpc

from argosy.api.v1 import fleet_pb2, fleet_pb2_grpc, resources_pb2
from argosy.bundle import BundleSource
from argosy.convert import selector_from_pb, selector_to_pb
from argosy.errors import InvalidInput, NotFound
from hub.admin_auth import AdminAuth
from hub.errors import grpc_errors
from hub.fleet import Fleet
from hub.models import BundleRecord, ClusterRecord, GroupRecord, TokenRecord
from hub.repo_service import RepoMethods
from hub.sources.git import GitSource
from hub.sources.secrets import Secrets
from hub.status import StatusBook, detail, rollout_view
from hub.watch import StatusBroadcaster, WatchFilter, bundle_pb, cluster_pb, group_pb, snapshot

log = logging.getLogger(__name__)

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


def group_to_pb(group: GroupRecord) -> fleet_pb2.ClusterGroup:
    return fleet_pb2.ClusterGroup(name=group.name, selector=selector_to_pb(group.selector))


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
    ) -> None:
        self._fleet = fleet
        self._repos = repos
        self._secrets = secrets
        self._book = book
        self._admin_auth = admin_auth
        self._ca_pem = ca_pem
        # Watchers see bundles enriched the same way GetStatus does.
        self._broadcaster = StatusBroadcaster(book, enrich=self.enrich)

    @property
    def broadcaster(self) -> StatusBroadcaster:
        return self._broadcaster

    def _cluster_pb(self, c: ClusterRecord) -> fleet_pb2.Cluster:
        return fleet_pb2.Cluster(
            id=c.id,
            name=c.name,
            labels=dict(c.labels),
            connected=self._fleet.connected(c.id),
            created_unix=c.created,
            last_seen_unix=c.last_seen,
            revoked=c.revoked,
        )

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
        applied = await self._fleet.apply_bundles(sources)
        return fleet_pb2.ApplyBundlesResponse(
            bundles=[
                fleet_pb2.BundleApplied(
                    name=a.name,
                    revision=a.revision,
                    changed=a.changed,
                    resource_count=a.resource_count,
                    warnings=a.warnings,
                )
                for a in applied
            ]
        )

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
        return fleet_pb2.ListBundlesResponse(
            bundles=[bundle_to_pb(b, with_files=False) for b in self._fleet.bundles()]
        )

    @grpc_errors
    async def DeleteBundle(
        self, request: fleet_pb2.DeleteBundleRequest, context: Context
    ) -> fleet_pb2.DeleteBundleResponse:
        await self._fleet.delete_bundle(request.name)
        return fleet_pb2.DeleteBundleResponse()

    @grpc_errors
    async def ListClusters(
        self, request: fleet_pb2.ListClustersRequest, context: Context
    ) -> fleet_pb2.ListClustersResponse:
        return fleet_pb2.ListClustersResponse(
            clusters=[self._cluster_pb(c) for c in self._fleet.clusters()]
        )

    @grpc_errors
    async def DeleteCluster(
        self, request: fleet_pb2.DeleteClusterRequest, context: Context
    ) -> fleet_pb2.DeleteClusterResponse:
        await self._fleet.delete_cluster(request.name)
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
        await self._fleet.revoke_cluster(request.name)
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
        snap = snapshot(self._book, self.enrich, self._broadcaster.cluster_pbs)
        groups = {g.name: g for g in self._fleet.groups()}
        for g in snap.groups:
            g.selector.CopyFrom(selector_to_pb(groups[g.name].selector))
        for name in [*request.detail_bundles, *request.detail_clusters]:
            known = {b.name for b in snap.bundles} | {c.name for c in snap.clusters}
            if name != "*" and name not in known:
                raise NotFound(f"no bundle or cluster named {name!r}")
        detail = set(request.detail_bundles)
        for b in snap.bundles:
            if "*" in detail or b.name in detail:
                b.deployments.extend(
                    self._detail(b.name, c)
                    for c in self._fleet.clusters()
                    if self._fleet.deployment(c.id, b.name) is not None
                )
        detail = set(request.detail_clusters)
        for c in snap.clusters:
            if "*" in detail or c.name in detail:
                record = self._fleet.cluster_by_name(c.name)
                if record is not None:
                    c.deployments.extend(
                        self._detail(name, record)
                        for name in sorted(self._fleet.desired(record.id))
                    )
        return fleet_pb2.GetStatusResponse(
            clusters=snap.clusters, groups=snap.groups, bundles=snap.bundles, repos=self.repos_pb()
        )

    def enrich(self, pb: fleet_pb2.BundleStatus) -> None:
        """Add what the status book does not hold: revision, pause and the rollout."""
        rec = self._fleet.bundle(pb.name)
        pb.revision = rec.revision
        pb.paused = self._fleet.paused(pb.name)
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
    async def SetBundlePaused(
        self, request: fleet_pb2.SetBundlePausedRequest, context: Context
    ) -> fleet_pb2.SetBundlePausedResponse:
        await self._fleet.set_paused(request.name, request.paused)
        return fleet_pb2.SetBundlePausedResponse()

    @grpc_errors
    async def ResumeRollout(
        self, request: fleet_pb2.ResumeRolloutRequest, context: Context
    ) -> fleet_pb2.ResumeRolloutResponse:
        await self._fleet.resume_rollout(request.name)
        return fleet_pb2.ResumeRolloutResponse()

    async def WatchStatus(
        self, request: fleet_pb2.WatchStatusRequest, context: Context
    ) -> AsyncIterator[fleet_pb2.WatchStatusResponse]:
        watcher = self._broadcaster.subscribe(
            WatchFilter(bundle=request.bundle, cluster=request.cluster, group=request.group)
        )
        try:
            while True:
                yield await watcher.queue.get()
        finally:
            self._broadcaster.unsubscribe(watcher)


__all__ = ["FleetService", "bundle_pb", "cluster_pb", "group_pb"]
