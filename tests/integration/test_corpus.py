"""Fleet's example corpus through the product, as a user would run it.

`argosy render` must print Fleet's golden output for every case and env, and `argosy apply` of
the corpus must leave on each simulated cluster exactly the objects of its golden file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from argosy.api.v1 import fleet_pb2
from argosy.hashing import canonical_json
from tests.argosy.bundle.test_conformance import CASES, ENVS, _as_set, _clean
from tests.cli.test_cli import argosy
from tests.harness import bundle_status, eventually, running_hub, start_spoke

# What the spoke and the (simulated) API server add to an applied object.
SERVER_FIELDS = ("uid", "generation", "resourceVersion")
OURS = ("argosy.io/bundle", "argosy.io/deployment")


def golden(corpus: Path, case: str, env: str) -> list[dict[str, Any]]:
    text = (corpus / "tests/expected" / case / f"{env}-output.yaml").read_text()
    return [d for d in yaml.safe_load_all(text) if d]


def as_applied(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A live simulated object, minus what the server and Argosy's ownership marks add."""
    out = {k: v for k, v in obj.items() if k != "status"}
    meta = {k: v for k, v in obj["metadata"].items() if k not in SERVER_FIELDS}
    for key in ("labels", "annotations"):
        kept = {k: v for k, v in (meta.get(key) or {}).items() if k not in OURS}
        if kept:
            meta[key] = kept
        else:
            meta.pop(key, None)
    out["metadata"] = meta
    return out


@pytest.mark.parametrize("case", CASES)
async def test_argosy_render_matches_golden(fleet_examples: Path, case: str) -> None:
    for env in ENVS:
        labels = ["-l", f"env={env}"] if case.startswith("multi-cluster") else []
        code, out, err = await argosy(None, "render", str(fleet_examples / case), *labels)
        assert code == 0, err
        got = _as_set([d for d in yaml.safe_load_all(out) if d])
        want = _as_set(golden(fleet_examples, case, env))
        assert got == want, f"{case} {env}: missing {want - got}, extra {got - want}"


async def test_argosy_apply_of_the_corpus_matches_golden_on_every_cluster(
    fleet_examples: Path, tmp_path: Path
) -> None:
    async with running_hub(tmp_path / "hub") as hub:
        token = (await hub.stub.CreateToken(fleet_pb2.CreateTokenRequest(), timeout=5)).token
        spokes = {
            env: start_spoke(
                hub=hub, name=env, labels={"env": env}, token=token, data_dir=tmp_path / env
            )
            for env in ENVS
        }
        try:
            names = {}
            for case in CASES:
                name = case.replace("single-cluster/", "sc-").replace("multi-cluster/", "mc-")
                names[case] = name
                code, _, err = await argosy(
                    hub, "apply", str(fleet_examples / case), "--name", name
                )
                assert code == 0, err

            async def all_ready() -> bool:
                for name in names.values():
                    b = await bundle_status(hub.stub, name)
                    if b is None or b.clusters_desired != 3 or b.clusters_ready != 3:
                        return False
                return True

            await eventually(all_ready, timeout=30, what="corpus Ready on 3 clusters")
            for env, spoke in spokes.items():
                for case, name in names.items():
                    live = [
                        as_applied(o)
                        for o in spoke.cluster.objects.values()
                        if (o["metadata"].get("labels") or {}).get("argosy.io/bundle") == name
                    ]
                    got = {canonical_json(o) for o in live}
                    want = {canonical_json(_clean(o)) for o in golden(fleet_examples, case, env)}
                    assert got == want, f"{case} on {env}: missing {want - got}, extra {got - want}"
        finally:
            for s in spokes.values():
                await s.stop()
