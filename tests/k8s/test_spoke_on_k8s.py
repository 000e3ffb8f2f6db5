"""The reconciler on a real kube-apiserver: apply, readiness, drift, prune, restart, RBAC."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from spoke.backends.base import DEPLOYMENT_ANNOTATION, OWNER_LABEL
from spoke.backends.kube import ApiError, KubernetesBackend
from tests.harness import eventually
from tests.k8s.conftest import ApiServer
from tests.k8s.kubeutil import LocalSpoke, make_pods_ready, merge_patch, upsert

pytestmark = [pytest.mark.k8s, pytest.mark.timeout(180)]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def configmap(name: str, ns: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": "web"}},
        "data": data,
    }


def deployment(name: str, ns: str, *, replicas: int = 2) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


def crd(group: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"widgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }


def widget(group: str, name: str, ns: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{group}/v1",
        "kind": "Widget",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"size": 3},
    }


async def get(kube: KubernetesBackend, path: str) -> dict[str, Any] | None:
    try:
        return await kube.request("GET", path)
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


async def wait_deployment_ready(
    spoke: LocalSpoke, kube: KubernetesBackend, bundle: str, ns: str, app: str
) -> None:
    """Play the kubelet until the bundle is ready (pods appear once their ReplicaSet exists)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pods = await make_pods_ready(kube, ns, f"app={app}")
        status = spoke.reconciler.status(bundle)
        if status.ready:
            return
        await asyncio.sleep(0.3)
    raise AssertionError(f"bundle {bundle} not ready with {pods} pods marked ready: {status}")


async def test_bundle_with_namespace_crd_cr_configmap_deployment_becomes_ready(
    apiserver: ApiServer, kube: KubernetesBackend
) -> None:
    ns, group, bundle = unique("apply"), f"{unique('g')}.example.com", unique("b")
    objs = [
        widget(group, "w1", ns),  # before its CRD and namespace: the backend orders them
        deployment("web", ns),
        configmap("settings", ns, color="blue"),
        crd(group),
        namespace(ns),
    ]
    async with LocalSpoke(str(apiserver.kubeconfig)) as spoke:
        ack = await spoke.reconciler.upsert(upsert(bundle, objs))
        assert ack.error == ""
        live = await get(kube, f"/apis/{group}/v1/namespaces/{ns}/widgets/w1")
        assert live is not None
        assert live["metadata"]["labels"][OWNER_LABEL] == bundle
        assert live["metadata"]["annotations"][DEPLOYMENT_ANNOTATION] == f"{bundle}/real"
        cm = await get(kube, f"/api/v1/namespaces/{ns}/configmaps/settings")
        assert cm is not None and cm["data"] == {"color": "blue"}

        status = spoke.reconciler.status(bundle)
        assert not status.ready
        assert [r.key for r in status.resources] == [f"apps/Deployment/{ns}/web"]
        await wait_deployment_ready(spoke, kube, bundle, ns, "web")
        assert spoke.reconciler.status(bundle).resources == []


async def test_edit_is_seen_as_modified_and_correct_drift_heals_it(
    apiserver: ApiServer, kube: KubernetesBackend
) -> None:
    ns, bundle = unique("drift"), unique("b")
    objs = [namespace(ns), configmap("settings", ns, color="blue")]
    path = f"/api/v1/namespaces/{ns}/configmaps/settings"
    async with LocalSpoke(str(apiserver.kubeconfig)) as spoke:
        assert (await spoke.reconciler.upsert(upsert(bundle, objs))).error == ""
        await eventually(lambda: spoke.reconciler.status(bundle).ready, what="ready")

        started = time.monotonic()
        await merge_patch(kube, path, {"data": {"color": "red"}})

        def modified() -> bool:
            return any(r.modified for r in spoke.reconciler.status(bundle).resources)

        await eventually(modified, timeout=2, what="modified within 2 s")
        assert time.monotonic() - started < 2
        (state,) = spoke.reconciler.status(bundle).resources
        assert state.message == '{"data":{"color":"red"}}'

        # correctDrift on (a change of options re-applies everything: healed at once) ...
        ack = await spoke.reconciler.upsert(upsert(bundle, objs, correct_drift=True, force=True))
        assert ack.error == ""
        assert (await kube.request("GET", path))["data"] == {"color": "blue"}
        await eventually(lambda: spoke.reconciler.status(bundle).ready, what="healed")

        # ... and from now on every edit is undone as soon as the watch reports it.
        await merge_patch(kube, path, {"data": {"color": "green"}})

        async def healed() -> bool:
            live = await kube.request("GET", path)
            return bool(live["data"] == {"color": "blue"})

        await eventually(healed, timeout=5, what="drift corrected")
        await eventually(lambda: spoke.reconciler.status(bundle).ready, what="ready again")


