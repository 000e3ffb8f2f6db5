"""pause, unpause, rollout resume and the detailed status views, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from tests.cli.test_cli import argosy
from tests.harness import eventually, running_hub, start_spoke

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{v: '{v}'}}\n"


async def test_pause_holds_new_revisions_and_unpause_releases_them(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "cm.yaml").write_text(CM.format(v="1"))
    async with running_hub(tmp_path / "hub") as hub:
        code, out, _ = await argosy(hub, "token", "create")
        spoke = start_spoke(
            hub=hub, name="one", labels={}, token=out.strip(), data_dir=tmp_path / "s"
        )
        try:
            await eventually(spoke.spoke.link.connected.is_set)
            assert (await argosy(hub, "apply", str(app)))[0] == 0

            def value() -> str:
                obj = spoke.cluster.objects.get("/ConfigMap/default/app")
                return str(obj["data"]["v"]) if obj else ""

            await eventually(lambda: value() == "1")
            code, out, err = await argosy(hub, "pause", "app")
            assert code == 0 and "bundle/app paused" in out, err
            (app / "cm.yaml").write_text(CM.format(v="2"))
            assert (await argosy(hub, "apply", str(app)))[0] == 0

            async def state() -> dict[str, Any]:
                _, out, _ = await argosy(hub, "status", "app", "-o", "json")
                return dict(json.loads(out)["bundles"][0])

            await eventually(
                lambda: _is(state(), lambda b: b["state"] == "OutOfSync"), what="OutOfSync"
            )
            b = await state()
            assert b["paused"] is True and b["rollout"]["state"] == "Paused"
            assert b["deployments"][0]["held"] == "paused"
            assert value() == "1"
            code, out, _ = await argosy(hub, "status", "app")
            assert "Paused: new revisions are held" in out and "OutOfSync" in out
            code, out, _ = await argosy(hub, "unpause", "app")
            assert code == 0
            await eventually(lambda: value() == "2", what="released after unpause")
            code, out, _ = await argosy(hub, "status", "--cluster", "one", "-o", "yaml")
            doc = yaml.safe_load(out)
            assert doc["clusters"][0]["deployments"][0]["bundle"] == "app"
            code, _, err = await argosy(hub, "rollout", "resume", "nope")
            assert code == 1 and "not found" in err
            code, _, err = await argosy(hub, "status", "nope")
            assert code == 1 and "no bundle or cluster named 'nope'" in err
        finally:
            await spoke.stop()


async def _is(awaitable: object, check: object) -> bool:
    value = await awaitable  # type: ignore[misc]
    return bool(check(value))  # type: ignore[operator]
