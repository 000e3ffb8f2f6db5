"""End to end: a bundle whose chart lives in a chart repository on 127.0.0.1 is applied to a hub
with simulated clusters; the hub fetches the chart once for all of them (two renders, one per
label value, fifty clusters) with the credentials of its --chart-credentials file, keeps it in
its data dir, and every cluster becomes Ready; over HTTPS (credentials go over nothing else),
signed by a test CA the hub is given with --chart-ca. The same with the credentials of a hub
secret (--helm-repo-host) that the repository requires; with another CA, the apply is refused
with an error naming the URL."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import grpc
import pytest

from argosy import pki
from argosy.api.v1 import fleet_pb2
from argosy.bundle.charts import Credentials
from tests.chartrepo import ChartRepo, serving, tls_server
from tests.harness import (
    RunningHub,
    bundle_spec,
    bundle_status,
    eventually,
    running_hub,
    start_spoke,
)

SPOKES = 50
FILE_CREDENTIALS = Credentials("hub", "pw")


async def test_chart_from_repository_is_fetched_once_and_becomes_ready(tmp_path: Path) -> None:
    creds = tmp_path / "chart-credentials.yaml"
    server_tls, ca = tls_server(tmp_path)  # credentials go over https only
    async with serving(tls=server_tls) as repo:
        creds.write_text(f"'{repo.host}': {{username: hub, password: pw}}\n")
        repo.add_charts({"web": ["1.0.0", "1.2.0", "2.0.0"]})
        async with running_hub(tmp_path / "hub", chart_credentials=creds, chart_ca=ca) as hub:
            await _apply_and_converge(hub, repo, tmp_path)


async def test_https_repository_with_private_ca_and_credentials_from_a_hub_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server_tls, ca = tls_server(tmp_path)
    private = ChartRepo(require_auth=Credentials("hub", "s3cret").header())
    async with serving(private, tls=server_tls) as repo:
        assert repo.url.startswith("https://127.0.0.1:")
        repo.add_charts({"web": ["1.0.0", "1.2.0", "2.0.0"]})
        async with running_hub(tmp_path / "hub", chart_ca=ca) as hub:
            await hub.stub.CreateSecret(
                fleet_pb2.CreateSecretRequest(
                    spec=fleet_pb2.SecretSpec(
                        name="charts",
                        username="hub",
                        password=b"s3cret",
                        helm_repo_hosts=[repo.host],
                    )
                ),
                timeout=5,
            )
            await _apply_and_converge(
                hub, repo, tmp_path, spokes=6, auth=Credentials("hub", "s3cret")
            )
            names = await hub.stub.ListSecrets(fleet_pb2.ListSecretsRequest(), timeout=5)
            assert list(names.names) == ["charts"]
    assert "hub.reloading" in caplog.text  # the hub's logs were captured: none has it
    assert "s3cret" not in caplog.text
    assert Credentials("hub", "s3cret").header() not in caplog.text


async def test_https_repository_signed_by_an_untrusted_ca_is_an_error_naming_the_url(
    tmp_path: Path,
) -> None:
    server_tls, _ = tls_server(tmp_path)
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_bytes(pki.new_ca("not-the-chart-ca").cert_pem)
    async with serving(tls=server_tls) as repo:
        repo.add_charts({"web": ["1.0.0"]})
        async with running_hub(tmp_path / "hub", chart_ca=other_ca) as hub:
            fleet = f"helm:\n  repo: {repo.url}\n  chart: web\n"
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await hub.stub.ApplyBundles(
                    fleet_pb2.ApplyBundlesRequest(
                        bundles=[bundle_spec("ext", {"fleet.yaml": fleet})]
                    ),
                    timeout=60,
                )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    message = err.value.details() or ""
    assert f"fetching {repo.url}/index.yaml: its TLS certificate is not trusted" in message
    assert "--chart-ca" in message
    assert repo.requests == []  # refused in the handshake: no request, no credentials


async def _apply_and_converge(
    hub: RunningHub,
    repo: ChartRepo,
    tmp_path: Path,
    *,
    spokes: int = SPOKES,
    auth: Credentials = FILE_CREDENTIALS,
) -> None:
    token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
    running = [
        start_spoke(
            hub=hub,
            name=f"c{i}",
            labels={"env": "dev" if i % 2 else "prod"},
            token=token,
            data_dir=tmp_path / f"c{i}",
        )
        for i in range(spokes)
    ]
    try:
        for s in running:
            await eventually(s.spoke.link.connected.is_set)
        fleet = (
            f"helm:\n  repo: {repo.url}\n  chart: web\n  version: ^1.0\n"
            "  values:\n    color: ${ .ClusterLabels.env }\n"
        )
        await hub.stub.ApplyBundles(
            fleet_pb2.ApplyBundlesRequest(bundles=[bundle_spec("ext", {"fleet.yaml": fleet})]),
            timeout=60,
        )

        async def all_ready() -> bool:
            b = await bundle_status(hub.stub, "ext")
            return b is not None and (b.clusters_ready, b.clusters_desired) == (
                spokes,
                spokes,
            )

        await eventually(all_ready, timeout=60, what="every cluster Ready")
        assert repo.paths() == ["index.yaml", "charts/web-1.2.0.tgz"]
        assert all(sent == auth.header() for _, sent in repo.requests)
        assert len(list((tmp_path / "hub" / "charts").glob("sha256-*.tgz"))) == 1
        for i, s in enumerate(running):
            (upsert,) = [u for u in s.upserts() if u.bundle == "ext"]
            (cm,) = [json.loads(r.manifest) for r in upsert.upserts]
            assert cm["data"] == {"chart": "web-1.2.0", "color": "dev" if i % 2 else "prod"}
    finally:
        for s in running:
            await s.stop()
