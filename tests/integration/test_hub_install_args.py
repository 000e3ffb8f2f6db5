"""A hub started with exactly the arguments `argosy install hub` gives it: its certificate
covers the Service's DNS names and the outside name, and admin.yaml names the outside name."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import replace
from pathlib import Path

import pytest

from argosy import config
from cli.manifests import hub_args
from hub.app import parse_settings
from tests.harness import running_hub


async def handshake(port: int, ca: Path, name: str) -> None:
    context = ssl.create_default_context(cafile=str(ca))
    context.set_alpn_protocols(["h2"])
    _, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname=name), 10
    )
    # Verified: that was the point. The hub already sent HTTP/2 frames: no polite TLS close.
    writer.transport.abort()


async def test_hub_with_install_args_serves_the_service_names(tmp_path: Path) -> None:
    args = hub_args(namespace="fleet", advertise=["hub.example.com"])
    assert args[0] == "hub"
    settings = parse_settings(args[1:])
    assert settings.admin_hub == "hub.example.com:7443"
    # The YAML's listen address and data dir are the pod's; here a free port and tmp_path.
    async with running_hub(
        tmp_path, advertise=settings.advertise, admin_hub=settings.admin_hub
    ) as hub:
        ca = hub.ca_path
        assert ca is not None
        for name in (
            "argosy-hub.fleet.svc",
            "argosy-hub.fleet.svc.cluster.local",
            "argosy-hub.fleet",
            "argosy-hub",
            "hub.example.com",
        ):
            await handshake(hub.hub.port, ca, name)
        with pytest.raises(ssl.SSLCertVerificationError):
            await handshake(hub.hub.port, ca, "argosy-hub.other.svc")
        context = config.load(hub.config_path).context()
        assert context is not None
        assert context.hub == "hub.example.com:7443"
    assert replace(settings, data_dir=tmp_path).listen == "0.0.0.0:7443"


async def test_admin_yaml_names_the_listen_address_by_default(tmp_path: Path) -> None:
    async with running_hub(tmp_path) as hub:
        context = config.load(hub.config_path).context()
        assert context is not None
        assert context.hub == hub.address


def test_a_bad_admin_hub_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_settings(["--admin-hub", "hub.example.com"])
    assert "--admin-hub / ARGOSY_HUB_ADMIN_HUB: 'hub.example.com' is not HOST:PORT" in (
        capsys.readouterr().err
    )
