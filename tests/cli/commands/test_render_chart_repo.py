"""`argosy render` of a bundle whose chart is in a chart repository: the CLI fetches it itself
(no hub, no cache), here from a repository served on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.chartrepo import serving
from tests.cli.fakes import FakeHub, run


async def test_render_fetches_the_chart_from_its_repository(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with serving() as repo:
        repo.add_charts({"web": ["1.0.0", "1.1.0"]})
        app = tmp_path / "app"
        app.mkdir()
        (app / "fleet.yaml").write_text(
            f"helm:\n  repo: {repo.url}\n  chart: web\n  version: 1.0.0\n"
            "  values:\n    color: ${ .ClusterLabels.env }\n"
        )
        hub = FakeHub()
        await run(hub, "render", str(app), "-l", "env=dev")
    (doc,) = yaml.safe_load_all(capsys.readouterr().out)
    assert doc["data"] == {"chart": "web-1.0.0", "color": "dev"}
    assert hub.opened == 0
    assert repo.paths() == ["index.yaml", "charts/web-1.0.0.tgz"]
