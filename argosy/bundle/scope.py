"""Which kinds are cluster-scoped, for Fleet's rule that `namespace` forbids them.

The hub has no API server to ask (Fleet's agent uses a RESTMapper), so the built-in kinds are
listed here, and CustomResourceDefinitions in the bundle itself add their own kinds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from argosy.errors import Problems
from argosy.manifests import Source

# (API group, kind) of the cluster-scoped built-in kinds; "" is the core group.
BUILTIN_CLUSTER_SCOPED = frozenset(
    {
        ("", "Namespace"),
        ("", "Node"),
        ("", "PersistentVolume"),
        ("", "ComponentStatus"),
        ("rbac.authorization.k8s.io", "ClusterRole"),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("apiregistration.k8s.io", "APIService"),
        ("storage.k8s.io", "StorageClass"),
        ("storage.k8s.io", "CSIDriver"),
        ("storage.k8s.io", "CSINode"),
        ("storage.k8s.io", "VolumeAttachment"),
        ("storage.k8s.io", "VolumeAttributesClass"),
        ("scheduling.k8s.io", "PriorityClass"),
        ("node.k8s.io", "RuntimeClass"),
        ("networking.k8s.io", "IngressClass"),
        ("networking.k8s.io", "IPAddress"),
        ("networking.k8s.io", "ServiceCIDR"),
        ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "ValidatingAdmissionPolicyBinding"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicy"),
        ("admissionregistration.k8s.io", "MutatingAdmissionPolicyBinding"),
        ("certificates.k8s.io", "CertificateSigningRequest"),
        ("certificates.k8s.io", "ClusterTrustBundle"),
        ("flowcontrol.apiserver.k8s.io", "FlowSchema"),
        ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"),
        ("policy", "PodSecurityPolicy"),
        ("resource.k8s.io", "DeviceClass"),
        ("resource.k8s.io", "ResourceSlice"),
        ("storagemigration.k8s.io", "StorageVersionMigration"),
        ("internal.apiserver.k8s.io", "StorageVersion"),
    }
)


def group_kind(obj: Mapping[str, Any]) -> tuple[str, str]:
    return str(obj.get("apiVersion", "")).rpartition("/")[0], str(obj.get("kind", ""))


def cluster_scoped_kinds(objects: Iterable[Mapping[str, Any]]) -> frozenset[tuple[str, str]]:
    """The built-in cluster-scoped kinds plus those of cluster-scoped CRDs among objects."""
    extra = set()
    for obj in objects:
        if group_kind(obj) == ("apiextensions.k8s.io", "CustomResourceDefinition"):
            spec = obj.get("spec") or {}
            if spec.get("scope") == "Cluster":
                extra.add((str(spec.get("group", "")), str((spec.get("names") or {}).get("kind"))))
    return BUILTIN_CLUSTER_SCOPED | extra


def force_namespace(
    objects: Sequence[tuple[dict[str, Any], Source]], namespace: str
) -> list[tuple[dict[str, Any], Source]]:
    """Fleet's `namespace`: set on every object; a cluster-scoped object is an error."""
    if not namespace:
        return list(objects)
    scoped = cluster_scoped_kinds(obj for obj, _ in objects)
    problems = Problems()
    out = []
    for obj, where in objects:
        if group_kind(obj) in scoped:
            name = (obj.get("metadata") or {}).get("name", "")
            problems.found.append(
                f"{where}: {obj.get('kind')} {name!r} is cluster-scoped, but the bundle sets "
                f"namespace {namespace!r}; use defaultNamespace instead"
            )
            continue
        meta = dict(obj.get("metadata") or {})
        meta["namespace"] = namespace
        out.append(({**obj, "metadata": meta}, where))
    problems.raise_any()
    return out
