"""The hub's composition root: settings, wiring, and the supervised loops of one hub process."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import ssl
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from argosy import config
from argosy import metrics as metrics_http
from argosy.api.v1 import fleet_pb2, spoke_pb2
from argosy.bundle.charts import (
    DEFAULT_CACHE_BYTES,
    ArchiveCache,
    ChartFetcher,
    FirstOf,
    credentials_from_file,
    trust,
)
from argosy.errors import InvalidInput
from argosy.runtime import setup_logging
from argosy.tasks import Loops, install_stop_signals
from hub import tls as hub_tls
from hub.admin_auth import AdminAuth, AuthInterceptor
from hub.core.events import DEFAULT_RETENTION
from hub.dashboard.server import Dashboard
from hub.delivery.payloads import PayloadCache
from hub.fleet import Fleet, Limits
from hub.fleet_service import FleetService, add_to_server
from hub.metrics import DEFAULT_MAX_DEPLOYMENT_SERIES, HubMetrics
from hub.persistence.postgres import PostgresStore, redact
from hub.persistence.protocol import Store
from hub.persistence.sqlite import SqliteStore
from hub.rendering import Renderer
from hub.replication import PublishingStore, Replication
from hub.sources.fetch import GitFetcher
from hub.sources.git import GitSource
from hub.sources.secrets import Secrets
from hub.sources.webhook import WebhookReceiver
from hub.spoke_service import SpokeService, handler
from hub.status import StatusBook

log = logging.getLogger("hub")


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return Path(base) / "argosy" / "hub"


@dataclass(frozen=True)
class Settings:
    listen: str = "127.0.0.1:7443"
    """host:port to serve gRPC on; port 0 picks a free one (written to DATA_DIR/hub.addr)."""
    data_dir: Path = field(default_factory=default_data_dir)
    """Directory for the SQLite database and hub.addr."""
    heartbeat_seconds: int = 30
    """How often spokes send a heartbeat."""
    offline_grace_seconds: float = 60.0
    """A cluster whose stream is down longer than this shows Offline."""
    send_deadline_seconds: float = 30.0
    """A spoke that does not take a message within this long is disconnected (it resyncs)."""
    max_bundle_bytes: int = Limits.max_bundle_bytes
    """Largest bundle (sum of its files) an apply may send."""
    max_resources: int = Limits.max_resources
    """Most resources one bundle may render to."""
    shutdown_grace: float = 2.0
    """Seconds in-flight calls get to finish on stop."""
    log_level: str = "INFO"
    """Python logging level."""
    store: str = "sqlite"
    """Where state lives: `sqlite` (DATA_DIR/argosy.db) or a `postgresql://` DSN."""
    reuse_port: bool = False
    """Share the listening port with other hub replicas (SO_REUSEPORT); off, a busy port fails
    the start loudly instead of silently sharing it."""
    insecure: bool = False
    """Plaintext, no client certificates, no admin tokens: benchmarks and experiments only."""
    spoke_listen: str = ""
    """host:port where spokes Connect with client certificates; default: listen port + 1."""
    advertise: tuple[str, ...] = ()
    """Extra host names and addresses for the hub's serving certificate."""
    admin_hub: str = ""
    """HOST:PORT that DATA_DIR/admin.yaml names (written on first start); default: the listen
    address, 0.0.0.0 read as 127.0.0.1. A hub in a cluster names the address users reach."""
    client_cert_days: float = 30.0
    """Validity of cluster certificates; spokes renew them after two thirds of it."""
    ca_cert: Path | None = None
    """Use this CA (PEM) instead of the hub's own; needs ca_key."""
    ca_key: Path | None = None
    chart_cache_bytes: int = DEFAULT_CACHE_BYTES
    """Most bytes of Helm chart archives kept in DATA_DIR/charts (least recently used go)."""
    chart_credentials: Path | None = None
    """YAML of chart repository credentials by host (`HOST[:PORT]: {username, password}`);
    each host's are sent to that host only. Secrets with --helm-repo-host are the other way;
    for a host in both, the file wins."""
    chart_ca: Path | None = None
    """PEM CA certificates trusted, besides the system's, for HTTPS chart repositories."""
    webhook_listen: str = ""
    """host:port for git push webhooks (TLS with the hub's certificate); off when empty."""
    event_retention: int = DEFAULT_RETENTION
    """Events the store keeps (the newest); older ones are trimmed as new ones are written."""
    history_limit: int = 10
    """Revisions kept in each bundle's history (`argosy bundle history`, rollback); older
    ones are dropped on the next apply."""
    webhook_secret: str = field(default="", repr=False)
    """The GitHub webhook secret / GitLab token that webhooks must carry; required with
    webhook_listen (--webhook-secret-file, ARGOSY_HUB_WEBHOOK_SECRET)."""
    metrics_listen: str = ""
    """host:port for Prometheus /metrics over plain HTTP; off when empty. A loopback host
    unless metrics_public (--metrics-listen, ARGOSY_HUB_METRICS_LISTEN). Port 0 picks a free
    one, written to DATA_DIR/metrics.addr."""
    metrics_public: bool = False
    """Allow metrics_listen on a non-loopback address (--metrics-public)."""
    metrics_max_deployment_series: int = DEFAULT_MAX_DEPLOYMENT_SERIES
    """Most series of the per-cluster families (non-Ready deployments, offline clusters) one
    scrape shows, worst first; the rest are counted in argosy_hub_series_dropped."""
    dashboard_listen: str = ""
    """host:port for the web dashboard (TLS with the hub's certificate unless --insecure);
    off when empty. Its URL is written to DATA_DIR/dashboard.url."""

    def __post_init__(self) -> None:
        host, sep, port = self.listen.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"--listen / ARGOSY_HUB_LISTEN: {self.listen!r} is not HOST:PORT")
        if self.admin_hub:
            host, sep, port = self.admin_hub.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(
                    f"--admin-hub / ARGOSY_HUB_ADMIN_HUB: {self.admin_hub!r} is not HOST:PORT"
                )
        if bool(self.ca_cert) != bool(self.ca_key):
            raise ValueError("--ca-cert and --ca-key go together")
        if self.chart_cache_bytes < 1:
            raise ValueError("--chart-cache-bytes / ARGOSY_HUB_CHART_CACHE_BYTES must be positive")
        if self.webhook_listen:
            host, sep, port = self.webhook_listen.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"--webhook-listen: {self.webhook_listen!r} is not HOST:PORT")
            if not self.webhook_secret:
                raise ValueError(
                    "--webhook-listen needs a secret: --webhook-secret-file or "
                    "ARGOSY_HUB_WEBHOOK_SECRET (unsigned webhooks are never accepted)"
                )
        if self.event_retention < 1:
            raise ValueError("--event-retention / ARGOSY_HUB_EVENT_RETENTION must be at least 1")
        if self.history_limit < 1:
            raise ValueError(
                f"--history-limit / ARGOSY_HUB_HISTORY_LIMIT: {self.history_limit} is not "
                "at least 1"
            )
        if self.metrics_listen:
            metrics_http.check_listen(
                self.metrics_listen, public=self.metrics_public, flag="--metrics-listen"
            )
        if self.metrics_max_deployment_series < 0:
            raise ValueError("--metrics-max-deployment-series must be 0 or more")
        if self.dashboard_listen:
            host, sep, port = self.dashboard_listen.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(
                    f"--dashboard-listen / ARGOSY_HUB_DASHBOARD_LISTEN: "
                    f"{self.dashboard_listen!r} is not HOST:PORT"
                )
        if self.heartbeat_seconds < 1:
            raise ValueError("--heartbeat-seconds must be at least 1")
        if self.store != "sqlite" and not self.store.startswith(("postgresql://", "postgres://")):
            raise ValueError(
                f"--store / ARGOSY_HUB_STORE: {redact(self.store)!r} is neither 'sqlite' "
                "nor a postgresql:// DSN"
            )

    def spoke_address(self, main_port: int) -> str:
        if self.spoke_listen:
            return self.spoke_listen
        host, _, port = self.listen.rpartition(":")
        return f"{host}:{int(port) + 1 if int(port) else 0}"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "argosy.db"

    @property
    def store_name(self) -> str:
        """Where state lives, fit for a log line (no password)."""
        return str(self.db_path) if self.store == "sqlite" else redact(self.store)


