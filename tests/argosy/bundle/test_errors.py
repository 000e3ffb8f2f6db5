"""Every user mistake is an InvalidInput naming the file (and line) and what is wrong."""

from __future__ import annotations

import pytest

from argosy.bundle import Cluster, load_bundle, render, target_for
from argosy.bundle.reader import BundleSource
from argosy.errors import InvalidInput
from argosy.selectors import LabelSelector

CHART = b"apiVersion: v2\nname: demo\nversion: 0.1.0\n"
CM = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"


def test_fleet_yaml_typo_names_file_line_and_key() -> None:
    files = {"fleet.yaml": b"# comment\n\nnamespce: apps\n", "cm.yaml": CM}
    with pytest.raises(InvalidInput, match=r"fleet\.yaml:3: unknown key 'namespce'.*'namespace'"):
        load_bundle(BundleSource("b", files))


def test_wrong_type_names_file_line_and_key() -> None:
    files = {"fleet.yaml": b"helm:\n  values:\n    a: 1\n  force: sometimes\n", "cm.yaml": CM}
    with pytest.raises(InvalidInput, match=r"fleet\.yaml:4: helm\.force must be a boolean"):
        load_bundle(BundleSource("b", files))


def test_namespace_on_cluster_scoped_object_names_it() -> None:
    role = b"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n"
    files = {"fleet.yaml": b"namespace: apps\n", "cm.yaml": CM, "rbac/role.yaml": role}
    with pytest.raises(InvalidInput, match=r"rbac/role\.yaml:1: ClusterRole 'r' is cluster-scoped"):
        load_bundle(BundleSource("b", files))


def test_default_namespace_allows_cluster_scoped_objects() -> None:
    role = b"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: r\n"
    files = {"fleet.yaml": b"defaultNamespace: apps\n", "role.yaml": role}
    assert len(load_bundle(BundleSource("b", files)).resources) == 1


async def test_broken_chart_template_names_the_template() -> None:
    broken = (
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Values.name | nosuchfunc }}\n"
    )
    files = {"Chart.yaml": CHART, "templates/cm.yaml": broken}
    bundle = load_bundle(BundleSource("b", files))
    target = target_for(bundle, Cluster("a"), {})
    with pytest.raises(InvalidInput, match=r"templates/cm\.yaml") as err:
        await render(bundle, target)
    assert "Chart.yaml" in str(err.value) and "nosuchfunc" in str(err.value)


def test_missing_kustomize_dir_names_fleet_yaml_line() -> None:
    fleet = b"targetCustomizations:\n- name: dev\n  kustomize:\n    dir: overlays/nope\n"
    files = {"fleet.yaml": fleet, "cm.yaml": CM}
    with pytest.raises(
        InvalidInput, match=r"fleet\.yaml:4: kustomize\.dir 'overlays/nope' does not exist"
    ):
        load_bundle(BundleSource("b", files))


async def test_broken_kustomization_names_the_kustomization() -> None:
    files = {"kustomization.yaml": b"resources:\n- missing.yaml\n"}
    bundle = load_bundle(BundleSource("b", files))
    with pytest.raises(InvalidInput, match=r"kustomize kustomization\.yaml: .*missing\.yaml"):
        await render(bundle)


def test_unknown_overlay_names_line() -> None:
    files = {"fleet.yaml": b"yaml:\n  overlays:\n  - nope\n", "cm.yaml": CM}
    with pytest.raises(InvalidInput, match=r"fleet\.yaml:3: overlay 'nope'"):
        load_bundle(BundleSource("b", files))


def test_unfetchable_chart_source_is_refused_with_advice() -> None:
    # Chart repositories, oci:// and https:// archives are fetched (test_charts.py); go-getter
    # sources are not.
    files = {"fleet.yaml": b"helm:\n  chart: s3::https://bucket/c\n", "cm.yaml": CM}
    with pytest.raises(InvalidInput, match=r"fleet\.yaml:2: .*not supported; use a chart repo"):
        load_bundle(BundleSource("b", files))


@pytest.mark.parametrize(
    ("fleet", "line", "key"),
    [
        ("helm:\n  atomic: true\n", 2, "helm.atomic"),
        ("helm:\n  valuesFrom:\n  - configMapKeyRef: {name: v, key: k}\n", 2, "helm.valuesFrom"),
        ("helm:\n  skipSchemaValidation: true\n", 2, "helm.skipSchemaValidation"),
        ("createNamespace: false\n", 1, "createNamespace"),
        ("correctDrift:\n  enabled: true\n  force: true\n", 3, "correctDrift.force"),
        ("correctDrift:\n  keepFailHistory: true\n", 2, "correctDrift.keepFailHistory"),
        ("downstreamResources:\n- {kind: Secret, name: s}\n", 1, "downstreamResources"),
        ("imageScans:\n- {image: x}\n", 1, "imageScans"),
        ("rolloutStrategy:\n  maxNew: 5\n", 2, "rolloutStrategy.maxNew"),
        (
            "targetCustomizations:\n- name: a\n  clusterName: a\n  helm:\n    atomic: true\n",
            5,
            r"targetCustomizations\[0\]\.helm\.atomic",
        ),
    ],
)
def test_options_argosy_cannot_carry_out_are_errors_naming_the_key(
    fleet: str, line: int, key: str
) -> None:
    files = {"fleet.yaml": fleet.encode(), "cm.yaml": CM}
    with pytest.raises(InvalidInput, match=rf"^fleet\.yaml:{line}: {key} is not supported: \w"):
        load_bundle(BundleSource("b", files))


