"""Targeting decisions (table-driven, no I/O) and sharing one render per distinct input."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from argosy.bundle import Cluster, load_bundle, target_for
from argosy.bundle.fleetyaml import parse_fleet_yaml
from argosy.bundle.reader import BundleSource
from argosy.bundle.targeting import decide
from argosy.selectors import LabelSelector

DEPLOY = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"

FLEET = """
targets:
- name: by-name
  clusterName: special
- name: prod-group
  clusterGroup: prod
- name: labelled
  clusterSelector:
    matchLabels: {tier: edge}
- name: skip
  clusterSelector:
    matchLabels: {skip: "yes"}
  doNotDeploy: true
targetCustomizations:
- name: eu
  clusterSelector:
    matchLabels: {region: eu}
  namespace: eu-ns
- name: edge
  clusterSelector:
    matchLabels: {tier: edge}
  helm:
    values: {x: 1}
"""
GROUPS: Mapping[str, LabelSelector] = {"prod": LabelSelector({"env": "prod"})}


@pytest.mark.parametrize(
    ("name", "labels", "targeted", "deploys", "customizations", "namespace"),
    [
        ("special", {}, True, True, (), ""),
        ("a", {"env": "prod"}, True, True, (), ""),
        ("b", {"env": "dev"}, False, False, (), ""),
        ("c", {"tier": "edge"}, True, True, ("edge",), ""),
        ("d", {"env": "prod", "region": "eu"}, True, True, ("eu",), "eu-ns"),
        ("e", {"skip": "yes"}, True, False, (), ""),
        ("f", {"tier": "edge", "region": "eu"}, True, True, ("eu",), "eu-ns"),
    ],
)
def test_decide(  # noqa: PLR0917 - one parameter per table column reads best
    name: str,
    labels: dict[str, str],
    targeted: bool,
    deploys: bool,
    customizations: tuple[str, ...],
    namespace: str,
) -> None:
    decision = decide(parse_fleet_yaml(FLEET), Cluster(name, labels), GROUPS)
    assert (decision.targeted, decision.deploys) == (targeted, deploys)
    if deploys:
        assert decision.customizations == customizations
        assert decision.options.namespace == namespace


def test_all_matches_merges_in_order() -> None:
    options = parse_fleet_yaml(
        FLEET.replace(
            "targetCustomizations:", "targetCustomizationMode: AllMatches\ntargetCustomizations:"
        )
    )
    decision = decide(options, Cluster("f", {"tier": "edge", "region": "eu"}), GROUPS)
    assert decision.customizations == ("eu", "edge")
    assert decision.options.namespace == "eu-ns"
    assert decision.options.helm is not None
    assert decision.options.helm.values == {"x": 1}


@pytest.mark.parametrize(
    ("fleet", "labels", "deploys"),
    [
        ("", {}, True),  # no targets: every cluster
        ("targets:\n- name: none\n", {}, False),  # a target naming nothing matches nothing
        ("targets:\n- clusterGroup: default\n", {"any": "x"}, True),
        ("targets:\n- clusterGroupSelector: {matchLabels: {t: a}}\n", {"env": "prod"}, True),
        ("targets:\n- clusterGroupSelector: {matchLabels: {t: b}}\n", {"env": "prod"}, False),
        ("targetCustomizations:\n- clusterName: c\n  doNotDeploy: true\n", {}, False),
    ],
)
def test_default_groups_and_group_selectors(
    fleet: str, labels: dict[str, str], deploys: bool
) -> None:
    groups = {"default": LabelSelector(), **GROUPS}
    decision = decide(
        parse_fleet_yaml(fleet), Cluster("c", labels), groups, group_labels={"prod": {"t": "a"}}
    )
    assert decision.deploys == deploys


async def test_200_clusters_three_customizations_three_renders() -> None:
    fleet = """