async def test_correct_drift_heals_an_edit_that_took_ownership(
    apiserver: ApiServer, kube: KubernetesBackend
) -> None:
    """An edit makes its writer the field's owner; correctDrift re-applies with force, as
    Fleet does, rather than stopping at the conflict a plain apply would meet."""
    ns, bundle = unique("conflict"), unique("b")
    objs = [namespace(ns), configmap("settings", ns, color="blue")]
    path = f"/api/v1/namespaces/{ns}/configmaps/settings"
    async with LocalSpoke(str(apiserver.kubeconfig)) as spoke:
        ack = await spoke.reconciler.upsert(upsert(bundle, objs, correct_drift=True))
        assert ack.error == ""
        await merge_patch(kube, path, {"data": {"color": "red"}})

        async def healed() -> bool:
            live = await get(kube, path)
            return live is not None and live["data"]["color"] == "blue"

        await eventually(healed, what="drift corrected despite the field's new owner")
        await eventually(lambda: spoke.reconciler.status(bundle).ready, what="Ready again")


async def test_removed_resource_is_pruned_and_unmanaged_objects_are_left_alone(
    apiserver: ApiServer, kube: KubernetesBackend
) -> None:
    ns, bundle = unique("prune"), unique("b")
    base = f"/api/v1/namespaces/{ns}/configmaps"
    v1 = [namespace(ns), configmap("a", ns), configmap("b", ns), configmap("c", ns)]
    async with LocalSpoke(str(apiserver.kubeconfig)) as spoke:
        assert (await spoke.reconciler.upsert(upsert(bundle, v1))).error == ""
        # Someone takes "b" over: deleted and recreated by hand with the same name and app
        # labels, but not Argosy's; and an unrelated object carries the same app labels.
        await kube.request("DELETE", f"{base}/b")
        await kube.request("POST", base, body=configmap("b", ns, owner="human"))
        await kube.request("POST", base, body=configmap("bystander", ns))

        v2 = [namespace(ns), configmap("a", ns)]
        assert (await spoke.reconciler.upsert(upsert(bundle, v2))).error == ""
        assert await get(kube, f"{base}/c") is None  # pruned
        survivor = await get(kube, f"{base}/b")
        assert survivor is not None and survivor["data"] == {"owner": "human"}
        assert await get(kube, f"{base}/bystander") is not None
        assert await get(kube, f"{base}/a") is not None
        assert spoke.reconciler.status(bundle).resource_count == 2


async def test_restarted_spoke_keeps_inventory_without_reapplying(
    apiserver: ApiServer, kube: KubernetesBackend, tmp_path: Path
) -> None:
    ns, group, bundle = unique("restart"), f"{unique('g')}.example.com", unique("b")
    objs = [
        namespace(ns),
        crd(group),
        widget(group, "w1", ns),
        configmap("settings", ns, color="blue"),
        deployment("web", ns, replicas=1),
    ]
    state = tmp_path / "deployments.json"
    async with LocalSpoke(str(apiserver.kubeconfig), state) as first:
        ack = await first.reconciler.upsert(upsert(bundle, objs, correct_drift=True))
        assert ack.error == ""
        await wait_deployment_ready(first, kube, bundle, ns, "web")
        revision = first.reconciler.applied()[bundle]

    async with LocalSpoke(str(apiserver.kubeconfig), state) as second:
        assert second.reconciler.applied() == {bundle: revision}
        # The watch's initial listing re-delivers every managed object; none may look drifted
        # (correctDrift is on, so a false drift would be re-applied).
        await eventually(
            lambda: second.backend.watch_events >= len(objs), what="initial listing delivered"
        )
        await eventually(lambda: second.reconciler.status(bundle).ready, what="ready after restart")
        # A change the spoke must see, to be sure earlier events were all processed.
        seen = second.backend.watch_events
        await merge_patch(
            kube,
            f"/api/v1/namespaces/{ns}/configmaps/settings",
            {"metadata": {"annotations": {"touched": "yes"}}},
        )
        await eventually(lambda: second.backend.watch_events > seen, what="touch seen")
        assert second.backend.apply_calls == 0
        assert second.reconciler.status(bundle).ready


