"""`argosy install hub`: the hub's arguments (certificate names, admin.yaml's address), the
admin-secret container's narrow rights, the next steps it prints, and `argosy version`."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from argosy import __version__
from argosy.api.v1 import fleet_pb2
from argosy.errors import InvalidInput
from cli import manifests
from tests.cli.fakes import FakeHub, FakeStub, run

ROOT = Path(__file__).resolve().parents[2]


def hub_objects(**kwargs: Any) -> dict[str, dict[str, Any]]:
    docs = [d for d in yaml.safe_load_all(manifests.hub_yaml(image="i:1", **kwargs)) if d]
    return {d["kind"]: d for d in docs}


def containers(objects: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    return {c["name"]: c for c in pod["containers"]}


def flag(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def test_hub_certificate_covers_the_service_names() -> None:
    args = manifests.hub_args(namespace="fleet")
    names = flag(args, "--advertise").split(",")
    assert names == [
        "argosy-hub.fleet.svc",
        "argosy-hub.fleet.svc.cluster.local",
        "argosy-hub.fleet",
        "argosy-hub",
    ]
    # No outside name: admin.yaml keeps the hub's default (127.0.0.1, for a port-forward).
    assert "--admin-hub" not in args
    assert flag(args, "--listen") == "0.0.0.0:7443"


def test_outside_names_are_covered_and_the_first_is_admin_yamls() -> None:
    args = manifests.hub_args(
        namespace="argosy-system",
        advertise=["hub.example.com", "203.0.113.7"],
        cluster_domain="corp.internal",
    )
    names = flag(args, "--advertise").split(",")
    assert "argosy-hub.argosy-system.svc.corp.internal" in names
    assert names[-2:] == ["hub.example.com", "203.0.113.7"]
    assert flag(args, "--admin-hub") == "hub.example.com:7443"
    v6 = manifests.hub_args(namespace="n", advertise=["2001:db8::1"])
    assert flag(v6, "--admin-hub") == "[2001:db8::1]:7443"


@pytest.mark.parametrize(
    "bad", ["hub.example.com:7443", "https://hub.example.com", "Hub.Example", ""]
)
def test_an_advertised_name_with_a_port_or_scheme_is_refused(bad: str) -> None:
    with pytest.raises(InvalidInput, match="--advertise"):
        manifests.hub_args(namespace="n", advertise=[bad])


def test_bad_namespace_and_service_type_are_refused() -> None:
    with pytest.raises(InvalidInput, match="--namespace"):
        manifests.hub_docs(image="i:1", namespace="Fleet")
    with pytest.raises(InvalidInput, match="--service-type"):
        manifests.hub_docs(image="i:1", service_type="NodePort")


def test_only_the_admin_secret_container_holds_a_kubernetes_credential() -> None:
    objects = hub_objects(namespace="fleet")
    pod = objects["Deployment"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "argosy-hub"
    assert pod["automountServiceAccountToken"] is False
    assert objects["ServiceAccount"]["automountServiceAccountToken"] is False
    hub, sidecar = containers(objects)["hub"], containers(objects)["admin-secret"]
    token_dir = "/var/run/secrets/kubernetes.io/serviceaccount"
    assert token_dir not in {m["mountPath"] for m in hub["volumeMounts"]}
    token = next(m for m in sidecar["volumeMounts"] if m["mountPath"] == token_dir)
    volume = next(v for v in pod["volumes"] if v["name"] == token["name"])
    assert {"serviceAccountToken"} <= {k for s in volume["projected"]["sources"] for k in s}
    # The same image; the sidecar reads the data volume and cannot write it.
    assert hub["image"] == sidecar["image"] == "i:1"
    data = next(m for m in sidecar["volumeMounts"] if m["mountPath"] == manifests.DATA_DIR)
    assert data["readOnly"] is True
    env = {e["name"]: e["value"] for e in sidecar["env"]}
    assert env == {
        "ADMIN_FILE": "/var/lib/argosy/admin.yaml",
        "ADMIN_SECRET": "argosy-admin",
        "NAMESPACE": "fleet",
        "READY_FILE": "/tmp/published",
    }
    # Ready once the Secret is written, so that `kubectl rollout status` waits for it.
    assert sidecar["readinessProbe"]["exec"]["command"] == ["test", "-f", "/tmp/published"]
    # A read-only root filesystem: both get a writable /tmp.
    for container in (hub, sidecar):
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert "/tmp" in {m["mountPath"] for m in container["volumeMounts"]}


def test_the_role_allows_one_secret_by_name() -> None:
    objects = hub_objects(namespace="fleet")
    (rule,) = objects["Role"]["rules"]
    assert rule["resources"] == ["secrets"]
    assert rule["resourceNames"] == ["argosy-admin"]
    assert "list" not in rule["verbs"]
    assert "delete" not in rule["verbs"]
    binding = objects["RoleBinding"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "argosy-hub", "namespace": "fleet"}
    ]


def test_service_type() -> None:
    assert hub_objects()["Service"]["spec"]["type"] == "ClusterIP"
    assert hub_objects(service_type="LoadBalancer")["Service"]["spec"]["type"] == "LoadBalancer"


def test_next_steps_say_how_to_get_the_admin_context() -> None:
    text = manifests.hub_next_steps(namespace="fleet")
    assert (
        "kubectl -n fleet get secret argosy-admin -o jsonpath='{.data.admin\\.yaml}' "
        "| base64 -d > admin.yaml"
    ) in text
    assert "port-forward service/argosy-hub 7443:7443" in text
    assert "--agent-hub HOST:7443 > token.yaml" in text
    outside = manifests.hub_next_steps(namespace="fleet", advertise=["hub.example.com"])
    assert "port-forward" not in outside
    assert "admin.yaml names hub.example.com:7443" in outside


async def test_install_hub_prints_yaml_on_stdout_and_steps_on_stderr(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub = FakeHub()
    await run(
        hub,
        *("install", "hub", "--namespace", "fleet", "--advertise", "hub.example.com"),
        *("--advertise", "10.1.2.3", "--service-type", "LoadBalancer"),
    )
    out, err = capsys.readouterr()
    objects = {d["kind"]: d for d in yaml.safe_load_all(out) if d}
    args = containers(objects)["hub"]["args"]
    assert flag(args, "--advertise").endswith(",hub.example.com,10.1.2.3")
    assert flag(args, "--admin-hub") == "hub.example.com:7443"
    assert objects["Service"]["spec"]["type"] == "LoadBalancer"
    assert "get secret argosy-admin" in err
    assert "kind:" not in err
    assert hub.opened == 0


async def test_version_names_the_image_make_image_builds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    await run(FakeHub(FakeStub(GetVersion=fleet_pb2.GetVersionResponse(version="x"))), "version")
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [f"client: {__version__}", f"image:  ghcr.io/argosy/argosy:{__version__}"]
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["version"] == __version__
    assert manifests.DEFAULT_IMAGE.rpartition(":") == (manifests.IMAGE_REPOSITORY, ":", __version__)
    # `make image` tags what the YAML names by asking for this very constant.
    assert "from cli.manifests import DEFAULT_IMAGE" in (ROOT / "Makefile").read_text()
