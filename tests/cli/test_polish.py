"""CLI polish (#15): an example in every --help, `argosy` alone, shell completion, version,
`cluster label`, and lists that follow page tokens and stop at --limit."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest
from google.protobuf.message import Message

import argosy
from argosy.api.v1 import fleet_pb2
from argosy.errors import InvalidInput
from cli import examples
from cli.client import UserError
from cli.commands.completion import script
from cli.main import build_parser, main
from hub.app import parse_settings as hub_settings
from spoke.app import parse_settings as spoke_settings
from tests.cli.fakes import FakeHub, FakeStub, run

HANDED_OVER = {"hub", "spoke"}


def test_every_subcommand_help_ends_with_an_example() -> None:
    root = build_parser()
    missing = [
        path
        for path, parser in examples.walk(root)
        if path not in HANDED_OVER and "\nexample:\n  argosy " not in parser.format_help()
    ]
    assert missing == []
    # Every example belongs to a command that exists (a renamed verb takes its example along).
    paths = {path for path, _ in examples.walk(root)}
    assert set(examples.EXAMPLES) - paths == set()


@pytest.mark.parametrize("parse", [hub_settings, spoke_settings])
def test_the_hub_and_the_spoke_help_have_an_example_too(
    parse: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as done:
        parse(["--help"])
    assert done.value.code == 0
    assert "\nexample:\n  argosy " in capsys.readouterr().out


def test_spoke_labels_help_says_the_hubs_labels_win(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        spoke_settings(["--help"])
    assert "argosy cluster label) win over these" in " ".join(capsys.readouterr().out.split())


def test_prose_descriptions_are_still_wrapped() -> None:
    [(_, label)] = [(p, x) for p, x in examples.walk(build_parser()) if p == "cluster label"]
    assert max(len(line) for line in label.format_help().splitlines()) <= 100


def test_argosy_alone_prints_the_help_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([])
    assert done.value.code == 2
    out = capsys.readouterr().out
    assert out.startswith("usage: argosy") and "argosy completion bash|zsh" in out


# --- completion -----------------------------------------------------------------------------------


def complete(words: list[str]) -> list[str]:
    """What bash offers for `argosy WORDS...<TAB>` (the last word is the one completed)."""
    program = (
        script(build_parser(), "bash")
        + "\nCOMP_WORDS=("
        + " ".join(f"'{w}'" for w in ["argosy", *words])
        + f")\nCOMP_CWORD={len(words)}\nCOMP_LINE='argosy {' '.join(words)}'"
        + "\nCOMP_POINT=${#COMP_LINE}\n_shtab_argosy argosy\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
    )
    done = subprocess.run(
        ["bash", "--norc", "--noprofile"],
        input=program,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_verbs_actions_and_flags() -> None:
    assert complete(["clu"]) == ["cluster"]
    assert set(complete(["cluster", ""])) >= {"list", "label", "delete", "revoke"}
    assert "--state" in complete(["cluster", "list", "--st"])
    assert complete(["completion", ""]) == ["bash", "zsh"]


async def test_zsh_script_is_a_compdef(capsys: pytest.CaptureFixture[str]) -> None:
    await run(FakeHub(), "completion", "zsh")
    out = capsys.readouterr().out
    assert out.startswith("#compdef argosy") and "cluster" in out


# --- version --------------------------------------------------------------------------------------


async def test_version_shows_the_client_and_the_hub(capsys: pytest.CaptureFixture[str]) -> None:
    hub = FakeHub(FakeStub(GetVersion=fleet_pb2.GetVersionResponse(version="9.9.9")))
    await run(hub, "version")
    assert capsys.readouterr().out.splitlines() == [
        f"client: {argosy.__version__}",
        f"image:  ghcr.io/argosy/argosy:{argosy.__version__}",
        "hub:    9.9.9 (hub.test:7443)",
    ]


class Unreachable(FakeStub):
    async def _unary(self, rpc: str, request: Message, answer: Any) -> Any:
        raise UserError("cannot reach the hub at hub.test:7443: connection refused")


async def test_version_without_a_hub_still_shows_the_client(
    capsys: pytest.CaptureFixture[str],
) -> None:
    await run(FakeHub(Unreachable()), "version", "-o", "json")
    doc = json.loads(capsys.readouterr().out)
    assert doc["client"] == argosy.__version__
    assert doc["hub"]["version"] == "" and "connection refused" in doc["hub"]["error"]


# --- cluster label --------------------------------------------------------------------------------


async def test_cluster_label_sends_sets_and_removals(capsys: pytest.CaptureFixture[str]) -> None:
    reply = fleet_pb2.SetClusterLabelsResponse(
        cluster=fleet_pb2.Cluster(name="one", labels={"env": "prod"})
    )
    hub = FakeHub(FakeStub(SetClusterLabels=reply))
    await run(hub, "cluster", "label", "one", "env=prod", "spot-")
    assert hub.fake.calls == [
        (
            "SetClusterLabels",
            fleet_pb2.SetClusterLabelsRequest(name="one", set={"env": "prod"}, remove=["spot"]),
        )
    ]
    assert capsys.readouterr().out == "cluster/one labeled: env=prod\n"


async def test_cluster_label_refuses_what_is_neither_a_set_nor_a_removal() -> None:
    hub = FakeHub()
    with pytest.raises(InvalidInput, match="'env' is neither key=value"):
        await run(hub, "cluster", "label", "one", "env")
    assert hub.fake.calls == []


# --- paged lists ----------------------------------------------------------------------------------


class PagedStub(FakeStub):
    """ListClusters in pages of at most 2 (or the page_size asked), by name."""

    def __init__(self, names: list[str]) -> None:
        super().__init__()
        self.names = names

    async def _unary(self, rpc: str, request: Message, answer: Any) -> Any:
        assert isinstance(request, fleet_pb2.ListClustersRequest)
        copy = fleet_pb2.ListClustersRequest()
        copy.CopyFrom(request)
        self.calls.append((rpc, copy))
        size = min(request.page_size or 2, 2)
        rest = [n for n in self.names if n > request.page_token]
        chunk = rest[:size]
        more = len(rest) > size
        return fleet_pb2.ListClustersResponse(
            clusters=[fleet_pb2.Cluster(name=n, id=n) for n in chunk],
            next_page_token=chunk[-1] if more else "",
        )


async def test_cluster_list_follows_page_tokens_and_passes_filters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub = FakeHub(PagedStub(["a", "b", "c", "d", "e"]))
    await run(hub, "cluster", "list", "-l", "env=prod", "--state", "NotReady", "-o", "json")
    assert [c["name"] for c in json.loads(capsys.readouterr().out)] == ["a", "b", "c", "d", "e"]
    sent = [r for _, r in hub.fake.calls]
    assert [r.page_token for r in sent] == ["", "b", "d"]  # type: ignore[attr-defined]
    assert all(r.label_selector == "env=prod" and r.state == "NotReady" for r in sent)  # type: ignore[attr-defined]


async def test_limit_stops_early_and_asks_only_for_what_it_needs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub = FakeHub(PagedStub(["a", "b", "c", "d", "e"]))
    await run(hub, "cluster", "list", "--limit", "3", "-o", "json")
    assert [c["name"] for c in json.loads(capsys.readouterr().out)] == ["a", "b", "c"]
    assert [r.page_size for _, r in hub.fake.calls] == [3, 1]  # type: ignore[attr-defined]


class PagedStatus(FakeStub):
    """GetStatus with clusters c0..c4 and bundles b0..b2 side by side, two of each per page."""

    clusters = [f"c{i}" for i in range(5)]
    bundles = ["b0", "b1", "b2"]

    async def _unary(self, rpc: str, request: Message, answer: Any) -> Any:
        assert isinstance(request, fleet_pb2.GetStatusRequest)
        copy = fleet_pb2.GetStatusRequest()
        copy.CopyFrom(request)
        self.calls.append((rpc, copy))
        page = int(request.page_token or 0)
        size = min(request.page_size or 2, 2)
        cs = self.clusters[page * size : (page + 1) * size]
        bs = self.bundles[page * size : (page + 1) * size]
        more = (page + 1) * size < max(len(self.clusters), len(self.bundles))
        return fleet_pb2.GetStatusResponse(
            clusters=[fleet_pb2.ClusterStatus(name=n) for n in cs],
            bundles=[fleet_pb2.BundleStatus(name=n) for n in bs],
            groups=[fleet_pb2.GroupStatus(name="default")] if page == 0 else [],
            next_page_token=str(page + 1) if more else "",
        )


async def test_status_reads_every_page_and_passes_its_filters(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub = FakeHub(PagedStatus())
    await run(hub, "status", "-l", "env=prod", "--state", "NotReady", "-o", "json")
    doc = json.loads(capsys.readouterr().out)
    assert [c["name"] for c in doc["clusters"]] == PagedStatus.clusters
    assert [b["name"] for b in doc["bundles"]] == PagedStatus.bundles
    assert [g["name"] for g in doc["groups"]] == ["default"]
    sent = [r for _, r in hub.fake.calls]
    assert [r.page_token for r in sent] == ["", "1", "2"]  # type: ignore[attr-defined]
    assert {(r.label_selector, r.state) for r in sent} == {("env=prod", "NotReady")}  # type: ignore[attr-defined]


async def test_status_of_one_bundle_stops_at_the_page_that_holds_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub = FakeHub(PagedStatus())
    await run(hub, "status", "b1", "-o", "json")
    assert len(hub.fake.calls) == 1
    assert [b["name"] for b in json.loads(capsys.readouterr().out)["bundles"]] == ["b1"]


async def test_status_limit_bounds_each_list(capsys: pytest.CaptureFixture[str]) -> None:
    hub = FakeHub(PagedStatus())
    await run(hub, "status", "--limit", "1", "-o", "json")
    doc = json.loads(capsys.readouterr().out)
    assert ([c["name"] for c in doc["clusters"]], [b["name"] for b in doc["bundles"]]) == (
        ["c0"],
        ["b0"],
    )
    assert len(hub.fake.calls) == 1