targetCustomizations:
- {name: small, clusterSelector: {matchLabels: {size: s}}, yaml: {overlays: [s]}}
- {name: medium, clusterSelector: {matchLabels: {size: m}}, yaml: {overlays: [m]}}
- {name: large, clusterSelector: {matchLabels: {size: l}}, yaml: {overlays: [l]}}
"""
    files = {"fleet.yaml": fleet.encode(), "cm.yaml": DEPLOY}
    for size in "sml":
        files[f"overlays/{size}/cm_patch.yaml"] = f"data: {{size: {size}}}\n".encode()
    bundle = load_bundle(BundleSource("b", files))
    clusters = [Cluster(f"c{i}", {"size": "sml"[i % 3], "id": str(i)}) for i in range(200)]
    targets = [target_for(bundle, c, {}) for c in clusters]
    keys = {t.render_key for t in targets if t is not None}
    assert len(keys) == 3

    calls = 0
    cache: dict[str, object] = {}

    async def render_once(key: str) -> object:
        nonlocal calls
        if key not in cache:
            calls += 1
            cache[key] = object()
        return cache[key]

    for t in targets:
        assert t is not None
        await render_once(t.render_key)
    assert calls == 3


def test_template_values_key_uses_only_the_labels_read() -> None:
    fleet = "helm:\n  values:\n    region: ${ .ClusterLabels.region }\n"
    files = {
        "fleet.yaml": fleet.encode(),
        "Chart.yaml": b"apiVersion: v2\nname: c\nversion: 1.0.0\n",
    }
    bundle = load_bundle(BundleSource("b", files))
    a = target_for(bundle, Cluster("a", {"region": "eu", "id": "1"}), {})
    b = target_for(bundle, Cluster("b", {"region": "eu", "id": "2"}), {})
    c = target_for(bundle, Cluster("c", {"region": "us"}), {})
    missing = target_for(bundle, Cluster("d", {}), {})
    assert a is not None and b is not None and c is not None and missing is not None
    assert a.render_key == b.render_key != c.render_key
    assert a.context == {"ClusterLabels": {"region": "eu"}}
    assert "region" in missing.error


def test_apply_options() -> None:
    fleet = "defaultNamespace: apps\nkeepResources: true\ncorrectDrift: {enabled: true}\n"
    bundle = load_bundle(BundleSource("b", {"fleet.yaml": fleet.encode(), "cm.yaml": DEPLOY}))
    target = target_for(bundle, Cluster("a"), {})
    assert target is not None
    opts = target.apply_options
    assert (opts.default_namespace, opts.keep_resources, opts.correct_drift) == ("apps", True, True)
    assert opts.force is False


def test_apply_options_carry_the_deployment_options_after_customization() -> None:
    fleet = """\
namespace: shop
forceSyncGeneration: 3
serviceAccount: deployer
namespaceLabels: {team: shop}
namespaceAnnotations: {owner: alice}
deleteNamespace: true
helm: {takeOwnership: true}
targetCustomizations:
- clusterSelector: {matchLabels: {env: prod}}
  serviceAccount: prod-deployer
  forceSyncGeneration: 4
  namespaceLabels: {env: prod}
"""
    bundle = load_bundle(BundleSource("b", {"fleet.yaml": fleet.encode(), "cm.yaml": DEPLOY}))
    dev = target_for(bundle, Cluster("dev", {"env": "dev"}), {})
    prod = target_for(bundle, Cluster("prod", {"env": "prod"}), {})
    assert dev is not None and prod is not None
    d, p = dev.apply_options, prod.apply_options
    assert (d.force_sync_generation, d.service_account, d.take_ownership) == (3, "deployer", True)
    assert d.namespace_labels == {"team": "shop"}
    assert d.namespace_annotations == {"owner": "alice"}
    assert d.delete_namespace is True
    assert (p.force_sync_generation, p.service_account) == (4, "prod-deployer")
    assert p.namespace_labels == {"team": "shop", "env": "prod"}
    # Same objects, different apply options: two render keys, so neither gets the other's.
    assert dev.render_key != prod.render_key


def test_keep_resources_keeps_the_namespace_too() -> None:
    fleet = "namespace: shop\ndeleteNamespace: true\nkeepResources: true\n"
    bundle = load_bundle(BundleSource("b", {"fleet.yaml": fleet.encode(), "cm.yaml": DEPLOY}))
    target = target_for(bundle, Cluster("a"), {})
    assert target is not None and target.apply_options.delete_namespace is False


def test_override_targets_add_targets_and_restrict_them() -> None:
    fleet = """\
targets:
- clusterSelector: {matchLabels: {env: dev}}
overrideTargets:
- clusterSelector: {matchLabels: {env: prod}}
- clusterName: special
"""
    options = parse_fleet_yaml(fleet)
    groups: dict[str, LabelSelector] = {}
    assert decide(options, Cluster("p", {"env": "prod"}), groups).deploys
    assert decide(options, Cluster("special", {"env": "dev"}), groups).deploys
    # A fleet.yaml target alone is not enough once overrideTargets restrict the bundle.
    assert not decide(options, Cluster("d", {"env": "dev"}), groups).targeted
    assert not decide(options, Cluster("other"), groups).targeted


def test_a_customization_may_ask_for_delete_namespace() -> None:
    fleet = """\
namespace: shop
targetCustomizations:
- clusterSelector: {matchLabels: {env: dev}}
  deleteNamespace: true
"""
    bundle = load_bundle(BundleSource("b", {"fleet.yaml": fleet.encode(), "cm.yaml": DEPLOY}))
    dev = target_for(bundle, Cluster("dev", {"env": "dev"}), {})
    prod = target_for(bundle, Cluster("prod", {"env": "prod"}), {})
    assert dev is not None and prod is not None
    assert dev.apply_options.delete_namespace is True
    assert prod.apply_options.delete_namespace is False
