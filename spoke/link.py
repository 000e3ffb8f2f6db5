"""Link: the spoke's one outbound stream to the hub, kept up for the life of the process.

It registers once with a token (then keeps only the credential), opens Connect, says hello with
the revisions it holds, and passes what arrives to the reconciler. A broken stream is reopened
after a jittered exponential backoff, so a restarting hub is not stampeded by its spokes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import grpc

import argosy
from argosy import pki
from argosy.api.v1 import spoke_pb2, spoke_pb2_grpc
from argosy.runtime import backoff_delays
from spoke.reconciler import Reconciler
from spoke.reporter import StatusReporter
from spoke.state import Credential, CredentialStore

log = logging.getLogger(__name__)

CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    # Reconnects are paced by the Link's own backoff.
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", 10_000),
]


@dataclass(frozen=True)
class LinkSettings:
    hub: str
    """HOST:PORT of the hub; several replicas, comma-separated, are tried in turn."""
    name: str
    """This cluster's name."""
    labels: dict[str, str]
    """This cluster's labels, sent when registering."""
    token: str = ""
    """Registration token; only needed until the first successful registration."""
    ca_pem: bytes = b""
    """The hub CA to trust; empty only with insecure."""
    insecure: bool = False
    """Plaintext to a hub run with --insecure (no certificates)."""
    rpc_timeout: float = 15.0
    """Deadline for unary calls and for the hub's welcome."""
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    stable_after: float = 10.0
    """A stream that lasted this long resets the backoff."""


class ChunkAssembler:
    """Puts a chunked DeploymentUpsert back together; one in progress per bundle."""

    def __init__(self) -> None:
        self._parts: dict[str, list[spoke_pb2.DeploymentUpsert]] = {}

    def add(self, part: spoke_pb2.DeploymentUpsert) -> spoke_pb2.DeploymentUpsert | None:
        """The whole upsert once its last chunk is in, else None."""
        if part.chunk_count <= 1:
            self._parts.pop(part.bundle, None)
            return part
        parts = self._parts.setdefault(part.bundle, [])
        if parts and (parts[0].revision, parts[0].base_revision) != (
            part.revision,
            part.base_revision,
        ):
            parts.clear()  # a newer revision replaced an unfinished one
        if part.chunk_index != len(parts):
            log.warning("bundle %s: chunk %d out of order; dropped", part.bundle, part.chunk_index)
            parts.clear()
            return None
        parts.append(part)
        if len(parts) < part.chunk_count:
            return None
        del self._parts[part.bundle]
        whole = spoke_pb2.DeploymentUpsert()
        whole.CopyFrom(parts[-1])
        del whole.upserts[:]
        for p in parts:
            whole.upserts.extend(p.upserts)
        whole.chunk_index, whole.chunk_count = 0, 1
        return whole


def stream_address(hub: str, cred: Credential) -> str:
    """Where to open the stream when dialling `hub` (pure).

    The registering hub said its spoke port; another replica (a --hub fallback) keeps the same
    distance between its main and spoke ports, as replicas started alike do.
    """
    host, _, port = hub.rpartition(":")
    if not cred.registered_hub or hub == cred.registered_hub:
        return f"{host}:{cred.stream_port}"
    offset = cred.stream_port - int(cred.registered_hub.rpartition(":")[2])
    return f"{host}:{int(port) + offset}"


class Unregistered(Exception):
    """No credential and no usable token: an operator must act."""


class _StreamEnded(Exception):
    """The hub closed the stream."""


