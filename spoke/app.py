"""The spoke's composition root: settings, the backend, and its supervised loops.

The backend is used only through the Backend protocol: `async with` it around the loops, and
ask it for a credential mirror when --credential-secret is set.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from argosy import metrics as metrics_http
from argosy.api.v1 import spoke_pb2
from argosy.errors import InvalidInput
from argosy.names import check_name, parse_labels
from argosy.runtime import setup_logging
from argosy.tasks import Loops, install_stop_signals
from spoke.backends.base import Backend
from spoke.backends.kube import KubernetesBackend, KubeSettings
from spoke.backends.simulated import SimulatedCluster, SimulationSettings
from spoke.link import Link, LinkSettings
from spoke.metrics import SpokeMetrics
from spoke.reconciler import Reconciler
from spoke.reporter import StatusReporter
from spoke.retry import Retrier, RetrySettings
from spoke.state import CredentialStore, LocalState, MirroredCredentialStore

log = logging.getLogger("spoke")


def default_data_dir(name: str) -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return Path(base) / "argosy" / "spoke" / name


@dataclass(frozen=True)
class Settings:
    hub: str
    """HOST:PORT of the hub (--hub, ARGOSY_HUB)."""
    name: str
    """This cluster's name (--name, ARGOSY_SPOKE_NAME)."""
    labels: dict[str, str] = field(default_factory=dict)
    """Cluster labels for targeting (--labels k=v,k2=v2)."""
    token: str = ""
    """Registration token (--token, ARGOSY_SPOKE_TOKEN); unused once registered."""
    data_dir: Path | None = None
    """Where the credential and held deployments live; None keeps them in memory only."""
    simulate: bool = False
    """Use the in-memory simulated cluster instead of Kubernetes."""
    kubeconfig: str = ""
    """kubeconfig path (--kubeconfig, KUBECONFIG); empty: in-cluster config, else ~/.kube/config."""
    credential_secret: str = ""
    """Also keep the cluster credential in this Secret, NAME or NAMESPACE/NAME (default namespace:
    the pod's own), so a new agent pod stays registered (--credential-secret,
    ARGOSY_SPOKE_CREDENTIAL_SECRET); Kubernetes backend only."""
    agent_namespace: str = ""
    """Namespace of the service accounts fleet.yaml serviceAccount names (--agent-namespace,
    ARGOSY_SPOKE_AGENT_NAMESPACE); empty: the pod's own, else argosy-system. Never deleted by
    deleteNamespace."""
    ready_delay: float = 0.5
    """Simulated workloads become ready after this many seconds."""
    fail_pattern: str = ""
    """Simulated applies of objects whose name matches this regex fail."""
    report_window: float = 0.1
    """Status changes within this window go to the hub as one report."""
    retry: RetrySettings = field(default_factory=RetrySettings)
    """Backoff of retries of failed applies."""
    ca: Path | None = None
    """PEM of the hub CA (--ca); a registered spoke also keeps the CA the hub sent."""
    insecure: bool = False
    """Plaintext to a hub run with --insecure."""
    log_level: str = "INFO"
    metrics_listen: str = ""
    """host:port for Prometheus /metrics over plain HTTP; off when empty. A loopback host
    unless metrics_public (--metrics-listen, ARGOSY_SPOKE_METRICS_LISTEN)."""
    metrics_public: bool = False
    """Allow metrics_listen on a non-loopback address (--metrics-public): in a pod, for a
    Prometheus that scrapes the pod's IP."""

    def __post_init__(self) -> None:
        if not self.hub or ":" not in self.hub:
            raise InvalidInput(f"--hub / ARGOSY_HUB: {self.hub!r} is not HOST:PORT")
        if self.metrics_listen:
            try:
                metrics_http.check_listen(
                    self.metrics_listen, public=self.metrics_public, flag="--metrics-listen"
                )
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None
        check_name(self.name, what="--name")
        if self.agent_namespace:
            check_name(self.agent_namespace, what="--agent-namespace")
        if self.ca is not None and not self.ca.is_file():
            raise InvalidInput(f"--ca: {self.ca} is not a file")


