"""The git source's decisions, pure: when to fetch next, and what a fetched tree changes.

Kept apart from git.py so they are tested without processes, clocks or a fleet.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from argosy.bundle import BundleSource
from argosy.bundle.discovery import Found, clean_path
from argosy.errors import InvalidInput
from argosy.names import check_labels, check_name

REPO_LABEL = "argosy.io/repo"
COMMIT_LABEL = "argosy.io/commit"

JITTER = 0.1
"""Each delay is moved by up to this fraction either way, so repos added together (or a hub
restarted with many) do not fetch in step."""

MAX_BACKOFF_SECONDS = 3600.0
"""A repository in error is fetched at most this rarely: fleet#3486 had repos in error spend a
GitHub rate limit within the hour by retrying at their interval."""

MIN_INTERVAL_SECONDS = 1
DEFAULT_INTERVAL_SECONDS = 15

_SCHEMES = ("https", "http", "ssh", "git", "file")
_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:[^/].*$")
_COMMIT = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def next_delay(*, interval: float, failures: int, jitter: float) -> float:
    """Seconds until the next fetch: the interval when healthy; after errors it doubles per
    failure in a row, up to MAX_BACKOFF_SECONDS. `jitter` is uniform in [0, 1)."""
    # The exponent is capped: 2.0**1024 overflows, and an hour is reached long before 2**30.
    exponent = min(failures, 30)
    base = interval if failures <= 0 else min(MAX_BACKOFF_SECONDS, interval * 2.0**exponent)
    return max(base, interval) * (1.0 + JITTER * (2.0 * jitter - 1.0))


@dataclass(frozen=True)
class Changes:
    """What one fetched commit asks of the fleet."""

    apply: tuple[tuple[str, BundleSource], ...]  # (path, source)
    delete: tuple[str, ...]
    errors: tuple[tuple[str, str], ...]  # (path, problem)


def changes(*, found: Sequence[Found], owned: Mapping[str, str | None]) -> Changes:
    """Bundles to apply, bundles to delete and paths in error, from a tree's discovery.

    `owned` maps the bundles the repository made before to the path each came from (None when
    not known, after a restart). A bundle no longer found is deleted: its path is gone from
    the repository. Unless its path is in error now, or (path unknown) any path is: a bad
    fleet.yaml must leave the bundle deployed as it was, not remove it from every cluster.
    """
    apply = tuple((f.path, f.source) for f in found if f.source is not None)
    errors = tuple((f.path, f.problem) for f in found if f.source is None)
    made = {s.name for _, s in apply}
    bad = [p for p, _ in errors]

    def in_error(path: str | None) -> bool:
        if path is None:
            return bool(bad)
        return any(p in ("", path) or path.startswith(p + "/") for p in bad)

    delete = tuple(sorted(n for n, p in owned.items() if n not in made and not in_error(p)))
    return Changes(apply, delete, errors)


def redact_url(text: str) -> str:
    """text with the password of any URL in it replaced, for errors and logs."""
    return re.sub(r"(://[^/@\s:]+):[^/@\s]+@", r"\1:***@", text)


def check_url(url: str) -> str:
    """A repository URL git can fetch, without a password in it (those belong in a secret)."""
    if _SCP_LIKE.match(url):
        return url
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES or not (parts.netloc or parts.scheme == "file"):
        raise InvalidInput(
            f"url {redact_url(url)!r}: expected https://, http://, ssh://, git://, file:// or "
            "user@host:path"
        )
    if parts.scheme in ("https", "http") and "@" in parts.netloc:
        # A token is often given as the user name (https://ghp_x@github.com/o/r): the URL is
        # shown by GetRepo, ListRepos and status, so no user name at all is accepted.
        host = parts.netloc.rsplit("@", 1)[1]
        safe = urlunsplit(parts._replace(netloc=f"***@{host}"))
        raise InvalidInput(
            f"url {safe!r}: no user name or password in an http(s) URL; put them in a secret "
            "(`argosy secret create`) and name it with --secret"
        )
    if parts.password is not None:
        safe = urlunsplit(parts._replace(netloc=f"{parts.username}:***@{parts.hostname}"))
        raise InvalidInput(f"url {safe!r}: put credentials in a secret (--secret), not the URL")
    return url


def check_secret_for_url(url: str, *, has_password: bool) -> None:
    """A username and password go to git over TLS only: over plain http:// anyone on the path
    reads them. The error names the URL and what to use instead."""
    if has_password and urlsplit(url).scheme == "http":
        raise InvalidInput(
            f"url {redact_url(url)!r}: a secret with a username and password is sent over "
            "https:// only, not plain http://"
        )


def check_ref(*, branch: str, tag: str, revision: str) -> tuple[str, str]:
    """(kind, ref) from at most one of --branch, --tag, --revision; ("", "") for HEAD."""
    given = [(k, v) for k, v in (("branch", branch), ("tag", tag), ("revision", revision)) if v]
    if len(given) > 1:
        raise InvalidInput("give at most one of --branch, --tag and --revision")
    if not given:
        return "", ""
    kind, ref = given[0]
    if kind == "revision" and not _COMMIT.match(ref):
        raise InvalidInput(f"--revision {ref!r}: expected a full commit id (40 hex digits)")
    if kind != "revision" and (ref.startswith("-") or ".." in ref or " " in ref):
        raise InvalidInput(f"--{kind} {ref!r} is not a valid git ref name")
    return kind, ref


def check_repo(
    *, name: str, url: str, paths: Sequence[str], interval: int, labels: Mapping[str, str]
) -> tuple[str, ...]:
    """Validate a repository's spec; returns its paths, cleaned. Errors name the flag."""
    check_name(name, what="repo name")
    check_url(url)
    if interval and interval < MIN_INTERVAL_SECONDS:
        raise InvalidInput(f"--interval: at least {MIN_INTERVAL_SECONDS}s")
    check_labels(dict(labels), what="label")
    for key in (REPO_LABEL, COMMIT_LABEL):
        if key in labels:
            raise InvalidInput(f"label {key!r} is set by the hub")
    cleaned = tuple(dict.fromkeys(clean_path(p) for p in paths))
    if "" in cleaned and len(cleaned) > 1:
        raise InvalidInput("--paths: '.' (the whole repository) cannot be given with others")
    return tuple(p for p in cleaned if p)