async def test_deleted_bundle_cleans_up(apiserver: ApiServer, kube: KubernetesBackend) -> None:
    ns, group, bundle = unique("delete"), f"{unique('g')}.example.com", unique("b")
    other = unique("keep")
    objs = [
        crd(group),
        widget(group, "w1", other),
        configmap("settings", other),
        deployment("web", other, replicas=1),
    ]
    async with LocalSpoke(str(apiserver.kubeconfig)) as spoke:
        assert (await spoke.reconciler.upsert(upsert(bundle, [namespace(ns)]))).error == ""
        assert (await spoke.reconciler.upsert(upsert(f"{bundle}-2", objs))).error == ""
        await spoke.reconciler.delete(f"{bundle}-2")
        assert await get(kube, f"/api/v1/namespaces/{other}/configmaps/settings") is None
        assert await get(kube, f"/apis/apps/v1/namespaces/{other}/deployments/web") is None
        assert await get(kube, f"/apis/{group}/v1/namespaces/{other}/widgets/w1") is None

        async def crd_gone() -> bool:
            path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.{group}"
            return await get(kube, path) is None

        await eventually(crd_gone, timeout=30, what="CRD deleted")
        # The namespace Argosy created for the bundle (not owned) stays; the owned one goes.
        assert await get(kube, f"/api/v1/namespaces/{other}") is not None
        await spoke.reconciler.delete(bundle)

        async def ns_gone() -> bool:
            live = await get(kube, f"/api/v1/namespaces/{ns}")
            return live is None or live.get("status", {}).get("phase") == "Terminating"

        await eventually(ns_gone, timeout=30, what="namespace deleted")
        assert spoke.reconciler.bundles() == []


async def test_invalid_manifest_reports_the_api_message_and_applies_the_rest(
    apiserver: ApiServer, kube: KubernetesBackend
) -> None:
    ns, bundle = unique("invalid"), unique("b")
    bad = deployment("bad", ns)
    bad["spec"]["template"]["metadata"]["labels"] = {"app": "other"}  # selector does not match
    objs = [namespace(ns), bad, configmap("fine", ns)]
    async with LocalSpoke(str(apiserver.kubeconfig)) as spoke:
        ack = await spoke.reconciler.upsert(upsert(bundle, objs))
        assert ack.error.startswith(f'deployment.apps {ns}/bad: Deployment.apps "bad" is invalid')
        assert "`selector` does not match template `labels`" in ack.error
        status = spoke.reconciler.status(bundle)
        assert not status.ready and status.apply_error == ack.error
        assert await get(kube, f"/api/v1/namespaces/{ns}/configmaps/fine") is not None


async def restricted_kubeconfig(
    kube: KubernetesBackend, apiserver: ApiServer, tmp_path: Path
) -> Path:
    """A kubeconfig for a ServiceAccount that may manage ConfigMaps but not Secrets."""
    name = unique("restricted")
    ns = "default"
    await kube.request(
        "POST",
        f"/api/v1/namespaces/{ns}/serviceaccounts",
        body={"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}},
    )
    await kube.request(
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/clusterroles",
        body={
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["configmaps"],
                    "verbs": ["get", "list", "watch", "create", "patch", "update", "delete"],
                },
                {"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "create"]},
            ],
        },
    )
    await kube.request(
        "POST",
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
        body={
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": name,
            },
            "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}],
        },
    )
    token = ""

    async def token_issued() -> bool:
        nonlocal token
        sa = await kube.request("GET", f"/api/v1/namespaces/{ns}/serviceaccounts/{name}")
        for ref in sa.get("secrets") or []:
            secret = await kube.request("GET", f"/api/v1/namespaces/{ns}/secrets/{ref['name']}")
            token = base64.b64decode(secret["data"]["token"]).decode()
        return bool(token)

    await eventually(token_issued, timeout=30, interval=0.2, what="service account token")
    path = tmp_path / "restricted.kubeconfig"
    path.write_text(
        f"""apiVersion: v1
kind: Config
clusters:
- name: test
  cluster: {{server: "{apiserver.server}", certificate-authority: "{apiserver.ca_file}"}}
users:
- name: restricted
  user: {{token: {token}}}
contexts:
- name: test
  context: {{cluster: test, user: restricted}}
current-context: test
"""
    )
    return path


