"""The git repository and secret RPCs of FleetService: convert, delegate to the git source
(hub/sources/git.py) or the secrets (hub/sources/secrets.py), convert.

A mixin of FleetService, which grpc registers as one servicer; kept apart so the bundle and
cluster API does not grow with every source. A secret's content goes in (CreateSecret) and
never comes out: the API lists names only.
"""

from __future__ import annotations

import time
from typing import Any

import grpc

from argosy.api.v1 import fleet_pb2
from argosy.errors import InvalidInput, PermanentError
from argosy.names import check_name
from hub.errors import grpc_errors
from hub.models import RepoRecord, SourceSecret
from hub.sources.git import GitSource, RepoView
from hub.sources.policy import check_ref, check_repo
from hub.sources.secrets import Secrets

Context = grpc.aio.ServicerContext[Any, Any]


class SourcesOff(PermanentError):
    """This hub was started without git sources."""


def repo_to_pb(view: RepoView) -> fleet_pb2.Repo:
    r = view.repo
    return fleet_pb2.Repo(
        spec=fleet_pb2.RepoSpec(
            name=r.name,
            url=r.url,
            branch=r.ref if r.ref_kind == "branch" else "",
            tag=r.ref if r.ref_kind == "tag" else "",
            revision=r.ref if r.ref_kind == "revision" else "",
            paths=list(r.paths),
            interval_seconds=r.interval_ms // 1000,
            secret=r.secret,
            labels=dict(r.labels),
        ),
        status=fleet_pb2.RepoStatus(
            commit=view.commit,
            last_fetch_unix=view.last_fetch,
            next_fetch_unix=view.next_fetch,
            error=view.error,
            path_errors=[
                fleet_pb2.RepoPathError(path=p or ".", message=m) for p, m in view.path_errors
            ],
            bundles=list(view.bundles),
            failures=view.failures,
        ),
        created_unix=r.created,
    )


def repo_from_pb(spec: fleet_pb2.RepoSpec) -> RepoRecord:
    kind, ref = check_ref(branch=spec.branch, tag=spec.tag, revision=spec.revision)
    paths = check_repo(
        name=spec.name,
        url=spec.url,
        paths=list(spec.paths),
        interval=spec.interval_seconds,
        labels=dict(spec.labels),
    )
    if spec.secret:
        check_name(spec.secret, what="--secret")
    return RepoRecord(
        name=spec.name,
        url=spec.url,
        ref_kind=kind,
        ref=ref,
        paths=paths,
        interval_ms=spec.interval_seconds * 1000,
        secret=spec.secret,
        labels=dict(spec.labels),
        created=int(time.time()),
    )


class RepoMethods:
    """FleetService's repository and secret RPCs; `_repos`/`_secrets` are None when off."""

    _repos: GitSource | None
    _secrets: Secrets | None

    def _source(self) -> GitSource:
        if self._repos is None:
            raise SourcesOff("this hub runs without git sources")
        return self._repos

    def _secret_store(self) -> Secrets:
        if self._secrets is None:
            raise SourcesOff("this hub runs without git sources")
        return self._secrets

    def repos_pb(self) -> list[fleet_pb2.Repo]:
        """Every repository with its status, for GetStatus."""
        return [] if self._repos is None else [repo_to_pb(v) for v in self._repos.list()]

    @grpc_errors
    async def AddRepo(
        self, request: fleet_pb2.AddRepoRequest, context: Context
    ) -> fleet_pb2.AddRepoResponse:
        if not request.HasField("spec"):
            raise InvalidInput("no repository given")
        view = await self._source().add(repo_from_pb(request.spec))
        return fleet_pb2.AddRepoResponse(repo=repo_to_pb(view))

    @grpc_errors
    async def GetRepo(
        self, request: fleet_pb2.GetRepoRequest, context: Context
    ) -> fleet_pb2.GetRepoResponse:
        return fleet_pb2.GetRepoResponse(repo=repo_to_pb(self._source().get(request.name)))

    @grpc_errors
    async def ListRepos(
        self, request: fleet_pb2.ListReposRequest, context: Context
    ) -> fleet_pb2.ListReposResponse:
        return fleet_pb2.ListReposResponse(repos=self.repos_pb())

    @grpc_errors
    async def DeleteRepo(
        self, request: fleet_pb2.DeleteRepoRequest, context: Context
    ) -> fleet_pb2.DeleteRepoResponse:
        await self._source().delete(request.name)
        return fleet_pb2.DeleteRepoResponse()

    @grpc_errors
    async def SyncRepo(
        self, request: fleet_pb2.SyncRepoRequest, context: Context
    ) -> fleet_pb2.SyncRepoResponse:
        self._source().sync(request.name)
        return fleet_pb2.SyncRepoResponse()

    @grpc_errors
    async def CreateSecret(
        self, request: fleet_pb2.CreateSecretRequest, context: Context
    ) -> fleet_pb2.CreateSecretResponse:
        s = request.spec
        await self._secret_store().create(
            SourceSecret(
                name=s.name,
                username=s.username,
                password=s.password,
                ssh_key=s.ssh_key,
                known_hosts=s.known_hosts,
                created=int(time.time()),
                helm_repo_hosts=tuple(s.helm_repo_hosts),
            )
        )
        return fleet_pb2.CreateSecretResponse()

    @grpc_errors
    async def ListSecrets(
        self, request: fleet_pb2.ListSecretsRequest, context: Context
    ) -> fleet_pb2.ListSecretsResponse:
        return fleet_pb2.ListSecretsResponse(names=await self._secret_store().names())

    @grpc_errors
    async def DeleteSecret(
        self, request: fleet_pb2.DeleteSecretRequest, context: Context
    ) -> fleet_pb2.DeleteSecretResponse:
        await self._secret_store().delete(request.name)
        return fleet_pb2.DeleteSecretResponse()