class Spoke:
    """One spoke: a Link to the hub, a Reconciler on a backend, a StatusReporter, and a
    Retrier for failed applies."""

    def __init__(
        self,
        settings: Settings,
        *,
        backend: Backend | None = None,
        on_message: Callable[[spoke_pb2.ConnectResponse], None] | None = None,
    ) -> None:
        self.settings = settings
        s = settings
        if backend is None and not s.simulate:
            backend = KubernetesBackend(
                KubeSettings(kubeconfig=s.kubeconfig, agent_namespace=s.agent_namespace)
            )
        elif backend is None:
            backend = SimulatedCluster(
                SimulationSettings(ready_delay=s.ready_delay, fail_pattern=s.fail_pattern),
                name=s.name,
            )
            if s.agent_namespace:
                backend.agent_namespace = s.agent_namespace
        self.backend = backend
        if s.data_dir is not None:
            s.data_dir.mkdir(parents=True, exist_ok=True)
        self.state = LocalState(s.data_dir / "deployments.json" if s.data_dir else None)
        self.reporter = StatusReporter(window=s.report_window)
        self.retrier = Retrier(s.retry)
        self.reconciler = Reconciler(
            backend=backend,
            state=self.state,
            sink=self.reporter,
            retries=self.retrier,
            cluster_name=s.name,
        )
        credential_path = s.data_dir / "credential.json" if s.data_dir else None
        # A backend without a place for it (the simulated one) ignores --credential-secret.
        self.mirror: MirroredCredentialStore | None = (
            backend.credential_mirror(credential_path, secret=s.credential_secret)
            if s.credential_secret
            else None
        )
        self.credentials: CredentialStore = (
            self.mirror if self.mirror is not None else CredentialStore(credential_path)
        )
        self.link = Link(
            settings=LinkSettings(
                hub=s.hub,
                name=s.name,
                labels=s.labels,
                token=s.token,
                ca_pem=s.ca.read_bytes() if s.ca else b"",
                insecure=s.insecure,
            ),
            credentials=self.credentials,
            reconciler=self.reconciler,
            reporter=self.reporter,
            on_message=on_message,
        )
        # Only when served: a registry (with process and platform collectors) per spoke is
        # not free, and a simulator host runs hundreds of spokes in one process.
        self.metrics: SpokeMetrics | None = None
        self.metrics_server: metrics_http.MetricsServer | None = None
        if s.metrics_listen:
            self.metrics = SpokeMetrics()
            self.metrics.watch(reconciler=self.reconciler, backend=backend, link=self.link)
            self.metrics_server = metrics_http.MetricsServer(
                listen=s.metrics_listen, registry=self.metrics.registry
            )

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Run until `stop` is set; without one, until cancelled (tests, bench.crash)."""
        # Connected first: indexing what the state holds asks which kinds are namespaced.
        async with self.backend:
            await self._run(stop)

    async def _run(self, stop: asyncio.Event | None) -> None:
        self.state.load()
        await self.reconciler.start()
        mirror = self.mirror
        if mirror is not None:
            await mirror.restore()
        metrics_server = self.metrics_server
        if metrics_server is not None:
            await metrics_server.start()  # a taken port fails the start, not a loop forever
        try:
            await self._loops(stop, metrics_server)
        finally:
            if metrics_server is not None:
                await metrics_server.close()

    async def _loops(
        self, stop: asyncio.Event | None, metrics_server: metrics_http.MetricsServer | None
    ) -> None:
        mirror = self.mirror
        # The stop idiom (argosy/tasks.py): leaving this block, on stop or on cancellation,
        # cancels every loop and waits for them with a bound.
        async with Loops(log=log) as loops:
            if mirror is not None:
                loops.start("credential-secret", mirror.run)
            if metrics_server is not None:
                loops.start("metrics", metrics_server.run)
            loops.start("link", self.link.run)
            if not self.settings.insecure:
                loops.start("certificate-renewal", self.link.renew)
            loops.start("reconciler-watch", self.reconciler.run)
            loops.start(
                "apply-retry", lambda: self.retrier.run(self.reconciler, self.backend.kinds)
            )
            loops.start(
                "status-reporter", lambda: self.reporter.run(self.reconciler, self.link.send)
            )
            await loops.wait(stop)


def parse_settings(argv: Sequence[str] | None) -> Settings:
    env = os.environ
    p = argparse.ArgumentParser(
        prog="argosy spoke",
        description="Run an Argosy spoke.",
        epilog="example:\n  argosy spoke --hub hub.example:7443 --name prod-1 --labels env=prod "
        "--token TOKEN --ca ca.pem\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--hub", default=env.get("ARGOSY_HUB", ""), help="HOST:PORT of the hub")
    p.add_argument("--name", default=env.get("ARGOSY_SPOKE_NAME", ""), help="cluster name")
    p.add_argument(
        "--labels",
        default=env.get("ARGOSY_SPOKE_LABELS", ""),
        help="k=v,k2=v2: sent when the cluster registers; labels set or removed on the hub "
        "(argosy cluster label) win over these",
    )
    p.add_argument("--token", default=env.get("ARGOSY_SPOKE_TOKEN", ""), help="registration token")
    p.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="credential and state (default: ~/.local/share/argosy/spoke/NAME)",
    )
    p.add_argument(
        "--kubeconfig",
        default=env.get("KUBECONFIG", ""),
        help="kubeconfig of the cluster to manage (default: in-cluster, else ~/.kube/config)",
    )
    p.add_argument(
        "--credential-secret",
        default=env.get("ARGOSY_SPOKE_CREDENTIAL_SECRET", ""),
        metavar="[NAMESPACE/]NAME",
        help="also keep the cluster credential in this Secret (in-cluster agents)",
    )
    p.add_argument(
        "--agent-namespace",
        default=env.get("ARGOSY_SPOKE_AGENT_NAMESPACE", ""),
        help="namespace of the accounts fleet.yaml serviceAccount names (default: the pod's "
        "own, else argosy-system)",
    )
    p.add_argument(
        "--ca",
        type=Path,
        default=Path(env["ARGOSY_SPOKE_CA"]) if env.get("ARGOSY_SPOKE_CA") else None,
        help="PEM of the hub CA (from `argosy token create -o json`, caPem)",
    )
    p.add_argument(
        "--insecure", action="store_true", help="plaintext, to a hub run with --insecure"
    )
    p.add_argument("--simulate", action="store_true", help="use the simulated cluster backend")
    p.add_argument("--simulate-ready-delay", type=float, default=0.5, metavar="SECONDS")
    p.add_argument(
        "--simulate-fail",
        default="",
        metavar="REGEX",
        help="simulated applies of objects whose name matches fail",
    )
    p.add_argument("--log-level", default=env.get("ARGOSY_SPOKE_LOG_LEVEL", "INFO"))
    metrics_http.add_flags(p, env, prefix="ARGOSY_SPOKE", example_port=9101)
    args = p.parse_args(argv)
    try:
        return Settings(
            hub=args.hub,
            name=args.name,
            labels=parse_labels(args.labels, what="--labels"),
            token=args.token,
            data_dir=args.data_dir or default_data_dir(args.name or "spoke"),
            simulate=args.simulate,
            kubeconfig=args.kubeconfig,
            credential_secret=args.credential_secret,
            agent_namespace=args.agent_namespace,
            ready_delay=args.simulate_ready_delay,
            fail_pattern=args.simulate_fail,
            log_level=args.log_level,
            ca=args.ca,
            insecure=args.insecure,
            metrics_listen=args.metrics_listen,
            metrics_public=args.metrics_public,
        )
    except InvalidInput as exc:
        p.error(str(exc))


async def serve(settings: Settings) -> None:
    stop = asyncio.Event()
    install_stop_signals(stop)
    await Spoke(settings).run(stop)


def main(argv: Sequence[str] | None = None) -> None:
    settings = parse_settings(argv)
    setup_logging(settings.log_level)
    try:
        Spoke(settings)  # fail fast on configuration errors, before any network
    except InvalidInput as exc:
        raise SystemExit(f"argosy spoke: {exc}") from None
    asyncio.run(serve(settings))
