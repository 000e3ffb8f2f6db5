"""Writes to the cluster: server-side apply in dependency order, deletes, and namespaces.

- apply is server-side apply (the settings' field manager) in dependency order: Namespaces,
  then CRDs, then everything else once the CRDs applied with it are Established (a bounded wait
  on a watch of that one CRD). An unknown kind refreshes discovery once before it is reported.
- Every applied object carries OWNER_LABEL and DEPLOYMENT_ANNOTATION (normalize.applyable),
  because prune deletes only what carries the bundle's label.
- API errors (422 invalid, 403 forbidden, 409 conflict, ...) become ApplyResult.error carrying
  the server's own message; they never escape to the caller.
- A deployment with fleet.yaml serviceAccount makes its writes (namespace get/create/label,
  apply, delete) with Impersonate-User system:serviceaccount:<agent namespace>:<name>, as
  Fleet's helm deployer does, so that account's RBAC bounds the bundle.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Mapping, Sequence
from contextlib import aclosing
from typing import Any

import aiohttp

from argosy.manifests import resource_key
from spoke.backends.base import ApplyResult, Obj, Ownership, namespace_field_manager
from spoke.backends.kube.client import APPLY_PATCH, ApiError, KubeClient, KubeSettings
from spoke.backends.kube.discovery import (
    ApiResource,
    Discovery,
    DiscoveryReader,
    resources_of_crd,
)
from spoke.backends.kube.normalize import applyable, without, yielded
from spoke.backends.kube.watching import Watches

log = logging.getLogger(__name__)

# Applied first, in this order; everything else comes after.
ORDER = {"Namespace": 0, "CustomResourceDefinition": 1}
CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


def unreachable(exc: BaseException) -> str:
    """The error of a request that got no answer."""
    return f"API server unreachable: {exc or type(exc).__name__}"


def established(crd: Obj | None) -> bool:
    for cond in ((crd or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Established" and cond.get("status") == "True":
            return True
    return False


class Applier:
    """The backend's writes. Every object it applies becomes a kind in use (watched)."""

    def __init__(
        self,
        *,
        client: KubeClient,
        settings: KubeSettings,
        discovery: Discovery,
        reader: DiscoveryReader,
        watches: Watches,
    ) -> None:
        self._client = client
        self._settings = settings
        self._discovery = discovery
        self._reader = reader
        self._watches = watches
        self.calls = 0
        """Objects sent to the server with server-side apply (tests count re-apply storms)."""

    async def apply(
        self,
        objs: Sequence[Obj],
        *,
        owner: Ownership,
        force: bool,
        yield_paths: Mapping[str, Collection[str]] | None = None,
    ) -> list[ApplyResult]:
        results: dict[int, ApplyResult] = {}
        phases: dict[int, list[int]] = {}
        for i, obj in enumerate(objs):
            phases.setdefault(ORDER.get(str(obj.get("kind")), len(ORDER)), []).append(i)
        refreshed = False
        limit = asyncio.Semaphore(self._settings.concurrency)
        for phase in sorted(phases):
            indexes = phases[phase]
            if phase == len(ORDER):
                await self._await_crds(phases.get(ORDER["CustomResourceDefinition"], []), results)
                unknown = [i for i in indexes if self._resource_for(objs[i]) is None]
                if unknown and not refreshed:
                    refreshed = True
                    await self._reader.refresh_quietly()

            async def apply_one(i: int) -> None:
                async with limit:
                    yielding = (yield_paths or {}).get(resource_key(objs[i]), ())
                    results[i] = await self._apply_one(
                        objs[i], owner=owner, force=force, yielding=yielding
                    )

            async with asyncio.TaskGroup() as tasks:
                for i in indexes:
                    tasks.create_task(apply_one(i), name=f"apply-{i}")
        return [results[i] for i in range(len(objs))]

    async def _patch(
        self, path: str, body: Obj, *, owner: Ownership, force: bool
    ) -> dict[str, Any]:
        self.calls += 1
        return await self._client.request(
            "PATCH",
            path,
            query=[
                ("fieldManager", self._settings.field_manager),
                ("force", "true" if force else "false"),
            ],
            body=dict(body),
            content_type=APPLY_PATCH,
            service_account=owner.service_account,
        )

    def _resource_for(self, obj: Obj) -> ApiResource | None:
        return self._discovery.lookup(str(obj.get("apiVersion", "")), str(obj.get("kind", "")))

    async def _apply_one(
        self, obj: Obj, *, owner: Ownership, force: bool, yielding: Collection[str] = ()
    ) -> ApplyResult:
        key = resource_key(obj)
        api_version, kind = str(obj.get("apiVersion", "")), str(obj.get("kind", ""))
        res = self._discovery.lookup(api_version, kind)
        if res is None:
            return ApplyResult(
                key,
                f'the server does not serve kind "{kind}" in "{api_version}" '
                "(is its CustomResourceDefinition installed and established?)",
            )
        body = applyable(obj, owner=owner, namespaced=res.namespaced)
        meta = body["metadata"]
        if res.namespaced and not meta.get("namespace"):
            return ApplyResult(key, f"{kind} {meta.get('name')} is namespaced but has no namespace")
        path = res.path(namespace=str(meta.get("namespace") or ""), name=str(meta["name"]))
        try:
            try:
                live = await self._patch(path, body, owner=owner, force=force)
            except ApiError as exc:
                # Fields another manager took over, which the bundle says not to compare
                # (comparePatches): leave them to it, as an HPA keeps the replicas it set.
                pointers = yielded(body, exc.fields, yielding) if exc.status == 409 else None
                if not pointers:
                    raise
                log.info("%s: leaving %s to their other managers", key, ", ".join(pointers))
                live = await self._patch(path, without(body, pointers), owner=owner, force=force)
        except ApiError as exc:
            return ApplyResult(key, str(exc))
        except (aiohttp.ClientError, TimeoutError) as exc:
            return ApplyResult(key, unreachable(exc))
        except ValueError as exc:
            return ApplyResult(key, f"unreadable answer from the API server: {exc}")
        self._watches.use(res)
        if kind == "CustomResourceDefinition":
            self._discovery.learn(resources_of_crd(live))
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
            and not established(results[i].obj)
        ]
        if not pending:
            return

        async def wait(i: int) -> None:
            crd = results[i].obj
            assert crd is not None
            results[i] = ApplyResult(results[i].key, obj=await self._wait_established(crd))

        try:
            async with asyncio.timeout(self._settings.crd_wait):
                await asyncio.gather(*(wait(i) for i in pending))
        except TimeoutError:
            log.warning("CRDs not established after %.0fs", self._settings.crd_wait)
        except (ApiError, aiohttp.ClientError) as exc:
            log.warning("waiting for CRDs failed: %s", exc)

    async def _wait_established(self, crd: Obj) -> dict[str, Any]:
        meta = crd.get("metadata") or {}
        name, rv = str(meta.get("name")), str(meta.get("resourceVersion") or "")
        while True:
            if not rv:
                current = await self._client.request("GET", f"{CRD_PATH}/{name}")
                if established(current):
                    self._discovery.learn(resources_of_crd(current))
                    return current
                rv = str(current["metadata"].get("resourceVersion") or "")
            query = [("fieldSelector", f"metadata.name={name}")]
            stream = self._client.stream(CRD_PATH, query=query, resource_version=rv)
            async with aclosing(stream) as events:
                async for event_type, obj in events:
                    if event_type == "ERROR":
                        rv = ""
                        break
                    rv = str((obj.get("metadata") or {}).get("resourceVersion") or rv)
                    if event_type != "DELETED" and established(obj):
                        self._discovery.learn(resources_of_crd(obj))
                        return obj

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
        res = self._discovery.for_group_kind(group, kind)
        if res is None:
            return ApplyResult(key)  # the kind is gone, and its objects with it
        try:
            await self._client.request(
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
            return ApplyResult(key, unreachable(exc))
        return ApplyResult(key)

    def _namespaces(self) -> ApiResource:
        return self._discovery.for_group_kind("", "Namespace") or ApiResource(
            "", "v1", "Namespace", "namespaces", False
        )

    async def ensure_namespaces(
        self, names: Sequence[str], *, service_account: str = ""
    ) -> list[ApplyResult]:
        # Reads as the agent (a service account may create a namespace yet not read it, and
        # reads decide nothing it is not allowed); only the create is impersonated.
        res = self._namespaces()
        sa = service_account
        request = self._client.request
        out = []
        for name in names:
            key = f"/Namespace//{name}"
            try:
                try:
                    live = await request("GET", res.path(name=name))
                except ApiError as exc:
                    if exc.status != 404:
                        raise
                    body = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
                    try:
                        live = await request("POST", res.path(), body=body, service_account=sa)
                    except ApiError as exc2:
                        if exc2.status != 409:
                            raise
                        live = await request("GET", res.path(name=name))
                out.append(ApplyResult(key, obj=live))
            except ApiError as exc:
                out.append(ApplyResult(key, str(exc)))
            except (aiohttp.ClientError, TimeoutError) as exc:
                out.append(ApplyResult(key, unreachable(exc)))
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
            live = await self._client.request(
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
            return ApplyResult(key, unreachable(exc))
        return ApplyResult(key, obj=live)
