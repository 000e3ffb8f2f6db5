"""In-memory fakes for the hub's unit tests: a store, sessions, replicas, a gRPC context.

No sockets, no files, no threads: every test of a stateful hub module runs against these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import grpc

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
    RevokedName,
    SourceSecret,
    TokenRecord,
)
from hub.persistence.protocol import STATE_CHANGES, Snapshot


class MemoryStore:
    """The Store protocol over dicts."""

    def __init__(self) -> None:
        self.bundles: dict[str, BundleRecord] = {}
        self.resource_sets: dict[str, bytes] = {}
        self.clusters: dict[str, ClusterRecord] = {}
        self.revoked: dict[str, RevokedName] = {}
        self.groups: dict[str, GroupRecord] = {}
        self.tokens: dict[str, TokenRecord] = {}
        self.admin_tokens: dict[str, AdminTokenRecord] = {}
        self.deployments: dict[tuple[str, str], DeploymentRecord] = {}
        self.history: dict[str, list[HistoryEntry]] = {}
        self.controls: dict[str, BundleControl] = {}
        self.secrets: dict[str, bytes] = {}
        self.repos: dict[str, RepoRecord] = {}
        self.source_secrets: dict[str, SourceSecret] = {}
        self.touched: dict[str, int] = {}
        self.events: list[EventRecord] = []
        self.event_seq = 0

    async def open(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def load(self) -> Snapshot:
        return Snapshot(
            bundles=list(self.bundles.values()),
            clusters=list(self.clusters.values()),
            groups=list(self.groups.values()),
            deployments=list(self.deployments.values()),
            controls=list(self.controls.values()),
        )

    async def put_bundles(
        self,
        bundles: Sequence[BundleRecord],
        resource_sets: Mapping[str, bytes],
        *,
        history: Sequence[HistoryEntry] = (),
        history_limit: int = 0,
    ) -> dict[str, int]:
        self.resource_sets.update(resource_sets)
        self.bundles.update((b.name, b) for b in bundles)
        revs = {}
        for e in history:
            entries = self.history.setdefault(e.bundle, [])
            rev = revs[e.bundle] = (entries[-1].rev if entries else 0) + 1
            entries.append(replace(e, rev=rev))
            if history_limit:
                del entries[:-history_limit]
        return revs

    async def list_history(self, bundle: str) -> list[HistoryEntry]:
        return list(self.history.get(bundle, ()))

    async def delete_bundle(self, name: str) -> None:
        self.bundles.pop(name, None)
        self.history.pop(name, None)
        self.controls.pop(name, None)
        for key in [k for k in self.deployments if k[0] == name]:
            del self.deployments[key]

    async def put_resource_sets(self, resource_sets: Mapping[str, bytes]) -> None:
        self.resource_sets.update(resource_sets)

    async def get_resource_set(self, revision: str) -> bytes | None:
        return self.resource_sets.get(revision)

    async def put_cluster(self, cluster: ClusterRecord) -> None:
        self.clusters[cluster.id] = cluster

    async def delete_cluster(self, cluster_id: str) -> None:
        self.clusters.pop(cluster_id, None)
        for key in [k for k in self.deployments if k[1] == cluster_id]:
            del self.deployments[key]

    async def touch_clusters(self, last_seen: Mapping[str, int]) -> None:
        self.touched.update(last_seen)

    async def put_revoked_name(self, revoked: RevokedName) -> None:
        self.revoked[revoked.name] = revoked

    async def get_revoked_name(self, name: str) -> RevokedName | None:
        return self.revoked.get(name)

    async def forget_revoked_name(self, name: str) -> None:
        self.revoked.pop(name, None)

    async def put_group(self, group: GroupRecord) -> None:
        self.groups[group.name] = group

    async def delete_group(self, name: str) -> None:
        self.groups.pop(name, None)

    async def put_token(self, token: TokenRecord) -> None:
        self.tokens[token.id] = token

    async def list_tokens(self) -> list[TokenRecord]:
        return sorted(self.tokens.values(), key=lambda t: t.id)

    async def use_token(self, secret_hash: str, *, now: int) -> TokenRecord | None:
        for token in self.tokens.values():
            if token.secret_hash != secret_hash or token.revoked:
                continue
            if (token.expires and token.expires <= now) or (
                token.max_uses and token.uses >= token.max_uses
            ):
                return None
            used = replace(token, uses=token.uses + 1)
            self.tokens[token.id] = used
            return used
        return None

    async def append_events(self, events: Sequence[EventRecord], *, keep: int) -> list[EventRecord]:
        numbered = []
        for e in events:
            self.event_seq += 1
            numbered.append(replace(e, seq=self.event_seq))
        # As the stores: `keep` of the state changes and, apart, `keep` of the rest.
        every = self.events + numbered
        changes = [e for e in every if e.kind == STATE_CHANGES][-keep:]
        rest = [e for e in every if e.kind != STATE_CHANGES][-keep:]
        self.events = sorted(changes + rest, key=lambda e: e.seq)
        return numbered

    async def list_events(
        self,
        *,
        bundle: str = "",
        cluster: str = "",
        kind: str = "",
        since_seq: int = 0,
        limit: int = 100,
    ) -> list[EventRecord]:
        found = [
            e
            for e in self.events
            if e.seq > since_seq
            and bundle in ("", e.bundle)
            and cluster in ("", e.cluster)
            and kind in ("", e.kind)
        ]
        if not limit:
            return []
        return found[:limit] if since_seq > 0 else found[-limit:]

    async def save_deployments(
        self, upserts: Sequence[DeploymentRecord], deletes: Sequence[tuple[str, str]]
    ) -> None:
        for key in deletes:
            self.deployments.pop(key, None)
        self.deployments.update(((d.bundle, d.cluster_id), d) for d in upserts)

    async def put_bundle_control(self, control: BundleControl) -> None:
        self.controls[control.name] = control

    async def put_admin_token(self, token: AdminTokenRecord) -> None:
        self.admin_tokens[token.secret_hash] = token

    async def get_admin_token(self, secret_hash: str) -> AdminTokenRecord | None:
        return self.admin_tokens.get(secret_hash)

    async def list_admin_tokens(self) -> list[AdminTokenRecord]:
        return list(self.admin_tokens.values())

    async def shared_secret(self, name: str, value: bytes) -> bytes:
        return self.secrets.setdefault(name, value)

    async def put_repo(self, repo: RepoRecord) -> None:
        self.repos[repo.name] = repo

    async def list_repos(self) -> list[RepoRecord]:
        return [self.repos[n] for n in sorted(self.repos)]

    async def delete_repo(self, name: str) -> None:
        self.repos.pop(name, None)

    async def put_source_secret(self, secret: SourceSecret) -> None:
        self.source_secrets[secret.name] = secret

    async def get_source_secret(self, name: str) -> SourceSecret | None:
        return self.source_secrets.get(name)

    async def list_source_secrets(self) -> list[str]:
        return sorted(self.source_secrets)

    async def delete_source_secret(self, name: str) -> None:
        self.source_secrets.pop(name, None)

    async def load_bundle(self, name: str) -> BundleRecord | None:
        return self.bundles.get(name)

    async def load_cluster(self, cluster_id: str) -> ClusterRecord | None:
        return self.clusters.get(cluster_id)

    async def load_group(self, name: str) -> GroupRecord | None:
        return self.groups.get(name)

    async def load_control(self, name: str) -> BundleControl | None:
        return self.controls.get(name)

    async def load_deployments(self, keys: Sequence[tuple[str, str]]) -> list[DeploymentRecord]:
        return [self.deployments[k] for k in keys if k in self.deployments]


@dataclass
class FakeListener:
    """A spoke's session as the fleet sees it: records what it is told."""

    notified: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    closed: str | None = None

    def notify(self, bundles: Iterable[str]) -> None:
        self.notified.extend(bundles)

    def retry(self, bundles: Iterable[str]) -> None:
        self.retried.extend(bundles)

    def close(self, reason: str) -> None:
        self.closed = reason


