"""KubernetesBackend: the Backend on a real cluster, composed of the kube package's parts.

- client: requests and watch streams to the API server (credentials, impersonation, deadlines);
- discovery: which kinds the server serves and where (read at connect, refreshed on demand);
- apply: server-side apply in dependency order, deletes, namespaces;
- watching: one label-selected list+watch per kind in use;
- normalize: the apply body (pure);
- secrets: the cluster credential kept in a Secret, offered as the credential mirror.

Reads (get, owners) and watches stay the agent's own, never impersonated: status has to see
every object, whoever may write it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp

from spoke.backends.base import (
    OWNER_LABEL,
    ApplyResult,
    ChangeCounter,
    Obj,
    Ownership,
    OwnerUnknown,
    WatchEvent,
)
from spoke.backends.kube.apply import Applier
from spoke.backends.kube.client import ApiError, KubeClient, KubeSettings, own_namespace
from spoke.backends.kube.discovery import Discovery, DiscoveryReader
from spoke.backends.kube.secrets import SecretCredentialStore
from spoke.backends.kube.watching import Watches

log = logging.getLogger(__name__)


class KubernetesBackend:
    """A Backend on a real cluster: `async with` it (or connect() before use, close() after)."""

    def __init__(
        self, settings: KubeSettings | None = None, *, client: KubeClient | None = None
    ) -> None:
        self.settings = settings or KubeSettings()
        self.agent_namespace = self.settings.agent_namespace or own_namespace()
        self.kinds = ChangeCounter()
        self.discovery = Discovery(on_change=self.kinds.bump)
        self._client = client or KubeClient(self.settings, agent_namespace=self.agent_namespace)
        self._reader = DiscoveryReader(
            self._client, self.discovery, concurrency=self.settings.concurrency
        )
        self._watches = Watches(self._client)
        self._applier = Applier(
            client=self._client,
            settings=self.settings,
            discovery=self.discovery,
            reader=self._reader,
            watches=self._watches,
        )
        self._connect_lock = asyncio.Lock()

    @property
    def apply_calls(self) -> int:
        """Objects sent to the server with server-side apply (tests count re-apply storms)."""
        return self._applier.calls

    @property
    def watch_restarts(self) -> int:
        """Watches started over after a relist or a failure (the spoke's metrics)."""
        return self._watches.restarts

    @property
    def watch_events(self) -> int:
        """Events delivered by watch(), initial listings included."""
        return self._watches.events

    # --- lifecycle -------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Load credentials and read discovery; idempotent."""
        async with self._connect_lock:
            if self._client.connected:
                return
            await self._client.connect()
            try:
                await self._reader.read_patiently()
            except BaseException:
                await self.close()
                raise

    async def close(self) -> None:
        await self._watches.close()
        await self._client.close()

    async def __aenter__(self) -> KubernetesBackend:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def credential_mirror(self, path: Path | None, *, secret: str) -> SecretCredentialStore:
        """The credential also kept in Secret NAME or NAMESPACE/NAME (default: the pod's own)."""
        namespace, _, name = secret.rpartition("/")
        return SecretCredentialStore(
            path, client=self._client, namespace=namespace or own_namespace(), name=name
        )

    # --- raw access (the credential Secret, tests) -----------------------------------------------

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        content_type: str = "application/json",
        service_account: str = "",
    ) -> dict[str, Any]:
        """One API call; the decoded JSON answer, or ApiError with the server's message."""
        return await self._client.request(
            method,
            path,
            query=query,
            body=body,
            content_type=content_type,
            service_account=service_account,
        )

    async def refresh_discovery(self) -> None:
        """Read the API server's discovery documents into the kind table."""
        await self._reader.read()

    # --- Backend ---------------------------------------------------------------------------------

    def is_namespaced(self, api_version: str, kind: str) -> bool:
        known = self.discovery.is_namespaced(api_version, kind)
        # Unknown kinds are custom resources whose CRD is not served yet; most are namespaced.
        return True if known is None else known

    def rediscover_soon(self) -> None:
        self._reader.soon()

    async def apply(
        self,
        objs: Sequence[Obj],
        *,
        owner: Ownership,
        force: bool,
        yield_paths: Mapping[str, Collection[str]] | None = None,
    ) -> list[ApplyResult]:
        return await self._applier.apply(objs, owner=owner, force=force, yield_paths=yield_paths)

    async def delete(self, keys: Sequence[str], *, service_account: str = "") -> list[ApplyResult]:
        return await self._applier.delete(keys, service_account=service_account)

    async def ensure_namespaces(
        self, names: Sequence[str], *, service_account: str = ""
    ) -> list[ApplyResult]:
        return await self._applier.ensure_namespaces(names, service_account=service_account)

    async def set_namespace_metadata(
        self,
        name: str,
        *,
        labels: Mapping[str, str],
        annotations: Mapping[str, str],
        bundle: str,
        service_account: str = "",
    ) -> ApplyResult:
        return await self._applier.set_namespace_metadata(
            name,
            labels=labels,
            annotations=annotations,
            bundle=bundle,
            service_account=service_account,
        )

    async def get(self, key: str) -> Obj | None:
        try:
            return await self._read(key)
        except ApiError as exc:
            # Judged missing for now; the watch's initial list corrects it.
            log.warning("reading %s failed: %s", key, exc)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("reading %s failed: %s", key, exc or type(exc).__name__)
        return None

    async def _read(self, key: str) -> Obj | None:
        """The live object, None when absent (404, or a kind not served); raises otherwise."""
        group, kind, namespace, name = key.split("/", 3)
        res = self._watches.in_use(group, kind) or self.discovery.for_group_kind(group, kind)
        if res is None:
            return None
        self._watches.use(res)
        try:
            return await self._client.request("GET", res.path(namespace=namespace, name=name))
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise

    async def owners(self, keys: Sequence[str]) -> dict[str, str | OwnerUnknown]:
        limit = asyncio.Semaphore(self.settings.concurrency)

        async def owner(key: str) -> str | OwnerUnknown:
            # Only absence is "no owner": a read that failed must not let a bundle take the
            # object from whoever owns it.
            try:
                async with limit:
                    live = await self._read(key)
            except ApiError as exc:
                return OwnerUnknown(str(exc))
            except (aiohttp.ClientError, TimeoutError) as exc:
                return OwnerUnknown(str(exc) or type(exc).__name__)
            labels = ((live or {}).get("metadata") or {}).get("labels") or {}
            return str(labels.get(OWNER_LABEL, ""))

        found = await asyncio.gather(*(owner(k) for k in keys))
        return {k: o for k, o in zip(keys, found, strict=True) if o}

    def watch(self) -> AsyncIterator[WatchEvent]:
        return self._watches.watch()
