"""Secrets: one kind at a time, SSH only with known_hosts, never deleted while in use."""

from __future__ import annotations

import grpc
import pytest

from argosy.errors import InvalidInput, NotFound
from hub.admin_auth import decide
from hub.models import RepoRecord, SourceSecret
from hub.sources.secrets import Secrets
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
