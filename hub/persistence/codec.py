"""Record <-> row encodings shared by both stores, and the rule for spending a token.

Both stores keep labels, selectors and resource states as JSON text (SQLite TEXT, PostgreSQL
JSONB/JSON read back `::text`) and select each table's columns in the same order, so one
decoder per record serves both: the `*_from_row` functions take a positional row (a SQLite
tuple or an asyncpg Record) whose columns are in the order their docstring names. Before this
module the encodings were written twice and had begun to drift.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from argosy.selectors import LabelSelector, Requirement
from hub.models import (
    AdminTokenRecord,
    BundleControl,
    BundleRecord,
    ClusterRecord,
    DeploymentRecord,
    GroupRecord,
    HistoryEntry,
    RepoRecord,
    ResourceStateRecord,
    SourceSecret,
    TokenRecord,
)


class Row(Protocol):
    """A positional result row: a SQLite tuple or an asyncpg Record."""

    def __getitem__(self, index: int, /) -> Any: ...


# --- the rule ------------------------------------------------------------------------------------


def token_usable(token: TokenRecord, *, now: int) -> bool:
    """Whether a registration token may be spent at `now`: not revoked, not expired, not used up.

    SqliteStore.use_token decides with this; PostgresStore.use_token says the same in its one
    atomic UPDATE (the contract suite holds the two to one answer).
    """
    if token.revoked or (token.expires and token.expires <= now):
        return False
    return not (token.max_uses and token.uses >= token.max_uses)


# --- JSON columns --------------------------------------------------------------------------------


def labels_to_json(labels: Mapping[str, str]) -> str:
    return json.dumps(dict(labels), sort_keys=True)


def overrides_to_json(overrides: Mapping[str, str | None]) -> str:
    """Hub label overrides: a value, or null for a key removed on the hub."""
    return json.dumps(dict(overrides), sort_keys=True)


def overrides_from_json(text: str) -> dict[str, str | None]:
    value = json.loads(text)
    assert isinstance(value, dict), f"label overrides are not a JSON object: {text[:80]!r}"
    return {str(k): None if v is None else str(v) for k, v in value.items()}


def labels_from_json(text: str) -> dict[str, str]:
    value = json.loads(text)
    assert isinstance(value, dict), f"labels are not a JSON object: {text[:80]!r}"
    return value


def selector_to_json(selector: LabelSelector) -> str:
    return json.dumps(
        {
            "matchLabels": dict(selector.match_labels),
            "matchExpressions": [
                {"key": r.key, "operator": r.operator, "values": list(r.values)}
                for r in selector.match_expressions
            ],
        },
        sort_keys=True,
    )


def selector_from_json(text: str) -> LabelSelector:
    data = json.loads(text)
    return LabelSelector(
        dict(data.get("matchLabels", {})),
        tuple(
            Requirement(e["key"], e["operator"], tuple(e.get("values", ())))
            for e in data.get("matchExpressions", ())
        ),
    )


def files_to_json(files: Mapping[str, bytes]) -> str:
    """Bundle files as one JSON column (SQLite's `bundles.files`; PostgreSQL has a table)."""
    # Bundle files are text in practice; latin-1 round-trips any bytes losslessly.
    return json.dumps({p: c.decode("latin-1") for p, c in sorted(files.items())})


def files_from_json(text: str) -> dict[str, bytes]:
    return {p: c.encode("latin-1") for p, c in json.loads(text).items()}


def resources_to_json(resources: Iterable[ResourceStateRecord]) -> str:
    return json.dumps([[r.key, r.ready, r.modified, r.missing, r.message] for r in resources])


def resources_from_json(text: str) -> tuple[ResourceStateRecord, ...]:
    return tuple(ResourceStateRecord(*row) for row in json.loads(text))


def pg_text(value: str) -> str:
    """A string PostgreSQL TEXT accepts."""
    # TEXT cannot hold NUL, which a spoke's error message could carry; one bad character must
    # not fail a whole write-behind batch.
    return value.replace("\x00", "\ufffd")


# --- rows ----------------------------------------------------------------------------------------


def bundle_from_row(row: Row, files: Mapping[str, bytes]) -> BundleRecord:
    """Row: name, labels, revision, resource_count, created, updated."""
    return BundleRecord(
        row[0],
        labels_from_json(row[1]),
        dict(sorted(files.items())),
        row[2],
        row[3],
        row[4],
        row[5],
    )


def cluster_from_row(row: Row) -> ClusterRecord:
    """Row: id, name, labels, credential_hash, created, last_seen, revoked, label_overrides."""
    return ClusterRecord(
        row[0],
        row[1],
        labels_from_json(row[2]),
        row[3],
        row[4],
        row[5],
        bool(row[6]),
        overrides_from_json(row[7]),
    )


def group_from_row(row: Row) -> GroupRecord:
    """Row: name, selector."""
    return GroupRecord(row[0], selector_from_json(row[1]))


def deployment_from_row(row: Row) -> DeploymentRecord:
    """Row: bundle, cluster_id, desired, acked, error, status_revision, ready, resources,
    released."""
    return DeploymentRecord(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        bool(row[6]),
        resources_from_json(row[7]),
        row[8],
    )


CONTROL_COLUMNS = "name, paused, halted, pinned"


def control_from_row(row: Row) -> BundleControl:
    """Row: CONTROL_COLUMNS (paused NULL: not set)."""
    return BundleControl(row[0], None if row[1] is None else bool(row[1]), row[2], row[3])


HISTORY_COLUMNS = "bundle, rev, revision, created, actor, summary, labels, files, rollback_of"


def history_from_row(row: Row) -> HistoryEntry:
    """Row: HISTORY_COLUMNS, labels and files as JSON text (files_to_json) in both stores."""
    return HistoryEntry(
        bundle=row[0],
        rev=row[1],
        revision=row[2],
        created=row[3],
        actor=row[4],
        summary=row[5],
        labels=labels_from_json(row[6]),
        files=files_from_json(row[7]),
        rollback_of=row[8],
    )


def token_from_row(row: Row) -> TokenRecord:
    """Row: id, secret_hash, created, expires, revoked, uses, max_uses."""
    return TokenRecord(row[0], row[1], row[2], row[3], bool(row[4]), row[5], row[6])


def admin_token_from_row(row: Row) -> AdminTokenRecord:
    """Row: id, secret_hash, role, created, revoked."""
    return AdminTokenRecord(row[0], row[1], row[2], row[3], bool(row[4]))


# name, url, ref_kind, ref, paths, interval_ms, secret, labels, created
REPO_COLUMNS = "name, url, ref_kind, ref, paths, interval_ms, secret, labels, created"
# name, username, password, ssh_key, known_hosts, created
SOURCE_SECRET_COLUMNS = "name, username, password, ssh_key, known_hosts, created, helm_repo_hosts"


def repo_to_row(repo: RepoRecord) -> tuple[Any, ...]:
    """REPO_COLUMNS, in order; paths and labels as JSON text."""
    return (
        repo.name,
        repo.url,
        repo.ref_kind,
        repo.ref,
        json.dumps(list(repo.paths)),
        repo.interval_ms,
        repo.secret,
        labels_to_json(repo.labels),
        repo.created,
    )


def repo_from_row(row: Row) -> RepoRecord:
    """REPO_COLUMNS, in order (paths and labels as JSON text)."""
    return RepoRecord(
        name=row[0],
        url=row[1],
        ref_kind=row[2],
        ref=row[3],
        paths=tuple(json.loads(row[4])),
        interval_ms=int(row[5]),
        secret=row[6],
        labels=labels_from_json(row[7]),
        created=int(row[8]),
    )


def source_secret_to_row(secret: SourceSecret) -> tuple[Any, ...]:
    """SOURCE_SECRET_COLUMNS, in order."""
    return (
        secret.name,
        secret.username,
        secret.password,
        secret.ssh_key,
        secret.known_hosts,
        secret.created,
        json.dumps(list(secret.helm_repo_hosts)),
    )


def source_secret_from_row(row: Row) -> SourceSecret:
    """SOURCE_SECRET_COLUMNS, in order."""
    return SourceSecret(
        name=row[0],
        username=row[1],
        password=bytes(row[2]),
        ssh_key=bytes(row[3]),
        known_hosts=row[4],
        created=int(row[5]),
        helm_repo_hosts=tuple(json.loads(row[6])),
    )
