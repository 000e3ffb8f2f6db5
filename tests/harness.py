"""Test harness: a real hub on 127.0.0.1:0 and spokes on simulated clusters, in one event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from argosy import config, pki
from argosy.api.v1 import fleet_pb2, fleet_pb2_grpc, resources_pb2, spoke_pb2, spoke_pb2_grpc
from hub.app import Hub
from hub.app import Settings as HubSettings
from spoke.app import Settings as SpokeSettings
from spoke.app import Spoke
from spoke.backends.simulated import SimulatedCluster, SimulationSettings


async def eventually(
    check: Callable[[], object], *, timeout: float = 10.0, interval: float = 0.02, what: str = ""
) -> None:
    """Poll check() until it is truthy, or fail after timeout (no bare sleeps in tests)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or check}: last={last!r}")


@dataclass
class RunningHub:
    hub: Hub
    task: asyncio.Task[None]
    channel: grpc.aio.Channel = field(init=False)
    stub: fleet_pb2_grpc.FleetServiceAsyncStub = field(init=False)

    def __post_init__(self) -> None:
        self.channel = self.admin_channel()
        self.stub = fleet_pb2_grpc.FleetServiceStub(self.channel)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.hub.port}"

    @property
    def insecure(self) -> bool:
        return self.hub.settings.insecure

    @property
    def ca_path(self) -> Path | None:
        return None if self.insecure else self.hub.settings.data_dir / "ca.pem"

    @property
    def config_path(self) -> Path:
        """The hub's admin.yaml: a CLI context with its CA and an admin token."""
        return self.hub.settings.data_dir / "admin.yaml"

    def admin_channel(self, token: str | None = None) -> grpc.aio.Channel:
        """An admin API channel: TLS with this token (default: the hub's admin token)."""
        if self.insecure:
            return grpc.aio.insecure_channel(self.address)
        if token is None:
            ctx = config.load(self.config_path).context()
            token = ctx.token if ctx else ""
        creds = grpc.ssl_channel_credentials(root_certificates=self.ca_path.read_bytes())  # type: ignore[union-attr]
        if token:
            creds = grpc.composite_channel_credentials(
                creds, grpc.access_token_call_credentials(token)
            )
        return grpc.aio.secure_channel(self.address, creds)

    def register_channel(self) -> grpc.aio.Channel:
        """The main port as a spoke sees it before it has a certificate."""
        if self.insecure:
            return grpc.aio.insecure_channel(self.address)
        ca = self.ca_path.read_bytes()  # type: ignore[union-attr]
        return grpc.aio.secure_channel(self.address, grpc.ssl_channel_credentials(ca))

    async def register(
        self, *, token: str, name: str, labels: Mapping[str, str] | None = None
    ) -> spoke_pb2.RegisterResponse:
        """Register a cluster as a spoke would (with a CSR on a TLS hub)."""
        csr = b"" if self.insecure else pki.cluster_csr(pki.new_key(), name)
        async with self.register_channel() as channel:
            return await spoke_pb2_grpc.SpokeServiceStub(channel).Register(
                spoke_pb2.RegisterRequest(
                    token=token, cluster_name=name, labels=dict(labels or {}), csr_pem=csr
                ),
                timeout=10,
            )


@asynccontextmanager
async def running_hub(
    data_dir: Path, *, port: int = 0, **overrides: object
) -> AsyncIterator[RunningHub]:
    settings = HubSettings(listen=f"127.0.0.1:{port}", data_dir=data_dir, **overrides)  # type: ignore[arg-type]
    hub = Hub(settings)
    task = asyncio.create_task(hub.run(), name="test-hub")
    ready = asyncio.create_task(hub.ready.wait())
    await asyncio.wait({task, ready}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        ready.cancel()
        task.result()
    running = RunningHub(hub, task)
    try:
        yield running
    finally:
        await running.channel.close()
        hub.stop.set()
        await asyncio.wait_for(task, 15)


@dataclass
class RunningSpoke:
    spoke: Spoke
    cluster: SimulatedCluster
    received: list[spoke_pb2.ConnectResponse] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    def upserts(self) -> list[spoke_pb2.DeploymentUpsert]:
        return [m.upsert for m in self.received if m.WhichOneof("msg") == "upsert"]

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with suppress(asyncio.CancelledError):
                await self.task
            self.task = None


def start_spoke(
    *,
    hub: RunningHub,
    name: str,
    labels: Mapping[str, str],
    token: str,
    data_dir: Path,
    cluster: SimulatedCluster | None = None,
    ready_delay: float = 0.05,
    **overrides: object,
) -> RunningSpoke:
    cluster = cluster or SimulatedCluster(SimulationSettings(ready_delay=ready_delay), name=name)
    received: list[spoke_pb2.ConnectResponse] = []
    spoke = Spoke(
        SpokeSettings(
            hub=hub.address,
            name=name,
            labels=dict(labels),
            token=token,
            data_dir=data_dir,
            report_window=0.02,
            ca=hub.ca_path,
            insecure=hub.insecure,
            **overrides,  # type: ignore[arg-type]
        ),
        backend=cluster,
        on_message=received.append,
    )
    running = RunningSpoke(spoke, cluster, received)
    running.task = asyncio.create_task(spoke.run(), name=f"test-spoke-{name}")
    return running


def bundle_spec(name: str, files: Mapping[str, str]) -> fleet_pb2.BundleSpec:
    return fleet_pb2.BundleSpec(
        name=name,
        files=[resources_pb2.BundleFile(path=p, content=c.encode()) for p, c in files.items()],
    )


async def status_of(stub: fleet_pb2_grpc.FleetServiceAsyncStub) -> fleet_pb2.GetStatusResponse:
    return await stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=5)


async def bundle_status(
    stub: fleet_pb2_grpc.FleetServiceAsyncStub, name: str
) -> fleet_pb2.BundleStatus | None:
    for b in (await status_of(stub)).bundles:
        if b.name == name:
            return b
    return None
