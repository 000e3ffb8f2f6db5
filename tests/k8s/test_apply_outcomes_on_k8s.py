"""Status that does not lie, on a real kube-apiserver: a failed apply is retried once the cause
is gone, a new revision restores what was deleted by hand, and two bundles cannot share one
object."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from spoke.backends.base import OWNER_LABEL
from spoke.backends.kube import ApiError, KubernetesBackend
from tests.harness import eventually
from tests.k8s.conftest import ApiServer
from tests.k8s.kubeutil import LocalSpoke, upsert

pytestmark = [pytest.mark.k8s, pytest.mark.timeout(180)]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def configmap(name: str, ns: str, **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns},
        "data": data,
    }


def gadget_crd(group: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"gadgets.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"plural": "gadgets", "singular": "gadget", "kind": "Gadget"},
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


def gadget(group: str, ns: str) -> dict[str, Any]:
    return {
        "apiVersion": f"{group}/v1",
        "kind": "Gadget",
        "metadata": {"name": "g1", "namespace": ns},
        "spec": {"size": 1},
    }


async def get(kube: KubernetesBackend, path: str) -> dict[str, Any] | None:
    try:
        return await kube.request("GET", path)
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


async def test_cr_bundle_applied_before_its_crd_bundle_becomes_ready_without_user_action(
    apiserver: ApiServer, kube: KubernetesBackend
) -> None:
    ns, group = unique("gadgets"), f"{unique('g')}.example.com"
    async with LocalSpoke(str(apiserver.kubeconfig)) as spoke:
        ack = await spoke.reconciler.upsert(upsert("gadgets", [namespace(ns), gadget(group, ns)]))
        assert 'does not serve kind "Gadget"' in ack.error
        assert not spoke.reconciler.status("gadgets").ready
        # Another bundle installs the CRD: the spoke learns the kind and retries at once (its
        # backoff here is 300 s, so nothing else could retry it within the test).
        assert (await spoke.reconciler.upsert(upsert("crds", [gadget_crd(group)]))).error == ""
        await eventually(
            lambda: spoke.reconciler.status("gadgets").ready, timeout=30, what="gadgets ready"
        )
        assert spoke.reconciler.status("gadgets").apply_error == ""
        live = await get(kube, f"/apis/{group}/v1/namespaces/{ns}/gadgets/g1")
        assert live is not None and live["metadata"]["labels"][OWNER_LABEL] == "gadgets"


async def test_a_retry_the_hub_asks_for_sees_a_crd_installed_by_hand_at_once(
    apiserver: ApiServer, kube: KubernetesBackend
) -> None:
    """`argosy apply` of unchanged content on an errored bundle: the spoke re-reads discovery
    for it, even when it did a moment ago, so a CRD installed with kubectl counts at once."""
    ns, group = unique("byhand"), f"{unique('g')}.example.com"
    async with LocalSpoke(str(apiserver.kubeconfig)) as spoke:
        ack = await spoke.reconciler.upsert(upsert("gadgets", [namespace(ns), gadget(group, ns)]))
        assert 'does not serve kind "Gadget"' in ack.error
        await kube.request(
            "POST",
            "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            body=gadget_crd(group),
        )

        async def established() -> bool:
            crd = await get(
                kube, f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.{group}"
            )
            conditions = ((crd or {}).get("status") or {}).get("conditions") or []
            return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)

        for _ in range(100):
            if await established():
                break
            await asyncio.sleep(0.1)
        else:
            pytest.fail("the CRD never became Established")
        # The apply above re-read discovery a moment ago, so an ordinary retry would not look
        # again yet; the one the hub asks for must.
        assert await spoke.reconciler.retry("gadgets", reset_backoff=True) == ""
        assert await get(kube, f"/apis/{group}/v1/namespaces/{ns}/gadgets/g1") is not None


async def test_a_new_revision_restores_an_object_deleted_by_hand(
    apiserver: ApiServer, kube: KubernetesBackend
) -> None:
    ns = unique("restore")
    async with LocalSpoke(str(apiserver.kubeconfig)) as spoke:
        v1 = upsert("web", [namespace(ns), configmap("a", ns, v="1"), configmap("b", ns, v="1")])
        assert (await spoke.reconciler.upsert(v1)).error == ""
        await kube.request("DELETE", f"/api/v1/namespaces/{ns}/configmaps/a")
        # The next revision changes b only, and the hub sends only b.
        v2 = upsert(
            "web",
            [namespace(ns), configmap("a", ns, v="1"), configmap("b", ns, v="2")],
            base=v1,
        )
        assert [r.key for r in v2.upserts] == [f"/ConfigMap/{ns}/b"]
        assert (await spoke.reconciler.upsert(v2)).error == ""
        assert await get(kube, f"/api/v1/namespaces/{ns}/configmaps/a") is not None
        b = await get(kube, f"/api/v1/namespaces/{ns}/configmaps/b")
        assert b is not None and b["data"] == {"v": "2"}


async def test_an_object_owned_by_another_bundle_is_refused_and_taken_once_free(
    apiserver: ApiServer, kube: KubernetesBackend
) -> None:
    ns = unique("dup")
    path = f"/api/v1/namespaces/{ns}/configmaps/x"
    async with LocalSpoke(str(apiserver.kubeconfig)) as spoke:
        await kube.ensure_namespaces([ns])
        one = upsert("dup-one", [configmap("x", ns, v="1")])
        assert (await spoke.reconciler.upsert(one)).error == ""
        two = upsert("dup-two", [configmap("x", ns, v="2")])
        ack = await spoke.reconciler.upsert(two)
        assert ack.error == f"configmap {ns}/x is owned by bundle dup-one"
        live = await get(kube, path)
        assert live is not None
        assert (live["metadata"]["labels"][OWNER_LABEL], live["data"]) == ("dup-one", {"v": "1"})
        await eventually(lambda: spoke.reconciler.status("dup-one").ready, what="dup-one ready")

        # Deleting the refused bundle does not delete the owner's object.
        await spoke.reconciler.delete("dup-two")
        assert await get(kube, path) is not None
        assert spoke.reconciler.status("dup-one").ready

        # Once the owner is deleted, the refused bundle takes the object by itself.
        assert (await spoke.reconciler.upsert(two)).error
        await spoke.reconciler.delete("dup-one")
        await eventually(
            lambda: spoke.reconciler.status("dup-two").ready, timeout=30, what="dup-two ready"
        )
        live = await get(kube, path)
        assert live is not None
        assert (live["metadata"]["labels"][OWNER_LABEL], live["data"]) == ("dup-two", {"v": "2"})

        # takeOwnership takes it from its owner.
        three = upsert("dup-three", [configmap("x", ns, v="3")], take_ownership=True)
        assert (await spoke.reconciler.upsert(three)).error == ""
        live = await get(kube, path)
        assert live is not None
        assert (live["metadata"]["labels"][OWNER_LABEL], live["data"]) == ("dup-three", {"v": "3"})
