"""The Kubernetes backend: server-side apply, label-selected watches, discovery, on a real cluster.

It talks to the API server over kubernetes_asyncio's ApiClient.call_api, asking for raw JSON
(the typed models would drop fields of custom resources), so objects stay plain dicts end to end.

- apply is server-side apply (fieldManager=argosy) in dependency order: Namespaces, then CRDs,
  then everything else once the CRDs applied with it are Established (a bounded wait on a watch
  of that one CRD). An unknown kind refreshes discovery once before it is reported.
- Every applied object carries OWNER_LABEL and DEPLOYMENT_ANNOTATION, because prune deletes
  only what carries the bundle's label.
- watch() follows one list+watch per group/kind in use, label-selected on OWNER_LABEL,
  resuming from the last resourceVersion and relisting on 410 Gone. A kind is "in use" once
  Argosy applies or reads an object of it, so a restarted spoke follows what it held before.
- API errors (422 invalid, 403 forbidden, 409 conflict, ...) become ApplyResult.error carrying
  the server's own message; they never escape to the caller.
- A deployment with fleet.yaml serviceAccount makes its writes (namespace get/create/label,
  apply, delete) with Impersonate-User system:serviceaccount:<agent namespace>:<name>, as
  Fleet's helm deployer does, so that account's RBAC bounds the bundle. Watches and status
  reads stay the agent's own: status has to see every object, whoever may write it.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import logging
import os
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from kubernetes_asyncio import client as k8s_client
from kubernetes_asyncio import config as k8s_config

from argosy.manifests import resource_key
from argosy.runtime import backoff_delays
from spoke.backends.base import (
    DEPLOYMENT_ANNOTATION,
    OWNER_LABEL,
    ApplyResult,
    ChangeCounter,
    Obj,
    Ownership,
    WatchEvent,
    namespace_field_manager,
)
from spoke.backends.kube_discovery import (
    ApiResource,
    Discovery,
    group_versions,
    parse_resource_list,
    preferred_versions,
    resources_of_crd,
)

log = logging.getLogger(__name__)

APPLY_PATCH = "application/apply-patch+yaml"
CRD_API_VERSION = "apiextensions.k8s.io/v1"
# Applied first, in this order; everything else comes after.
ORDER = {"Namespace": 0, "CustomResourceDefinition": 1}
# An unknown kind re-reads discovery (about 30 requests) at most this often, in seconds.
UNKNOWN_KIND_REFRESH_INTERVAL = 5.0
# Written by the API server; sending them back in an apply would be rejected or meaningless.
_SERVER_METADATA = ("resourceVersion", "uid", "generation", "creationTimestamp", "managedFields")
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def own_namespace(default: str = "argosy-system") -> str:
    """The namespace this pod runs in, or default outside a cluster."""
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or default
    except OSError:
        return default


@dataclass(frozen=True)
class KubeSettings:
    kubeconfig: str = ""
    """Path of a kubeconfig (--kubeconfig, KUBECONFIG); empty: in-cluster, else ~/.kube/config."""
    context: str = ""
    """kubeconfig context; empty: the current one."""
    field_manager: str = "argosy"
    """The server-side apply field manager."""
    request_timeout: float = 30.0
    """Deadline of every ordinary API request, in seconds."""
    watch_timeout: int = 300
    """Server-side length of one watch request; it is resumed from its resourceVersion."""
    crd_wait: float = 30.0
    """How long custom resources wait for a CRD applied with them to become Established."""
    concurrency: int = 8
    """Objects of the same apply phase sent at once."""
    agent_namespace: str = ""
    """Where the service accounts fleet.yaml's serviceAccount names live, as Fleet looks them
    up in its agent's namespace; empty: the pod's own namespace, else argosy-system."""


class ApiError(Exception):
    """A non-2xx answer, with the server's message."""

    def __init__(self, status: int, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


def _status_message(status: int, body: bytes) -> tuple[str, str]:
    try:
        doc = json.loads(body)
    except ValueError:
        text = body.decode(errors="replace").strip()
        return text or f"HTTP {status}", ""
    if isinstance(doc, dict):
        return str(doc.get("message") or f"HTTP {status}"), str(doc.get("reason") or "")
    return f"HTTP {status}", ""


def _is_in_cluster() -> bool:
    return (
        bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
        and Path("/var/run/secrets/kubernetes.io/serviceaccount/token").exists()
    )


@dataclass
class _Follow:
    """One subscriber of watch(): its queue and its per-kind watch tasks."""

    queue: asyncio.Queue[WatchEvent]
    tasks: dict[tuple[str, str], asyncio.Task[None]] = field(default_factory=dict)


class KubernetesBackend:
    """A Backend on a real cluster. connect() before use; close() when done."""

    def __init__(self, settings: KubeSettings | None = None) -> None:
        self.settings = settings or KubeSettings()
        self.agent_namespace = self.settings.agent_namespace or own_namespace()
        self.kinds = ChangeCounter()
        self.discovery = Discovery(on_change=self.kinds.bump)
        self._api: k8s_client.ApiClient | None = None
        self._in_use: dict[tuple[str, str], ApiResource] = {}
        self._subscribers: list[Callable[[ApiResource], None]] = []
        # Every per-kind watch task, whichever watch() started it: close() ends them all, even
        # when a consumer was cancelled outside the generator and left it suspended.
        self._watch_tasks: set[asyncio.Task[None]] = set()
        self._connect_lock = asyncio.Lock()
        self._last_refresh = float("-inf")
        self.apply_calls = 0
        """Objects sent to the server with server-side apply (tests count re-apply storms)."""
        self.watch_events = 0
        """Events delivered by watch(), initial listings included."""

    # --- connection ------------------------------------------------------------------------------

    async def connect(self) -> None:
        """Load credentials and read discovery; idempotent."""
        async with self._connect_lock:
            if self._api is not None:
                return
            cfg = k8s_client.Configuration()
            # One long-lived connection per watched kind: no pool limit to starve requests.
            cfg.connection_pool_maxsize = 0
            s = self.settings
            kubeconfig = s.kubeconfig or os.environ.get("KUBECONFIG", "")
            if not kubeconfig and _is_in_cluster():
                k8s_config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
            else:
                await k8s_config.load_kube_config(
                    config_file=kubeconfig.split(os.pathsep)[0] or None,
                    context=s.context or None,
                    client_configuration=cfg,
                    persist_config=False,
                )
            self._api = k8s_client.ApiClient(configuration=cfg)
            try:
                await self._discover_patiently()
            except BaseException:
                await self.close()
                raise

    async def _discover_patiently(self) -> None:
        """First discovery: wait out an unreachable or failing API server; refusals are final."""
        delays = backoff_delays(initial=0.5, maximum=30.0)
        while True:
            try:
                await self.refresh_discovery()
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

    async def close(self) -> None:
        tasks = list(self._watch_tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._api is not None:
            api, self._api = self._api, None
            await _abort_connections(api)
            await api.close()

    async def __aenter__(self) -> KubernetesBackend:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- HTTP ------------------------------------------------------------------------------------

    async def _send(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        content_type: str = "application/json",
        timeout: float | aiohttp.ClientTimeout | None = None,
        service_account: str = "",
    ) -> aiohttp.ClientResponse:
        api = self._api
        if api is None:
            raise RuntimeError("KubernetesBackend.connect() was not called")
        headers = {"Accept": "application/json", "Content-Type": content_type}
        if service_account:
            # The API server authorizes the request as this account (the agent needs the
            # `impersonate` verb on serviceaccounts), exactly as Fleet's helm deployer does.
            headers["Impersonate-User"] = self.impersonated_user(service_account)
        response: aiohttp.ClientResponse = await api.call_api(
            path,
            method,
            query_params=list(query),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
            _preload_content=False,
            _request_timeout=timeout or self.settings.request_timeout,
        )
        return response

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
        response = await self._send(
            method,
            path,
            query=query,
            body=body,
            content_type=content_type,
            service_account=service_account,
        )
        async with response:
            data = await response.read()
            if not 200 <= response.status < 300:
                message, reason = _status_message(response.status, data)
                raise ApiError(response.status, message, reason)
        doc = json.loads(data) if data else {}
        return doc if isinstance(doc, dict) else {}

    def impersonated_user(self, service_account: str) -> str:
        return f"system:serviceaccount:{self.agent_namespace}:{service_account}"

    async def refresh_discovery(self) -> None:
        """Read the API server's discovery documents into the kind table."""
        core, groups = await asyncio.gather(
            self.request("GET", "/api/v1"), self.request("GET", "/apis")
        )
        limit = asyncio.Semaphore(self.settings.concurrency)

        async def one(gv: str) -> list[ApiResource]:
            async with limit:
                try:
                    return parse_resource_list(await self.request("GET", f"/apis/{gv}"))
                except (ApiError, aiohttp.ClientError, TimeoutError) as exc:
                    # An unavailable aggregated API must not stop the spoke.
                    log.warning("discovery of %s failed: %s", gv, exc)
                    return []

        lists = await asyncio.gather(*(one(gv) for gv in group_versions(groups)))
        resources = parse_resource_list(core) + [r for rs in lists for r in rs]
        self.discovery.replace(resources, preferred_versions(groups))

    # --- Backend: scope --------------------------------------------------------------------------

    def is_namespaced(self, api_version: str, kind: str) -> bool:
        known = self.discovery.is_namespaced(api_version, kind)
        # Unknown kinds are custom resources whose CRD is not served yet; most are namespaced.
        return True if known is None else known

    # --- Backend: apply --------------------------------------------------------------------------

    async def apply(
        self, objs: Sequence[Obj], *, owner: Ownership, force: bool
    ) -> list[ApplyResult]:
        results: dict[int, ApplyResult] = {}
        phases: dict[int, list[int]] = {}
        for i, obj in enumerate(objs):
            phases.setdefault(ORDER.get(str(obj.get("kind")), len(ORDER)), []).append(i)
        refreshed = False
        limit = asyncio.Semaphore(self.settings.concurrency)
        for phase in sorted(phases):
            indexes = phases[phase]
            if phase == len(ORDER):
                await self._await_crds(phases.get(ORDER["CustomResourceDefinition"], []), results)
                unknown = [i for i in indexes if self._resource_for(objs[i]) is None]
                if unknown and not refreshed:
                    refreshed = True
                    await self._refresh_quietly()

            async def apply_one(i: int) -> None:
                async with limit:
                    results[i] = await self._apply_one(objs[i], owner=owner, force=force)

            async with asyncio.TaskGroup() as tasks:
                for i in indexes:
                    tasks.create_task(apply_one(i), name=f"apply-{i}")
        return [results[i] for i in range(len(objs))]

    def _resource_for(self, obj: Obj) -> ApiResource | None:
        return self.discovery.lookup(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))

    def rediscover_soon(self) -> None:
        self._last_refresh = float("-inf")

    async def _refresh_quietly(self) -> None:
        """Re-read discovery for an unknown kind, at most every few seconds."""
        now = time.monotonic()
        if now - self._last_refresh < UNKNOWN_KIND_REFRESH_INTERVAL:
            return
        self._last_refresh = now
        try:
            await self.refresh_discovery()
        except (ApiError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning("discovery refresh failed: %s", exc)

    async def _apply_one(self, obj: Obj, *, owner: Ownership, force: bool) -> ApplyResult:
        key = resource_key(obj)
        api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
        res = self.discovery.lookup(api_version, kind)
        if res is None:
            return ApplyResult(
                key,
                f'the server does not serve kind "{kind}" in "{api_version}" '
                "(is its CustomResourceDefinition installed and established?)",
            )
        body = _applyable(obj, owner=owner, namespaced=res.namespaced)
        meta = body["metadata"]
        if res.namespaced and not meta.get("namespace"):
            return ApplyResult(key, f"{kind} {meta.get('name')} is namespaced but has no namespace")
        self.apply_calls += 1
        try:
            live = await self.request(
                "PATCH",
                res.path(namespace=str(meta.get("namespace") or ""), name=str(meta["name"])),
                query=[
                    ("fieldManager", self.settings.field_manager),
                    ("force", "true" if force else "false"),
                ],
                body=body,
                content_type=APPLY_PATCH,
                service_account=owner.service_account,
            )
        except ApiError as exc:
            return ApplyResult(key, str(exc))
        except (aiohttp.ClientError, TimeoutError) as exc:
            return ApplyResult(key, f"API server unreachable: {exc or type(exc).__name__}")
        except ValueError as exc:
            return ApplyResult(key, f"unreadable answer from the API server: {exc}")
        self._use(res)
        if kind == "CustomResourceDefinition":
            self.discovery.learn(resources_of_crd(live))
        return ApplyResult(key, obj=live)

    async def _await_crds(self, indexes: Sequence[int], results: dict[int, ApplyResult]) -> None:
        """Wait (bounded) until the CRDs applied in this call are Established.

        Their results are replaced by the established objects, so they are judged ready.
        """
        pending = [
            i
            for i in indexes
            if not results[i].error
            and results[i].obj is not None
            and not _established(results[i].obj)
        ]
        if not pending:
            return

        async def wait(i: int) -> None:
            crd = results[i].obj
            assert crd is not None
            results[i] = ApplyResult(results[i].key, obj=await self._wait_established(crd))

        try:
            async with asyncio.timeout(self.settings.crd_wait):
                await asyncio.gather(*(wait(i) for i in pending))
        except TimeoutError:
            log.warning("CRDs not established after %.0fs", self.settings.crd_wait)
        except (ApiError, aiohttp.ClientError) as exc:
            log.warning("waiting for CRDs failed: %s", exc)

    async def _wait_established(self, crd: Obj) -> dict[str, Any]:
        meta = crd.get("metadata") or {}
        name, rv = str(meta.get("name")), str(meta.get("resourceVersion") or "")
        path = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        while True:
            if not rv:
                current = await self.request("GET", f"{path}/{name}")
                if _established(current):
                    self.discovery.learn(resources_of_crd(current))
                    return current
                rv = str(current["metadata"].get("resourceVersion") or "")
            query = [("fieldSelector", f"metadata.name={name}")]
            stream = self._stream(path, query=query, resource_version=rv)
            async with aclosing(stream) as events:
                async for event_type, obj in events:
                    if event_type == "ERROR":
                        rv = ""
                        break
                    rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
                    if event_type != "DELETED" and _established(obj):
                        self.discovery.learn(resources_of_crd(obj))
                        return obj

    # --- Backend: delete, namespaces, get --------------------------------------------------------

    async def delete(self, keys: Sequence[str], *, service_account: str = "") -> list[ApplyResult]:
        # Dependents first: custom resources and namespaced objects, then CRDs, then namespaces.
        order = sorted(
            range(len(keys)), key=lambda i: -ORDER.get(keys[i].split("/")[1], len(ORDER))
        )
        results: dict[int, ApplyResult] = {}
        for i in order:
            results[i] = await self._delete_one(keys[i], service_account=service_account)
        return [results[i] for i in range(len(keys))]

    async def _delete_one(self, key: str, *, service_account: str) -> ApplyResult:
        group, kind, namespace, name = key.split("/", 3)
        res = self.discovery.for_group_kind(group, kind)
        if res is None:
            return ApplyResult(key)  # the kind is gone, and its objects with it
        try:
            await self.request(
                "DELETE",
                res.path(namespace=namespace, name=name),
                body={
                    "kind": "DeleteOptions",
                    "apiVersion": "v1",
                    "propagationPolicy": "Background",
                },
                service_account=service_account,
            )
        except ApiError as exc:
            if exc.status != 404:
                return ApplyResult(key, str(exc))
        except (aiohttp.ClientError, TimeoutError) as exc:
            return ApplyResult(key, f"API server unreachable: {exc or type(exc).__name__}")
        return ApplyResult(key)

    def _namespaces(self) -> ApiResource:
        return self.discovery.for_group_kind("", "Namespace") or ApiResource(
            "", "v1", "Namespace", "namespaces", False
        )

    async def ensure_namespaces(
        self, names: Sequence[str], *, service_account: str = ""
    ) -> list[ApplyResult]:
        res = self._namespaces()
        sa = service_account
        out = []
        for name in names:
            key = f"/Namespace//{name}"
            try:
                try:
                    live = await self.request("GET", res.path(name=name), service_account=sa)
                except ApiError as exc:
                    if exc.status != 404:
                        raise
                    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
                    try:
                        live = await self.request("POST", res.path(), body=body, service_account=sa)
                    except ApiError as exc2:
                        if exc2.status != 409:
                            raise
                        live = await self.request("GET", res.path(name=name), service_account=sa)
                out.append(ApplyResult(key, obj=live))
            except ApiError as exc:
                out.append(ApplyResult(key, str(exc)))
            except (aiohttp.ClientError, TimeoutError) as exc:
                out.append(ApplyResult(key, f"API server unreachable: {exc or type(exc).__name__}"))
        return out

    async def set_namespace_metadata(
        self,
        name: str,
        *,
        labels: Mapping[str, str],
        annotations: Mapping[str, str],
        bundle: str,
        service_account: str = "",
    ) -> ApplyResult:
        # Server-side apply under a field manager of the bundle's own: labels others set stay,
        # labels this bundle set before and no longer lists are removed by the server.
        key = f"/Namespace//{name}"
        body = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": name, "labels": dict(labels), "annotations": dict(annotations)},
        }
        try:
            live = await self.request(
                "PATCH",
                self._namespaces().path(name=name),
                query=[("fieldManager", namespace_field_manager(bundle)), ("force", "true")],
                body=body,
                content_type=APPLY_PATCH,
                service_account=service_account,
            )
        except ApiError as exc:
            return ApplyResult(key, str(exc))
        except (aiohttp.ClientError, TimeoutError) as exc:
            return ApplyResult(key, f"API server unreachable: {exc or type(exc).__name__}")
        return ApplyResult(key, obj=live)

    async def get(self, key: str) -> Obj | None:
        group, kind, namespace, name = key.split("/", 3)
        res = self._in_use.get((group, kind)) or self.discovery.for_group_kind(group, kind)
        if res is None:
            return None
        self._use(res)
        try:
            return await self.request("GET", res.path(namespace=namespace, name=name))
        except ApiError as exc:
            if exc.status != 404:
                # Judged missing for now; the watch's initial list corrects it.
                log.warning("reading %s failed: %s", key, exc)
            return None
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("reading %s failed: %s", key, exc or type(exc).__name__)
            return None

    async def owners(self, keys: Sequence[str]) -> dict[str, str]:
        limit = asyncio.Semaphore(self.settings.concurrency)

        async def owner(key: str) -> str:
            async with limit:
                live = await self.get(key)
            labels = ((live or {}).get("metadata") or {}).get("labels") or {}
            return str(labels.get(OWNER_LABEL, ""))

        found = await asyncio.gather(*(owner(k) for k in keys))
        return {k: o for k, o in zip(keys, found, strict=True) if o}

    # --- Backend: watch --------------------------------------------------------------------------

    def _use(self, res: ApiResource) -> None:
        """Follow this kind from now on (one watch per group/kind, whatever the version)."""
        if (res.group, res.kind) in self._in_use:
            return
        self._in_use[(res.group, res.kind)] = res
        for subscriber in list(self._subscribers):
            subscriber(res)

    async def watch(self) -> AsyncIterator[WatchEvent]:
        follow = _Follow(asyncio.Queue())

        def start(res: ApiResource) -> None:
            if (res.group, res.kind) not in follow.tasks:
                task = asyncio.create_task(
                    self._follow_kind(res, follow.queue),
                    name=f"watch-{res.kind}.{res.group or 'core'}",
                )
                follow.tasks[(res.group, res.kind)] = task
                self._watch_tasks.add(task)
                task.add_done_callback(self._watch_tasks.discard)

        for res in list(self._in_use.values()):
            start(res)
        self._subscribers.append(start)
        try:
            while True:
                event = await follow.queue.get()
                self.watch_events += 1
                yield event
        finally:
            self._subscribers.remove(start)
            for task in follow.tasks.values():
                task.cancel()
            await asyncio.gather(*follow.tasks.values(), return_exceptions=True)

    async def _follow_kind(self, res: ApiResource, queue: asyncio.Queue[WatchEvent]) -> None:
        """List, then watch from the list's resourceVersion; relist on 410 Gone. Forever."""
        selector = ("labelSelector", OWNER_LABEL)
        seen: set[str] = set()
        rv = ""
        delays = backoff_delays(initial=0.5, maximum=30.0)
        while True:
            try:
                if not rv:
                    listing = await self.request("GET", res.path(), query=[selector])
                    rv = str((listing.get("metadata") or {}).get("resourceVersion") or "")
                    now: set[str] = set()
                    for item in listing.get("items") or []:
                        item.setdefault("apiVersion", res.api_version)
                        item.setdefault("kind", res.kind)
                        key = resource_key(item)
                        now.add(key)
                        queue.put_nowait(WatchEvent(key, item))
                    for key in seen - now:
                        queue.put_nowait(WatchEvent(key, None))
                    seen = now
                stream = self._stream(res.path(), query=[selector], resource_version=rv)
                async with aclosing(stream) as events:
                    async for event_type, obj in events:
                        if event_type == "ERROR":
                            log.info("watch of %s: %s; relisting", res.plural, obj.get("message"))
                            rv = ""
                            break
                        rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
                        if event_type == "BOOKMARK":
                            continue
                        key = resource_key(obj)
                        if event_type == "DELETED":
                            seen.discard(key)
                            queue.put_nowait(WatchEvent(key, None))
                        else:
                            seen.add(key)
                            queue.put_nowait(WatchEvent(key, obj))
                delays = backoff_delays(initial=0.5, maximum=30.0)
            except asyncio.CancelledError:
                raise
            except ApiError as exc:
                if exc.status == 410:
                    rv = ""
                    continue
                delay = delays()
                log.warning("watch of %s failed: %s; retrying in %.1fs", res.plural, exc, delay)
                await asyncio.sleep(delay)
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                delay = delays()
                log.warning(
                    "watch of %s broke: %s; resuming in %.1fs",
                    res.plural,
                    exc or type(exc).__name__,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _stream(
        self, path: str, *, query: Sequence[tuple[str, str]], resource_version: str
    ) -> AsyncGenerator[tuple[str, dict[str, Any]]]:
        """The events of one watch request: (type, object). ERROR carries a Status."""
        s = self.settings
        params = [
            *query,
            ("watch", "true"),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(s.watch_timeout)),
        ]
        if resource_version:
            params.append(("resourceVersion", resource_version))
        timeout = aiohttp.ClientTimeout(
            total=s.watch_timeout + s.request_timeout,
            connect=s.request_timeout,
            sock_read=s.watch_timeout + s.request_timeout,
        )
        response = await self._send("GET", path, query=params, timeout=timeout)
        async with response:
            if not 200 <= response.status < 300:
                message, reason = _status_message(response.status, await response.read())
                raise ApiError(response.status, message, reason)
            try:
                while line := await response.content.readline():
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    obj = event.get("object") or {}
                    if event.get("type") == "ERROR" and obj.get("code") != 410:
                        raise ApiError(int(obj.get("code") or 500), str(obj.get("message")))
                    yield str(event.get("type")), obj
            finally:
                if not response.content.at_eof():
                    _abort(response)


async def _abort_connections(api: k8s_client.ApiClient) -> None:
    """Drop the client's open connections without the TLS goodbye (see _abort)."""
    session = getattr(getattr(api, "rest_client", None), "pool_manager", None)
    connector = getattr(session, "connector", None)
    if (
        isinstance(connector, aiohttp.BaseConnector)
        and not connector.closed
        and "abort_ssl" in inspect.signature(connector.close).parameters
    ):
        await connector.close(abort_ssl=True)


def _abort(response: aiohttp.ClientResponse) -> None:
    """Drop a half-read watch connection without the TLS goodbye.

    Closing it politely waits for the server's close_notify, which a streaming API server may
    never send; before Python 3.12.7 asyncio then leaks the TLS transport (and its socket).
    The connection cannot be reused anyway.
    """
    connection = response.connection
    if connection is not None and connection.transport is not None:
        connection.transport.abort()


def _established(crd: Obj | None) -> bool:
    for cond in ((crd or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Established" and cond.get("status") == "True":
            return True
    return False


def _applyable(obj: Obj, *, owner: Ownership, namespaced: bool) -> dict[str, Any]:
    """The apply body: ownership stamped in, server-written fields and status left out."""
    body = copy.deepcopy(dict(obj))
    body.pop("status", None)
    meta = body.setdefault("metadata", {})
    for name in _SERVER_METADATA:
        meta.pop(name, None)
    if not namespaced:
        meta.pop("namespace", None)
    _default_protocols(body)
    _quantities_as_strings(body)
    meta["labels"] = {**(meta.get("labels") or {}), OWNER_LABEL: owner.bundle}
    meta["annotations"] = {
        **(meta.get("annotations") or {}),
        DEPLOYMENT_ANNOTATION: owner.deployment,
    }
    return body


# Built-in kinds holding a pod spec (custom resources follow their own schema: left alone).
_POD_TEMPLATE_KINDS = {
    "v1": {"Pod", "ReplicationController"},
    "apps/v1": {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"},
    "batch/v1": {"Job", "CronJob"},
    "batch/v1beta1": {"CronJob"},
}


def _pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec")
    kind = obj.get("kind")
    if not isinstance(spec, dict) or kind not in _POD_TEMPLATE_KINDS.get(
        str(obj.get("apiVersion")), ()
    ):
        return []
    if kind == "Pod":
        return [spec]
    if kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template = (spec.get("template") or {}).get("spec")
    return [template] if isinstance(template, dict) else []


def _default_protocols(obj: dict[str, Any]) -> None:
    """Write `protocol: TCP` where the API defaults it in a list keyed by it.

    Before Kubernetes 1.21 server-side apply rejects Service and container ports that omit
    their `protocol` key ("associative list with keys has an element that omits key field").
    TCP is the API's own default, so this changes nothing else and never shows as drift.
    """
    port_lists = []
    if (obj.get("apiVersion"), obj.get("kind")) == ("v1", "Service") and isinstance(
        obj.get("spec"), dict
    ):
        port_lists.append(obj["spec"].get("ports"))
    for pod in _pod_specs(obj):
        for containers in ("containers", "initContainers"):
            port_lists.extend(
                c.get("ports") for c in pod.get(containers) or [] if isinstance(c, dict)
            )
    for ports in port_lists:
        for port in ports if isinstance(ports, list) else []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")


def _quantity_maps(obj: dict[str, Any]) -> list[Any]:
    maps: list[Any] = []
    for pod in _pod_specs(obj):
        for containers in ("containers", "initContainers"):
            for c in pod.get(containers) or []:
                resources = c.get("resources") if isinstance(c, dict) else None
                if isinstance(resources, dict):
                    maps += [resources.get("limits"), resources.get("requests")]
        for volume in pod.get("volumes") or []:
            if isinstance(volume, dict) and isinstance(volume.get("emptyDir"), dict):
                maps.append(volume["emptyDir"])
    spec = obj.get("spec")
    if isinstance(spec, dict):
        if obj.get("apiVersion") != "v1":
            return maps
        if obj.get("kind") == "PersistentVolumeClaim" and isinstance(spec.get("resources"), dict):
            maps += [spec["resources"].get("limits"), spec["resources"].get("requests")]
        if obj.get("kind") == "ResourceQuota":
            maps.append(spec.get("hard"))
        if obj.get("kind") == "LimitRange":
            for limit in spec.get("limits") or []:
                if isinstance(limit, dict):
                    maps += [limit.get(k) for k in ("max", "min", "default", "defaultRequest")]
    return maps


def _quantities_as_strings(obj: dict[str, Any]) -> None:
    """Write numeric resource quantities (`cpu: 0.5`) as strings ("0.5").

    Server-side apply before Kubernetes 1.21 rejects a JSON number where the schema says
    quantity ("expected string"), though kubectl users write them all the time. The value is
    the same; drift compares quantities by amount.
    """
    for amounts in _quantity_maps(obj):
        if not isinstance(amounts, dict):
            continue
        for name, value in amounts.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                amounts[name] = str(value)
