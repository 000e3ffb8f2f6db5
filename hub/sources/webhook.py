"""The webhook receiver: a push to a repository triggers an immediate fetch of it.

GitHub signs its payload (`X-Hub-Signature-256: sha256=HMAC(secret, body)`); GitLab sends
the secret itself (`X-Gitlab-Token`). Either is compared in constant time, and a request that
fails the check is refused before its body is parsed. The receiver serves TLS with the hub's
own certificate (plain HTTP only on an --insecure hub), on its own port (--webhook-listen),
off unless set. It never fetches: it wakes the matching repositories' tasks (GitSource), so
a flood of webhooks costs at most one fetch per repository at a time.

The HTTP server is aiohttp's (pinned in pyproject.toml; kubernetes_asyncio brought it already):
a real HTTP/1.1 parser with body size limits rather than one written here.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import ssl
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1 << 20
"""GitHub caps payloads at 25 MB but pushes are small; a larger body is refused (413)."""


def authentic(headers: Mapping[str, str], body: bytes, secret: bytes) -> bool:
    """Whether a request carries a valid GitHub signature or GitLab token (pure)."""
    signature = headers.get("X-Hub-Signature-256", "")
    if signature:
        want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(signature.encode(), want.encode())
    token = headers.get("X-Gitlab-Token", "")
    return bool(token) and hmac.compare_digest(token.encode(), secret)


_URL_KEYS = (
    "clone_url",
    "ssh_url",
    "git_url",
    "html_url",
    "url",
    "git_http_url",
    "git_ssh_url",
    "web_url",
    "http_url",
    "ssh_url_to_repo",
    "http_url_to_repo",
)


def pushed_urls(payload: Any) -> list[str]:
    """Every URL a GitHub or GitLab push payload names its repository by (pure)."""
    urls: list[str] = []
    if not isinstance(payload, dict):
        return urls
    for key in ("repository", "project"):
        repo = payload.get(key)
        if isinstance(repo, dict):
            urls.extend(v for k in _URL_KEYS if isinstance(v := repo.get(k), str) and v)
    return list(dict.fromkeys(urls))


class WebhookReceiver:
    """Serves POST webhooks on `listen` until cancelled; `trigger` wakes repositories."""

    def __init__(
        self,
        *,
        listen: str,
        secret: bytes,
        trigger: Callable[[Sequence[str]], list[str]],
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self._host, _, port = listen.rpartition(":")
        self._port = int(port)
        self._secret = secret
        self._trigger = trigger
        self._ssl = ssl_context
        self.port = 0
        self.ready = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        if request.method != "POST":
            return web.Response(status=405, text="POST a push event\n")
        body = await request.read()
        if not authentic(request.headers, body, self._secret):
            log.warning("webhook from %s refused: bad signature or token", request.remote)
            return web.Response(status=401, text="bad signature or token\n")
        try:
            payload = json.loads(body)
        except ValueError:
            return web.Response(status=400, text="the body is not JSON\n")
        names = self._trigger(pushed_urls(payload))
        log.info("webhook: fetching %s", ", ".join(names) or "nothing (no repository matches)")
        return web.json_response({"fetching": names}, status=202)

    async def run(self) -> None:
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port, ssl_context=self._ssl)
            await site.start()
            self.port = int(runner.addresses[0][1]) if runner.addresses else self._port
            log.info(
                "webhooks on %s:%d (%s)", self._host, self.port, "TLS" if self._ssl else "PLAIN"
            )
            self.ready.set()
            await asyncio.Future()  # until cancelled
        finally:
            self.ready.clear()
            await runner.cleanup()
