"""A Helm chart repository served over HTTP(S) on 127.0.0.1 by the test, in the test's event loop.

It serves `index.yaml` and chart archives built here with tarfile, records every request (path
and Authorization header) so tests can count fetches and see where credentials went, can
answer a path with a redirect to another server, can refuse requests without the expected
Authorization (401, as a private repository does), and serves HTTPS with a test CA's
certificate when given a TLS context (`tls_server`).
"""

from __future__ import annotations

import hashlib
import io
import json
import ssl
import tarfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from aiohttp import web

from argosy import pki

CHART_YAML = "apiVersion: v2\nname: {name}\nversion: {version}\n"
TEMPLATE = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{{{ .Release.Name }}}}-cm\n"
    'data:\n  chart: {name}-{version}\n  color: {{{{ .Values.color | default "none" }}}}\n'
)


def chart_archive(name: str, version: str) -> bytes:
    """A one-ConfigMap chart as `helm package` lays it out: NAME/Chart.yaml, NAME/templates/."""
    files = {
        f"{name}/Chart.yaml": CHART_YAML.format(name=name, version=version),
        f"{name}/templates/cm.yaml": TEMPLATE.format(name=name, version=version),
    }
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@dataclass
class ChartRepo:
    url: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Authorization)
    require_auth: str | None = None  # the Authorization header every request must carry

    @property
    def host(self) -> str:
        return self.url.split("://", 1)[1]

    def add_charts(
        self, charts: Mapping[str, list[str]], *, digests: Mapping[str, str] | None = None
    ) -> None:
        """Publish charts {name: [versions]} and write index.yaml (digest per file overridable)."""
        entries: dict[str, list[dict[str, object]]] = {}
        for name, versions in charts.items():
            for version in versions:
                path = f"charts/{name}-{version}.tgz"
                self.files[path] = chart_archive(name, version)
                digest = (digests or {}).get(path, hashlib.sha256(self.files[path]).hexdigest())
                entries.setdefault(name, []).append(
                    {"name": name, "version": version, "urls": [path], "digest": digest}
                )
        self.files["index.yaml"] = yaml.safe_dump({"apiVersion": "v1", "entries": entries}).encode()

    def paths(self) -> list[str]:
        return [p for p, _ in self.requests]


def tls_server(directory: Path) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for 127.0.0.1 signed by a new test CA, and that CA's PEM file."""
    ca = pki.new_ca("argosy-test-chart-ca")
    leaf = pki.server_cert(ca, ["127.0.0.1"], days=1)
    (directory / "chart-ca.pem").write_bytes(ca.cert_pem)
    (directory / "chart-server.pem").write_bytes(leaf.cert_pem)
    (directory / "chart-server.key").write_bytes(leaf.key_pem)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "chart-server.pem", directory / "chart-server.key")
    return context, directory / "chart-ca.pem"


@asynccontextmanager
async def serving(
    repo: ChartRepo | None = None, *, tls: ssl.SSLContext | None = None
) -> AsyncIterator[ChartRepo]:
    repo = repo or ChartRepo()

    async def handle(request: web.Request) -> web.StreamResponse:
        path = request.path.lstrip("/")
        repo.requests.append((path, request.headers.get("Authorization")))
        if (
            repo.require_auth is not None
            and request.headers.get("Authorization") != repo.require_auth
        ):
            raise web.HTTPUnauthorized()
        if path in repo.redirects:
            raise web.HTTPFound(repo.redirects[path])
        if path not in repo.files:
            raise web.HTTPNotFound()
        return web.Response(body=repo.files[path])

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    host, port = runner.addresses[0][:2]
    repo.url = f"{'https' if tls else 'http'}://{host}:{port}"
    try:
        yield repo
    finally:
        await runner.cleanup()


@dataclass
class Registry:
    """A read-only OCI registry holding charts, enough for `helm pull oci://` over plain HTTP."""

    host: str = ""
    manifests: dict[tuple[str, str], bytes] = field(default_factory=dict)  # (repo, tag)
    blobs: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def push(self, repository: str, name: str, version: str) -> bytes:
        """Store chart NAME VERSION at REPOSITORY:VERSION; returns the archive."""
        chart = chart_archive(name, version)
        config = json.dumps({"apiVersion": "v2", "name": name, "version": version}).encode()
        layers = {"config": ("application/vnd.cncf.helm.config.v1+json", config)}
        layers["chart"] = ("application/vnd.cncf.helm.chart.content.v1.tar+gzip", chart)
        described = {}
        for role, (media, data) in layers.items():
            self.blobs[_digest(data)] = data
            described[role] = {"mediaType": media, "digest": _digest(data), "size": len(data)}
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": described["config"],
            "layers": [described["chart"]],
        }
        self.manifests[(repository, version)] = json.dumps(manifest).encode()
        return chart


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@asynccontextmanager
async def registry_serving() -> AsyncIterator[Registry]:
    reg = Registry()

    async def handle(request: web.Request) -> web.StreamResponse:
        reg.requests.append(request.path)
        parts = request.path.removeprefix("/v2/").rsplit("/", 2)  # REPO, manifests|blobs, REF
        repo, kind, ref = parts if len(parts) == 3 else ("", "", "")
        if kind == "manifests" and (repo, ref) in reg.manifests:
            body = reg.manifests[(repo, ref)]
            headers = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
        elif kind == "blobs" and ref in reg.blobs:
            body, headers = reg.blobs[ref], {}
        else:
            raise web.HTTPNotFound()
        headers["Docker-Content-Digest"] = _digest(body)
        return web.Response(body=body if request.method == "GET" else None, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    reg.host = f"{host}:{port}"
    try:
        yield reg
    finally:
        await runner.cleanup()
