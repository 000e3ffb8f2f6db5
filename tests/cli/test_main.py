"""cli.main, the root: the registry wiring, `argosy hub|spoke` hand-off, and exit codes.

In-process and without a hub: errors raised by a verb become one line on stderr and exit 1.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

import hub.app
import spoke.app
from cli import commands
from cli.main import build_parser, main
from cli.parsing import handler

# The shortest line that runs each verb.
MINIMAL = {
    "token": ["list"],
    "apply": ["DIR"],
    "status": [],
    "pause": ["B"],
    "unpause": ["B"],
    "rollout": ["resume", "B"],
    "render": ["DIR"],
    "target": ["DIR"],
    "bundle": ["list"],
    "cluster": ["list"],
    "admin-token": ["list"],
    "login": ["--token", "T"],
    "context": ["list"],
    "group": ["list"],
    "repo": ["list"],
    "secret": ["list"],
    "install": ["hub"],
    "demo": [],
    "version": [],
}


def test_every_registered_verb_runs_its_own_module() -> None:
    parser = build_parser()
    (sub,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    # In help order: the root's two, then the registry's, as `argosy --help` always listed them.
    assert list(sub.choices) == ["hub", "spoke", *MINIMAL]
    modules = {
        v: getattr(commands, v.replace("-", "_").replace("unpause", "pause")) for v in MINIMAL
    }
    # Each verb's module is in the registry, and the registry holds nothing else.
    assert {id(m) for m in modules.values()} == {id(m) for m in commands.COMMANDS}
    for verb, rest in MINIMAL.items():
        assert handler(parser.parse_args([verb, *rest])) is modules[verb].run, verb
    # main() hands these over before parsing; were they parsed, nothing would run.
    assert handler(parser.parse_args(["hub"])) is None


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["apply"])
    assert exc.value.code == 2
    assert "the following arguments are required: DIR" in capsys.readouterr().err


def test_invalid_input_prints_each_problem_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nmetadata: {name: a}\n")
    (tmp_path / "b.yaml").write_text("kind: ConfigMap\nmetadata: {name: b}\n")
    with pytest.raises(SystemExit) as exc:
        main(["--config", str(tmp_path / "none.yaml"), "render", str(tmp_path)])
    assert exc.value.code == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"argosy: error: {tmp_path}/a.yaml:1: missing or empty 'kind'",
        f"argosy: error: {tmp_path}/b.yaml:1: missing or empty 'apiVersion'",
    ]


def test_user_error_is_one_line_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.yaml"
    with pytest.raises(SystemExit) as exc:
        main(["--config", str(path), "context", "use", "nope"])
    assert exc.value.code == 1
    assert capsys.readouterr().err == f"argosy: error: no context 'nope' in {path}\n"


def test_hub_and_spoke_get_the_rest_of_the_line(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(hub.app, "main", lambda argv: seen.append(("hub", list(argv))))
    monkeypatch.setattr(spoke.app, "main", lambda argv: seen.append(("spoke", list(argv))))
    main(["hub", "--data-dir", "d", "--help"])
    main(["--hub", "h:1", "spoke", "--name", "s"])
    main(["--hub", "h:1", "spoke", "--hub", "h:2"])
    assert seen == [
        ("hub", ["--data-dir", "d", "--help"]),
        # argosy's own --hub reaches the spoke, unless the spoke is given its own.
        ("spoke", ["--hub", "h:1", "--name", "s"]),
        ("spoke", ["--hub", "h:2"]),
    ]
