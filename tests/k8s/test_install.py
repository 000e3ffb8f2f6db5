"""`argosy install`: the YAML it prints, and a real apiserver accepting it (server dry-run)."""

from __future__ import annotations

import argparse
import asyncio
import base64
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
@pytest.mark.parametrize(
    "extra",
    [[], ["--advertise", "hub.example.com", "--service-type", "LoadBalancer"]],
    ids=["cluster-ip", "load-balancer"],
)
async def test_install_hub_is_accepted_by_the_apiserver(
    apiserver: ApiServer,
    kube: KubernetesBackend,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
) -> None:
    args = parse(["install", "hub", "--namespace", "argosy-hub-test", *extra])
    await install.run(args, resolve(args.hub, args.config))
    text = capsys.readouterr().out
    await ensure_namespace(kube, "argosy-hub-test")
    code, out = await dry_run(apiserver, text)
    assert code == 0, out
    for applied in (
        "serviceaccount/argosy-hub",
        "role.rbac.authorization.k8s.io/argosy-hub",
        "rolebinding.rbac.authorization.k8s.io/argosy-hub",
        "persistentvolumeclaim/argosy-hub",
        "deployment.apps/argosy-hub",
        "service/argosy-hub",
    ):
        assert f"{applied} serverside-applied (server dry run)" in out, out


async def kubectl_run(
    *args: str, stdin: bytes = b"", env: dict[str, str] | None = None
) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        kubectl(),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=env,
    )
    out, _ = await asyncio.wait_for(proc.communicate(stdin), 60)
    return proc.returncode or 0, out.decode()


def as_service_account(apiserver: ApiServer, path: Path, *, namespace: str, name: str) -> Path:
    """A kubeconfig that acts as namespace/name's ServiceAccount (the admin impersonates it)."""
    doc = yaml.safe_load(apiserver.kubeconfig.read_text())
    doc["users"][0]["user"]["as"] = f"system:serviceaccount:{namespace}:{name}"
    doc["users"][0]["user"]["as-groups"] = [
        "system:serviceaccounts",
        f"system:serviceaccounts:{namespace}",
        "system:authenticated",
    ]
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.k8s
async def test_the_admin_secret_container_keeps_admin_yaml_in_a_secret_and_nothing_more(
    apiserver: ApiServer, kube: KubernetesBackend, tmp_path: Path
) -> None:
    # The hub's YAML applied for real (no kubelet: the pod never runs), then the admin-secret
    # container's own script, run here as the hub's ServiceAccount with the RBAC just applied.
    namespace = "argosy-hub-secret"
    text = manifests.hub_yaml(image="i:1", namespace=namespace)
    code, out = await kubectl_run(
        *("--kubeconfig", str(apiserver.kubeconfig), "apply", "--server-side", "-f", "-"),
        stdin=text.encode(),
    )
    assert code == 0, out
    deployment = next(d for d in docs(text) if d["kind"] == "Deployment")
    (sidecar,) = [
        c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] != "hub"
    ]
    sa_config = as_service_account(
        apiserver, tmp_path / "sa.kubeconfig", namespace=namespace, name=manifests.HUB
    )
    admin_file = tmp_path / "data" / "admin.yaml"
    env = {
        **{e["name"]: e["value"] for e in sidecar["env"]},
        "ADMIN_FILE": str(admin_file),  # the pod's DATA_DIR, here
        "READY_FILE": str(tmp_path / "published"),  # and its /tmp
        "KUBECONFIG": str(sa_config),
        "HOME": str(tmp_path),
        "PATH": f"{Path(kubectl()).parent}:/usr/bin:/bin",
    }
    ready = tmp_path / "published"
    ready.write_text("left by an earlier start of the container")
    proc = await asyncio.create_subprocess_exec(
        *sidecar["command"],
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        # It waits for the hub's first start to write admin.yaml.
        admin_file.parent.mkdir()
        admin_file.write_text("contexts: []  # the hub's admin context\n")
        path = f"/api/v1/namespaces/{namespace}/secrets/{manifests.ADMIN_SECRET}"
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            try:
                secret = await kube.request("GET", path)
                break
            except ApiError as exc:
                assert exc.status == 404, exc
            if proc.returncode is not None or asyncio.get_running_loop().time() > deadline:
                out = (await proc.stdout.read()).decode() if proc.stdout else ""
                pytest.fail(f"no Secret {path}; the container said:\n{out}")
            await asyncio.sleep(0.2)
        assert base64.b64decode(secret["data"]["admin.yaml"]) == admin_file.read_bytes()
        # Ready (the probe's file, made anew) once the Secret is written.
        while not ready.exists() or ready.read_text():
            assert asyncio.get_running_loop().time() < deadline, "never ready"
            await asyncio.sleep(0.1)
        # Stopping the pod: the TERM trap ends it at once, successfully.
        proc.terminate()
        out = (await asyncio.wait_for(proc.communicate(), 10))[0].decode()
        assert proc.returncode == 0, out
        assert f"kept in Secret {namespace}/argosy-admin" in out
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    # That one Secret is all the account may touch: no other, no listing.
    as_sa = ("--kubeconfig", str(sa_config), "--namespace", namespace)
    code, out = await kubectl_run(
        *as_sa, "create", "secret", "generic", "other", "--from-literal=a=b"
    )
    assert code != 0 and "forbidden" in out.lower(), out
    code, out = await kubectl_run(*as_sa, "get", "secrets")
    assert code != 0 and "forbidden" in out.lower(), out
