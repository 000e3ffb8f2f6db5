"""`argosy bundle history`, `argosy rollback` and `argosy unpin` against a real hub."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import argosy
from tests.harness import running_hub

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: app}}\ndata: {{v: '{v}'}}\n"
SA = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app}\n"


async def test_history_rollback_pin_and_unpin_through_the_cli(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "cm.yaml").write_text(CM.format(v="1"))
    (app / "sa.yaml").write_text(SA)
    async with running_hub(tmp_path / "hub") as hub:
        assert (await argosy(hub, "apply", str(app)))[0] == 0
        (app / "sa.yaml").unlink()
        (app / "cm.yaml").write_text(CM.format(v="2"))
        assert (await argosy(hub, "apply", str(app)))[0] == 0

        code, out, err = await argosy(hub, "bundle", "history", "app")
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0].split() == ["REV", "TIME", "SOURCE", "SUMMARY", "CURRENT"]
        assert lines[1].split()[0] == "1" and "2 objects: ConfigMap, ServiceAccount" in lines[1]
        assert lines[2].split()[0] == "2" and lines[2].rstrip().endswith("*")
        assert "token/a-" in lines[1] and "Pinned" not in out

        code, out, err = await argosy(hub, "rollback", "app")
        assert code == 0, err
        assert out.startswith("bundle/app rolled back to rev 1 (rev 3, revision ")
        assert "and pinned; `argosy unpin app` to accept new revisions" in out

        code, out, _ = await argosy(hub, "status")
        assert "Pinned (rev 3)" in out
        code, out, _ = await argosy(hub, "status", "app")
        assert "Pinned (rev 3) by rollback" in out and "argosy unpin app" in out
        code, out, _ = await argosy(hub, "status", "-o", "json")
        assert json.loads(out)["bundles"][0]["pinnedRev"] == 3

        code, out, _ = await argosy(hub, "bundle", "history", "app", "-o", "json")
        doc = json.loads(out)
        assert [(d["rev"], d["rollbackOf"], d["current"]) for d in doc] == [
            (1, 0, False),
            (2, 0, False),
            (3, 1, True),
        ]
        assert doc[2]["revision"] == doc[0]["revision"] and doc[2]["source"].startswith("token/")
        code, out, _ = await argosy(hub, "bundle", "history", "app")
        assert "(rollback to 1)" in out and "Pinned at rev 3 by rollback" in out

        (app / "cm.yaml").write_text(CM.format(v="3"))
        code, out, err = await argosy(hub, "apply", str(app))
        assert code == 0, err  # a per-bundle result, not an error of the whole apply
        assert out.strip() == (
            "bundle/app skipped: bundle app is pinned at rev 3 by rollback; "
            "`argosy unpin app` to accept new revisions"
        )

        code, _, err = await argosy(hub, "rollback", "app", "--to", "99")
        assert code == 1 and "bundle 'app' has no rev 99 in its history (kept: 1, 2, 3" in err
        code, _, err = await argosy(hub, "rollback", "app", "--to", "-1")
        # A usage error now, as past the proto field's range (#15 review).
        assert code == 2 and "argument --to: -1 is out of range (0 to 4294967295)" in err
        code, _, err = await argosy(hub, "rollback", "nope")
        assert code == 1 and "bundle 'nope' not found" in err

        code, out, _ = await argosy(hub, "unpin", "app")
        assert code == 0 and out.strip() == (
            "bundle/app unpinned: the next apply or commit of it deploys"
        )
        code, out, _ = await argosy(hub, "unpin", "app")
        assert code == 0 and out.strip() == "bundle/app was not pinned"
        code, out, err = await argosy(hub, "apply", str(app))
        assert code == 0 and out.startswith("bundle/app configured"), err
        code, out, _ = await argosy(hub, "bundle", "history", "app")
        assert out.splitlines()[-1].split()[0] == "4"


async def test_unpin_help_says_it_deploys_nothing_by_itself() -> None:
    code, out, _ = await argosy(None, "unpin", "--help")
    assert code == 0 and "Unpinning deploys nothing by itself" in " ".join(out.split())
    code, out, _ = await argosy(None, "rollback", "--help")
    assert code == 0 and "--to REV" in out
