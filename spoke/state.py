"""What the spoke holds: per bundle, the revision and the desired resources it was given.

It survives restarts (a JSON file in the data dir, replaced atomically), so a restarted spoke
tells the hub what it has and receives nothing it already holds. Each deployment's options are
stored as `ApplyOptions.as_dict()`; reading goes through `ApplyOptions.from_dict()`, which also
reads the files written before that model (comparePatches / ignoreConditions as parsed lists).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from argosy.options import ApplyOptions


@dataclass
class Held:
    """One deployment as this spoke holds it."""

    bundle: str
    revision: str
    # hub resource key -> (hash, canonical JSON manifest)
    resources: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    options: ApplyOptions = field(default_factory=ApplyOptions)
    error: str = ""


class LocalState:
    """Held deployments, kept in memory and, when a path is given, on disk."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self.deployments: dict[str, Held] = {}

    def load(self) -> None:
        if self._path is None or not self._path.exists():
            return
        doc = json.loads(self._path.read_text())
        for name, d in doc.get("deployments", {}).items():
            self.deployments[name] = Held(
                bundle=name,
                revision=d["revision"],
                resources={k: (h, m.encode()) for k, (h, m) in d["resources"].items()},
                options=ApplyOptions.from_dict(d.get("options") or {}),
                error=d.get("error", ""),
            )

    def save(self) -> None:
        if self._path is None:
            return
        doc = {
            "deployments": {
                name: {
                    "revision": h.revision,
                    "resources": {k: [hs, m.decode()] for k, (hs, m) in h.resources.items()},
                    "options": h.options.as_dict(),
                    "error": h.error,
                }
                for name, h in self.deployments.items()
            }
        }
        tmp = self._path.with_suffix(".tmp")
        tmp.write_text(json.dumps(doc))
        os.replace(tmp, self._path)

    def applied(self) -> dict[str, str]:
        return {name: h.revision for name, h in self.deployments.items()}


@dataclass(frozen=True)
class Credential:
    """What a registered spoke holds: a client certificate and its key (a TLS hub), or a
    bearer secret (a hub run with --insecure)."""

    cluster_id: str
    credential: str
    name: str
    key_pem: str = ""
    cert_pem: str = ""
    ca_pem: str = ""
    stream_port: int = 0
    # When the certificate was received (unix time), to renew it after 2/3 of its life.
    received: float = 0.0
    # The hub address it registered through, whose spoke port is stream_port.
    registered_hub: str = ""


class CredentialStore:
    """The cluster credential: once registered, the token is no longer needed."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._memory: Credential | None = None

    def load(self) -> Credential | None:
        if self._memory is not None or self._path is None or not self._path.exists():
            return self._memory
        doc = json.loads(self._path.read_text())
        self._memory = Credential(
            doc["clusterId"],
            doc.get("credential", ""),
            doc["name"],
            key_pem=doc.get("keyPem", ""),
            cert_pem=doc.get("certPem", ""),
            ca_pem=doc.get("caPem", ""),
            stream_port=int(doc.get("streamPort", 0)),
            received=float(doc.get("received", 0.0)),
            registered_hub=doc.get("registeredHub", ""),
        )
        return self._memory

    def save(self, cred: Credential) -> None:
        self._memory = cred
        if self._path is None:
            return
        tmp = self._path.with_suffix(".tmp")
        # Owner-only before anything secret is written into it.
        tmp.touch(mode=0o600)
        tmp.chmod(0o600)
        tmp.write_text(
            json.dumps(
                {
                    "clusterId": cred.cluster_id,
                    "credential": cred.credential,
                    "name": cred.name,
                    "keyPem": cred.key_pem,
                    "certPem": cred.cert_pem,
                    "caPem": cred.ca_pem,
                    "streamPort": cred.stream_port,
                    "received": cred.received,
                    "registeredHub": cred.registered_hub,
                }
            )
        )
        os.replace(tmp, self._path)

    def clear(self) -> None:
        self._memory = None
        if self._path is not None and self._path.exists():
            self._path.unlink()


class MirroredCredentialStore(CredentialStore):
    """A CredentialStore that also keeps the credential outside the data dir (a backend offers
    one, e.g. a Secret in the cluster), so a spoke whose data dir is lost stays registered.

    The Link reads and writes it synchronously like any CredentialStore; restore() runs before
    the Link starts, and run() (a supervised loop) writes every change to the copy.
    """

    async def restore(self) -> None:
        """Take the credential from the copy when the data dir has none."""
        raise NotImplementedError

    async def run(self) -> None:
        """Keep the copy up to date; returns only when cancelled."""
        raise NotImplementedError
