"""The manifests `argosy install` prints: what puts a spoke (agent) or a hub into a Kubernetes
cluster, as plain multi-document YAML for `kubectl apply -f -`.

They are built from plain dicts (the CLI never imports a Kubernetes client), by pure functions:
the command (cli/commands/install.py) decides the token and the hub, this module the objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from argosy.errors import InvalidInput
from argosy.names import check_name

DEFAULT_NAMESPACE = "argosy-system"
DEFAULT_IMAGE = "ghcr.io/argosy/argosy:0.1.0"
AGENT = "argosy-agent"
HUB = "argosy-hub"
HUB_PORT = 7443
SECRET_DIR = "/etc/argosy/hub"
DATA_DIR = "/var/lib/argosy"
CREDENTIAL_SECRET = "argosy-agent-credential"

Doc = dict[str, Any]


def _meta(name: str, namespace: str | None = None, **labels: str) -> Doc:
    meta: Doc = {"name": name, "labels": {"app.kubernetes.io/part-of": "argosy", **labels}}
    if namespace is not None:
        meta["namespace"] = namespace
    return meta


def dump_all(docs: list[Doc]) -> str:
    return yaml.safe_dump_all(docs, sort_keys=False, default_flow_style=False)


def _restricted_security() -> Doc:
    return {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def agent_docs(
    *,
    hub: str,
    token: str,
    labels: Mapping[str, str],
    name: str,
    image: str,
    namespace: str = DEFAULT_NAMESPACE,
    ca_pem: str = "",
) -> list[Doc]:
    """Namespace, ServiceAccount, RBAC, the registration Secret and the spoke Deployment."""
    component = {"app.kubernetes.io/name": AGENT}
    label_text = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
    secret_env = [
        {"name": env, "valueFrom": {"secretKeyRef": {"name": AGENT, "key": key}}}
        for env, key in (
            ("ARGOSY_HUB", "hub"),
            ("ARGOSY_SPOKE_NAME", "name"),
            ("ARGOSY_SPOKE_LABELS", "labels"),
            ("ARGOSY_SPOKE_TOKEN", "token"),
        )
    ]
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(namespace)},
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _meta(AGENT, namespace, **component),
        },
        # What the agent may do cluster-wide, and why it is this much: a bundle may contain any
        # kind (CRDs, RBAC, workloads in any namespace), and the agent must apply, watch, read and
        # prune it with server-side apply. Least privilege for "apply arbitrary bundles" is
        # therefore every verb the agent uses on every resource: get/list/watch to judge status
        # and follow drift, create/patch/update to apply (RBAC objects need escalate and bind so
        # the agent can create roles granting more than it lists explicitly), delete to prune.
        # That is effectively cluster-admin, as with Fleet's agent; restrict it by replacing
        # these rules with the kinds your bundles actually use. Denied kinds are reported per
        # object in the bundle status; the agent keeps applying the rest.
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": _meta(AGENT, **component),
            "rules": [
                {
                    "apiGroups": ["*"],
                    "resources": ["*"],
                    "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
                },
                {
                    "apiGroups": ["rbac.authorization.k8s.io"],
                    "resources": ["clusterroles", "roles"],
                    "verbs": ["escalate", "bind"],
                },
                # fleet.yaml serviceAccount: the agent applies such a bundle as that account
                # (impersonation), so the account's RBAC, not this role, bounds the bundle.
                {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]},
                {"nonResourceURLs": ["/api", "/api/*", "/apis", "/apis/*"], "verbs": ["get"]},
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": _meta(AGENT, **component),
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": AGENT,
            },
            "subjects": [{"kind": "ServiceAccount", "name": AGENT, "namespace": namespace}],
        },
        # The agent's own credential lives in Secrets of its namespace only: a namespaced Role,
        # so keeping it does not depend on the broad ClusterRole above.
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta(AGENT, namespace, **component),
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["secrets"],
                    "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": _meta(AGENT, namespace, **component),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": AGENT},
            "subjects": [{"kind": "ServiceAccount", "name": AGENT, "namespace": namespace}],
        },
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": _meta(AGENT, namespace, **component),
            "type": "Opaque",
            "stringData": {
                "hub": hub,
                "name": name,
                "labels": label_text,
                "token": token,
                # The hub CA the agent trusts; empty only for a hub run with --insecure.
                "caPem": ca_pem,
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta(AGENT, namespace, **component),
            "spec": {
                # One writer per cluster: never two agents applying at once.
                "replicas": 1,
                "strategy": {"type": "Recreate"},
                "selector": {"matchLabels": component},
                "template": {
                    "metadata": {"labels": component},
                    "spec": {
                        "serviceAccountName": AGENT,
                        "containers": [
                            {
                                "name": "agent",
                                "image": image,
                                "args": [
                                    "spoke",
                                    "--data-dir",
                                    DATA_DIR,
                                    *(
                                        ["--ca", f"{SECRET_DIR}/caPem"]
                                        if ca_pem
                                        else ["--insecure"]
                                    ),
                                ],
                                "env": [
                                    *secret_env,
                                    # The registered credential outlives this pod's emptyDir.
                                    {
                                        "name": "ARGOSY_SPOKE_CREDENTIAL_SECRET",
                                        "value": CREDENTIAL_SECRET,
                                    },
                                ],
                                "resources": {
                                    "requests": {"cpu": "50m", "memory": "96Mi"},
                                    "limits": {"memory": "512Mi"},
                                },
                                "securityContext": _restricted_security(),
                                "volumeMounts": [
                                    {"name": "data", "mountPath": DATA_DIR},
                                    {"name": "hub", "mountPath": SECRET_DIR, "readOnly": True},
                                ],
                            }
                        ],
                        "volumes": [
                            {"name": "data", "emptyDir": {}},
                            {"name": "hub", "secret": {"secretName": AGENT}},
                        ],
                    },
                },
            },
        },
    ]


def agent_token_yaml(
    *,
    hub: str,
    token: str,
    labels: Mapping[str, str],
    name: str,
    image: str = DEFAULT_IMAGE,
    namespace: str = DEFAULT_NAMESPACE,
    ca_pem: str = "",
) -> str:
    """The agent's manifests as multi-document YAML."""
    check_name(name, what="--name")
    if not hub or ":" not in hub:
        raise InvalidInput(f"--hub: {hub!r} is not HOST:PORT")
    if not token:
        raise InvalidInput("--token: a registration token is required")
    return dump_all(
        agent_docs(
            hub=hub,
            token=token,
            labels=labels,
            name=name,
            image=image,
            namespace=namespace,
            ca_pem=ca_pem,
        )
    )


