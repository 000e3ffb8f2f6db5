"""The hub's certificates: its CA (shared by all replicas through the store), a serving
certificate made at every start, and the signing of cluster certificates.

A hub started with --ca-cert/--ca-key uses that CA instead of making one.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from pathlib import Path

import grpc

from argosy import pki
from hub.persistence.protocol import Store

CA_SECRET = "hub-ca"


@dataclass(frozen=True)
class HubTls:
    ca: pki.KeyPair
    server: pki.KeyPair
    client_cert_days: float

    def credentials(self, *, require_client_auth: bool) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self.server.key_pem, self.server.cert_pem)],
            root_certificates=self.ca.cert_pem,
            require_client_auth=require_client_auth,
        )

    def issue(self, csr_pem: bytes, cluster_id: str) -> tuple[bytes, str]:
        """A cluster certificate and its serial (hex), which the hub keeps as the credential."""
        cert = pki.sign_cluster_csr(
            self.ca, csr_pem, cluster_id=cluster_id, days=self.client_cert_days
        )
        return cert, format(pki.load_cert(cert).serial_number, "x")


async def load_ca(store: Store, *, ca_cert: Path | None, ca_key: Path | None) -> pki.KeyPair:
    if ca_cert and ca_key:
        return pki.KeyPair(ca_key.read_bytes(), ca_cert.read_bytes())
    fresh = pki.new_ca()
    stored = await store.shared_secret(
        CA_SECRET,
        json.dumps({"key": fresh.key_pem.decode(), "cert": fresh.cert_pem.decode()}).encode(),
    )
    doc = json.loads(stored)
    return pki.KeyPair(doc["key"].encode(), doc["cert"].encode())


def server_names(listen_host: str, extra: tuple[str, ...]) -> list[str]:
    names = [*extra, "localhost", "127.0.0.1", socket.gethostname()]
    if listen_host not in ("0.0.0.0", "::", ""):
        names.insert(0, listen_host)
    return names


async def setup(
    store: Store,
    *,
    listen_host: str,
    extra_names: tuple[str, ...],
    client_cert_days: float,
    ca_cert: Path | None = None,
    ca_key: Path | None = None,
) -> HubTls:
    ca = await load_ca(store, ca_cert=ca_cert, ca_key=ca_key)
    server = pki.server_cert(ca, server_names(listen_host, extra_names))
    return HubTls(ca=ca, server=server, client_cert_days=client_cert_days)
