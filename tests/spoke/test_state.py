"""The state file: what a spoke holds survives a restart, in today's format and the one
written before ApplyOptions (options as a camelCase dict with parsed lists)."""

from __future__ import annotations

import json
from pathlib import Path

from argosy.options import ApplyOptions
from spoke.state import Held, LocalState

COMPARE = [{"apiVersion": "v1", "kind": "Service", "operations": [{"op": "remove", "path": "/x"}]}]
IGNORE = [{"type": "Progressing"}]

# A state file as spokes wrote it before ApplyOptions: every key, lists parsed.
BEFORE = {
    "deployments": {
        "web": {
            "revision": "r1",
            "resources": {"/ConfigMap//c": ["h1", '{"kind":"ConfigMap"}']},
            "options": {
                "defaultNamespace": "apps",
                "keepResources": False,
                "force": True,
                "correctDrift": True,
                "comparePatches": COMPARE,
                "ignoreConditions": IGNORE,
                "forceSyncGeneration": 3,
                "takeOwnership": False,
                "serviceAccount": "deployer",
                "namespaceLabels": {"team": "a"},
                "namespaceAnnotations": {},
                "deleteNamespace": True,
            },
            "error": "",
        },
        "plain": {
            "revision": "r2",
            "resources": {},
            "options": {
                "defaultNamespace": "",
                "keepResources": True,
                "force": False,
                "correctDrift": False,
                "comparePatches": [],
                "ignoreConditions": [],
                "forceSyncGeneration": 0,
                "takeOwnership": False,
                "serviceAccount": "",
                "namespaceLabels": {},
                "namespaceAnnotations": {},
                "deleteNamespace": False,
            },
            "error": "x: boom",
        },
    }
}


def test_a_state_file_written_before_apply_options_reads_into_the_model(tmp_path: Path) -> None:
    path = tmp_path / "deployments.json"
    path.write_text(json.dumps(BEFORE))
    state = LocalState(path)
    state.load()
    web = state.deployments["web"]
    assert web.resources == {"/ConfigMap//c": ("h1", b'{"kind":"ConfigMap"}')}
    o = web.options
    assert (o.default_namespace, o.force, o.correct_drift, o.keep_resources) == (
        "apps",
        True,
        True,
        False,
    )
    assert o.compare_patches == COMPARE and o.ignore_conditions == IGNORE
    assert (o.force_sync_generation, o.service_account, o.delete_namespace) == (3, "deployer", True)
    assert dict(o.namespace_labels) == {"team": "a"}
    plain = state.deployments["plain"]
    assert plain.options == ApplyOptions(keep_resources=True)
    assert plain.error == "x: boom"
    assert state.applied() == {"web": "r1", "plain": "r2"}


def test_the_state_file_round_trips_and_stores_options_as_dict(tmp_path: Path) -> None:
    path = tmp_path / "deployments.json"
    path.write_text(json.dumps(BEFORE))
    old = LocalState(path)
    old.load()
    old.deployments["new"] = Held("new", "r3", {}, ApplyOptions(take_ownership=True))
    old.save()
    doc = json.loads(path.read_text())
    for name, held in old.deployments.items():
        assert doc["deployments"][name]["options"] == held.options.as_dict()
    again = LocalState(path)
    again.load()
    assert again.deployments == old.deployments


def test_no_file_means_nothing_held(tmp_path: Path) -> None:
    state = LocalState(tmp_path / "absent.json")
    state.load()
    assert state.deployments == {}
    LocalState(None).save()  # in memory only: nothing written anywhere
