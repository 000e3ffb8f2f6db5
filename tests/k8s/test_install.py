"""`argosy install`: the YAML it prints, and a real apiserver accepting it (server dry-run)."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from cli import manifests
from cli.client import resolve
from cli.commands import install
from spoke.backends.kube import ApiError, KubernetesBackend
from tests.harness import running_hub
from tests.k8s.conftest import ApiServer


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="argosy")
    parser.add_argument("--hub")
    parser.add_argument("--config", type=Path, default=None)  # cli.main's global flags
    install.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def test_agent_yaml_carries_the_registration_and_runs_the_spoke() -> None:
    out = docs(
        manifests.agent_token_yaml(
            hub="hub.example:7443", token="s3cret", labels={"env": "prod"}, name="c1", image="i:1"
        )
    )
    kinds = [d["kind"] for d in out]
    assert kinds == [
        "Namespace",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Role",
        "RoleBinding",
        "Secret",
        "Deployment",
    ]
    secret = out[kinds.index("Secret")]
    assert secret["stringData"] == {
        "hub": "hub.example:7443",
        "name": "c1",
        "labels": "env=prod",
        "token": "s3cret",
        "caPem": "",
    }
    pod = out[-1]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "argosy-agent"
    (container,) = pod["containers"]
    assert container["image"] == "i:1"
    assert container["args"][0] == "spoke"
    env = {
        e["name"]: e.get("valueFrom", {}).get("secretKeyRef") or e["value"]
        for e in container["env"]
    }
    assert env["ARGOSY_SPOKE_TOKEN"] == {"name": "argosy-agent", "key": "token"}
    assert env["ARGOSY_SPOKE_CREDENTIAL_SECRET"] == "argosy-agent-credential"
    # The agent's own Secret access is namespaced.
    role = out[kinds.index("Role")]
    assert role["metadata"]["namespace"] == "argosy-system"
    assert role["rules"][0]["resources"] == ["secrets"]


def test_hub_yaml_has_its_volume_and_service() -> None:
    out = docs(manifests.hub_yaml(image="i:1", namespace="fleet"))
    assert [d["kind"] for d in out] == [
        "Namespace",
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "PersistentVolumeClaim",
        "Deployment",
        "Service",
    ]
    assert all(d["metadata"].get("namespace", "fleet") == "fleet" for d in out)
    volumes = out[5]["spec"]["template"]["spec"]["volumes"]
    assert volumes[0] == {"name": "data", "persistentVolumeClaim": {"claimName": "argosy-hub"}}


def kubectl() -> str:
    found = Path(sys.executable).parent / "kubectl"
    return str(found) if found.exists() else shutil.which("kubectl") or "kubectl"


async def dry_run(apiserver: ApiServer, text: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        kubectl(),
        "--kubeconfig",
        str(apiserver.kubeconfig),
        "apply",
        "--server-side",
        "--dry-run=server",
        "-f",
        "-",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(proc.communicate(text.encode()), 60)
    return proc.returncode or 0, out.decode()


async def ensure_namespace(kube: KubernetesBackend, name: str) -> None:
    # A server-side dry run creates nothing, so the namespaced objects need a real namespace.
    try:
        await kube.request(
            "POST",
            "/api/v1/namespaces",
            body={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
        )
    except ApiError as exc:
        if exc.status != 409:
            raise


@pytest.mark.k8s
async def test_install_agent_token_is_accepted_by_the_apiserver(
    apiserver: ApiServer,
    kube: KubernetesBackend,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        args = parse(
            [
                *("--config", str(hub.config_path)),  # the hub's CA and an admin token
                *("install", "agent-token", "--hub", hub.address, "--name", "edge-1"),
            ]
        )
        await install.run(args, resolve(args.hub, args.config))
    text = capsys.readouterr().out
    secret = next(d for d in docs(text) if d["kind"] == "Secret")
    assert secret["stringData"]["token"]  # minted by the hub's CreateToken
    assert secret["stringData"]["caPem"].startswith("-----BEGIN CERTIFICATE-----")
    await ensure_namespace(kube, "argosy-system")
    code, out = await dry_run(apiserver, text)
    assert code == 0, out
    assert "deployment.apps/argosy-agent serverside-applied (server dry run)" in out
    assert "clusterrole.rbac.authorization.k8s.io/argosy-agent serverside-applied" in out


@pytest.mark.k8s
async def test_install_hub_is_accepted_by_the_apiserver(
    apiserver: ApiServer, kube: KubernetesBackend, capsys: pytest.CaptureFixture[str]
) -> None:
    args = parse(["install", "hub", "--namespace", "argosy-hub-test"])
    await install.run(args, resolve(args.hub, args.config))
    text = capsys.readouterr().out
    await ensure_namespace(kube, "argosy-hub-test")
    code, out = await dry_run(apiserver, text)
    assert code == 0, out
    assert "service/argosy-hub serverside-applied (server dry run)" in out
