"""Credentials reach git through private files, never the command line or the environment."""

from __future__ import annotations

import stat
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from argosy.errors import InvalidInput
from hub.models import RepoRecord, SourceSecret
from hub.sources import fetch
from hub.sources.fetch import GitFetcher, credentials_env


def test_https_credentials_are_answered_by_askpass_from_private_files() -> None:
    secret = SourceSecret("s", username="me", password=b"t0k\xffen")
    with credentials_env(secret) as env:
        askpass = Path(env["GIT_ASKPASS"])
        assert b"t0k" not in "".join(env.values()).encode()
        for f in askpass.parent.iterdir():
            assert stat.S_IMODE(f.stat().st_mode) & 0o077 == 0, f
        user = subprocess.run(
            [askpass, "Username for 'https://h': "], check=True, capture_output=True
        )
        password = subprocess.run(
            [askpass, "Password for 'https://me@h': "], check=True, capture_output=True
        )
        assert (user.stdout, password.stdout) == (b"me", b"t0k\xffen")
    assert not askpass.parent.exists()  # removed when the fetch ends


def test_ssh_keys_go_through_git_ssh_command_with_strict_host_keys() -> None:
    secret = SourceSecret("s", ssh_key=b"KEY", known_hosts="h ssh-ed25519 AAA")
    with credentials_env(secret) as env:
        command = env["GIT_SSH_COMMAND"]
        assert "StrictHostKeyChecking=yes" in command and "KEY" not in command
        key = Path(command.rsplit("-i ", 1)[1].strip("'"))
        assert key.read_bytes() == b"KEY\n" and stat.S_IMODE(key.stat().st_mode) == 0o600
        assert "GIT_ASKPASS" not in env
    assert not key.exists()
    with credentials_env(None) as env:
        assert env == {}


async def test_a_password_is_not_sent_over_plain_http(tmp_path: Path) -> None:
    secret = SourceSecret("s", username="me", password=b"tok")
    repo = RepoRecord("r", "http://git.example/o/r")
    with pytest.raises(InvalidInput, match="https:// only"):
        await GitFetcher(tmp_path).fetch(repo, secret)
    assert not (tmp_path / "r").exists()


async def test_git_follows_no_redirect_when_it_has_a_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Sequence[str]] = []

    async def fake_git(
        args: Sequence[str], *, cwd: Path, env: Mapping[str, str], timeout: float
    ) -> str:
        calls.append(list(args))
        if args[0] == "init":
            (cwd / ".git").mkdir()
        return "0" * 40 if args[0] == "rev-parse" else ""

    monkeypatch.setattr(fetch, "git", fake_git)
    repo = RepoRecord("r", "https://git.example/o/r")
    await GitFetcher(tmp_path).fetch(repo, SourceSecret("s", username="me", password=b"tok"))
    [with_password] = [c for c in calls if "fetch" in c]
    assert with_password[:2] == ["-c", "http.followRedirects=false"]
    calls.clear()
    await GitFetcher(tmp_path).fetch(repo, None)
    [without] = [c for c in calls if "fetch" in c]
    assert without[0] == "fetch"


async def test_errors_name_the_subcommand_not_its_options(tmp_path: Path) -> None:
    with pytest.raises(fetch.FetchError, match=r"^git checkout: "):
        await fetch.git(
            ["-c", "advice.detachedHead=false", "checkout", "no-such-ref"], cwd=tmp_path, env={}
        )