@dataclass
class FakePeers:
    """Other replicas: records what is published; leads every bundle unless told not to."""

    published: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)
    leading: bool = True
    is_first: bool = True

    def publish(
        self, kind: str, name: str = "", *, ids: Sequence[str] = (), revision: str = ""
    ) -> None:
        self.published.append((kind, name, tuple(ids)))

    async def lead(self, bundle: str) -> bool:
        return self.leading

    def first(self) -> bool:
        return self.is_first


class Aborted(Exception):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(f"{code.name}: {details}")
        self.code, self.details = code, details


class FakeContext:
    """A grpc.aio.ServicerContext stand-in: abort raises Aborted with the code."""

    def __init__(self, metadata: Sequence[tuple[str, str]] = ()) -> None:
        self._metadata = tuple(metadata)
        self.sent_metadata: tuple[tuple[str, str], ...] | None = None

    async def send_initial_metadata(self, metadata: Sequence[tuple[str, str]]) -> None:
        self.sent_metadata = tuple(metadata)

    async def abort(self, code: grpc.StatusCode, details: str = "", *args: Any) -> None:
        raise Aborted(code, details)

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata

    def auth_context(self) -> dict[str, list[bytes]]:
        return {}

    def peer(self) -> str:
        return "ipv4:127.0.0.1:1"


CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: v\n"


def configmap_bundle(name: str, fleet_yaml: str = "") -> dict[str, bytes]:
    """A bundle's files: one ConfigMap, and fleet.yaml when given."""
    files = {"cm.yaml": CM.format(name=name).encode()}
    if fleet_yaml:
        files["fleet.yaml"] = fleet_yaml.encode()
    return files
