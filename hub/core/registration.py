"""Registration tokens, cluster credentials and certificates: who may join, and who a spoke is.

The checks run before anything is used or stored (a refused attempt costs a token no use); the
fleet's use case (hub/fleet.py `register`) then records the cluster and plans what it receives.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import replace

from argosy.errors import InvalidInput, NotFound, PermissionDenied, Unauthenticated
from argosy.names import check_labels, check_name
from hub.core import auth
from hub.core.inventory import Inventory
from hub.models import ClusterRecord, RevokedName, TokenRecord
from hub.persistence.protocol import Store

# Signs a cluster's CSR for its id: (certificate, serial).
Issuer = Callable[[bytes, str], tuple[bytes, str]]


def now() -> int:
    return int(time.time())


class Registration:
    def __init__(self, *, store: Store, inventory: Inventory, issuer: Issuer | None) -> None:
        self._store = store
        self._inventory = inventory
        # Signs cluster CSRs (a TLS hub); None: bearer credentials (--insecure).
        self._issuer = issuer

    async def admit(
        self, *, token: str, name: str, labels: Mapping[str, str], csr_pem: bytes
    ) -> RevokedName | None:
        """Check a registration and use its token; returns the name's revocation record (to
        forget once registered), if any."""
        check_name(name, what="cluster name")
        check_labels(dict(labels), what=f"cluster {name} labels")
        if not token:
            raise Unauthenticated("a registration token is required")
        if self._issuer is not None and not csr_pem:
            raise InvalidInput("registration needs a certificate signing request (csr_pem)")
        known = self._inventory.cluster_by_name(name)
        if known is not None and known.revoked:
            raise PermissionDenied(
                f"cluster {name} is revoked; to let it back, `argosy cluster delete {name}`, "
                "then register it with a token created after that (argosy token create)"
            )
        # Checked before the token is used, so a refused attempt costs the token no use.
        revoked = None if known is not None else await self._store.get_revoked_name(name)
        if revoked is not None and auth.token_id(token) in revoked.token_ids:
            raise PermissionDenied(
                f"cluster {name} was revoked; it may register again only with a registration "
                "token created after its revocation (argosy token create)"
            )
        if await self._store.use_token(auth.hash_secret(token), now=now()) is None:
            raise Unauthenticated("the registration token is unknown, expired, used up or revoked")
        return revoked

    def credential(self, cluster_id: str, csr_pem: bytes) -> tuple[str, bytes, str]:
        """(bearer credential, certificate, credential hash) for a cluster registering now."""
        if self._issuer is not None:
            certificate, serial = self._issuer(csr_pem, cluster_id)
            return "", certificate, f"serial:{serial}"
        credential = auth.new_credential(cluster_id)
        return credential, b"", auth.hash_secret(credential)

    async def renew(self, cluster: ClusterRecord, csr_pem: bytes) -> tuple[ClusterRecord, bytes]:
        """A new certificate for a cluster that proved it holds the current one (stored)."""
        if self._issuer is None:
            raise InvalidInput("this hub runs without TLS: there is no certificate to renew")
        current = self._inventory.clusters.get(cluster.id)
        if current is None or current.revoked:
            raise Unauthenticated("unknown or revoked cluster")
        certificate, serial = self._issuer(csr_pem, cluster.id)
        record = replace(current, credential_hash=f"serial:{serial}")
        await self._store.put_cluster(record)
        return record, certificate

    async def revoke(self, cluster: ClusterRecord) -> ClusterRecord:
        """Store the revocation: the name refused to every registration token usable now,
        written before the cluster is marked revoked, so no crash leaves a revoked cluster
        without it."""
        when = now()
        usable = tuple(
            t.id
            for t in await self._store.list_tokens()
            if not t.revoked and (not t.expires or t.expires > when)
        )
        await self._store.put_revoked_name(RevokedName(cluster.name, when, usable))
        record = replace(cluster, credential_hash="", revoked=True)
        await self._store.put_cluster(record)
        return record

    # --- who a spoke is -----------------------------------------------------------------------

    def authenticate(self, credential: str) -> ClusterRecord:
        """The cluster a bearer credential belongs to (hubs run with --insecure)."""
        cluster_id = auth.credential_cluster_id(credential)
        cluster = self._inventory.clusters.get(cluster_id) if cluster_id else None
        if (
            cluster is None
            or cluster.revoked
            or not auth.secret_matches(credential, cluster.credential_hash)
        ):
            raise Unauthenticated("unknown or revoked cluster credential")
        return cluster

    def authenticate_certificate(self, cluster_id: str, serial: str) -> ClusterRecord:
        """The cluster a verified client certificate names, if it is still its current one."""
        cluster = self._inventory.clusters.get(cluster_id)
        if cluster is None or cluster.revoked or cluster.credential_hash != f"serial:{serial}":
            raise Unauthenticated("unknown, replaced or revoked cluster certificate")
        return cluster

    # --- tokens -------------------------------------------------------------------------------

    async def create_token(
        self, *, ttl_seconds: int = 0, max_uses: int = 0
    ) -> tuple[TokenRecord, str]:
        token_id = auth.new_id("t-")
        secret = auth.new_token(token_id)
        when = now()
        record = TokenRecord(
            id=token_id,
            secret_hash=auth.hash_secret(secret),
            created=when,
            expires=when + ttl_seconds if ttl_seconds else 0,
            max_uses=max_uses,
        )
        await self._store.put_token(record)
        return record, secret

    async def tokens(self) -> list[TokenRecord]:
        return await self._store.list_tokens()

    async def revoke_token(self, token_id: str) -> None:
        for token in await self._store.list_tokens():
            if token.id == token_id:
                await self._store.put_token(replace(token, revoked=True))
                return
        raise NotFound(f"token {token_id!r} not found")
