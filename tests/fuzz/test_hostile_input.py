"""Hostile input: parsers and the hub's API take anything and answer with a clear error.

Bounded example counts keep this in CI's budget; every failure must be InvalidInput (or the
matching gRPC status), never a crash.
"""

from __future__ import annotations

import contextlib
import tempfile
import warnings
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import NonInteractiveExampleWarning

from argosy.api.v1 import fleet_pb2, resources_pb2, spoke_pb2, spoke_pb2_grpc
from argosy.bundle import BundleSource, load_bundle, parse_fleet_yaml, read_bundle_dirs
from argosy.errors import InvalidInput
from argosy.manifests import parse_manifests
from tests.harness import running_hub

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYS = [
    "name",
    "namespace",
    "defaultNamespace",
    "labels",
    "helm",
    "chart",
    "values",
    "kustomize",
    "dir",
    "yaml",
    "overlays",
    "targets",
    "targetCustomizations",
    "clusterSelector",
    "matchLabels",
    "matchExpressions",
    "operator",
    "dependsOn",
    "rolloutStrategy",
    "partitions",
    "maxUnavailable",
    "paused",
    "correctDrift",
    "enabled",
    "diff",
    "comparePatches",
    "keepResources",
    "namespce",
    "apiVersion",
    "kind",
    "metadata",
    "items",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False),
    st.text(max_size=8),
    st.sampled_from(["In", "Exists", "10%", "prod", "-"]),
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.sampled_from(KEYS), children, max_size=4),
    ),
    max_leaves=12,
)
documents = st.one_of(
    st.text(max_size=200),
    values.map(lambda v: yaml.safe_dump(v, default_flow_style=False)),
    st.dictionaries(st.sampled_from(KEYS), values, max_size=6).map(yaml.safe_dump),
)


@FUZZ
@given(documents)
def test_fleet_yaml_parser_never_crashes(text: str) -> None:
    try:
        parse_fleet_yaml(text, path="fleet.yaml")
    except InvalidInput as exc:
        assert "fleet.yaml" in str(exc)


@FUZZ
@given(documents)
def test_manifest_parser_never_crashes(text: str) -> None:
    try:
        parse_manifests(text, path="m.yaml")
    except InvalidInput as exc:
        assert "m.yaml" in str(exc)


NAMES = st.sampled_from(
    [
        "fleet.yaml",
        "a.yaml",
        "b.yml",
        "c.json",
        "README.md",
        ".fleetignore",
        "kustomization.yaml",
        "Chart.yaml",
        "x.yaml",
    ]
)
trees = st.dictionaries(
    st.tuples(st.sampled_from(["", "sub/", "sub/deep/", "overlays/dev/", "chart/"]), NAMES).map(
        "".join
    ),
    st.one_of(documents, st.binary(max_size=40).map(lambda b: b.decode("latin-1"))),
    max_size=6,
)


@FUZZ
@given(trees)
def test_bundle_reader_never_crashes_on_random_trees(tree: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bundle"
        root.mkdir()
        for rel, text in tree.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", errors="surrogateescape")
        try:
            for source in read_bundle_dirs([root]):
                load_bundle(source)
        except InvalidInput:
            pass


@FUZZ
@given(st.dictionaries(st.text(max_size=20), st.binary(max_size=200), max_size=4))
def test_loader_never_crashes_on_random_files(files: dict[str, bytes]) -> None:
    with contextlib.suppress(InvalidInput):
        load_bundle(BundleSource("fuzz", files))


label_maps = st.dictionaries(st.text(max_size=70), st.text(max_size=70), max_size=4)


@pytest.mark.timeout(300)
async def test_hub_api_answers_hostile_requests_with_clear_statuses(tmp_path: Path) -> None:
    """Random names, labels and files through the real gRPC API: never INTERNAL."""
    strategy = st.tuples(
        st.text(max_size=80),
        label_maps,
        st.dictionaries(st.text(max_size=30), documents, max_size=3),
    )
    # One live hub for all examples: drawn up front (example() warns outside @given by design).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NonInteractiveExampleWarning)
        examples = [strategy.example() for _ in range(60)]
    # Plaintext: this is about input validation, which is the same with or without TLS.
    async with running_hub(tmp_path / "hub", insecure=True) as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        async with grpc.aio.insecure_channel(hub.address) as channel:
            spokes = spoke_pb2_grpc.SpokeServiceStub(channel)
            for name, labels, files in examples:
                spec = fleet_pb2.BundleSpec(
                    name=name,
                    labels=labels,
                    files=[
                        resources_pb2.BundleFile(path=p, content=c.encode())
                        for p, c in files.items()
                    ],
                )
                for call in (
                    hub.stub.ApplyBundles(
                        fleet_pb2.ApplyBundlesRequest(bundles=[spec]), timeout=30
                    ),
                    spokes.Register(
                        spoke_pb2.RegisterRequest(token=token, cluster_name=name, labels=labels),
                        timeout=10,
                    ),
                ):
                    try:
                        await call
                    except grpc.aio.AioRpcError as exc:
                        assert exc.code() in (
                            grpc.StatusCode.INVALID_ARGUMENT,
                            grpc.StatusCode.UNAUTHENTICATED,
                        ), (name, labels, exc.code(), exc.details())
                        assert exc.details()
        # And the hub is still serving.
        status = await hub.stub.GetStatus(fleet_pb2.GetStatusRequest(), timeout=5)
        assert status is not None