async def test_forbidden_kind_is_reported_and_the_spoke_keeps_going(
    apiserver: ApiServer, kube: KubernetesBackend, tmp_path: Path
) -> None:
    ns, bundle = unique("rbac"), unique("b")
    await kube.request("POST", "/api/v1/namespaces", body=namespace(ns))
    kubeconfig = await restricted_kubeconfig(kube, apiserver, tmp_path)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds", "namespace": ns},
        "stringData": {"password": "x"},
    }
    async with LocalSpoke(str(kubeconfig)) as spoke:
        ack = await spoke.reconciler.upsert(upsert(bundle, [secret, configmap("settings", ns)]))
        # The agent may not even read the secret, so it cannot tell whether another bundle owns
        # it: refused, with the server's 403, before any write (the configmap still goes).
        assert ack.error.startswith(f"cannot read the owner of secret {ns}/creds: ")
        assert 'secrets "creds" is forbidden' in ack.error
        assert 'cannot get resource "secrets"' in ack.error
        assert await get(kube, f"/api/v1/namespaces/{ns}/configmaps/settings") is not None

        # Another bundle, after the failure: still applied and followed by the watch.
        ack = await spoke.reconciler.upsert(
            upsert(f"{bundle}-2", [configmap("more", ns, color="blue")])
        )
        assert ack.error == ""
        await merge_patch(
            kube, f"/api/v1/namespaces/{ns}/configmaps/more", {"data": {"color": "red"}}
        )

        def modified() -> bool:
            return any(r.modified for r in spoke.reconciler.status(f"{bundle}-2").resources)

        await eventually(modified, timeout=5, what="edit seen through the restricted watch")


async def test_unknown_kind_is_a_clear_error(apiserver: ApiServer) -> None:
    ns, bundle = unique("unknown"), unique("b")
    objs = [namespace(ns), widget("nowhere.example.com", "w", ns), configmap("fine", ns)]
    async with LocalSpoke(str(apiserver.kubeconfig)) as spoke:
        ack = await spoke.reconciler.upsert(upsert(bundle, objs))
        assert ack.error == (
            f'widget.nowhere.example.com {ns}/w: the server does not serve kind "Widget" in '
            '"nowhere.example.com/v1" (is its CustomResourceDefinition installed and established?)'
        )


async def test_server_canonicalised_fields_are_not_drift(apiserver: ApiServer) -> None:
    ns, bundle = unique("canon"), unique("b")
    web = deployment("web", ns, replicas=1)
    web["spec"]["template"]["spec"]["containers"][0].update(
        resources={"requests": {"cpu": 0.5, "memory": "0.5Gi"}, "limits": {"cpu": 1}},
        ports=[{"containerPort": 80}],
    )
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": ns},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]},
    }
    async with LocalSpoke(str(apiserver.kubeconfig)) as spoke:
        ack = await spoke.reconciler.upsert(
            upsert(bundle, [namespace(ns), web, service], correct_drift=True)
        )
        assert ack.error == ""
        applied = spoke.backend.apply_calls
        await eventually(lambda: spoke.backend.watch_events >= 3, what="watch events")
        assert not any(r.modified for r in spoke.reconciler.status(bundle).resources)
        assert spoke.backend.apply_calls == applied


async def test_cluster_scoped_custom_resource_with_its_crd_in_the_bundle(
    apiserver: ApiServer, kube: KubernetesBackend
) -> None:
    """The CRD in the bundle, not the (not yet served) kind, says the CR has no namespace."""
    group, bundle = f"{unique('cs')}.example.com", unique("b")
    definition = crd(group)
    definition["spec"]["scope"] = "Cluster"
    gadget = {
        "apiVersion": f"{group}/v1",
        "kind": "Widget",
        "metadata": {"name": "g1"},
        "spec": {"size": 1},
    }
    async with LocalSpoke(str(apiserver.kubeconfig)) as spoke:
        ack = await spoke.reconciler.upsert(upsert(bundle, [gadget, definition]))
        assert ack.error == "", ack.error
        assert await get(kube, f"/apis/{group}/v1/widgets/g1") is not None
        await eventually(lambda: spoke.reconciler.status(bundle).ready, what="Ready")
        assert spoke.reconciler.status(bundle).resources == []
        # Its watch events match its key (no namespace): an edit shows as drift.
        await merge_patch(kube, f"/apis/{group}/v1/widgets/g1", {"spec": {"size": 2}})

        def modified() -> bool:
            return any(r.modified for r in spoke.reconciler.status(bundle).resources)

        await eventually(modified, what="the edit seen as drift")
