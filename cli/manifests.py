"""The manifests `argosy install` prints: what puts a spoke (agent) or a hub into a Kubernetes
cluster, as plain multi-document YAML for `kubectl apply -f -`.

They are built from plain dicts (the CLI never imports a Kubernetes client), by pure functions:
the command (cli/commands/install.py) decides the token and the hub, this module the objects.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from argosy import __version__
from argosy.errors import InvalidInput
from argosy.names import check_name

DEFAULT_NAMESPACE = "argosy-system"
IMAGE_REPOSITORY = "ghcr.io/argosy/argosy"
DEFAULT_IMAGE = f"{IMAGE_REPOSITORY}:{__version__}"
"""The image the YAML names; `make image` builds and tags exactly this (the Dockerfile)."""
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


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (a script, a PEM) as literal blocks, readable as written."""


def _str(dumper: yaml.SafeDumper, text: str) -> yaml.Node:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _str)


def dump_all(docs: list[Doc]) -> str:
    return yaml.dump_all(docs, Dumper=_Dumper, sort_keys=False, default_flow_style=False)


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


ADMIN_SECRET = "argosy-admin"
ADMIN_FILE = f"{DATA_DIR}/admin.yaml"
ADMIN_READY_FILE = "/tmp/published"
SERVICE_TYPES = ("ClusterIP", "LoadBalancer")
_DNS_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
)

# The admin-secret container: waits for the hub's first-start admin.yaml on the shared volume,
# then keeps it in a Secret with the kubectl the image already has. Why a sidecar and not the
# hub: the hub never talks to Kubernetes (only the spoke does), and the hub container, which
# renders untrusted charts and fetches git, gets no Kubernetes credential at all; only this
# container mounts a ServiceAccount token, allowed to write that one Secret. It publishes at
# every pod start (server-side apply, idempotent), so a deleted Secret comes back with a restart.
# It is ready once the Secret is written: `kubectl rollout status` returning means it is there.
# nap: `sleep & wait`, so that TERM (sh is PID 1 here) ends it at once, sleep included.
ADMIN_SECRET_SCRIPT = """\
set -eu
pid=
trap 'kill $pid 2>/dev/null || true; exit 0' TERM INT
nap() { sleep "$1" & pid=$!; wait "$pid"; }
rm -f "$READY_FILE"
until [ -s "$ADMIN_FILE" ]; do nap 2; done
kubectl create secret generic "$ADMIN_SECRET" --namespace "$NAMESPACE" \\
  --from-file=admin.yaml="$ADMIN_FILE" --dry-run=client -o yaml \\
  | kubectl apply --server-side --field-manager=argosy-hub --force-conflicts -f -
echo "admin context $ADMIN_FILE kept in Secret $NAMESPACE/$ADMIN_SECRET"
: >"$READY_FILE"
nap infinity
"""


def hub_service_names(namespace: str, *, cluster_domain: str = "cluster.local") -> list[str]:
    """What pods in the cluster call the hub's Service: its DNS names, short and full."""
    return [
        f"{HUB}.{namespace}.svc",
        f"{HUB}.{namespace}.svc.{cluster_domain}",
        f"{HUB}.{namespace}",
        HUB,
    ]


def check_advertised(name: str) -> str:
    """name, if it is a host name or an IP address (no port, no scheme): a certificate name."""
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        pass
    if not _DNS_NAME.match(name):
        raise InvalidInput(
            f"--advertise: {name!r} is neither a lowercase DNS name nor an IP address "
            "(give the host only: no port, no scheme)"
        )
    return name


def host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def hub_args(
    *, namespace: str, advertise: Sequence[str] = (), cluster_domain: str = "cluster.local"
) -> list[str]:
    """The hub container's arguments.

    --advertise: the Service's DNS names, so that pods of this cluster verify the hub's
    certificate by any of them, and the names (or addresses) it is reached by from outside,
    e.g. a LoadBalancer's. --admin-hub: the address admin.yaml names; the first outside name
    when there is one, else the hub's default 127.0.0.1:7443, for `kubectl port-forward`.
    """
    outside = [check_advertised(a) for a in advertise]
    names = [*hub_service_names(namespace, cluster_domain=cluster_domain), *outside]
    args = ["hub", "--listen", f"0.0.0.0:{HUB_PORT}", "--data-dir", DATA_DIR]
    args += ["--advertise", ",".join(dict.fromkeys(names))]
    if outside:
        args += ["--admin-hub", host_port(outside[0], HUB_PORT)]
    return args


