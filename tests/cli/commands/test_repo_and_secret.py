"""`argosy repo ...` and `argosy secret ...` against a fake hub."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest

from argosy.api.v1 import fleet_pb2
from argosy.errors import InvalidInput
from cli.commands.repo import parse_interval
from tests.cli.fakes import FakeHub, FakeStub, run


async def test_add_sends_the_spec(capsys: pytest.CaptureFixture[str]) -> None:
    hub = FakeHub()
    await run(
        hub, "repo", "add", "demo", "git://127.0.0.1/r.git", "--branch", "main",
        "--paths", "apps/a, apps/b", "--interval", "1m30s", "--secret", "creds", "-l", "team=x",
    )  # fmt: skip
    ((rpc, request),) = hub.fake.calls
    assert rpc == "AddRepo" and isinstance(request, fleet_pb2.AddRepoRequest)
    s = request.spec
    assert (s.name, s.url, s.branch, s.tag, s.secret) == (
        "demo", "git://127.0.0.1/r.git", "main", "", "creds",
    )  # fmt: skip
    assert list(s.paths) == ["apps/a", "apps/b"] and s.interval_seconds == 90
    assert dict(s.labels) == {"team": "x"}
    assert capsys.readouterr().out == "repo/demo configured\n"


async def test_branch_and_tag_together_are_refused() -> None:
    with pytest.raises(SystemExit):
        await run(FakeHub(), "repo", "add", "d", "git://h/r", "--branch", "a", "--tag", "b")


def test_intervals() -> None:
    assert [parse_interval(t) for t in ("15s", "15", "2m", "1h", "1h30m")] == [
        15, 15, 120, 3600, 5400,
    ]  # fmt: skip
    for bad in ("", "fast", "5x"):
        with pytest.raises(InvalidInput, match="--interval"):
            parse_interval(bad)


def _repo() -> fleet_pb2.Repo:
    return fleet_pb2.Repo(
        spec=fleet_pb2.RepoSpec(name="demo", url="git://h/r", branch="main", paths=["apps"]),
        status=fleet_pb2.RepoStatus(
            commit="0123456789abcdef" * 2 + "01234567",
            last_fetch_unix=1_700_000_000,
            next_fetch_unix=1_700_000_015,
            path_errors=[fleet_pb2.RepoPathError(path="apps/b", message="apps/b/fleet.yaml:1: x")],
            bundles=["demo-apps-a"],
        ),
    )


async def test_list_shows_commit_fetch_times_and_the_failing_path(
    capsys: pytest.CaptureFixture[str],
) -> None:
    hub = FakeHub(FakeStub(ListRepos=fleet_pb2.ListReposResponse(repos=[_repo()])))
    await run(hub, "repo", "list")
    out = capsys.readouterr().out
    assert "0123456789ab" in out and "2023-11-14T22:13:20Z" in out
    assert "apps/b: apps/b/fleet.yaml:1: x" in out
    await run(hub, "repo", "list", "-o", "json")
    (doc,) = json.loads(capsys.readouterr().out)
    assert doc["branch"] == "main" and doc["pathErrors"][0]["path"] == "apps/b"
    assert doc["nextFetch"] == "2023-11-14T22:13:35Z"


async def test_status_shows_repos_only_when_there_are_some(
    capsys: pytest.CaptureFixture[str],
) -> None:
    await run(FakeHub(FakeStub(GetStatus=fleet_pb2.GetStatusResponse())), "status", "-o", "json")
    assert "repos" not in json.loads(capsys.readouterr().out)
    status = fleet_pb2.GetStatusResponse(repos=[_repo()])
    await run(FakeHub(FakeStub(GetStatus=status)), "status")
    assert "REPO" in capsys.readouterr().out


async def test_sync_get_and_delete(capsys: pytest.CaptureFixture[str]) -> None:
    hub = FakeHub(FakeStub(GetRepo=fleet_pb2.GetRepoResponse(repo=_repo())))
    await run(hub, "repo", "sync", "demo")
    await run(hub, "repo", "get", "demo", "-o", "json")
    await run(hub, "repo", "delete", "demo")
    assert hub.fake.rpcs() == ["SyncRepo", "GetRepo", "DeleteRepo"]
    assert '"bundles": [\n    "demo-apps-a"' in capsys.readouterr().out


async def test_secret_password_comes_from_stdin_never_a_flag(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    hub = FakeHub()
    fake_stdin = io.TextIOWrapper(io.BytesIO(b"s3cret-token\n"))
    monkeypatch.setattr(sys, "stdin", fake_stdin)
    await run(hub, "secret", "create", "creds", "--username", "me", "--password-stdin")
    ((_, request),) = hub.fake.calls
    assert isinstance(request, fleet_pb2.CreateSecretRequest)
    assert (request.spec.username, request.spec.password) == ("me", b"s3cret-token")
    assert "s3cret" not in capsys.readouterr().out
    with pytest.raises(InvalidInput, match="--password-stdin"):
        await run(hub, "secret", "create", "creds", "--username", "me")


async def test_secret_from_key_files(tmp_path: Path) -> None:
    (tmp_path / "id").write_bytes(b"KEY\n")
    (tmp_path / "kh").write_text("host ssh-ed25519 AAAA\n")
    hub = FakeHub()
    await run(
        hub, "secret", "create", "ssh", "--ssh-key", str(tmp_path / "id"),
        "--known-hosts", str(tmp_path / "kh"),
    )  # fmt: skip
    ((_, request),) = hub.fake.calls
    assert isinstance(request, fleet_pb2.CreateSecretRequest)
    assert (request.spec.ssh_key, request.spec.known_hosts) == (b"KEY\n", "host ssh-ed25519 AAAA\n")
    with pytest.raises(InvalidInput, match="--ssh-key"):
        await run(hub, "secret", "create", "ssh", "--ssh-key", str(tmp_path / "nope"))


async def test_secret_for_chart_repository_hosts(monkeypatch: pytest.MonkeyPatch) -> None:
    hub = FakeHub()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"pw\n")))
    await run(
        hub, "secret", "create", "charts", "--username", "me", "--password-stdin",
        "--helm-repo-host", "charts.example.com", "--helm-repo-host", "127.0.0.1:8443",
    )  # fmt: skip
    ((_, request),) = hub.fake.calls
    assert isinstance(request, fleet_pb2.CreateSecretRequest)
    assert list(request.spec.helm_repo_hosts) == ["charts.example.com", "127.0.0.1:8443"]
