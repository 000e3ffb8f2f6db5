"""The git source's pure decisions: backoff with jitter, what a tree changes, spec checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from argosy.bundle import BundleSource
from argosy.bundle.discovery import Found, discover
from argosy.errors import InvalidInput
from hub.sources.policy import (
    MAX_BACKOFF_SECONDS,
    Changes,
    changes,
    check_ref,
    check_repo,
    check_url,
    next_delay,
    redact_url,
)


def test_healthy_repos_wait_their_interval_with_jitter_either_way() -> None:
    assert next_delay(interval=10, failures=0, jitter=0.5) == 10
    assert next_delay(interval=10, failures=0, jitter=0.0) == pytest.approx(9)
    assert next_delay(interval=10, failures=0, jitter=0.999999) == pytest.approx(11, abs=1e-4)


def test_errors_back_off_exponentially_up_to_a_cap() -> None:
    delays = [next_delay(interval=15, failures=n, jitter=0.5) for n in range(12)]
    assert delays[:4] == [15, 30, 60, 120]
    assert delays[-1] == MAX_BACKOFF_SECONDS
    assert delays == sorted(delays)


def _src(name: str) -> BundleSource:
    return BundleSource(name, {"cm.yaml": b""})


def test_a_path_gone_deletes_its_bundle_and_a_path_in_error_keeps_it() -> None:
    found = [Found("a", _src("r-a")), Found("b", None, "b/fleet.yaml: bad")]
    owned: dict[str, str | None] = {"r-a": "a", "r-b": "b", "r-c": "c", "r-old": None}
    plan = changes(found=found, owned=owned)
    assert [s.name for _, s in plan.apply] == ["r-a"]
    assert plan.errors == (("b", "b/fleet.yaml: bad"),)
    # r-c's path is gone: deleted. r-b's path is in error: kept deployed as it was. r-old's path
    # is not known (made before a restart) and some path is in error: kept too.
    assert plan.delete == ("r-c",)
    assert changes(found=found[:1], owned=owned).delete == ("r-b", "r-c", "r-old")


def test_an_error_at_the_root_keeps_every_bundle() -> None:
    plan = changes(found=[Found("", None, "no bundles")], owned={"r-a": "a", "r": ""})
    assert plan.delete == ()


def test_backoff_after_thousands_of_failures_stays_at_the_cap() -> None:
    for failures in (1023, 1024, 10**6):
        delay = next_delay(interval=10, failures=failures, jitter=0.5)
        assert delay == MAX_BACKOFF_SECONDS


def test_a_tree_with_no_bundle_left_deletes_every_bundle_of_the_repository(
    tmp_path: Path,
) -> None:
    (tmp_path / "README.md").write_text("the last bundle was removed\n")
    found = discover(tmp_path, prefix="r")
    plan = changes(found=found, owned={"r-a": "a", "r": "", "r-old": None})
    assert plan == Changes(apply=(), delete=("r", "r-a", "r-old"), errors=())


def test_urls_refs_and_specs_are_checked() -> None:
    for ok in ("https://github.com/o/r.git", "git://127.0.0.1:9418/r", "git@github.com:o/r.git"):
        assert check_url(ok) == ok
    with pytest.raises(InvalidInput, match="secret") as info:
        check_url("https://me:hunter2@github.com/o/r")
    assert "hunter2" not in str(info.value)
    for token_url in ("https://ghp_TOKEN@github.com/o/r", "http://ghp_TOKEN@h/r"):
        with pytest.raises(InvalidInput, match="argosy secret create") as info:
            check_url(token_url)
        assert "ghp_TOKEN" not in str(info.value)
    assert check_url("ssh://git@github.com/o/r") == "ssh://git@github.com/o/r"
    with pytest.raises(InvalidInput, match="expected https"):
        check_url("ftp://x/y")
    assert (
        redact_url("fatal: https://me:tok@h/r not found") == "fatal: https://me:***@h/r not found"
    )
    assert check_ref(branch="main", tag="", revision="") == ("branch", "main")
    assert check_ref(branch="", tag="", revision="") == ("", "")
    with pytest.raises(InvalidInput, match="at most one"):
        check_ref(branch="main", tag="v1", revision="")
    with pytest.raises(InvalidInput, match="full commit"):
        check_ref(branch="", tag="", revision="abc")
    with pytest.raises(InvalidInput, match="git ref"):
        check_ref(branch="--upload-pack=x", tag="", revision="")
    assert check_repo(
        name="r", url="git://h/r", paths=["./a/", "a", "b"], interval=0, labels={}
    ) == (
        "a",
        "b",
    )
    with pytest.raises(InvalidInput, match="set by the hub"):
        check_repo(name="r", url="git://h/r", paths=[], interval=0, labels={"argosy.io/repo": "x"})
