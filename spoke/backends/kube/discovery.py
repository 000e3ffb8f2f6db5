"""What the API server serves: kind -> resource (plural, scope), from discovery and from CRDs.

The spoke asks "is this kind namespaced?" synchronously while it indexes a bundle, so answers
come from a table filled by discovery at start-up, refreshed when an unknown kind is applied,
and taught directly by every CRD Argosy applies (its spec names the plural and the scope).
Parsing and the table (`Discovery`) are pure; `DiscoveryReader` does the fetching, and decides
when a refresh is worth its thirty-odd requests.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from argosy.runtime import backoff_delays
from spoke.backends.kube.client import ApiError, KubeClient

log = logging.getLogger(__name__)

# An unknown kind re-reads discovery (about 30 requests) at most this often, in seconds.
UNKNOWN_KIND_REFRESH_INTERVAL = 5.0


@dataclass(frozen=True)
class ApiResource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def path(self, *, namespace: str = "", name: str = "") -> str:
        """The REST path of the collection, or of one object when name is given."""
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{quote(namespace, safe='')}"
        base += f"/{self.plural}"
        return f"{base}/{quote(name, safe='')}" if name else base


def split_api_version(api_version: str) -> tuple[str, str]:
    group, _, version = api_version.rpartition("/")
    return group, version


def parse_resource_list(doc: Mapping[str, Any]) -> list[ApiResource]:
    """The top-level resources of an APIResourceList (subresources like pods/status skipped)."""
    group, version = split_api_version(str(doc.get("groupVersion", "")))
    return [
        ApiResource(group, version, str(r["kind"]), str(r["name"]), bool(r.get("namespaced")))
        for r in doc.get("resources") or []
        if "/" not in str(r.get("name", "")) and r.get("kind")
    ]


def preferred_versions(groups_doc: Mapping[str, Any]) -> dict[str, str]:
    """group -> its preferred version, from an APIGroupList."""
    out = {}
    for g in groups_doc.get("groups") or []:
        preferred = (g.get("preferredVersion") or {}).get("version")
        if preferred:
            out[str(g["name"])] = str(preferred)
    return out


def group_versions(groups_doc: Mapping[str, Any]) -> list[str]:
    """Every 'group/version' an APIGroupList offers."""
    return [
        str(v["groupVersion"])
        for g in groups_doc.get("groups") or []
        for v in g.get("versions") or []
        if v.get("groupVersion")
    ]


def resources_of_crd(crd: Mapping[str, Any]) -> list[ApiResource]:
    """The resources a CustomResourceDefinition (apiextensions.k8s.io/v1) serves."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    kind, plural, group = names.get("kind"), names.get("plural"), spec.get("group")
    if not (kind and plural and group):
        return []
    namespaced = spec.get("scope", "Namespaced") == "Namespaced"
    return [
        ApiResource(str(group), str(v["name"]), str(kind), str(plural), namespaced)
        for v in spec.get("versions") or []
        if v.get("name") and v.get("served", True)
    ]


class Discovery:
    """The table of served kinds. Lookups are synchronous; filling it is the backend's job."""

    def __init__(self, *, on_change: Callable[[], None] | None = None) -> None:
        self._exact: dict[tuple[str, str, str], ApiResource] = {}
        self._preferred: dict[tuple[str, str], ApiResource] = {}
        # Called when the table gains or loses a kind (or a kind changes scope): applies
        # that failed for want of it may now succeed.
        self._on_change = on_change

    def replace(self, resources: Iterable[ApiResource], preferred: Mapping[str, str]) -> None:
        """Install a full discovery result; CRD-taught entries not in it are kept."""
        exact = dict(self._exact)
        for r in resources:
            exact[(r.group, r.version, r.kind)] = r
        changed = exact != self._exact
        self._exact = exact
        self._preferred = {}
        for r in exact.values():
            current = self._preferred.get((r.group, r.kind))
            if current is None or preferred.get(r.group) == r.version:
                self._preferred[(r.group, r.kind)] = r
        if changed and self._on_change is not None:
            self._on_change()

    def learn(self, resources: Iterable[ApiResource]) -> None:
        changed = False
        for r in resources:
            key = (r.group, r.version, r.kind)
            changed = changed or self._exact.get(key) != r
            self._exact[key] = r
            self._preferred.setdefault((r.group, r.kind), r)
        if changed and self._on_change is not None:
            self._on_change()

    def lookup(self, api_version: str, kind: str) -> ApiResource | None:
        group, version = split_api_version(api_version)
        return self._exact.get((group, version, kind))

    def for_group_kind(self, group: str, kind: str) -> ApiResource | None:
        return self._preferred.get((group, kind))

    def is_namespaced(self, api_version: str, kind: str) -> bool | None:
        """None when the kind is unknown."""
        found = self.lookup(api_version, kind) or self.for_group_kind(
            split_api_version(api_version)[0], kind
        )
        return None if found is None else found.namespaced


class DiscoveryReader:
    """Fills a Discovery from the API server: patiently at start-up, then on demand."""

    def __init__(self, client: KubeClient, table: Discovery, *, concurrency: int) -> None:
        self._client = client
        self._table = table
        self._concurrency = concurrency
        self._last_refresh = float("-inf")

    async def read(self) -> None:
        """Read the API server's discovery documents into the kind table."""
        request = self._client.request
        core, groups = await asyncio.gather(request("GET", "/api/v1"), request("GET", "/apis"))
        limit = asyncio.Semaphore(self._concurrency)

        async def one(gv: str) -> list[ApiResource]:
            async with limit:
                try:
                    return parse_resource_list(await request("GET", f"/apis/{gv}"))
                except (ApiError, aiohttp.ClientError, TimeoutError) as exc:
                    # An unavailable aggregated API must not stop the spoke.
                    log.warning("discovery of %s failed: %s", gv, exc)
                    return []

        lists = await asyncio.gather(*(one(gv) for gv in group_versions(groups)))
        resources = parse_resource_list(core) + [r for rs in lists for r in rs]
        self._table.replace(resources, preferred_versions(groups))

    async def read_patiently(self) -> None:
        """First discovery: wait out an unreachable or failing API server; refusals are final."""
        delays = backoff_delays(initial=0.5, maximum=30.0)
        while True:
            try:
                await self.read()
                return
            except ApiError as exc:
                if exc.status < 500:
                    raise  # 401/403: credentials or RBAC, which waiting does not fix
                problem = str(exc)
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = str(exc) or type(exc).__name__
            delay = delays()
            log.warning("API server not usable (%s); retrying in %.1fs", problem, delay)
            await asyncio.sleep(delay)

    def soon(self) -> None:
        """Let the next refresh_quietly() read at once, whatever its rate limit."""
        self._last_refresh = float("-inf")

    async def refresh_quietly(self) -> None:
        """Re-read discovery for an unknown kind, at most every few seconds."""
        now = time.monotonic()
        if now - self._last_refresh < UNKNOWN_KIND_REFRESH_INTERVAL:
            return
        self._last_refresh = now
        try:
            await self.read()
        except (ApiError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("discovery refresh failed: %s", exc)