def hub_docs(
    *,
    image: str,
    namespace: str = DEFAULT_NAMESPACE,
    advertise: Sequence[str] = (),
    service_type: str = "ClusterIP",
    cluster_domain: str = "cluster.local",
) -> list[Doc]:
    """Namespace, ServiceAccount and its Role (the admin Secret), the SQLite
    PersistentVolumeClaim, the hub Deployment and its Service."""
    check_name(namespace, what="--namespace")
    if service_type not in SERVICE_TYPES:
        raise InvalidInput(f"--service-type: {service_type!r} is not one of {SERVICE_TYPES}")
    component = {"app.kubernetes.io/name": HUB}
    token_dir = "/var/run/secrets/kubernetes.io/serviceaccount"
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(namespace)},
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _meta(HUB, namespace, **component),
            "automountServiceAccountToken": False,
        },
        # The hub's only Kubernetes right: its admin context's Secret, by name. (A server-side
        # apply that creates is authorised as `create` with the name, so resourceNames hold.)
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta(HUB, namespace, **component),
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["secrets"],
                    "resourceNames": [ADMIN_SECRET],
                    "verbs": ["get", "create", "patch"],
                }
            ],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": _meta(HUB, namespace, **component),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": HUB},
            "subjects": [{"kind": "ServiceAccount", "name": HUB, "namespace": namespace}],
        },
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
                        "serviceAccountName": HUB,
                        # Only the admin-secret container mounts a token (the volume below).
                        "automountServiceAccountToken": False,
                        "securityContext": {"fsGroup": 65532},
                        "containers": [
                            {
                                "name": "hub",
                                "image": image,
                                "args": hub_args(
                                    namespace=namespace,
                                    advertise=advertise,
                                    cluster_domain=cluster_domain,
                                ),
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
                                # /tmp: rendering and git fetches write temporary files there.
                                "volumeMounts": [
                                    {"name": "data", "mountPath": DATA_DIR},
                                    {"name": "tmp", "mountPath": "/tmp"},
                                ],
                            },
                            {
                                "name": "admin-secret",
                                "image": image,
                                "command": ["/bin/sh", "-c", ADMIN_SECRET_SCRIPT],
                                "env": [
                                    {"name": "ADMIN_FILE", "value": ADMIN_FILE},
                                    {"name": "ADMIN_SECRET", "value": ADMIN_SECRET},
                                    {"name": "NAMESPACE", "value": namespace},
                                    {"name": "READY_FILE", "value": ADMIN_READY_FILE},
                                ],
                                "readinessProbe": {
                                    "exec": {"command": ["test", "-f", ADMIN_READY_FILE]},
                                    "periodSeconds": 2,
                                },
                                "resources": {
                                    "requests": {"cpu": "10m", "memory": "32Mi"},
                                    "limits": {"memory": "128Mi"},
                                },
                                "securityContext": _restricted_security(),
                                "volumeMounts": [
                                    {"name": "data", "mountPath": DATA_DIR, "readOnly": True},
                                    {"name": "admin-tmp", "mountPath": "/tmp"},
                                    {"name": "token", "mountPath": token_dir, "readOnly": True},
                                ],
                            },
                        ],
                        "volumes": [
                            {"name": "data", "persistentVolumeClaim": {"claimName": HUB}},
                            {"name": "tmp", "emptyDir": {}},
                            {"name": "admin-tmp", "emptyDir": {}},
                            # What automounting would give, for this one container.
                            {
                                "name": "token",
                                "projected": {
                                    "sources": [
                                        {
                                            "serviceAccountToken": {
                                                "path": "token",
                                                "expirationSeconds": 3607,
                                            }
                                        },
                                        {
                                            "configMap": {
                                                "name": "kube-root-ca.crt",
                                                "items": [{"key": "ca.crt", "path": "ca.crt"}],
                                            }
                                        },
                                        {
                                            "downwardAPI": {
                                                "items": [
                                                    {
                                                        "path": "namespace",
                                                        "fieldRef": {
                                                            "fieldPath": "metadata.namespace"
                                                        },
                                                    }
                                                ]
                                            }
                                        },
                                    ]
                                },
                            },
                        ],
                    },
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(HUB, namespace, **component),
            "spec": {
                "type": service_type,
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


def hub_yaml(
    *,
    image: str = DEFAULT_IMAGE,
    namespace: str = DEFAULT_NAMESPACE,
    advertise: Sequence[str] = (),
    service_type: str = "ClusterIP",
    cluster_domain: str = "cluster.local",
) -> str:
    """The hub's manifests as multi-document YAML."""
    return dump_all(
        hub_docs(
            image=image,
            namespace=namespace,
            advertise=advertise,
            service_type=service_type,
            cluster_domain=cluster_domain,
        )
    )


def hub_next_steps(*, namespace: str, advertise: Sequence[str] = ()) -> str:
    """What to do after `kubectl apply`: wait, fetch the admin context, reach the hub."""
    secret = f"kubectl -n {namespace} get secret {ADMIN_SECRET}"
    lines = [
        "# Then: wait for the hub and take its admin context (an admin token; keep it private):",
        f"kubectl -n {namespace} rollout status deployment/{HUB}",
        f"{secret} -o jsonpath='{{.data.admin\\.yaml}}' | base64 -d > admin.yaml",
    ]
    if advertise:
        hub = host_port(advertise[0], HUB_PORT)
        lines.append(f"argosy --config admin.yaml status      # admin.yaml names {hub}")
        reach = ""
    else:
        lines += [
            "# admin.yaml names 127.0.0.1:7443: reach the hub through a port-forward",
            f"kubectl -n {namespace} port-forward service/{HUB} 7443:{HUB_PORT} &",
            "argosy --config admin.yaml status",
        ]
        reach = f" --agent-hub HOST:{HUB_PORT}"
    lines += [
        "# Register another cluster: apply the printed YAML there",
        *(["# (--agent-hub: the address that cluster reaches this hub by)"] if reach else []),
        f"argosy --config admin.yaml install agent-token --name NAME{reach} > token.yaml",
    ]
    return "\n".join(lines) + "\n"
