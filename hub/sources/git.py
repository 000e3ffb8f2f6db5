"""The git source: each repository polled on its own, its bundles applied to the fleet.

`GitSource` owns the repositories' runtime state (commit, fetch times, errors, the bundles each
made) and one task per repository, all under its `run()`. A task fetches (hub/sources/fetch.py),
finds the bundles of the tree with the CLI's code (argosy.bundle.discovery), and applies each
path's bundle on its own through `Fleet.apply_bundles`, so a bad path errors that path only
(Fleet's behaviour). When to fetch next and what a tree changes are pure (policy.py).

A commit that changes nothing under a path changes no revision: revisions are content hashes,
so re-applying an unchanged bundle sends nothing to any cluster. A fetch that finds the commit
already applied does not even read the tree.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from argosy.bundle import BundleSource
from argosy.bundle.discovery import Found, discover
from argosy.errors import ArgosyError, InvalidInput, NotFound
from hub.models import BundleRecord, RepoRecord, SourceSecret
from hub.persistence.protocol import Store
from hub.sources.fetch import FetchError
from hub.sources.policy import (
    COMMIT_LABEL,
    REPO_LABEL,
    changes,
    check_secret_for_url,
    next_delay,
    redact_url,
)

log = logging.getLogger(__name__)

MAX_CONCURRENT_FETCHES = 4
"""Fetches running at once, whatever the number of repositories: a hub restarted with many
repositories must not start as many git processes together."""


class Applied(Protocol):
    """One bundle's result of an apply (hub.fleet.AppliedBundle)."""

    @property
    def name(self) -> str: ...
    @property
    def skipped(self) -> str: ...


class FleetPort(Protocol):
    """What the source needs from the fleet (hub.fleet.Fleet)."""

    async def apply_bundles(
        self,
        sources: Sequence[tuple[BundleSource, Mapping[str, str]]],
        *,
        by_source: bool = False,
        actor: str = "",
    ) -> Sequence[Applied]: ...
    async def delete_bundle(self, name: str) -> None: ...
    def bundles(self) -> list[BundleRecord]: ...
    def pinned(self, name: str) -> int:
        """The rev a rollback pinned the bundle at (0: not pinned): its commits are skipped."""
        ...


class Fetcher(Protocol):
    """hub.sources.fetch.GitFetcher, or a fake in unit tests."""

    async def fetch(self, repo: RepoRecord, secret: SourceSecret | None) -> tuple[str, Path]: ...
    async def forget(self, name: str) -> None: ...


@dataclass
class RepoState:
    """A repository as the source follows it. Kept in memory: after a restart the first fetch
    finds it all again (and the bundles, by their REPO_LABEL)."""

    repo: RepoRecord
    commit: str = ""
    last_fetch: float = 0.0
    next_fetch: float = 0.0
    error: str = ""
    path_errors: tuple[tuple[str, str], ...] = ()
    failures: int = 0
    """Failed fetches in a row (0 after one that worked)."""
    attempts: int = 0
    succeeded: int = 0
    """Fetches that worked since this hub started (the metrics' counter)."""
    failed: int = 0
    """Fetches that failed since this hub started."""
    # The spec `commit` was applied with: a new spec reads the tree again, even at that commit
    # (and a fetch of the old spec finishing after `add` does not pass for the new one).
    applied_for: RepoRecord | None = None
    # Bundle name -> the path it came from; None: made before this hub started.
    owned: dict[str, str | None] | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)


@dataclass(frozen=True)
class RepoView:
    """A repository and its status, as the API shows it."""

    repo: RepoRecord
    commit: str
    last_fetch: int
    next_fetch: int
    error: str
    path_errors: tuple[tuple[str, str], ...]
    bundles: tuple[str, ...]
    failures: int