def make_store(settings: Settings) -> Store:
    """The store the settings name, not yet open: embedded SQLite, or a shared PostgreSQL."""
    if settings.store == "sqlite":
        return SqliteStore(settings.db_path)
    return PostgresStore(settings.store)


SERVER_OPTIONS = [
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    # Spokes ping at most every 10 s; accept that without counting strikes.
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
    ("grpc.http2.max_ping_strikes", 0),
    # A burst of thousands of spokes connecting at once must not be refused.
    ("grpc.server.max_pending_requests", 20_000),
    # TLS records of at most 4 KB instead of 16 KB: gRPC keeps a buffer of this size per TLS
    # connection, so this saves ~12 KB of hub RSS per spoke (137 -> 125 KB at N = 1,000 mTLS)
    # at no measured CPU cost (docs/benchmarks.md, "TLS and mTLS").
    ("grpc.tsi.max_frame_size", 4096),
]
# Plus ("grpc.so_reuseport", 0 or 1) from Settings.reuse_port: gRPC's default is 1, which
# would let a second hub start on a busy port and silently take half its connections.


class ListenError(OSError):
    """An address the hub cannot listen on: its port is taken, or the host is not this one."""


def check_listen(address: str, *, reuse_port: bool) -> None:
    """Refuse, in one line, an address gRPC could not bind (it would log and raise instead).

    gRPC binds every address the host resolves to and fails only if none binds; so does this.
    A taken port can still be lost in the moment after this check; binding then raises too.
    """
    host, _, port_text = address.rpartition(":")
    port = int(port_text)
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(
            host.strip("[]") or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except OSError as exc:
        raise ListenError(f"cannot listen on {address}: {exc.strerror or exc}") from None
    reason = ""
    for family, kind, proto, _, sockaddr in infos:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            try:
                sock.bind(sockaddr)
            except OSError as exc:
                reason = reason or str(exc.strerror or exc)
                continue
        return
    raise ListenError(f"cannot listen on {address}: {reason.lower() or 'no address to bind'}")


def _bind(add_port: Callable[[], int], address: str) -> int:
    try:
        return add_port()
    except RuntimeError:
        raise ListenError(f"cannot listen on {address}") from None


class Hub:
    """One hub process. `run()` serves until `stop` is set, then shuts down in order."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stop = asyncio.Event()
        self.ready = asyncio.Event()
        self.port = 0
        self.spoke_port = 0
        self.fleet: Fleet | None = None
        self.payloads: PayloadCache | None = None
        self.renderer: Renderer | None = None
        self.git_source: GitSource | None = None
        self.webhooks: WebhookReceiver | None = None
        self.metrics = HubMetrics(
            max_deployment_series=settings.metrics_max_deployment_series,
            heartbeat_seconds=settings.heartbeat_seconds,
        )
        self.metrics_server: metrics_http.MetricsServer | None = None
        self.dashboard: Dashboard | None = None

    async def run(self) -> None:
        s = self.settings
        # Before anything else, so that a taken port is one line, not a traceback after logs.
        check_listen(s.listen, reuse_port=s.reuse_port)
        if not s.insecure:
            check_listen(s.spoke_address(0), reuse_port=s.reuse_port)
        if s.metrics_listen:
            check_listen(s.metrics_listen, reuse_port=False)
        # SQLite would make it; hub.addr needs it whichever store holds the state.
        s.data_dir.mkdir(parents=True, exist_ok=True)
        store = make_store(s)
        await store.open()
        # Replicas on one PostgreSQL: a change feed between them (hub/replication/), opened
        # before the fleet loads so that nothing committed meanwhile is missed.
        replication = Replication(s.store) if s.store != "sqlite" else None
        try:
            if replication is not None:
                await replication.open()
                store = PublishingStore(store, replication)
            book = StatusBook()
            # Remote Helm charts: fetched once per (repo, chart, version), kept by content
            # in the data dir within a size bound, shared by every render.
            # Credentials from the operator's file first, then from the secrets in the store.
            secrets = Secrets(store)
            from_file = (credentials_from_file(s.chart_credentials),) if s.chart_credentials else ()
            charts = ChartFetcher(
                ArchiveCache(s.data_dir / "charts", max_bytes=s.chart_cache_bytes),
                credentials=FirstOf((*from_file, secrets)),
                tls=trust(s.chart_ca) if s.chart_ca else None,
            )
            renderer = Renderer(charts=charts, on_render=self.metrics.render_duration.observe)
            host = s.listen.rpartition(":")[0]
            tls = None
            admin_auth = None
            if not s.insecure:
                tls = await hub_tls.setup(
                    store,
                    listen_host=host,
                    extra_names=s.advertise,
                    client_cert_days=s.client_cert_days,
                    ca_cert=s.ca_cert,
                    ca_key=s.ca_key,
                )
                admin_auth = AdminAuth(store)
                (s.data_dir / "ca.pem").write_bytes(tls.ca.cert_pem)
            fleet = Fleet(
                store=store,
                status=book,
                renderer=renderer,
                offline_grace=s.offline_grace_seconds,
                limits=Limits(max_bundle_bytes=s.max_bundle_bytes, max_resources=s.max_resources),
                issuer=tls.issue if tls else None,
                event_retention=s.event_retention,
                history_limit=s.history_limit,
            )
            fleet.peers = replication
            await fleet.load()
            payloads = PayloadCache(fleet)
            # Git sources: a loop beside the servicers that applies through the fleet.
            git_source = GitSource(
                store=store, fleet=fleet, fetcher=GitFetcher(s.data_dir / "repos")
            )
            self.git_source = git_source
            self.metrics.watch(
                fleet=fleet, sent=payloads.counters, renderer=renderer, git=git_source
            )
            fleet_service = FleetService(
                fleet=fleet,
                book=book,
                admin_auth=admin_auth,
                # The same condition as the AuthInterceptor below: tokens checked.
                authenticated=admin_auth is not None,
                ca_pem=tls.ca.cert_pem if tls else b"",
                repos=git_source,
                secrets=secrets,
            )
            broadcaster = fleet_service.broadcaster
            self.fleet, self.payloads, self.renderer = fleet, payloads, renderer
            if s.dashboard_listen:
                # Built before the loops start, so that tests and the demo can wait on it.
                (s.data_dir / "dashboard.url").unlink(missing_ok=True)
                self.dashboard = Dashboard(
                    listen=s.dashboard_listen,
                    fleet=fleet,
                    book=book,
                    broadcaster=broadcaster,
                    role_of=admin_auth.role_of if admin_auth else None,
                    ssl_context=_server_ssl(tls) if tls else None,
                    url_file=s.data_dir / "dashboard.url",
                )
            spoke_service = SpokeService(
                fleet=fleet,
                payloads=payloads,
                heartbeat_seconds=s.heartbeat_seconds,
                send_deadline=s.send_deadline_seconds,
                ca_pem=tls.ca.cert_pem if tls else b"",
            )

            # The main port: admin API (admin tokens), registration, health, reflection.
            server = grpc.aio.server(
                options=[*SERVER_OPTIONS, ("grpc.so_reuseport", int(s.reuse_port))],
                interceptors=[AuthInterceptor(admin_auth)] if admin_auth else None,
            )
            add_to_server(fleet_service, server)
            server.add_generic_rpc_handlers((handler(spoke_service),))
            health_servicer = health.aio.HealthServicer()
            health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
            reflection.enable_server_reflection(
                [
                    fleet_pb2.DESCRIPTOR.services_by_name["FleetService"].full_name,
                    spoke_pb2.DESCRIPTOR.services_by_name["SpokeService"].full_name,
                    health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                    reflection.SERVICE_NAME,
                ],
                server,
            )
            servers = [server]
            if tls is None:
                self.port = _bind(lambda: server.add_insecure_port(s.listen), s.listen)
                spoke_service.stream_port = self.spoke_port = self.port
            else:
                main_creds = tls.credentials(require_client_auth=False)
                self.port = _bind(lambda: server.add_secure_port(s.listen, main_creds), s.listen)
                # The spoke port: Connect and renewal, only with a client certificate the hub
                # CA signed. gRPC cannot ask for a client certificate without requiring one,
                # so registration (which has none yet) lives on the main port.
                spoke_server = grpc.aio.server(
                    options=[*SERVER_OPTIONS, ("grpc.so_reuseport", int(s.reuse_port))]
                )
                spoke_server.add_generic_rpc_handlers((handler(spoke_service),))
                health_pb2_grpc.add_HealthServicer_to_server(health_servicer, spoke_server)
                spoke_address = s.spoke_address(self.port)
                spoke_creds = tls.credentials(require_client_auth=True)
                self.spoke_port = _bind(
                    lambda: spoke_server.add_secure_port(spoke_address, spoke_creds), spoke_address
                )
                spoke_service.stream_port = self.spoke_port
                servers.append(spoke_server)
            if not self.port or not self.spoke_port:
                raise OSError(f"cannot listen on {s.listen} / {s.spoke_address(self.port)}")
            for srv in servers:
                await srv.start()
            await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
            address = f"{host}:{self.port}"
            (s.data_dir / "hub.addr").write_text(address + "\n")
            if s.metrics_listen:
                self.metrics_server = metrics_http.MetricsServer(
                    listen=s.metrics_listen, registry=self.metrics.registry
                )
                await self.metrics_server.start()
                # Port 0 picks one: written down, as hub.addr is, for whoever scrapes it.
                metrics_host = s.metrics_listen.rpartition(":")[0]
                (s.data_dir / "metrics.addr").write_text(
                    f"{metrics_host}:{self.metrics_server.port}\n"
                )
            if admin_auth is not None and tls is not None:
                await self._write_admin_config(admin_auth, tls.ca.cert_pem, address)
            log.info(
                "hub listening on %s (%s), spokes connect on port %d, state in %s",
                address,
                "PLAINTEXT, NO AUTH: --insecure" if tls is None else "TLS",
                self.spoke_port,
                s.store_name,
            )
            self.ready.set()
            # The stop idiom (argosy/tasks.py): stop event, stop serving, then the loops stop
            # with a bound. An error or a cancellation stops the loops the same way.
            async with Loops(log=log) as loops:
                loops.start("store-writer", fleet.run)
                loops.start("status-broadcaster", broadcaster.run)
                loops.start("rollouts", fleet.run_rollouts)
                loops.start("liveness", fleet.run_liveness)
                loops.start("events", fleet.run_events)
                loops.start("git-sources", git_source.run)
                if s.webhook_listen:
                    webhooks = WebhookReceiver(
                        listen=s.webhook_listen,
                        secret=s.webhook_secret.encode(),
                        trigger=git_source.sync_matching,
                        ssl_context=_server_ssl(tls) if tls else None,
                    )
                    self.webhooks = webhooks
                    loops.start("webhooks", webhooks.run)
                if self.metrics_server is not None:
                    loops.start("metrics", self.metrics_server.run)
                if self.dashboard is not None:
                    loops.start("dashboard", self.dashboard.run)
                if replication is not None:
                    feed = replication
                    loops.start("replication", lambda: feed.run(fleet))
                await loops.wait(self.stop)
                log.info("stopping")
                await health_servicer.enter_graceful_shutdown()
                await asyncio.gather(*(srv.stop(s.shutdown_grace) for srv in servers))
            await fleet.flush()
        finally:
            if self.metrics_server is not None:  # started before the loops that close it
                await self.metrics_server.close()
            if replication is not None:
                await replication.close()
            await store.close()
            self.ready.clear()

    async def _write_admin_config(self, admin_auth: AdminAuth, ca_pem: bytes, address: str) -> None:
        """On first start, an admin token and DATA_DIR/admin.yaml, a CLI context using it."""
        path = self.settings.data_dir / "admin.yaml"
        if path.exists():
            return
        _, secret = await admin_auth.create("admin")
        hub = self.settings.admin_hub or address.replace("0.0.0.0:", "127.0.0.1:")
        config.save(
            config.Config().with_context(
                config.Context(name="admin", hub=hub, ca=ca_pem.decode(), token=secret)
            ),
            path,
        )
        log.info("wrote %s: an admin context (argosy --config %s status)", path, path)


def _server_ssl(tls: hub_tls.HubTls) -> ssl.SSLContext:
    """A TLS server context with the hub's own certificate (webhook receiver, dashboard).

    `load_cert_chain` reads files only: the key goes through a private temporary directory
    that is gone before this returns."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory(prefix="argosy-tls-") as tmp:
        cert, key = Path(tmp) / "cert.pem", Path(tmp) / "key.pem"
        cert.write_bytes(tls.server.cert_pem)
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(tls.server.key_pem)
        context.load_cert_chain(cert, key)
    return context


def parse_settings(argv: Sequence[str] | None) -> Settings:
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="argosy hub",
        description="Run an Argosy hub.",
        epilog="example:\n  argosy hub --data-dir /var/lib/argosy --listen 0.0.0.0:7443\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    def number(name: str, default: float, kind: Callable[[str], Any] = int) -> Any:
        """A flag's default from the environment: a bad value is a usage error naming the
        variable (a flag's own bad value names the flag)."""
        text = env.get(name)
        if text is None:
            return default
        try:
            return kind(text)
        except ValueError:
            expected = "a whole number" if kind is int else "a number"
            parser.error(f"{name}={text!r}: expected {expected}")

    parser.add_argument(
        "--listen", default=env.get("ARGOSY_HUB_LISTEN", Settings.listen), help="HOST:PORT"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=Path(env["ARGOSY_HUB_DATA_DIR"]) if "ARGOSY_HUB_DATA_DIR" in env else None,
        help="where the SQLite database lives (default: ~/.local/share/argosy/hub)",
    )
    parser.add_argument(
        "--heartbeat-seconds",
        type=int,
        default=number("ARGOSY_HUB_HEARTBEAT_SECONDS", Settings.heartbeat_seconds),
    )
    parser.add_argument(
        "--offline-grace-seconds",
        type=float,
        default=number("ARGOSY_HUB_OFFLINE_GRACE_SECONDS", Settings.offline_grace_seconds, float),
        help="seconds a cluster's stream may be down before it shows Offline (default 60)",
    )
    parser.add_argument("--max-bundle-bytes", type=int, default=Limits.max_bundle_bytes)
    parser.add_argument(
        "--history-limit",
        type=int,
        default=number("ARGOSY_HUB_HISTORY_LIMIT", Settings.history_limit),
        help="revisions kept per bundle for `argosy bundle history` and rollback (default 10)",
    )
    parser.add_argument("--max-resources", type=int, default=Limits.max_resources)
    parser.add_argument(
        "--send-deadline-seconds",
        type=float,
        default=Settings.send_deadline_seconds,
        help="disconnect a spoke that does not read its stream for this long",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        default=env.get("ARGOSY_HUB_INSECURE") == "1",
        help="plaintext, no client certificates, no admin tokens (benchmarks only; never expose)",
    )
    parser.add_argument(
        "--spoke-listen", default="", help="HOST:PORT for spoke streams (default: port + 1)"
    )
    parser.add_argument(
        "--advertise", default="", help="extra names/addresses for the serving certificate"
    )
    parser.add_argument(
        "--admin-hub",
        default=env.get("ARGOSY_HUB_ADMIN_HUB", ""),
        metavar="HOST:PORT",
        help="the hub address DATA_DIR/admin.yaml names (default: the listen address)",
    )
    parser.add_argument("--client-cert-days", type=float, default=Settings.client_cert_days)
    parser.add_argument("--ca-cert", type=Path, default=None, help="use this CA (PEM)")
    parser.add_argument("--ca-key", type=Path, default=None, help="the CA's key (PEM)")
    parser.add_argument("--log-level", default=env.get("ARGOSY_HUB_LOG_LEVEL", "INFO"))
    parser.add_argument(
        "--store",
        default=env.get("ARGOSY_HUB_STORE", Settings.store),
        help="'sqlite' (default: DATA_DIR/argosy.db) or postgresql://USER[:PASS]@HOST:PORT/DB",
    )
    parser.add_argument(
        "--reuse-port",
        action="store_true",
        default=env.get("ARGOSY_HUB_REUSE_PORT", "") not in ("", "0", "false"),
        help="share the port with other replicas of this hub (SO_REUSEPORT)",
    )
    parser.add_argument(
        "--chart-cache-bytes",
        type=int,
        default=number("ARGOSY_HUB_CHART_CACHE_BYTES", DEFAULT_CACHE_BYTES),
        help="most bytes of Helm chart archives kept in DATA_DIR/charts",
    )
    parser.add_argument(
        "--chart-credentials",
        type=Path,
        default=Path(env["ARGOSY_HUB_CHART_CREDENTIALS"])
        if env.get("ARGOSY_HUB_CHART_CREDENTIALS")
        else None,
        help="YAML file: chart repository credentials by host (HOST[:PORT]: {username, password})",
    )
    parser.add_argument(
        "--chart-ca",
        type=Path,
        default=Path(env["ARGOSY_HUB_CHART_CA"]) if env.get("ARGOSY_HUB_CHART_CA") else None,
        help="PEM file: CAs trusted, besides the system's, for HTTPS chart repositories",
    )
    parser.add_argument(
        "--webhook-listen",
        default=env.get("ARGOSY_HUB_WEBHOOK_LISTEN", ""),
        help="HOST:PORT for GitHub/GitLab push webhooks over TLS (default: off)",
    )
    parser.add_argument(
        "--webhook-secret-file",
        type=Path,
        default=None,
        help="file holding the webhook secret (or ARGOSY_HUB_WEBHOOK_SECRET)",
    )
    parser.add_argument(
        "--event-retention",
        type=int,
        default=number("ARGOSY_HUB_EVENT_RETENTION", DEFAULT_RETENTION),
        help="events kept in the store: the newest N deployment state changes and, apart, "
        f"the newest N of the other kinds (default {DEFAULT_RETENTION})",
    )
    metrics_http.add_flags(parser, env, prefix="ARGOSY_HUB", example_port=9100)
    parser.add_argument(
        "--metrics-max-deployment-series",
        type=int,
        default=number("ARGOSY_HUB_METRICS_MAX_DEPLOYMENT_SERIES", DEFAULT_MAX_DEPLOYMENT_SERIES),
        metavar="N",
        help="most per-cluster series (non-Ready deployments, offline clusters) one scrape "
        f"shows, worst first (default {DEFAULT_MAX_DEPLOYMENT_SERIES})",
    )
    parser.add_argument(
        "--dashboard-listen",
        default=env.get("ARGOSY_HUB_DASHBOARD_LISTEN", ""),
        help="HOST:PORT for the web dashboard (TLS unless --insecure; default: off)",
    )
    args = parser.parse_args(argv)
    webhook_secret = env.get("ARGOSY_HUB_WEBHOOK_SECRET", "")
    if args.webhook_secret_file is not None:
        try:
            webhook_secret = args.webhook_secret_file.read_text().strip()
        except OSError as exc:
            parser.error(f"--webhook-secret-file {args.webhook_secret_file}: {exc.strerror}")
    try:
        # Read now as well as at start, so a bad file is one line naming it, not a traceback.
        if args.chart_ca is not None:
            trust(args.chart_ca)
        if args.chart_credentials is not None:
            credentials_from_file(args.chart_credentials)
        return Settings(
            listen=args.listen,
            data_dir=args.data_dir or default_data_dir(),
            heartbeat_seconds=args.heartbeat_seconds,
            offline_grace_seconds=args.offline_grace_seconds,
            max_bundle_bytes=args.max_bundle_bytes,
            max_resources=args.max_resources,
            history_limit=args.history_limit,
            send_deadline_seconds=args.send_deadline_seconds,
            log_level=args.log_level,
            store=args.store,
            reuse_port=args.reuse_port,
            insecure=args.insecure,
            spoke_listen=args.spoke_listen,
            advertise=tuple(a for a in args.advertise.split(",") if a),
            admin_hub=args.admin_hub,
            client_cert_days=args.client_cert_days,
            ca_cert=args.ca_cert,
            ca_key=args.ca_key,
            chart_cache_bytes=args.chart_cache_bytes,
            chart_credentials=args.chart_credentials,
            chart_ca=args.chart_ca,
            webhook_listen=args.webhook_listen,
            webhook_secret=webhook_secret,
            event_retention=args.event_retention,
            metrics_listen=args.metrics_listen,
            metrics_public=args.metrics_public,
            metrics_max_deployment_series=args.metrics_max_deployment_series,
            dashboard_listen=args.dashboard_listen,
        )
    except (ValueError, InvalidInput) as exc:
        parser.error(str(exc))


async def serve(settings: Settings) -> None:
    hub = Hub(settings)
    install_stop_signals(hub.stop)
    await hub.run()


def main(argv: Sequence[str] | None = None) -> None:
    settings = parse_settings(argv)
    setup_logging(settings.log_level)
    try:
        asyncio.run(serve(settings))
    except ListenError as exc:
        print(f"argosy hub: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
