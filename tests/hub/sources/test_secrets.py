"""Secrets: one kind at a time, SSH only with known_hosts, never deleted while in use; chart
repository credentials for their own hosts only, one secret per host, the hub's file first."""

from __future__ import annotations

import grpc
import pytest

from argosy.bundle.charts import Credentials, FirstOf, StaticCredentials, host_of
from argosy.errors import InvalidInput, NotFound
from hub.admin_auth import decide
from hub.models import RepoRecord, SourceSecret
from hub.sources.secrets import Secrets, repo_host
from tests.hub.fakes import MemoryStore


async def test_secrets_are_checked_listed_by_name_and_kept_while_used() -> None:
    store = MemoryStore()
    secrets = Secrets(store)
    await secrets.create(SourceSecret("basic", username="me", password=b"tok"))
    await secrets.create(SourceSecret("ssh", ssh_key=b"KEY", known_hosts="h ssh-ed25519 AAA"))
    assert await secrets.names() == ["basic", "ssh"]
    for bad, match in [
        (SourceSecret("both", password=b"p", ssh_key=b"k", known_hosts="h"), "either"),
        (SourceSecret("none"), "either"),
        (SourceSecret("blind", ssh_key=b"KEY"), "known_hosts"),
        (SourceSecret("empty", username="me"), "empty"),
        (SourceSecret("Bad_Name", password=b"p"), "not a valid name"),
    ]:
        with pytest.raises(InvalidInput, match=match):
            await secrets.create(bad)
    await store.put_repo(RepoRecord("r", "https://h/r", secret="basic"))
    with pytest.raises(InvalidInput, match="used by repo r"):
        await secrets.delete("basic")
    await secrets.delete("ssh")
    with pytest.raises(NotFound):
        await secrets.delete("ssh")
    assert await secrets.names() == ["basic"]


def test_viewers_see_repositories_and_secret_names_but_change_nothing() -> None:
    for method in ("GetRepo", "ListRepos", "ListSecrets"):
        assert decide("viewer", method) is None
    for method in ("AddRepo", "DeleteRepo", "SyncRepo", "CreateSecret", "DeleteSecret"):
        refused = decide("viewer", method)
        assert refused is not None and refused[0] == grpc.StatusCode.PERMISSION_DENIED
        assert decide("admin", method) is None


async def test_chart_credentials_go_to_their_own_hosts_only() -> None:
    store = MemoryStore()
    secrets = Secrets(store)
    await secrets.create(
        SourceSecret(
            "charts",
            username="me",
            password=b"pw",
            helm_repo_hosts=(
                "Charts.Example.com",
                "https://127.0.0.1:8443/stable",
                "charts.example.com",
            ),
        )
    )
    assert store.source_secrets["charts"].helm_repo_hosts == (
        "charts.example.com",
        "127.0.0.1:8443",
    )
    await secrets.create(SourceSecret("git", username="git", password=b"tok"))
    assert await secrets.lookup("CHARTS.example.com") == Credentials("me", "pw")
    assert await secrets.lookup("127.0.0.1:8443") == Credentials("me", "pw")
    for other in ("127.0.0.1", "127.0.0.1:8444", "example.com", "evil.charts.example.com", ""):
        assert await secrets.lookup(other) is None
    # One host, one secret: which credentials a host gets never depends on listing order.
    with pytest.raises(InvalidInput, match="'charts' already holds"):
        await secrets.create(
            SourceSecret("more", username="x", password=b"y", helm_repo_hosts=("127.0.0.1:8443",))
        )
    await secrets.create(SourceSecret("charts", username="me", password=b"new"))  # replaced
    assert await secrets.lookup("charts.example.com") is None
    with pytest.raises(InvalidInput, match="chart repositories take --username"):
        await secrets.create(
            SourceSecret("k", ssh_key=b"K", known_hosts="h ssh-ed25519 A", helm_repo_hosts=("h",))
        )
    with pytest.raises(InvalidInput, match="not HOST or HOST:PORT"):
        await secrets.create(
            SourceSecret("bad", username="x", password=b"y", helm_repo_hosts=("a/b",))
        )


def test_repo_host_reads_hosts_ports_and_urls() -> None:
    assert repo_host(" Charts.Example.com ") == "charts.example.com"
    assert repo_host("127.0.0.1:8443") == "127.0.0.1:8443"
    assert (
        repo_host("https://u:p@Charts.example.com:8443/x/index.yaml") == "charts.example.com:8443"
    )
    assert repo_host("[::1]:8443") == host_of("https://[::1]:8443/charts") == "::1:8443"
    for bad in ("", "a b", "host:port", "-x.com", "h/path", "h:99999", "https:///x"):
        with pytest.raises(InvalidInput):
            repo_host(bad)


async def test_the_hub_file_is_asked_before_the_secrets() -> None:
    store = MemoryStore()
    secrets = Secrets(store)
    await secrets.create(
        SourceSecret("s", username="sec", password=b"p", helm_repo_hosts=("a.example", "b.example"))
    )
    both = FirstOf((StaticCredentials({"a.example": Credentials("file", "f")}), secrets))
    assert await both.lookup("a.example") == Credentials("file", "f")
    assert await both.lookup("b.example") == Credentials("sec", "p")
    assert await both.lookup("c.example") is None
