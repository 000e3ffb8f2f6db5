"""The spoke's cluster credential, kept in a Secret so a rescheduled agent pod stays registered.

In a cluster the agent's data dir is an emptyDir that dies with the pod; the registration token
may have expired or been revoked by then. The Link keeps using the file-backed CredentialStore
(synchronous, in memory); this subclass restores the credential from the Secret before the Link
starts, and its own loop writes every change back to the Secret. The Kubernetes backend offers
it as its credential mirror (Backend.credential_mirror), so the spoke never names this class.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import logging
from pathlib import Path

import aiohttp

from argosy.runtime import backoff_delays
from spoke.backends.kube.client import APPLY_PATCH, ApiError, KubeClient
from spoke.state import Credential, CredentialStore, MirroredCredentialStore

log = logging.getLogger(__name__)

FIELD_MANAGER = "argosy-credential"
KEY = "credential.json"


class SecretCredentialStore(MirroredCredentialStore):
    def __init__(self, path: Path | None, *, client: KubeClient, namespace: str, name: str) -> None:
        super().__init__(path)
        self._client = client
        self._namespace = namespace
        self._name = name
        self._dirty = asyncio.Event()

    @property
    def _secret_path(self) -> str:
        return f"/api/v1/namespaces/{self._namespace}/secrets/{self._name}"

    async def restore(self) -> None:
        """Take the credential from the Secret when the data dir has none (a new pod)."""
        if self.load() is not None:
            self._dirty.set()  # the Secret may predate it: bring it up to date
            return
        try:
            secret = await self._client.request("GET", self._secret_path)
        except ApiError as exc:
            if exc.status != 404:
                log.warning("cannot read credential Secret %s: %s", self._secret_path, exc)
            return
        try:
            doc = json.loads(base64.b64decode((secret.get("data") or {})[KEY]))
            known = {f.name for f in dataclasses.fields(Credential)}
            cred = Credential(**{k: v for k, v in doc.items() if k in known})
        except (KeyError, ValueError, TypeError) as exc:
            log.warning("credential Secret %s is unusable: %s", self._secret_path, exc)
            return
        CredentialStore.save(self, cred)  # not dirty: the Secret already holds it
        log.info("restored the cluster credential from Secret %s/%s", self._namespace, self._name)

    def save(self, cred: Credential) -> None:
        super().save(cred)
        self._dirty.set()

    def clear(self) -> None:
        super().clear()
        self._dirty.set()

    async def run(self) -> None:
        """Write every change to the Secret; retried with backoff until it lands."""
        delays = backoff_delays(initial=0.5, maximum=30.0)
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            try:
                await self._write()
                delays = backoff_delays(initial=0.5, maximum=30.0)
            except (ApiError, aiohttp.ClientError, TimeoutError) as exc:
                self._dirty.set()
                delay = delays()
                log.warning("cannot write credential Secret (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)

    async def _write(self) -> None:
        cred = self.load()
        if cred is None:
            try:
                await self._client.request("DELETE", self._secret_path)
            except ApiError as exc:
                if exc.status != 404:
                    raise
            return
        await self._client.request(
            "PATCH",
            self._secret_path,
            query=[("fieldManager", FIELD_MANAGER), ("force", "true")],
            body={
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": self._name,
                    "namespace": self._namespace,
                    "labels": {"app.kubernetes.io/part-of": "argosy"},
                },
                "type": "Opaque",
                # One JSON document: every field of the credential, whatever it holds.
                "stringData": {KEY: json.dumps(dataclasses.asdict(cred), sort_keys=True)},
            },
            content_type=APPLY_PATCH,
        )