class GitSource:
    def __init__(
        self,
        *,
        store: Store,
        fleet: FleetPort,
        fetcher: Fetcher,
        default_interval: float = 15.0,
        now: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._store = store
        self._fleet = fleet
        self._fetcher = fetcher
        self._default_interval = default_interval
        self._now = now
        self._jitter = jitter
        self._states: dict[str, RepoState] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._group: asyncio.TaskGroup | None = None
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_FETCHES)
        self.loaded = asyncio.Event()

    # --- the loop -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Follow every stored repository, one task each, until cancelled."""
        for repo in await self._store.list_repos():
            self._states.setdefault(repo.name, RepoState(repo))
        self.loaded.set()
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                for state in list(self._states.values()):
                    self._start(state)
                await asyncio.Future()  # until cancelled; the repositories' tasks do the work
        finally:
            self._group = None
            self._tasks.clear()

    def _start(self, state: RepoState) -> None:
        name = state.repo.name
        if self._group is not None and name not in self._tasks:
            task = self._group.create_task(self._follow(state), name=f"git-repo:{name}")
            self._tasks[name] = task
            task.add_done_callback(
                lambda t: self._tasks.pop(name, None) if self._tasks.get(name) is t else None
            )

    async def _follow(self, state: RepoState) -> None:
        while True:
            state.wake.clear()  # before the fetch: a sync asked for during it is not lost
            await self.sync_once(state)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, state.next_fetch - self._now())):
                    await state.wake.wait()

    async def sync_once(self, state: RepoState) -> None:
        """One fetch of a repository and what it changes; errors are recorded, never raised."""
        repo = state.repo
        state.attempts += 1
        try:
            secret = None
            if repo.secret:
                secret = await self._store.get_source_secret(repo.secret)
                if secret is None:
                    raise FetchError(f"secret {repo.secret!r} not found")
            async with self._slots:
                commit, tree = await self._fetcher.fetch(repo, secret)
                found = None
                if commit != state.commit or state.applied_for != repo:
                    found = await asyncio.to_thread(
                        discover, tree, prefix=repo.name, paths=repo.paths, labels=repo.labels
                    )
            if found is not None:
                await self._apply(state, repo, commit, found)
            state.failures = 0
            state.succeeded += 1
            state.error = ""
        except asyncio.CancelledError:
            raise
        except ArgosyError as exc:
            self._failed(state, redact_url(str(exc)))
        except Exception as exc:  # the loop boundary: record, back off, continue
            log.exception("repo %s: fetch failed unexpectedly", repo.name)
            self._failed(state, f"internal error: {type(exc).__name__}")
        finally:
            interval = repo.interval_ms / 1000 if repo.interval_ms else self._default_interval
            state.last_fetch = self._now()
            state.next_fetch = state.last_fetch + next_delay(
                interval=interval, failures=state.failures, jitter=self._jitter()
            )

    def _failed(self, state: RepoState, error: str) -> None:
        state.failures += 1
        state.failed += 1
        state.error = error
        log.warning(
            "repo %s: fetch failed (%d in a row): %s", state.repo.name, state.failures, error
        )

    def _owned(self, state: RepoState) -> dict[str, str | None]:
        if state.owned is None:
            name = state.repo.name
            state.owned = {
                b.name: None for b in self._fleet.bundles() if b.labels.get(REPO_LABEL) == name
            }
        return state.owned

    async def _apply(
        self, state: RepoState, repo: RepoRecord, commit: str, found: Sequence[Found]
    ) -> None:
        owned = self._owned(state)
        labels = {**repo.labels, REPO_LABEL: repo.name, COMMIT_LABEL: commit[:40]}
        plan = changes(found=found, owned=owned)
        errors = list(plan.errors)
        others = {
            b.name: b.labels.get(REPO_LABEL, "")
            for b in self._fleet.bundles()
            if b.labels.get(REPO_LABEL) != repo.name
        }
        for path, source in plan.apply:
            if source.name in others:
                owner = others[source.name]
                by = f"repository {owner!r}" if owner else "`argosy apply`"
                errors.append((path, f"bundle {source.name!r} exists already, made by {by}"))
                continue
            try:
                # One path at a time: a path that fails to render errors alone.
                applied = await self._fleet.apply_bundles(
                    [(source, labels)], by_source=True, actor=f"repo/{repo.name}@{commit[:12]}"
                )
            except InvalidInput as exc:
                errors.append((path, "\n".join(exc.problems)))
            else:
                owned[source.name] = path
                # Pinned by a rollback: this commit is not applied, and the repo status says so.
                errors.extend((path, a.skipped) for a in applied if a.skipped)
        for name in plan.delete:
            if rev := self._fleet.pinned(name):
                # A commit that drops a pinned bundle is skipped like one that changes it.
                errors.append((owned.get(name) or name, _pinned_not_deleted(name, rev)))
                continue
            with contextlib.suppress(NotFound):
                await self._fleet.delete_bundle(name)
            owned.pop(name, None)
        state.commit = commit
        state.applied_for = repo
        state.path_errors = tuple(sorted(errors))
        for path, problem in state.path_errors:
            log.warning("repo %s at %s: path %s: %s", repo.name, commit[:12], path or ".", problem)

    # --- the API --------------------------------------------------------------------------------

    async def add(self, repo: RepoRecord) -> RepoView:
        """Store a repository (replacing one of that name) and fetch it now."""
        if repo.secret:
            secret = await self._store.get_source_secret(repo.secret)
            if secret is not None:
                check_secret_for_url(
                    repo.url, has_password=bool(secret.username or secret.password)
                )
        old = self._states.get(repo.name)
        if old is not None:
            repo = replace(repo, created=old.repo.created)
        await self._store.put_repo(repo)
        if old is None:
            state = self._states[repo.name] = RepoState(repo)
            self._start(state)
        else:
            state = old
            state.repo = repo
            state.failures = 0
            state.wake.set()
        return self._view(state)

    async def delete(self, name: str) -> None:
        """Forget a repository: its task, its checkout and the bundles it made."""
        state = self._state(name)
        await self._store.delete_repo(name)
        del self._states[name]
        task = self._tasks.pop(name, None)
        if task is not None:
            task.cancel()
            # wait, not `await task`: a CancelledError here must be our caller's own, never
            # swallowed (the task's outcome is its TaskGroup's to see).
            await asyncio.wait([task])
        made = set(self._owned(state)) | {
            b.name for b in self._fleet.bundles() if b.labels.get(REPO_LABEL) == name
        }
        for bundle in sorted(made):
            with contextlib.suppress(NotFound):
                await self._fleet.delete_bundle(bundle)
        await self._fetcher.forget(name)

    def sync(self, name: str) -> None:
        """Fetch now, without waiting for the interval (or the backoff)."""
        self._state(name).wake.set()

    def sync_matching(self, urls: Sequence[str]) -> list[str]:
        """Fetch now every repository whose URL is one of urls (webhooks); their names."""
        wanted = {_url_key(u) for u in urls}
        names = [n for n, s in self._states.items() if _url_key(s.repo.url) in wanted]
        for n in names:
            self._states[n].wake.set()
        return sorted(names)

    def get(self, name: str) -> RepoView:
        return self._view(self._state(name))

    def list(self) -> list[RepoView]:
        return [self._view(self._states[n]) for n in sorted(self._states)]

    def states(self) -> tuple[RepoState, ...]:
        """Every repository followed, as it is now (read by the metrics at scrape time)."""
        return tuple(self._states.values())

    def state(self, name: str) -> RepoState:
        return self._state(name)

    def _state(self, name: str) -> RepoState:
        state = self._states.get(name)
        if state is None:
            raise NotFound(f"repo {name!r} not found")
        return state

    def _view(self, state: RepoState) -> RepoView:
        return RepoView(
            repo=state.repo,
            commit=state.commit,
            last_fetch=int(state.last_fetch),
            next_fetch=int(state.next_fetch),
            error=state.error,
            path_errors=state.path_errors,
            bundles=tuple(sorted(state.owned or ())),
            failures=state.failures,
        )


def _pinned_not_deleted(name: str, rev: int) -> str:
    return (
        f"bundle {name} is pinned at rev {rev} by rollback: not deleted; "
        f"`argosy unpin {name}` to accept new revisions"
    )


def _url_key(url: str) -> str:
    """A URL as webhooks and users spell it differently: host[:port]/path, without the
    scheme, the user, a trailing slash or `.git` (GitHub sends clone_url and ssh_url)."""
    text = url.strip().lower()
    if "://" in text:
        host, _, path = text.split("://", 1)[1].rsplit("@", 1)[-1].partition("/")
    else:  # scp-like: user@host:path
        host, _, path = text.rsplit("@", 1)[-1].partition(":")
    return f"{host}/{path.strip('/').removesuffix('.git')}"
