"""KubernetesBackend as a whole, on a scripted API server: served kinds, and its lifecycle."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from spoke.backends.base import OwnerUnknown
from spoke.backends.kube import ApiError, KubernetesBackend
from spoke.backends.kube.discovery import ApiResource, parse_resource_list, resources_of_crd
from spoke.backends.kube.secrets import SecretCredentialStore
from tests.spoke.kube.fakes import CORE, FIXTURES, ScriptedClient, discovery_server


def test_the_backend_counts_changes_to_the_served_kinds() -> None:
    """A CRD applied by any bundle, or a discovery refresh that finds new kinds, bumps
    `kinds`, which makes the spoke retry its errored deployments; nothing new, no bump."""
    kube = KubernetesBackend()
    crd = json.loads((FIXTURES / "crd_established.json").read_text())
    kube.discovery.replace(parse_resource_list(CORE), {})
    assert kube.kinds.value == 1
    kube.discovery.replace(parse_resource_list(CORE), {})
    assert kube.kinds.value == 1
    kube.discovery.learn(resources_of_crd(crd))
    assert kube.kinds.value == 2
    kube.discovery.learn(resources_of_crd(crd))
    kube.discovery.replace(parse_resource_list(CORE), {})  # keeps what the CRD taught
    assert kube.kinds.value == 2


def test_unknown_kinds_count_as_namespaced() -> None:
    assert KubernetesBackend().is_namespaced("example.com/v1", "Widget") is True


async def test_entering_connects_and_reads_discovery_once_and_leaving_ends_the_watches() -> None:
    client = ScriptedClient(discovery_server)
    kube = KubernetesBackend(client=client)
    async with kube as entered:
        assert entered is kube
        assert client.connects == 1 and client.open
        assert kube.is_namespaced("v1", "Namespace") is False  # discovery was read
        reads = len(client.calls)
        await kube.connect()  # idempotent: no second discovery
        assert len(client.calls) == reads
        kube._watches.use(ApiResource("", "v1", "ConfigMap", "configmaps", True))
        watch = kube.watch()
        # The listing is empty and the scripted watch never ends: the consumer is left
        # waiting inside the generator when the backend closes.
        client.handler = lambda m, p, k: {"metadata": {"resourceVersion": "1"}, "items": []}
        step = asyncio.ensure_future(anext(watch))
        await asyncio.wait_for(client.out_of_script.wait(), 5)
        running = [t for t in asyncio.all_tasks() if t.get_name() == "watch-ConfigMap.core"]
        assert len(running) == 1
    assert client.closes == 1 and not client.open
    assert running[0].done()
    step.cancel()
    # Entered again (a restarted spoke on the same backend): connected again.
    client.handler = discovery_server
    async with kube:
        assert client.connects == 2
    assert client.closes == 2


async def test_a_refused_first_discovery_closes_the_client_and_is_raised() -> None:
    def forbidden(method: str, path: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        raise ApiError(403, 'forbidden: User "x" cannot get path "/api/v1"')

    client = ScriptedClient(forbidden)
    with pytest.raises(ApiError, match="forbidden"):
        async with KubernetesBackend(client=client):
            raise AssertionError("not entered")
    assert client.connects == 1 and client.closes == 1 and not client.open


def test_the_credential_mirror_is_a_secret_in_the_named_or_own_namespace(tmp_path: Path) -> None:
    kube = KubernetesBackend(client=ScriptedClient())
    mirror = kube.credential_mirror(tmp_path / "c.json", secret="tenant/spoke-cred")
    assert isinstance(mirror, SecretCredentialStore)
    assert mirror._secret_path == "/api/v1/namespaces/tenant/secrets/spoke-cred"
    mirror = kube.credential_mirror(None, secret="spoke-cred")
    # Outside a pod, the agent's own namespace is argosy-system.
    assert mirror._secret_path == "/api/v1/namespaces/argosy-system/secrets/spoke-cred"


async def test_owners_tells_an_object_it_could_not_read_from_an_absent_one() -> None:
    def server(method: str, path: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        if not path.startswith("/api/v1/namespaces/"):
            return discovery_server(method, path, kwargs)
        name = path.rsplit("/", 1)[1]
        if name == "owned":
            return {"metadata": {"name": name, "labels": {"argosy.io/bundle": "other"}}}
        if name == "forbidden":
            raise ApiError(403, "configmaps is forbidden")
        if name == "broken":
            raise ApiError(503, "etcdserver: leader changed")
        raise ApiError(404, "not found")

    async with KubernetesBackend(client=ScriptedClient(server)) as kube:
        keys = [f"/ConfigMap/default/{n}" for n in ("owned", "forbidden", "broken", "absent")]
        assert await kube.owners(keys) == {
            "/ConfigMap/default/owned": "other",
            "/ConfigMap/default/forbidden": OwnerUnknown("configmaps is forbidden"),
            "/ConfigMap/default/broken": OwnerUnknown("etcdserver: leader changed"),
        }


async def test_ensure_namespaces_reads_as_the_agent_and_creates_impersonated() -> None:
    seen: list[tuple[str, str, str]] = []
    created: set[str] = set()

    def server(method: str, path: str, kwargs: dict[str, Any]) -> dict[str, Any]:
        if not path.startswith("/api/v1/namespaces"):
            return discovery_server(method, path, kwargs)
        seen.append((method, path, kwargs.get("service_account", "")))
        if method == "POST":
            created.add("new")
            raise ApiError(409, "already exists")  # created meanwhile: read it again
        if path.endswith("/new") and "new" not in created:
            raise ApiError(404, "not found")
        return {"metadata": {"name": path.rsplit("/", 1)[1]}}

    async with KubernetesBackend(client=ScriptedClient(server)) as kube:
        results = await kube.ensure_namespaces(["old", "new"], service_account="deployer")
    assert [r.error for r in results] == ["", ""]
    assert seen == [
        ("GET", "/api/v1/namespaces/old", ""),
        ("GET", "/api/v1/namespaces/new", ""),
        ("POST", "/api/v1/namespaces", "deployer"),
        ("GET", "/api/v1/namespaces/new", ""),
    ]