@pytest.mark.parametrize(
    "fleet",
    [
        # Their default values, as Fleet's own examples write them, are fine.
        "helm:\n  atomic: false\n  valuesFrom: []\n  skipSchemaValidation: false\n",
        "createNamespace: true\ncorrectDrift: {enabled: true, force: false}\nimageScans: []\n",
        "helm:\n  timeoutSeconds: 0\n  maxHistory: 5\n  waitForJobs: true\n  disableDNS: true\n",
        "helm:\n  disableDependencyUpdate: true\n  force: false\ndeleteCRDResources: true\n",
    ],
)
def test_default_or_honoured_values_load(fleet: str) -> None:
    load_bundle(BundleSource("b", {"fleet.yaml": fleet.encode(), "cm.yaml": CM}))


def test_pod_security_namespace_labels_need_allow_pod_security_namespace_labels() -> None:
    fleet = b"namespace: a\nnamespaceLabels:\n  pod-security.kubernetes.io/enforce: privileged\n"
    with pytest.raises(
        InvalidInput,
        match=r"fleet\.yaml:2: namespaceLabels: pod-security\.kubernetes\.io/enforce .*"
        r"allowPodSecurityNamespaceLabels: true",
    ):
        load_bundle(BundleSource("b", {"fleet.yaml": fleet, "cm.yaml": CM}))
    allowed = fleet + b"allowPodSecurityNamespaceLabels: true\n"
    bundle = load_bundle(BundleSource("b", {"fleet.yaml": allowed, "cm.yaml": CM}))
    assert bundle.options.deployment.namespace_labels == {
        "pod-security.kubernetes.io/enforce": "privileged"
    }


def test_service_account_must_be_a_kubernetes_name() -> None:
    files = {"fleet.yaml": b"namespace: a\nserviceAccount: 'Bad Name'\n", "cm.yaml": CM}
    with pytest.raises(InvalidInput, match=r"fleet\.yaml:2: serviceAccount: 'Bad Name' is not a"):
        load_bundle(BundleSource("b", files))


def big_configmap(name: str, size: int, namespace: str = "default") -> bytes:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {namespace}}}\n"
        f"data: {{blob: '{'x' * size}'}}\n"
    ).encode()


def test_object_over_the_api_server_limit_names_file_and_object() -> None:
    files = {
        "ok.yaml": big_configmap("fits", 1_500_000),
        "cm.yaml": big_configmap("huge", 1_600_000),
    }
    with pytest.raises(
        InvalidInput,
        match=r"^cm\.yaml:1: ConfigMap default/huge is 1,600,\d{3} bytes; the Kubernetes API "
        r"server takes at most 1,572,864 per object$",
    ):
        load_bundle(BundleSource("b", files))
    assert len(load_bundle(BundleSource("b", {"ok.yaml": files["ok.yaml"]})).resources) == 1


def test_every_bad_file_of_a_bundle_is_reported() -> None:
    files = {
        "a.yaml": b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n",
        "b.yaml": b"apiVersion: v1\nmetadata: {name: b}\n",
        "c.yaml": big_configmap("huge", 1_600_000),
        "d.yaml": CM,
    }
    with pytest.raises(InvalidInput) as err:
        load_bundle(BundleSource("b", files))
    problems = err.value.problems
    assert [p.split(":", 1)[0] for p in problems] == ["a.yaml", "b.yaml", "c.yaml"], problems
    assert "invalid YAML" in problems[0]
    assert "missing or empty 'kind'" in problems[1]
    assert "ConfigMap default/huge is 1,600," in problems[2]
    assert str(err.value) == "\n".join(problems)


async def test_rendered_object_over_the_limit_names_bundle_and_object() -> None:
    template = (
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n"
        b'data:\n  blob: {{ repeat (int .Values.size) "x" | quote }}\n'
    )
    files = {
        "Chart.yaml": CHART,
        "values.yaml": b"size: 10\n",
        "templates/cm.yaml": template,
        "fleet.yaml": b"targetCustomizations:\n- name: prod\n  clusterSelector:\n"
        b"    matchLabels: {env: prod}\n  helm:\n    values:\n      size: 1600000\n",
    }
    bundle = load_bundle(BundleSource("fat", files))
    groups = {"default": LabelSelector()}
    dev = target_for(bundle, Cluster("dev", {"env": "dev"}), groups)
    assert dev is not None and len(await render(bundle, dev)) == 1
    prod = target_for(bundle, Cluster("prod", {"env": "prod"}), groups)
    assert prod is not None
    with pytest.raises(
        InvalidInput, match=r"^fat \(helm output 0\):\d+: ConfigMap big is 1,600,\d{3} bytes"
    ):
        await render(bundle, prod)