class Link:
    def __init__(
        self,
        *,
        settings: LinkSettings,
        credentials: CredentialStore,
        reconciler: Reconciler,
        reporter: StatusReporter,
        on_message: Callable[[spoke_pb2.ConnectResponse], None] | None = None,
    ) -> None:
        # "a:1,b:2": hub replicas sharing one fleet; a broken stream moves on to the next.
        self._hubs = tuple(h.strip() for h in settings.hub.split(",") if h.strip())
        self._s = replace(settings, hub=self._hubs[0]) if len(self._hubs) > 1 else settings
        self._credentials = credentials
        self._reconciler = reconciler
        self._reporter = reporter
        self._on_message = on_message
        self._queue: asyncio.Queue[spoke_pb2.ConnectRequest] | None = None
        self._chunks = ChunkAssembler()
        self.connected = asyncio.Event()
        self.cluster_id = ""
        self.streams_opened = 0
        self.renewals = 0

    async def send(self, msg: spoke_pb2.ConnectRequest) -> None:
        """Queue a message for the hub, waiting for a stream if there is none."""
        while True:
            await self.connected.wait()
            queue = self._queue
            if queue is not None:
                await queue.put(msg)
                return

    def _channel(self, cred: Credential | None) -> grpc.aio.Channel:
        """To the hub's main port for registration (cred None, or a bearer credential), or to its
        spoke port with the cluster's certificate (mTLS)."""
        if self._s.insecure:
            return grpc.aio.insecure_channel(self._s.hub, options=CHANNEL_OPTIONS)
        if cred is None or not cred.cert_pem:
            creds = grpc.ssl_channel_credentials(root_certificates=self._s.ca_pem)
            return grpc.aio.secure_channel(self._s.hub, creds, options=CHANNEL_OPTIONS)
        creds = grpc.ssl_channel_credentials(
            root_certificates=cred.ca_pem.encode() or self._s.ca_pem,
            private_key=cred.key_pem.encode(),
            certificate_chain=cred.cert_pem.encode(),
        )
        return grpc.aio.secure_channel(
            stream_address(self._s.hub, cred), creds, options=CHANNEL_OPTIONS
        )

    async def run(self) -> None:
        delays = backoff_delays(initial=self._s.backoff_initial, maximum=self._s.backoff_max)
        while True:
            started = time.monotonic()
            try:
                cred = await self._credential()
                async with self._channel(cred) as channel:
                    await self._stream(spoke_pb2_grpc.SpokeServiceStub(channel), cred)
            except grpc.aio.AioRpcError as exc:
                if exc.code() == grpc.StatusCode.UNAUTHENTICATED and self._s.token:
                    log.warning("hub refused our credential (%s); registering again", exc.details())
                    self._credentials.clear()
                else:
                    log.warning(
                        "stream to %s ended: %s %s", self._s.hub, exc.code().name, exc.details()
                    )
            except _StreamEnded:
                log.warning("hub %s closed the stream", self._s.hub)
            except Unregistered as exc:
                log.error("%s", exc)
            except TimeoutError:
                log.warning("hub %s did not answer in time", self._s.hub)
            except Exception:
                # The loop boundary: whatever broke this stream, back off and open another.
                log.exception("stream to %s failed", self._s.hub)
            finally:
                self.connected.clear()
                self._queue = None
            if time.monotonic() - started > self._s.stable_after:
                delays = backoff_delays(
                    initial=self._s.backoff_initial, maximum=self._s.backoff_max
                )
            if len(self._hubs) > 1:
                # Any replica serves any spoke: the hello carries what this spoke holds, and
                # the next replica has the same fleet in the shared store (no full resend).
                i = (self._hubs.index(self._s.hub) + 1) % len(self._hubs)
                self._s = replace(self._s, hub=self._hubs[i])
            await asyncio.sleep(delays())

    async def _credential(self) -> Credential:
        cred = self._credentials.load()
        if cred is not None and cred.name == self._s.name:
            return cred
        if not self._s.token:
            raise Unregistered(
                f"cluster {self._s.name} has no stored credential and no --token to register with"
            )
        if not self._s.insecure and not self._s.ca_pem:
            raise Unregistered(
                "registering needs the hub CA: --ca FILE (caPem from `argosy token create -o "
                "json`), or --insecure for a hub run with --insecure"
            )
        # The cluster's key is made here and never leaves: the hub only sees a CSR.
        key = pki.new_key()
        async with self._channel(None) as channel:
            resp = await spoke_pb2_grpc.SpokeServiceStub(channel).Register(
                spoke_pb2.RegisterRequest(
                    token=self._s.token,
                    cluster_name=self._s.name,
                    labels=self._s.labels,
                    csr_pem=b"" if self._s.insecure else pki.cluster_csr(key, self._s.name),
                ),
                timeout=self._s.rpc_timeout,
            )
        cred = Credential(
            resp.cluster_id,
            resp.credential,
            self._s.name,
            key_pem=pki.key_pem(key).decode() if resp.certificate_pem else "",
            cert_pem=resp.certificate_pem.decode(),
            ca_pem=resp.ca_pem.decode(),
            stream_port=resp.stream_port,
            received=time.time(),
            registered_hub=self._s.hub,
        )
        self._credentials.save(cred)
        log.info("registered as cluster %s (%s)", self._s.name, resp.cluster_id)
        return cred

    async def renew(self, *, fraction: float = 2 / 3) -> None:
        """Renew the client certificate after `fraction` of its life, over mTLS: the live
        stream is untouched, and the next connection uses the new certificate."""
        while True:
            cred = self._credentials.load()
            if cred is None or not cred.cert_pem:
                await asyncio.sleep(5)
                continue
            expires = pki.not_after(cred.cert_pem.encode()).timestamp()
            received = cred.received or time.time()
            due = received + (expires - received) * fraction
            await asyncio.sleep(max(0.0, due - time.time()))
            key = pki.new_key()
            try:
                async with self._channel(cred) as channel:
                    resp = await spoke_pb2_grpc.SpokeServiceStub(channel).RenewCertificate(
                        spoke_pb2.RenewCertificateRequest(
                            csr_pem=pki.cluster_csr(key, self._s.name)
                        ),
                        timeout=self._s.rpc_timeout,
                    )
            except grpc.aio.AioRpcError as exc:
                log.warning("renewing the certificate failed: %s; retrying", exc.details())
                await asyncio.sleep(min(30.0, max(1.0, (expires - time.time()) / 10)))
                continue
            self._credentials.save(
                replace(
                    cred,
                    key_pem=pki.key_pem(key).decode(),
                    cert_pem=resp.certificate_pem.decode(),
                    received=time.time(),
                )
            )
            self.renewals += 1
            log.info("renewed the client certificate of cluster %s", self._s.name)

    async def _stream(self, stub: spoke_pb2_grpc.SpokeServiceAsyncStub, cred: Credential) -> None:
        call: Any = stub.Connect(metadata=(("authorization", f"Bearer {cred.credential}"),))
        try:
            await call.write(
                spoke_pb2.ConnectRequest(
                    hello=spoke_pb2.Hello(
                        applied=self._reconciler.applied(), agent_version=argosy.__version__
                    )
                )
            )
            first = await asyncio.wait_for(call.read(), self._s.rpc_timeout)
            if first is grpc.aio.EOF or first.WhichOneof("msg") != "welcome":
                raise _StreamEnded
            if self._on_message is not None:
                self._on_message(first)
            self.cluster_id = first.welcome.cluster_id
            heartbeat = max(1, first.welcome.heartbeat_seconds or 30)
            queue: asyncio.Queue[spoke_pb2.ConnectRequest] = asyncio.Queue(maxsize=1024)
            self._queue = queue
            self._chunks = ChunkAssembler()
            self.streams_opened += 1
            self.connected.set()
            log.info("connected to hub %s as %s", self._s.hub, self._s.name)
            for bundle in self._reconciler.bundles():
                self._reporter.mark(bundle)
            # Plain tasks, not a TaskGroup: grpc.aio turns a cancelled read into an RPC error,
            # and a TaskGroup would then raise that error instead of our own cancellation
            # (Python 3.11), letting the retry loop outlive a spoke being stopped.
            tasks = [
                asyncio.create_task(self._read(call, queue), name="link-read"),
                asyncio.create_task(self._write(call, queue), name="link-write"),
                asyncio.create_task(self._heartbeat(queue, heartbeat), name="link-heartbeat"),
            ]
            try:
                done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
            for task in done:
                if (exc := task.exception()) is not None:
                    raise exc
        finally:
            call.cancel()

    async def _read(self, call: Any, queue: asyncio.Queue[spoke_pb2.ConnectRequest]) -> None:
        while True:
            msg = await call.read()
            if msg is grpc.aio.EOF:
                raise _StreamEnded
            if self._on_message is not None:
                self._on_message(msg)
            kind = msg.WhichOneof("msg")
            if kind == "upsert":
                upsert = self._chunks.add(msg.upsert)
                if upsert is not None:
                    ack = await self._reconciler.upsert(upsert)
                    await queue.put(spoke_pb2.ConnectRequest(ack=ack))
            elif kind == "delete":
                ack = await self._reconciler.delete(msg.delete.bundle)
                await queue.put(spoke_pb2.ConnectRequest(ack=ack))
            elif kind == "retry":
                # The hub learns the outcome from the status report the retry marks; no ack,
                # as no new revision was sent.
                await self._reconciler.retry(msg.retry.bundle, reset_backoff=True)

    @staticmethod
    async def _write(call: Any, queue: asyncio.Queue[spoke_pb2.ConnectRequest]) -> None:
        while True:
            await call.write(await queue.get())

    @staticmethod
    async def _heartbeat(queue: asyncio.Queue[spoke_pb2.ConnectRequest], interval: int) -> None:
        while True:
            await asyncio.sleep(interval)
            await queue.put(spoke_pb2.ConnectRequest(heartbeat=spoke_pb2.Heartbeat()))
