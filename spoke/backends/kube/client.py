"""The spoke's HTTP client of the API server: credentials, one request, one watch stream.

Everything else in the Kubernetes backend speaks to the cluster through `KubeClient`, so the
connection (kubeconfig or in-cluster credentials, impersonation, deadlines, and dropping
half-read watch connections without leaking their TLS transports) is handled in one place.
It uses kubernetes_asyncio's ApiClient.call_api asking for raw JSON (the typed models would
drop fields of custom resources), so objects stay plain dicts end to end.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from kubernetes_asyncio import client as k8s_client
from kubernetes_asyncio import config as k8s_config

log = logging.getLogger(__name__)

APPLY_PATCH = "application/apply-patch+yaml"
SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


def own_namespace(default: str = "argosy-system") -> str:
    """The namespace this pod runs in, or default outside a cluster."""
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or default
    except OSError:
        return default


@dataclass(frozen=True)
class KubeSettings:
    kubeconfig: str = ""
    """Path of a kubeconfig (--kubeconfig, KUBECONFIG); empty: in-cluster, else ~/.kube/config."""
    context: str = ""
    """kubeconfig context; empty: the current one."""
    field_manager: str = "argosy"
    """The server-side apply field manager."""
    request_timeout: float = 30.0
    """Deadline of every ordinary API request, in seconds."""
    watch_timeout: int = 300
    """Server-side length of one watch request; it is resumed from its resourceVersion."""
    crd_wait: float = 30.0
    """How long custom resources wait for a CRD applied with them to become Established."""
    concurrency: int = 8
    """Objects of the same apply phase sent at once."""
    agent_namespace: str = ""
    """Where the service accounts fleet.yaml's serviceAccount names live, as Fleet looks them
    up in its agent's namespace; empty: the pod's own namespace, else argosy-system."""


class ApiError(Exception):
    """A non-2xx answer, with the server's message."""

    def __init__(
        self, status: int, message: str, reason: str = "", fields: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        # An apply conflict's fields, as the server names them (".spec.replicas").
        self.fields = fields


def status_message(status: int, body: bytes) -> tuple[str, str]:
    """(message, reason) of an error answer: the server's Status when it sent one."""
    try:
        doc = json.loads(body)
    except ValueError:
        text = body.decode(errors="replace").strip()
        return text or f"HTTP {status}", ""
    if isinstance(doc, dict):
        return str(doc.get("message") or f"HTTP {status}"), str(doc.get("reason") or "")
    return f"HTTP {status}", ""


def conflict_fields(body: bytes) -> tuple[str, ...]:
    """The fields of a server-side apply conflict (Status details.causes), if it is one."""
    try:
        doc = json.loads(body)
    except ValueError:
        return ()
    causes = ((doc.get("details") or {}).get("causes") or []) if isinstance(doc, dict) else []
    return tuple(
        str(c["field"])
        for c in causes
        if isinstance(c, dict) and c.get("reason") == "FieldManagerConflict" and c.get("field")
    )


def _is_in_cluster() -> bool:
    return (
        bool(os.environ.get("KUBERNETES_SERVICE_HOST"))
        and Path("/var/run/secrets/kubernetes.io/serviceaccount/token").exists()
    )


class KubeClient:
    """Requests to one API server. connect() before use; close() ends its connections."""

    def __init__(self, settings: KubeSettings, *, agent_namespace: str) -> None:
        self.settings = settings
        self.agent_namespace = agent_namespace
        self._api: k8s_client.ApiClient | None = None

    @property
    def connected(self) -> bool:
        return self._api is not None

    async def connect(self) -> None:
        """Load credentials and open the client; idempotent."""
        if self._api is not None:
            return
        cfg = k8s_client.Configuration()
        # One long-lived connection per watched kind: no pool limit to starve requests.
        cfg.connection_pool_maxsize = 0
        s = self.settings
        kubeconfig = s.kubeconfig or os.environ.get("KUBECONFIG", "")
        if not kubeconfig and _is_in_cluster():
            k8s_config.load_incluster_config(client_configuration=cfg)  # type: ignore[no-untyped-call]
        else:
            await k8s_config.load_kube_config(
                config_file=kubeconfig.split(os.pathsep)[0] or None,
                context=s.context or None,
                client_configuration=cfg,
                persist_config=False,
            )
        self._api = k8s_client.ApiClient(configuration=cfg)

    async def close(self) -> None:
        if self._api is not None:
            api, self._api = self._api, None
            await _abort_connections(api)
            await api.close()

    def impersonated_user(self, service_account: str) -> str:
        return f"system:serviceaccount:{self.agent_namespace}:{service_account}"

    async def _send(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        content_type: str = "application/json",
        timeout: float | aiohttp.ClientTimeout | None = None,
        service_account: str = "",
    ) -> aiohttp.ClientResponse:
        api = self._api
        if api is None:
            raise RuntimeError("KubernetesBackend.connect() was not called")
        headers = {"Accept": "application/json", "Content-Type": content_type}
        if service_account:
            # The API server authorizes the request as this account (the agent needs the
            # `impersonate` verb on serviceaccounts), exactly as Fleet's helm deployer does.
            headers["Impersonate-User"] = self.impersonated_user(service_account)
        response: aiohttp.ClientResponse = await api.call_api(
            path,
            method,
            query_params=list(query),
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
            _preload_content=False,
            _request_timeout=timeout or self.settings.request_timeout,
        )
        return response

    async def request(
        self,
        method: str,
        path: str,
        *,
        query: Sequence[tuple[str, str]] = (),
        body: Any = None,
        content_type: str = "application/json",
        service_account: str = "",
    ) -> dict[str, Any]:
        """One API call; the decoded JSON answer, or ApiError with the server's message."""
        response = await self._send(
            method,
            path,
            query=query,
            body=body,
            content_type=content_type,
            service_account=service_account,
        )
        async with response:
            data = await response.read()
            if not 200 <= response.status < 300:
                message, reason = status_message(response.status, data)
                raise ApiError(response.status, message, reason, conflict_fields(data))
        doc = json.loads(data) if data else {}
        return doc if isinstance(doc, dict) else {}

    async def stream(
        self, path: str, *, query: Sequence[tuple[str, str]], resource_version: str
    ) -> AsyncGenerator[tuple[str, dict[str, Any]]]:
        """The events of one watch request: (type, object). ERROR carries a Status."""
        s = self.settings
        params = [
            *query,
            ("watch", "true"),
            ("allowWatchBookmarks", "true"),
            ("timeoutSeconds", str(s.watch_timeout)),
        ]
        if resource_version:
            params.append(("resourceVersion", resource_version))
        timeout = aiohttp.ClientTimeout(
            total=s.watch_timeout + s.request_timeout,
            connect=s.request_timeout,
            sock_read=s.watch_timeout + s.request_timeout,
        )
        response = await self._send("GET", path, query=params, timeout=timeout)
        async with response:
            if not 200 <= response.status < 300:
                message, reason = status_message(response.status, await response.read())
                raise ApiError(response.status, message, reason)
            try:
                while line := await response.content.readline():
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    obj = event.get("object") or {}
                    if event.get("type") == "ERROR" and obj.get("code") != 410:
                        raise ApiError(int(obj.get("code") or 500), str(obj.get("message")))
                    yield str(event.get("type")), obj
            finally:
                if not response.content.at_eof():
                    _abort(response)


async def _abort_connections(api: k8s_client.ApiClient) -> None:
    """Drop the client's open connections without the TLS goodbye (see _abort)."""
    session = getattr(getattr(api, "rest_client", None), "pool_manager", None)
    connector = getattr(session, "connector", None)
    if (
        isinstance(connector, aiohttp.BaseConnector)
        and not connector.closed
        and "abort_ssl" in inspect.signature(connector.close).parameters
    ):
        await connector.close(abort_ssl=True)


def _abort(response: aiohttp.ClientResponse) -> None:
    """Drop a half-read watch connection without the TLS goodbye.

    Closing it politely waits for the server's close_notify, which a streaming API server may
    never send; before Python 3.12.7 asyncio then leaks the TLS transport (and its socket).
    The connection cannot be reused anyway.
    """
    connection = response.connection
    if connection is not None and connection.transport is not None:
        connection.transport.abort()
