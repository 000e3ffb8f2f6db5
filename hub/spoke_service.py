"""SpokeService: registration and the per-spoke stream. Thin: authenticate, convert, delegate.

Connect is registered with an identity response serializer, so the session writes bytes that
were serialised once for every spoke receiving the same payload.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import grpc
from cryptography.x509.oid import NameOID

from argosy import pki
from argosy.api.v1 import spoke_pb2
from argosy.errors import ArgosyError, InvalidInput, Unauthenticated
from hub.core import auth
from hub.delivery.payloads import PayloadCache
from hub.delivery.sessions import SessionClosed, SpokeSession
from hub.errors import grpc_errors, status_for
from hub.fleet import Fleet
from hub.models import ClusterRecord

log = logging.getLogger(__name__)

SERVICE = "argosy.api.v1.SpokeService"


class SpokeService:
    def __init__(
        self,
        *,
        fleet: Fleet,
        payloads: PayloadCache,
        heartbeat_seconds: int,
        hello_timeout: float = 30.0,
        send_deadline: float = 30.0,
        ca_pem: bytes = b"",
        stream_port: int = 0,
    ) -> None:
        self._fleet = fleet
        self._payloads = payloads
        self._heartbeat_seconds = heartbeat_seconds
        self._hello_timeout = hello_timeout
        self._send_deadline = send_deadline
        # TLS hubs: the CA to hand to spokes, and the port where Connect takes client certs.
        self._ca_pem = ca_pem
        self.stream_port = stream_port

    @grpc_errors
    async def Register(
        self, request: spoke_pb2.RegisterRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> spoke_pb2.RegisterResponse:
        cluster, credential, certificate = await self._fleet.register(
            token=request.token,
            name=request.cluster_name,
            labels=dict(request.labels),
            csr_pem=request.csr_pem,
        )
        return spoke_pb2.RegisterResponse(
            cluster_id=cluster.id,
            credential=credential,
            certificate_pem=certificate,
            ca_pem=self._ca_pem,
            stream_port=self.stream_port,
        )

    @grpc_errors
    async def RenewCertificate(
        self,
        request: spoke_pb2.RenewCertificateRequest,
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> spoke_pb2.RenewCertificateResponse:
        cluster = self._caller(context)
        certificate = await self._fleet.renew(cluster, request.csr_pem)
        return spoke_pb2.RenewCertificateResponse(certificate_pem=certificate)

    def _caller(self, context: grpc.aio.ServicerContext[Any, Any]) -> ClusterRecord:
        """The calling cluster: from its verified client certificate, never from a message
        field; on an --insecure hub, from its bearer credential."""
        peer = context.auth_context()
        pem = next(iter(peer.get("x509_pem_cert") or ()), b"")
        if not pem:
            return self._fleet.authenticate(auth.bearer(context.invocation_metadata()))
        cert = pki.load_cert(pem)
        common_names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        cluster_id = str(common_names[0].value) if common_names else ""
        return self._fleet.authenticate_certificate(cluster_id, format(cert.serial_number, "x"))

    @staticmethod
    def _claimed_id(context: grpc.aio.ServicerContext[Any, Any]) -> str:
        """The cluster id the caller claims to be (before it is authenticated)."""
        pem = next(iter(context.auth_context().get("x509_pem_cert") or ()), b"")
        if not pem:
            return auth.credential_cluster_id(auth.bearer(context.invocation_metadata())) or ""
        names = pki.load_cert(pem).subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else ""

    async def Connect(self, requests: Any, context: grpc.aio.ServicerContext[Any, Any]) -> None:
        try:
            try:
                cluster = self._caller(context)
            except Unauthenticated:
                # Hub replicas: the cluster may have registered (or renewed) on another
                # replica a moment ago, its notification still on the way: re-read it once.
                if not await self._fleet.refresh_cluster(self._claimed_id(context)):
                    raise
                cluster = self._caller(context)
            first = await asyncio.wait_for(anext(aiter(requests)), self._hello_timeout)
            if first.WhichOneof("msg") != "hello":
                raise InvalidInput("the first message on a stream must be a hello")
        except (ArgosyError, StopAsyncIteration, TimeoutError) as exc:
            code, message = status_for(exc)
            if not isinstance(exc, ArgosyError):
                code, message = grpc.StatusCode.INVALID_ARGUMENT, "no hello received"
            await context.abort(code, message)
            return
        held = dict(first.hello.applied)
        self._fleet.on_hello(cluster.id, held)
        session = SpokeSession(
            fleet=self._fleet,
            payloads=self._payloads,
            cluster=cluster,
            write=context.write,
            held=held,
            send_deadline=self._send_deadline,
        )
        await context.write(
            spoke_pb2.ConnectResponse(
                welcome=spoke_pb2.Welcome(
                    cluster_id=cluster.id,
                    cluster_name=cluster.name,
                    heartbeat_seconds=self._heartbeat_seconds,
                )
            ).SerializeToString()
        )
        self._fleet.attach(cluster.id, session)
        log.info("cluster %s connected, holding %d bundles", cluster.name, len(held))
        closed: str | None = None
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(session.run(), name=f"session-send-{cluster.name}")
                tasks.create_task(
                    self._read(requests, session), name=f"session-read-{cluster.name}"
                )
        except* SessionClosed as group:
            closed = str(group.exceptions[0])
        except* _StreamEnded:
            pass
        finally:
            self._fleet.detach(cluster.id, session)
            log.info("cluster %s disconnected", cluster.name)
        if closed is not None:
            # Outside the except* clause: an exception raised there would leave as a group.
            log.info("closed the stream of cluster %s: %s", cluster.name, closed)
            if not session.stuck:
                await context.abort(grpc.StatusCode.UNAVAILABLE, closed)
            # A stuck stream cannot take a status either: ending the handler cancels the call.

    @staticmethod
    async def _read(requests: Any, session: SpokeSession) -> None:
        async for msg in requests:
            session.handle(msg)
        raise _StreamEnded


class _StreamEnded(Exception):
    """The spoke closed its side of the stream."""


def handler(service: SpokeService) -> grpc.GenericRpcHandler:
    return grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Register": grpc.unary_unary_rpc_method_handler(
                service.Register,
                request_deserializer=spoke_pb2.RegisterRequest.FromString,
                response_serializer=spoke_pb2.RegisterResponse.SerializeToString,
            ),
            "Connect": grpc.stream_stream_rpc_method_handler(
                service.Connect,
                request_deserializer=spoke_pb2.ConnectRequest.FromString,
                response_serializer=bytes,
            ),
            "RenewCertificate": grpc.unary_unary_rpc_method_handler(
                service.RenewCertificate,
                request_deserializer=spoke_pb2.RenewCertificateRequest.FromString,
                response_serializer=spoke_pb2.RenewCertificateResponse.SerializeToString,
            ),
        },
    )
