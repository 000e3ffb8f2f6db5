"""GitSource against fakes: per-path errors, deletions, skipping an applied commit, backoff
counted in attempts, and secrets looked up by name. No git, no sockets, no sleeps."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from argosy.bundle import BundleSource
from argosy.errors import InvalidInput, NotFound
from hub.metrics import repo_families
from hub.models import BundleRecord, RepoRecord, SourceSecret
from hub.sources.fetch import FetchError
from hub.sources.git import GitSource
from hub.sources.policy import COMMIT_LABEL, REPO_LABEL
from tests.hub.fakes import MemoryStore

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\n"


@dataclass(frozen=True)
class Applied:
    name: str
    skipped: str = ""


class FakeFleet:
    def __init__(self) -> None:
        self.applied: dict[str, tuple[BundleSource, dict[str, str]]] = {}
        self.refuse: set[str] = set()
        self.pins: dict[str, int] = {}
        self.actors: list[str] = []

    async def apply_bundles(
        self,
        sources: Sequence[tuple[BundleSource, Mapping[str, str]]],
        *,
        by_source: bool = False,
        actor: str = "",
    ) -> Sequence[Applied]:
        assert by_source
        self.actors.append(actor)
        out = []
        for source, labels in sources:
            if source.name in self.refuse:
                raise InvalidInput(f"{source.name}: chart does not render")
            if source.name in self.pins:
                out.append(Applied(source.name, f"bundle {source.name} is pinned"))
                continue
            self.applied[source.name] = (source, dict(labels))
            out.append(Applied(source.name))
        return out

    def pinned(self, name: str) -> int:
        return self.pins.get(name, 0)

    async def delete_bundle(self, name: str) -> None:
        if self.applied.pop(name, None) is None:
            raise NotFound(name)

    def bundles(self) -> list[BundleRecord]:
        return [
            BundleRecord(n, labels, s.files, "rev", 1, 0, 0)
            for n, (s, labels) in sorted(self.applied.items())
        ]


class FakeFetcher:
    """Serves a directory as the repository; `fail` makes fetches raise."""

    def __init__(self, tree: Path) -> None:
        self.tree = tree
        self.commit = "a" * 40
        self.fail = False
        self.fetches = 0
        self.secrets: list[SourceSecret | None] = []

    async def fetch(self, repo: RepoRecord, secret: SourceSecret | None) -> tuple[str, Path]:
        self.fetches += 1
        self.secrets.append(secret)
        if self.fail:
            raise FetchError("git fetch: could not connect to https://me:***@host/r")
        return self.commit, self.tree

    async def forget(self, name: str) -> None:
        pass


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    write(tmp_path, {"a/cm.yaml": CM.format("a"), "b/cm.yaml": CM.format("b")})
    return tmp_path


async def test_each_path_becomes_a_labelled_bundle_and_one_bad_path_errors_alone(
    tree: Path,
) -> None:
    fleet, fetcher = FakeFleet(), FakeFetcher(tree)
    source = GitSource(store=MemoryStore(), fleet=fleet, fetcher=fetcher, now=lambda: 1000.0)
    await source.add(RepoRecord("r", "git://h/r", labels={"team": "x"}))
    state = source.state("r")
    await source.sync_once(state)
    assert sorted(fleet.applied) == ["r-a", "r-b"]
    assert fleet.applied["r-a"][1] == {"team": "x", REPO_LABEL: "r", COMMIT_LABEL: "a" * 40}
    view = source.get("r")
    assert (view.commit, view.error, view.path_errors) == ("a" * 40, "", ())
    assert view.bundles == ("r-a", "r-b")
    assert view.last_fetch == 1000 and 1000 + 13 <= view.next_fetch <= 1000 + 17

    # A new commit: b's fleet.yaml breaks, c appears, a's content is unchanged.
    write(tree, {"b/fleet.yaml": "helm: [broken\n", "c/cm.yaml": CM.format("c")})
    fetcher.commit = "b" * 40
    fleet.refuse.add("r-c")  # c does not render on the hub
    await source.sync_once(state)
    errors = dict(source.get("r").path_errors)
    assert set(errors) == {"b", "c"} and errors["b"].startswith("b/fleet.yaml")
    assert fleet.applied["r-a"][1][COMMIT_LABEL] == "b" * 40  # the good path still deploys
    assert "r-b" in fleet.applied  # kept as it was while its path is in error
    assert source.get("r").error == ""


async def test_an_applied_commit_is_not_read_again_and_a_gone_path_deletes(tree: Path) -> None:
    fleet, fetcher = FakeFleet(), FakeFetcher(tree)
    source = GitSource(store=MemoryStore(), fleet=fleet, fetcher=fetcher)
    await source.add(RepoRecord("r", "git://h/r"))
    state = source.state("r")
    await source.sync_once(state)
    fleet.applied.clear()
    await source.sync_once(state)  # same commit: nothing applied
    assert fleet.applied == {} and fetcher.fetches == 2
    await source.sync_once(state)
    (tree / "b" / "cm.yaml").unlink()
    fetcher.commit = "c" * 40
    await source.sync_once(state)
    assert sorted(fleet.applied) == ["r-a"]


async def test_a_commit_to_a_pinned_bundle_is_skipped_with_a_repo_message(tree: Path) -> None:
    fleet, fetcher = FakeFleet(), FakeFetcher(tree)
    source = GitSource(store=MemoryStore(), fleet=fleet, fetcher=fetcher)
    await source.add(RepoRecord("r", "git://h/r"))
    state = source.state("r")
    await source.sync_once(state)
    assert fleet.actors == ["repo/r@" + "a" * 12] * 2  # the history's source of each path
    fleet.pins["r-a"] = 3
    write(tree, {"a/cm.yaml": CM.format("a2"), "b/cm.yaml": CM.format("b2")})
    fetcher.commit = "b" * 40
    await source.sync_once(state)
    assert "a2" not in fleet.applied["r-a"][0].files["cm.yaml"].decode()
    assert "b2" in fleet.applied["r-b"][0].files["cm.yaml"].decode()  # the others deploy
    assert source.get("r").path_errors == (("a", "bundle r-a is pinned"),)
    # A commit that removes the pinned bundle's path does not delete it either.
    (tree / "a" / "cm.yaml").unlink()
    fetcher.commit = "c" * 40
    await source.sync_once(state)
    assert "r-a" in fleet.applied
    ((path, problem),) = source.get("r").path_errors
    assert path == "a" and "pinned at rev 3 by rollback: not deleted" in problem
    del fleet.pins["r-a"]  # unpinned: the next commit deletes it
    fetcher.commit = "d" * 40
    await source.sync_once(state)
    assert "r-a" not in fleet.applied and source.get("r").path_errors == ()


async def test_errors_back_off_and_count_attempts_then_recover(tree: Path) -> None:
    clock = [0.0]
    fleet, fetcher = FakeFleet(), FakeFetcher(tree)
    source = GitSource(
        store=MemoryStore(), fleet=fleet, fetcher=fetcher, now=lambda: clock[0], jitter=lambda: 0.5
    )
    await source.add(RepoRecord("r", "git://h/r", interval_ms=10_000))
    state = source.state("r")
    fetcher.fail = True
    gaps = []
    for _ in range(4):
        await source.sync_once(state)
        gaps.append(state.next_fetch - clock[0])
        clock[0] = state.next_fetch
    assert gaps == [20, 40, 80, 160]
    assert (state.attempts, state.failures) == (4, 4)
    assert "***" in state.error and "could not connect" in state.error
    fetcher.fail = False
    await source.sync_once(state)
    assert (state.failures, state.error, state.next_fetch - clock[0]) == (0, "", 10)
    # What /metrics shows of it (hub/metrics.py): counts by result, and the run of failures.
    fetches, in_a_row, _, last = repo_families(source.states())
    assert {(s.labels["result"], s.value) for s in fetches.samples} == {
        ("success", 1),
        ("failure", 4),
    }
    assert [s.name for s in fetches.samples] == ["argosy_hub_repo_fetches_total"] * 2
    assert [(s.labels, s.value) for s in in_a_row.samples] == [({"repo": "r"}, 0)]
    assert [s.value for s in last.samples] == [clock[0]]


async def test_secrets_are_looked_up_by_name_and_a_missing_one_is_an_error(tree: Path) -> None:
    store = MemoryStore()
    fetcher = FakeFetcher(tree)
    source = GitSource(store=store, fleet=FakeFleet(), fetcher=fetcher)
    await source.add(RepoRecord("r", "https://h/r", secret="creds"))
    await source.sync_once(source.state("r"))
    assert fetcher.fetches == 0 and "secret 'creds' not found" in source.get("r").error
    secret = SourceSecret("creds", username="me", password=b"tok")
    await store.put_source_secret(secret)
    await source.sync_once(source.state("r"))
    assert fetcher.secrets == [secret] and source.get("r").error == ""


async def test_delete_removes_the_bundles_the_repo_made_and_nothing_else(tree: Path) -> None:
    store, fleet = MemoryStore(), FakeFleet()
    fleet.applied["other"] = (BundleSource("other", {}), {})
    source = GitSource(store=store, fleet=fleet, fetcher=FakeFetcher(tree))
    await source.add(RepoRecord("r", "git://h/r"))
    await source.sync_once(source.state("r"))
    await source.delete("r")
    assert sorted(fleet.applied) == ["other"] and store.repos == {}
    with pytest.raises(NotFound):
        source.sync("r")


async def test_a_bundle_of_another_owner_is_not_taken_over(tree: Path) -> None:
    fleet = FakeFleet()
    fleet.applied["r-a"] = (BundleSource("r-a", {}), {"by": "cli"})
    source = GitSource(store=MemoryStore(), fleet=fleet, fetcher=FakeFetcher(tree))
    await source.add(RepoRecord("r", "git://h/r"))
    await source.sync_once(source.state("r"))
    assert fleet.applied["r-a"][1] == {"by": "cli"}
    assert "made by `argosy apply`" in dict(source.get("r").path_errors)["a"]


async def test_webhook_urls_match_however_they_are_spelled(tree: Path) -> None:
    source = GitSource(store=MemoryStore(), fleet=FakeFleet(), fetcher=FakeFetcher(tree))
    await source.add(RepoRecord("r", "https://github.com/o/r.git"))
    await source.add(RepoRecord("s", "git@github.com:o/s"))
    assert source.sync_matching(["git@github.com:o/r.git", "https://github.com/O/S/"]) == [
        "r",
        "s",
    ]
    assert source.state("r").wake.is_set()
    assert source.sync_matching(["https://github.com/o/other"]) == []


async def test_a_new_spec_reads_the_tree_again_at_the_same_commit(tree: Path) -> None:
    fleet, fetcher = FakeFleet(), FakeFetcher(tree)
    source = GitSource(store=MemoryStore(), fleet=fleet, fetcher=fetcher)
    await source.add(RepoRecord("r", "git://h/r", paths=("a",)))
    await source.sync_once(source.state("r"))
    assert sorted(fleet.applied) == ["r-a"]
    await source.add(RepoRecord("r", "git://h/r", paths=("a", "b")))
    await source.sync_once(source.state("r"))  # same commit, new paths
    assert sorted(fleet.applied) == ["r-a", "r-b"]
    await source.add(RepoRecord("r", "git://h/r", paths=("b",)))
    await source.sync_once(source.state("r"))
    assert sorted(fleet.applied) == ["r-b"]  # a path no longer followed: its bundle goes


async def test_delete_does_not_swallow_its_callers_cancellation(tree: Path) -> None:
    started, cancelling, release = asyncio.Event(), asyncio.Event(), asyncio.Event()

    class SlowToStop(FakeFetcher):
        async def fetch(self, repo: RepoRecord, secret: SourceSecret | None) -> tuple[str, Path]:
            started.set()
            try:
                await asyncio.Future()
            except asyncio.CancelledError:
                cancelling.set()
                await release.wait()  # a fetch cleaning up (git being killed) takes a while
                raise
            raise AssertionError("unreachable")

    source = GitSource(store=MemoryStore(), fleet=FakeFleet(), fetcher=SlowToStop(tree))
    running = asyncio.create_task(source.run())
    await source.loaded.wait()
    await source.add(RepoRecord("r", "git://h/r"))
    await started.wait()
    deleting = asyncio.create_task(source.delete("r"))
    await cancelling.wait()  # delete cancelled the repository's task and waits for it
    deleting.cancel()
    await asyncio.wait([deleting])
    assert deleting.cancelled()  # the caller's own cancellation, not swallowed
    release.set()
    running.cancel()
    await asyncio.wait([running])
