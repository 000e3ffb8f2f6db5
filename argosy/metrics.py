"""The /metrics endpoint the hub and the spoke share: Prometheus text over plain HTTP.

Exposition is prometheus_client's (`generate_latest`), never written here, from a registry the
program owns: not the library's global default, so that several hubs or spokes in one process
(tests, the demo) each show their own. The server is aiohttp's, as for the hub's webhooks.

Plain HTTP is the norm for /metrics (Prometheus scrapes it so); what keeps it from being shown
to the world is that it listens on loopback unless the operator says otherwise with a second,
explicit flag (`check_listen`).
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import logging
from collections.abc import Mapping

from aiohttp import web
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

log = logging.getLogger(__name__)


def add_flags(
    parser: argparse.ArgumentParser, env: Mapping[str, str], *, prefix: str, example_port: int
) -> None:
    """--metrics-listen and --metrics-public, the same for the hub and the spoke (defaults from
    PREFIX_METRICS_LISTEN and PREFIX_METRICS_PUBLIC)."""
    parser.add_argument(
        "--metrics-listen",
        default=env.get(f"{prefix}_METRICS_LISTEN", ""),
        metavar="HOST:PORT",
        help="serve Prometheus metrics at http://HOST:PORT/metrics (plain HTTP, no auth; "
        "default: off). HOST must be loopback (127.0.0.1, ::1, localhost) unless "
        "--metrics-public is given too",
    )
    parser.add_argument(
        "--metrics-public",
        action="store_true",
        default=env.get(f"{prefix}_METRICS_PUBLIC", "") not in ("", "0", "false"),
        help=f"allow --metrics-listen on a non-loopback address such as 0.0.0.0:{example_port}",
    )


def check_listen(listen: str, *, public: bool, flag: str) -> None:
    """Refuse a --metrics-listen that is not HOST:PORT, or that is not loopback without the
    opt-in (pure). `flag` names the flags in the message (`--metrics-listen`)."""
    host, sep, port = listen.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{flag}: {listen!r} is not HOST:PORT (say 127.0.0.1:9100)")
    if not public and not is_loopback(host):
        raise ValueError(
            f"{flag}: {host} is not a loopback address; metrics are plain HTTP without auth, "
            f"so serving them beyond this machine needs {flag.replace('listen', 'public')} too"
        )


def is_loopback(host: str) -> bool:
    """Whether host is this machine only: localhost, 127.0.0.0/8 or ::1 (pure). Other names
    are not resolved: a name that resolves to loopback today may not tomorrow."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class MetricsServer:
    """Serves GET /metrics from `registry` on `listen` until cancelled."""

    def __init__(self, *, listen: str, registry: CollectorRegistry) -> None:
        self._host, _, port = listen.rpartition(":")
        self._host = self._host.strip("[]")
        self._port = int(port)
        self._registry = registry
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.ready = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        if request.path != "/metrics":
            return web.Response(status=404, text="metrics are at /metrics\n")
        # Collected on the event loop: the collectors read in-memory state that only this
        # thread changes, in O(bundles + the bounded series), so a scrape sees one instant.
        body = generate_latest(self._registry)
        # Text format 0.0.4, not the library's "latest" 1.0.0: every name here is a legacy
        # name (the bodies are the same), and Prometheus 2.x (Debian 12's) knows only 0.0.4.
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_PLAIN_0_0_4})

    async def start(self) -> None:
        """Listen now (OSError when the address cannot be had); `run` serves until cancelled."""
        app = web.Application()
        app.router.add_get("/{tail:.*}", self.handle)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1]) if runner.addresses else self._port
        log.info("metrics on http://%s:%d/metrics", self._host, self.port)
        self.ready.set()

    async def run(self) -> None:
        if self._runner is None:
            await self.start()
        try:
            await asyncio.Future()  # until cancelled
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop listening (if listening); `start` or `run` listen again."""
        self.ready.clear()
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