def hub_docs(*, image: str, namespace: str = DEFAULT_NAMESPACE) -> list[Doc]:
    """Namespace, the SQLite PersistentVolumeClaim, the hub Deployment and its Service."""
    component = {"app.kubernetes.io/name": HUB}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(namespace)},
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": _meta(HUB, namespace, **component),
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": _meta(HUB, namespace, **component),
            "spec": {
                # SQLite on a ReadWriteOnce volume: exactly one hub, stopped before the next.
                "replicas": 1,
                "strategy": {"type": "Recreate"},
                "selector": {"matchLabels": component},
                "template": {
                    "metadata": {"labels": component},
                    "spec": {
                        "automountServiceAccountToken": False,
                        "securityContext": {"fsGroup": 65532},
                        "containers": [
                            {
                                "name": "hub",
                                "image": image,
                                "args": [
                                    "hub",
                                    "--listen",
                                    f"0.0.0.0:{HUB_PORT}",
                                    "--data-dir",
                                    DATA_DIR,
                                ],
                                "ports": [
                                    {"name": "grpc", "containerPort": HUB_PORT, "protocol": "TCP"},
                                    # Spoke streams, with client certificates (mTLS).
                                    {
                                        "name": "spokes",
                                        "containerPort": HUB_PORT + 1,
                                        "protocol": "TCP",
                                    },
                                ],
                                "readinessProbe": {
                                    "tcpSocket": {"port": "grpc"},
                                    "periodSeconds": 5,
                                },
                                "resources": {
                                    "requests": {"cpu": "100m", "memory": "128Mi"},
                                    "limits": {"memory": "1Gi"},
                                },
                                "securityContext": _restricted_security(),
                                "volumeMounts": [{"name": "data", "mountPath": DATA_DIR}],
                            }
                        ],
                        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": HUB}}],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(HUB, namespace, **component),
            "spec": {
                "selector": component,
                # protocol spelled out: server-side apply before Kubernetes 1.21 requires it.
                "ports": [
                    {"name": "grpc", "port": HUB_PORT, "targetPort": "grpc", "protocol": "TCP"},
                    {
                        "name": "spokes",
                        "port": HUB_PORT + 1,
                        "targetPort": "spokes",
                        "protocol": "TCP",
                    },
                ],
            },
        },
    ]


def hub_yaml(*, image: str = DEFAULT_IMAGE, namespace: str = DEFAULT_NAMESPACE) -> str:
    """The hub's manifests as multi-document YAML."""
    return dump_all(hub_docs(image=image, namespace=namespace))
