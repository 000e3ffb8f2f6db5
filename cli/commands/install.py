"""`argosy install agent-token|hub`: print the YAML that installs a spoke (agent) or a hub.

`install agent-token` registers a new cluster: its YAML carries a registration token, minted
through the hub's CreateToken unless --token is given. The objects themselves are
cli/manifests.py's.
"""

from __future__ import annotations

import argparse
import os
import sys

from argosy.api.v1 import fleet_pb2
from argosy.names import check_name, parse_labels
from cli.client import Hub, resolve
from cli.manifests import (
    DEFAULT_IMAGE,
    DEFAULT_NAMESPACE,
    SERVICE_TYPES,
    agent_token_yaml,
    hub_next_steps,
    hub_yaml,
)
from cli.parsing import UINT32_MAX, Subparsers, int_in, runs


def add_parser(subparsers: Subparsers) -> None:
    install = runs(
        subparsers.add_parser("install", help="print YAML that installs Argosy in a cluster"), run
    )
    actions = install.add_subparsers(dest="action", required=True)
    image = os.environ.get("ARGOSY_IMAGE", DEFAULT_IMAGE)

    agent = actions.add_parser(
        "agent-token", help="a spoke (agent) for this cluster, with a registration token"
    )
    agent.add_argument("--name", required=True, help="the cluster's name as the hub will know it")
    agent.add_argument("--labels", "-l", default="", help="cluster labels for targeting: k=v,k2=v2")
    agent.add_argument(
        "--token", default="", help="registration token (default: create one on the hub)"
    )
    agent.add_argument(
        "--ttl",
        type=int_in(0, UINT32_MAX),
        default=0,
        help="seconds the created token lives (0: never expires)",
    )
    agent.add_argument(
        "--hub",
        dest="install_hub",
        default=None,
        metavar="HOST:PORT",
        help="the hub (default: argosy --hub, $ARGOSY_HUB, 127.0.0.1:7443)",
    )
    agent.add_argument(
        "--agent-hub",
        default="",
        metavar="HOST:PORT",
        help="hub address as the agent reaches it (default: --hub)",
    )
    agent.add_argument("--image", default=image, help="Argosy image ($ARGOSY_IMAGE)")
    agent.add_argument("--namespace", default=DEFAULT_NAMESPACE)

    hub = actions.add_parser("hub", help="a hub with its SQLite volume and a Service")
    hub.add_argument("--image", default=image, help="Argosy image ($ARGOSY_IMAGE)")
    hub.add_argument("--namespace", default=DEFAULT_NAMESPACE)
    hub.add_argument(
        "--advertise",
        action="append",
        default=[],
        metavar="HOST",
        help="a name or address other clusters reach the hub by (its certificate covers it; "
        "the first is admin.yaml's); the Service's cluster DNS names are always covered",
    )
    hub.add_argument(
        "--service-type",
        choices=SERVICE_TYPES,
        default="ClusterIP",
        help="LoadBalancer exposes the hub to other clusters (default: ClusterIP)",
    )
    hub.add_argument("--cluster-domain", default="cluster.local", help="this cluster's DNS domain")


async def run(args: argparse.Namespace, hub: Hub) -> None:
    """Print the YAML for `argosy install ...` on stdout."""
    if args.action == "hub":
        text = hub_yaml(
            image=args.image,
            namespace=args.namespace,
            advertise=args.advertise,
            service_type=args.service_type,
            cluster_domain=args.cluster_domain,
        )
        print(text, end="")
        # stdout is for `kubectl apply -f -`; what to do next goes to the person, on stderr.
        print(hub_next_steps(namespace=args.namespace, advertise=args.advertise), file=sys.stderr)
        return
    # `install agent-token --hub` names the hub for this verb alone, over `argosy --hub`.
    target = resolve(args.install_hub, args.config) if args.install_hub else hub
    labels = parse_labels(args.labels, what="--labels")
    check_name(args.name, what="--name")
    token = args.token
    ca_pem = target.ca_pem.decode()
    if not token:
        async with target.stub() as stub:
            resp = await stub.CreateToken(
                fleet_pb2.CreateTokenRequest(ttl_seconds=max(args.ttl, 0)), timeout=15
            )
        token, ca_pem = resp.token, resp.ca_pem.decode()
    print(
        agent_token_yaml(
            hub=args.agent_hub or target.address,
            token=token,
            labels=labels,
            name=args.name,
            image=args.image,
            namespace=args.namespace,
            ca_pem=ca_pem,
        ),
        end="",
    )
