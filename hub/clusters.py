"""The cluster use cases: registering, renewing, revoking and deleting clusters.

Registration's checks and credentials live in hub/core/registration.py; this module says in which
order the core and the status book change for each use case. Fleet exposes these methods as its
own (the servicers call them there).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from argosy.errors import NotFound
from hub.core import auth
from hub.core import labels as hub_labels
from hub.core.events import EventKind
from hub.models import ClusterRecord
from hub.status import ClusterInfo

if TYPE_CHECKING:
    from hub.fleet import Fleet

log = logging.getLogger(__name__)


def _now() -> int:
    return int(time.time())


def _labels_text(labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


class Clusters:
    def __init__(self, fleet: Fleet) -> None:
        self._fleet = fleet

    async def register(
        self, *, token: str, name: str, labels: Mapping[str, str], csr_pem: bytes = b""
    ) -> tuple[ClusterRecord, str, bytes]:
        """Exchange a registration token for a cluster and its credential.

        With an issuer (a TLS hub) the credential is a client certificate signed from the
        cluster's CSR, returned as (record, "", certificate); the hub keeps its serial. Without
        one (--insecure) it is a bearer secret, returned as (record, secret, b"").
        """
        fleet = self._fleet
        revoked = await fleet.registration.admit(
            token=token, name=name, labels=labels, csr_pem=csr_pem
        )
        async with fleet.lock:
            old = fleet.inventory.cluster_by_name(name)
            cluster_id = old.id if old else auth.new_id("c-")
            credential, certificate, credential_hash = fleet.registration.credential(
                cluster_id, csr_pem
            )
            # Labels changed on the hub win over those the spoke registers with again.
            overrides = dict(old.label_overrides) if old else {}
            record = ClusterRecord(
                id=cluster_id,
                name=name,
                labels=hub_labels.effective(labels, overrides),
                credential_hash=credential_hash,
                created=old.created if old else _now(),
                last_seen=old.last_seen if old else 0,
                label_overrides=overrides,
            )
            await fleet.store.put_cluster(record)
            if revoked is not None:
                # Registered anew with a new token: a later revocation starts a new record.
                await fleet.store.forget_revoked_name(name)
            fleet.inventory.put_cluster(record)
            # A re-registration replaces the old credential: cut the stream that used it.
            fleet.cut(cluster_id, "cluster re-registered")
            fleet.status.put_cluster(cluster_id, ClusterInfo(name, record.labels))
            fleet.refresh_memberships([cluster_id])
            await fleet.commit_stored(
                await fleet.plan(fleet.inventory.loaded(), {cluster_id: record}),
                prune=old is not None,
            )
            log.info("registered cluster %s (%s) labels=%s", name, cluster_id, dict(labels))
            fleet.events.record(
                EventKind.CLUSTER_REGISTERED,
                cluster=name,
                actor=f"registration-token/{auth.token_id(token) or 'unknown'}",
                message=("registered again" if old else "registered")
                + (f", labels {_labels_text(record.labels)}" if record.labels else ""),
            )
            return record, credential, certificate

    async def set_labels(
        self, name: str, *, set_: Mapping[str, str], remove: Sequence[str]
    ) -> ClusterRecord:
        """Set and remove a cluster's labels on the hub; they win over the spoke's from now on.

        Targeting is planned again for the cluster at once (what it no longer matches is
        deleted from it), and its groups in the status book follow.
        """
        fleet = self._fleet
        async with fleet.lock:
            cluster = fleet.inventory.cluster_by_name(name)
            if cluster is None:
                raise NotFound(f"cluster {name!r} not found")
            labels, overrides = hub_labels.change(
                cluster.labels,
                cluster.label_overrides,
                set_=set_,
                remove=remove,
                what=f"cluster {name} labels",
            )
            record = replace(cluster, labels=labels, label_overrides=overrides)
            if record == cluster:
                return record
            await fleet.store.put_cluster(record)
            fleet.inventory.put_cluster(record)
            fleet.status.put_cluster(cluster.id, ClusterInfo(name, record.labels))
            fleet.refresh_memberships([cluster.id])
            await fleet.commit_stored(
                await fleet.plan(fleet.inventory.loaded(), {cluster.id: record})
            )
            log.info("cluster %s labels now %s (set on the hub: %s)", name, labels, overrides)
            return record

    async def renew(self, cluster: ClusterRecord, csr_pem: bytes) -> bytes:
        """A new certificate for a cluster that proved it holds the current one."""
        fleet = self._fleet
        async with fleet.lock:
            record, certificate = await fleet.registration.renew(cluster, csr_pem)
            fleet.inventory.put_cluster(record)
            log.info("renewed the certificate of cluster %s", cluster.name)
            return certificate

    async def revoke_cluster(self, name: str, *, actor: str = "") -> None:
        """Refuse the cluster's certificate from now on and cut its open stream at once.

        The name stays refused to every registration token usable now, even once the cluster
        is deleted: the revoked spoke still holds the token it registered with, and would
        otherwise come straight back.
        """
        fleet = self._fleet
        async with fleet.lock:
            cluster = fleet.inventory.cluster_by_name(name)
            if cluster is None:
                raise NotFound(f"cluster {name!r} not found")
            fleet.inventory.put_cluster(await fleet.registration.revoke(cluster))
            fleet.cut(cluster.id, "cluster revoked")
            log.warning("revoked cluster %s", name)
            fleet.events.record(EventKind.CLUSTER_REVOKED, cluster=name, actor=actor)

    async def delete_cluster(self, name: str, *, actor: str = "") -> None:
        fleet = self._fleet
        async with fleet.lock:
            cluster = fleet.inventory.cluster_by_name(name)
            if cluster is None:
                raise NotFound(f"cluster {name!r} not found")
            if not cluster.revoked:
                # Only a revocation interrupted before it marked the cluster leaves one here.
                await fleet.store.forget_revoked_name(name)
            await fleet.store.delete_cluster(cluster.id)
            fleet.drop_cluster(cluster.id)
            fleet.events.record(EventKind.CLUSTER_DELETED, cluster=name, actor=actor)

    def drop_cluster(self, cluster_id: str) -> None:
        fleet = self._fleet
        fleet.cut(cluster_id, "cluster deleted")
        bundles = fleet.deployments.drop_cluster(cluster_id)
        fleet.writer.forget_cluster(cluster_id, bundles)
        for bundle in bundles:
            fleet.rollouts.regate(bundle)
        fleet.liveness.forget(cluster_id)
        fleet.inventory.drop_cluster(cluster_id)
        fleet.status.remove_cluster(cluster_id)
        fleet.revisions.prune(fleet.deployments.wanted_revisions())
