"""The `Store` Protocol: what the hub needs from persistence, and the `Snapshot` it loads.

The hub keeps its working state in memory and writes through this interface, so the fleet
never knows which database it runs on (hub/persistence/sqlite.py, hub/persistence/postgres.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

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

STATE_CHANGES = "DeploymentStateChanged"
"""The event kind trimmed apart from the others: a rollout records a couple per cluster, and
would otherwise push every BundleApplied and cluster event out of the log."""


@dataclass(frozen=True)
class Snapshot:
    """Everything the hub loads at start to rebuild its in-memory state."""

    bundles: Sequence[BundleRecord]
    clusters: Sequence[ClusterRecord]
    groups: Sequence[GroupRecord]
    deployments: Sequence[DeploymentRecord]
    controls: Sequence[BundleControl] = ()


class Store(Protocol):
    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def load(self) -> Snapshot: ...
    async def put_bundles(
        self,
        bundles: Sequence[BundleRecord],
        resource_sets: Mapping[str, bytes],
        *,
        history: Sequence[HistoryEntry] = (),
        history_limit: int = 0,
    ) -> dict[str, int]:
        """Store bundles and, in the same transaction, their new history entries: each gets
        the bundle's next rev (returned by bundle), and all but the last `history_limit`
        (0: all) of that bundle's entries are dropped."""
        ...

    async def list_history(self, bundle: str) -> list[HistoryEntry]:
        """A bundle's history, oldest first ([] for a bundle without one)."""
        ...

    async def delete_bundle(self, name: str) -> None:
        """Delete a bundle with its control and history."""
        ...

    async def put_resource_sets(self, resource_sets: Mapping[str, bytes]) -> None: ...
    async def get_resource_set(self, revision: str) -> bytes | None: ...
    async def put_cluster(self, cluster: ClusterRecord) -> None: ...
    async def delete_cluster(self, cluster_id: str) -> None: ...
    async def touch_clusters(self, last_seen: Mapping[str, int]) -> None: ...
    async def put_revoked_name(self, revoked: RevokedName) -> None: ...
    async def get_revoked_name(self, name: str) -> RevokedName | None: ...
    async def forget_revoked_name(self, name: str) -> None: ...
    async def put_group(self, group: GroupRecord) -> None: ...
    async def delete_group(self, name: str) -> None: ...
    async def put_token(self, token: TokenRecord) -> None: ...
    async def list_tokens(self) -> list[TokenRecord]: ...
    async def use_token(self, secret_hash: str, *, now: int) -> TokenRecord | None: ...
    async def save_deployments(
        self, upserts: Sequence[DeploymentRecord], deletes: Sequence[tuple[str, str]]
    ) -> None: ...
    async def put_bundle_control(self, control: BundleControl) -> None: ...
    async def put_admin_token(self, token: AdminTokenRecord) -> None: ...
    async def get_admin_token(self, secret_hash: str) -> AdminTokenRecord | None: ...
    async def list_admin_tokens(self) -> list[AdminTokenRecord]: ...
    async def shared_secret(self, name: str, value: bytes) -> bytes:
        """The stored value of a hub-wide secret (the CA): value is kept if there is none yet,
        so replicas starting together agree on one."""
        ...

    # Git sources (hub/sources/): repositories, and the credentials they name. Secrets are
    # read one at a time, by the fetch that needs them; listing gives names only.
    async def put_repo(self, repo: RepoRecord) -> None: ...
    async def list_repos(self) -> list[RepoRecord]: ...
    async def delete_repo(self, name: str) -> None: ...
    async def put_source_secret(self, secret: SourceSecret) -> None: ...
    async def get_source_secret(self, name: str) -> SourceSecret | None: ...
    async def list_source_secrets(self) -> list[str]: ...
    async def delete_source_secret(self, name: str) -> None: ...

    # Re-reads of single records, for hub replicas sharing one database (hub/replication/):
    # a replica told that another changed something loads just that. None: it is gone.
    async def load_bundle(self, name: str) -> BundleRecord | None: ...
    async def load_cluster(self, cluster_id: str) -> ClusterRecord | None: ...
    async def load_group(self, name: str) -> GroupRecord | None: ...
    async def load_control(self, name: str) -> BundleControl | None: ...
    async def load_deployments(self, keys: Sequence[tuple[str, str]]) -> list[DeploymentRecord]: ...

    # The event log (hub/core/events.py): appended in batches, trimmed to the newest `keep`
    # state changes and, apart, the newest `keep` of the other kinds.
    async def append_events(self, events: Sequence[EventRecord], *, keep: int) -> list[EventRecord]:
        """Store events in order, numbered by the store (returned with their seq), and drop
        all but the newest `keep` STATE_CHANGES and the newest `keep` others, in one
        transaction."""
        ...

    async def list_events(
        self,
        *,
        bundle: str = "",
        cluster: str = "",
        kind: str = "",
        since_seq: int = 0,
        limit: int = 100,
    ) -> list[EventRecord]:
        """Events matching the filters ('' matches anything), oldest first: with since_seq 0
        the newest `limit`; after since_seq the oldest `limit` after it (to page forward)."""
        ...
