"""`argosy login` and `argosy context use|list`: the contexts file, no hub called."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy import config
from cli.client import UserError
from tests.cli.fakes import FakeHub, run


async def test_login_saves_the_hub_ca_and_token_and_makes_it_current(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    ca = tmp_path / "ca.pem"
    ca.write_text("PEM")
    hub = FakeHub(address="hub.example:7443")
    await run(hub, "--config", str(path), "login", "--token", "T", "--ca", str(ca))
    await run(hub, "--config", str(path), "login", "--token", "U", "--context", "plain")
    cfg = config.load(path)
    assert cfg.current == "plain"
    assert cfg.context("default") == config.Context("default", "hub.example:7443", "PEM", "T")
    assert cfg.context("plain") == config.Context("plain", "hub.example:7443", "", "U")
    assert capsys.readouterr().out.splitlines()[0] == (
        f"context default (hub.example:7443) saved in {path} and made current"
    )
    assert hub.opened == 0


async def test_context_use_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "config.yaml"
    config.save(
        config.Config(
            contexts=(config.Context("a", "h1:1", ca="PEM"), config.Context("b", "h2:2")),
            current="b",
        ),
        path,
    )
    hub = FakeHub()
    await run(hub, "--config", str(path), "context", "use", "a")
    assert config.load(path).current == "a"
    assert capsys.readouterr().out == "using context a\n"
    await run(hub, "--config", str(path), "context", "list")
    assert capsys.readouterr().out.splitlines() == [
        "CURRENT   NAME   HUB    TLS",
        "*         a      h1:1   yes",
        "          b      h2:2   no",
    ]
    with pytest.raises(UserError, match=f"no context 'c' in {path}"):
        await run(hub, "--config", str(path), "context", "use", "c")
