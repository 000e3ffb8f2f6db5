"""fleet.yaml serviceAccount, namespaceLabels/namespaceAnnotations and deleteNamespace on a
real kube-apiserver: impersonation is bounded by the account's RBAC, as with Fleet."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from argosy.api.v1 import spoke_pb2
from spoke.backends.kube import ApiError, KubernetesBackend
from tests.harness import eventually
from tests.k8s.conftest import ApiServer
from tests.k8s.kubeutil import LocalSpoke, upsert

pytestmark = [pytest.mark.k8s, pytest.mark.timeout(180)]

AGENT_NAMESPACE = "argosy-system"  # own_namespace() outside a pod


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def configmap(name: str, ns: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns},
        "data": {"color": "blue"},
    }


async def create(kube: KubernetesBackend, path: str, body: dict[str, Any]) -> None:
    try:
        await kube.request("POST", path, body=body)
    except ApiError as exc:
        if exc.status != 409:
            raise


async def get(kube: KubernetesBackend, path: str) -> dict[str, Any] | None:
    try:
        return await kube.request("GET", path)
    except ApiError as exc:
        if exc.status == 404:
            return None
        raise


def with_options(msg: spoke_pb2.DeploymentUpsert, **options: Any) -> spoke_pb2.DeploymentUpsert:
    for name, value in options.items():
        if isinstance(value, dict):
            getattr(msg.options, name).update(value)
        else:
            setattr(msg.options, name, value)
    return msg


async def grant(kube: KubernetesBackend, *, sa: str, ns: str) -> None:
    """What the account needs: its objects in ns, and reading/labelling that one namespace."""
    rbac = "/apis/rbac.authorization.k8s.io/v1"
    subject = [{"kind": "ServiceAccount", "name": sa, "namespace": AGENT_NAMESPACE}]
    await create(
        kube,
        f"{rbac}/namespaces/{ns}/roles",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": sa},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]}],
        },
    )
    await create(
        kube,
        f"{rbac}/namespaces/{ns}/rolebindings",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": sa},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": sa},
            "subjects": subject,
        },
    )
    await create(
        kube,
        f"{rbac}/clusterroles",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": sa},
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["namespaces"],
                    "resourceNames": [ns],
                    "verbs": ["get", "patch"],
                }
            ],
        },
    )
    await create(
        kube,
        f"{rbac}/clusterrolebindings",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": sa},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": sa},
            "subjects": subject,
        },
    )


async def test_service_account_is_impersonated_and_bounded_by_its_rbac(
    apiserver: ApiServer, kube: KubernetesBackend
) -> None:
    ns, sa, bundle = unique("tenant"), unique("deployer"), unique("b")
    await create(kube, "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace",
                                              "metadata": {"name": AGENT_NAMESPACE}})  # fmt: skip
    await create(
        kube,
        f"/api/v1/namespaces/{AGENT_NAMESPACE}/serviceaccounts",
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa}},
    )
    await create(
        kube,
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}},
    )

    def message() -> spoke_pb2.DeploymentUpsert:
        return with_options(
            upsert(bundle, [configmap("settings", ns)], default_namespace=ns),
            service_account=sa,
            namespace_labels={"team": "tenant"},
        )

    user = f"system:serviceaccount:{AGENT_NAMESPACE}:{sa}"
    async with LocalSpoke(str(apiserver.kubeconfig)) as spoke:
        # The agent itself may do anything; the account may do nothing yet.
        ack = await spoke.reconciler.upsert(message())
        assert f'configmaps "settings" is forbidden: User "{user}" cannot patch' in ack.error
        assert f'namespaces "{ns}" is forbidden: User "{user}"' in ack.error
        assert await get(kube, f"/api/v1/namespaces/{ns}/configmaps/settings") is None
        assert not spoke.reconciler.status(bundle).ready

        await grant(kube, sa=sa, ns=ns)

        async def applied() -> bool:
            # RBAC reaches the authorizer's cache within moments: poll with a deadline.
            return (await spoke.reconciler.upsert(message())).error == ""

        await eventually(applied, timeout=20, interval=0.3, what="apply once RBAC allows it")
        await eventually(lambda: spoke.reconciler.status(bundle).ready, what="bundle ready")
        live = await get(kube, f"/api/v1/namespaces/{ns}/configmaps/settings")
        assert live is not None
        assert live["data"] == {"color": "blue"}
        ns_live = await get(kube, f"/api/v1/namespaces/{ns}")
        assert ns_live is not None and ns_live["metadata"]["labels"]["team"] == "tenant"


async def test_namespace_metadata_merges_and_delete_namespace_deletes_it(
    apiserver: ApiServer, kube: KubernetesBackend
) -> None:
    ns, bundle = unique("scratch"), unique("b")
    async with LocalSpoke(str(apiserver.kubeconfig)) as spoke:
        first = with_options(
            upsert(bundle, [configmap("settings", ns)], default_namespace=ns),
            namespace_labels={"team": "a", "tier": "web"},
            namespace_annotations={"owner": "alice"},
            delete_namespace=True,
        )
        assert (await spoke.reconciler.upsert(first)).error == ""
        ns_live = await get(kube, f"/api/v1/namespaces/{ns}")
        assert ns_live is not None
        assert {"team": "a", "tier": "web"}.items() <= ns_live["metadata"]["labels"].items()
        assert ns_live["metadata"]["annotations"]["owner"] == "alice"

        # Someone else's label stays; the one the bundle no longer lists goes.
        await kube.request(
            "PATCH",
            f"/api/v1/namespaces/{ns}",
            body={"metadata": {"labels": {"keep": "me"}}},
            content_type="application/merge-patch+json",
        )
        second = with_options(
            upsert(bundle, [configmap("settings", ns)], default_namespace=ns),
            namespace_labels={"team": "a"},
            delete_namespace=True,
        )
        assert (await spoke.reconciler.upsert(second)).error == ""
        ns_live = await get(kube, f"/api/v1/namespaces/{ns}")
        assert ns_live is not None
        labels = ns_live["metadata"]["labels"]
        assert labels["team"] == "a" and labels["keep"] == "me" and "tier" not in labels
        assert "owner" not in (ns_live["metadata"].get("annotations") or {})

        await spoke.reconciler.delete(bundle)
        gone = await get(kube, f"/api/v1/namespaces/{ns}")
        assert gone is None or gone["metadata"].get("deletionTimestamp")
