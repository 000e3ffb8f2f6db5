"""The hub's records: what the store keeps and the in-memory fleet holds.

Plain frozen dataclasses, free of gRPC and SQL, so the store, the fleet logic and the servicers
can each convert at their own edge.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from argosy.selectors import LabelSelector


@dataclass(frozen=True)
class BundleRecord:
    name: str
    labels: Mapping[str, str]
    files: Mapping[str, bytes] = field(repr=False)
    revision: str
    resource_count: int
    created: int
    updated: int


@dataclass(frozen=True)
class ClusterRecord:
    id: str
    name: str
    labels: Mapping[str, str]
    credential_hash: str = field(repr=False)
    created: int
    last_seen: int = 0
    # Revoked: its certificate is refused and it cannot register again until deleted.
    revoked: bool = False
    # Labels changed on the hub (argosy cluster label): key -> value set, or None: removed.
    # `labels` already has them applied; they are applied again to the labels a spoke sends
    # when it registers again, so the hub's change wins (hub/core/labels.py).
    label_overrides: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class RevokedName:
    """A revoked cluster's name, kept after the cluster is deleted.

    The registration tokens usable when it was revoked may never register that name again (the
    revoked spoke holds one of them); a token created after the revocation may.
    """

    name: str
    revoked: int
    token_ids: tuple[str, ...]


@dataclass(frozen=True)
class GroupRecord:
    name: str
    selector: LabelSelector


@dataclass(frozen=True)
class TokenRecord:
    id: str
    secret_hash: str = field(repr=False)
    created: int
    expires: int = 0
    revoked: bool = False
    uses: int = 0
    max_uses: int = 0


@dataclass(frozen=True)
class AdminTokenRecord:
    """A bearer token for the admin API; only its hash is stored."""

    id: str
    secret_hash: str = field(repr=False)
    role: str
    created: int
    revoked: bool = False


@dataclass(frozen=True)
class ResourceStateRecord:
    key: str
    ready: bool
    modified: bool = False
    missing: bool = False
    message: str = ""
    # Drift detail (GetBundleDiff): kept in memory only, never stored; the spoke reports it
    # again on its next report after a restart.
    drift_paths: tuple[str, ...] = ()
    drift_diff: str = ""
    api_version: str = ""


@dataclass(frozen=True)
class DeploymentRecord:
    """A bundle on a cluster: what the hub wants there and what the spoke last said."""

    bundle: str
    cluster_id: str
    desired: str
    acked: str = ""
    error: str = ""
    status_revision: str = ""
    ready: bool = False
    resources: tuple[ResourceStateRecord, ...] = ()
    # The revision the rollout has let through to this cluster (desired, or an older one).
    released: str = ""


@dataclass(frozen=True)
class BundleControl:
    """Operator decisions about a bundle that outlive a hub restart."""

    name: str
    # None: follow fleet.yaml `paused`; True/False: `argosy pause` / `argosy unpause`.
    paused: bool | None = None
    # Why the rollout halted ('' when it has not): it stays halted until resumed.
    halted: str = ""
    # The history revision a rollback pinned the bundle at (0: not pinned). A pinned bundle
    # takes no new applies or commits until `argosy unpin` (argo-cd#5351).
    pinned: int = 0


@dataclass(frozen=True)
class HistoryEntry:
    """One revision of a bundle as it was applied: its source content, so a rollback can apply
    it again exactly, and who applied it. `rev` numbers a bundle's entries 1, 2, 3... (0 before
    the store gives it one)."""

    bundle: str
    rev: int
    revision: str
    created: int
    actor: str
    summary: str
    labels: Mapping[str, str]
    files: Mapping[str, bytes] = field(repr=False)
    # The rev this entry rolled back to (0: an ordinary apply).
    rollback_of: int = 0


@dataclass(frozen=True)
class RepoRecord:
    """A git repository the hub fetches bundles from (hub/sources/git.py).

    `ref_kind` is "branch", "tag" or "revision" (a commit), or "" for the remote's default
    branch; `paths` are the directories holding bundles ("" in none: the whole repository).
    """

    name: str
    url: str
    ref_kind: str = ""
    ref: str = ""
    paths: tuple[str, ...] = ()
    interval_ms: int = 15_000
    secret: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    created: int = 0


@dataclass(frozen=True)
class SourceSecret:
    """Credentials for fetching a source: HTTPS basic (or a token as password), or an SSH key
    with its known_hosts. Kept on the hub, never logged, never returned by the API."""

    name: str
    username: str = ""
    password: bytes = field(default=b"", repr=False)
    ssh_key: bytes = field(default=b"", repr=False)
    known_hosts: str = ""
    created: int = 0
    helm_repo_hosts: tuple[str, ...] = ()
    """Chart repository hosts (`host` or `host:port`, lower case) these basic credentials are
    for; empty for a git secret (Fleet's helmSecretName, scoped like its helmRepoURLRegex)."""


@dataclass(frozen=True)
class EventRecord:
    """One entry of the hub's event log (hub/core/events.py): what happened, to what, by whom.

    `seq` is 0 until the store numbers it: numbers come from the store so that they keep
    growing across restarts and replicas. `cluster` is the cluster's name (users know clusters
    by name, and a deleted cluster's events still say which one it was).
    """

    time: float
    kind: str
    bundle: str = ""
    cluster: str = ""
    revision: str = ""
    actor: str = ""
    message: str = ""
    seq: int = 0
