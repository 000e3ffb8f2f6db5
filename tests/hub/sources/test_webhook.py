"""Webhook checks, pure: GitHub's HMAC signature, GitLab's token, and the pushed URLs."""

from __future__ import annotations

import hashlib
import hmac

from hub.sources.webhook import authentic, pushed_urls

SECRET = b"s3cret"
BODY = b'{"repository": {"clone_url": "https://github.com/o/r.git"}}'


def test_github_signatures_are_checked_against_the_body() -> None:
    good = "sha256=" + hmac.new(SECRET, BODY, hashlib.sha256).hexdigest()
    assert authentic({"X-Hub-Signature-256": good}, BODY, SECRET)
    assert not authentic({"X-Hub-Signature-256": good}, BODY + b" ", SECRET)
    assert not authentic({"X-Hub-Signature-256": good}, BODY, b"other")
    assert not authentic({"X-Hub-Signature-256": good.removeprefix("sha256=")}, BODY, SECRET)


def test_gitlab_tokens_and_unsigned_requests() -> None:
    assert authentic({"X-Gitlab-Token": "s3cret"}, BODY, SECRET)
    assert not authentic({"X-Gitlab-Token": "s3cre"}, BODY, SECRET)
    assert not authentic({}, BODY, SECRET)
    assert not authentic({"X-Gitlab-Token": ""}, BODY, b"")


def test_pushed_urls_from_github_and_gitlab_payloads() -> None:
    github = {
        "ref": "refs/heads/main",
        "repository": {
            "clone_url": "https://github.com/o/r.git",
            "ssh_url": "git@github.com:o/r.git",
            "html_url": "https://github.com/o/r",
            "name": "r",
        },
    }
    assert pushed_urls(github) == [
        "https://github.com/o/r.git",
        "git@github.com:o/r.git",
        "https://github.com/o/r",
    ]
    gitlab = {
        "project": {"git_http_url": "https://gl/o/r.git", "git_ssh_url": "git@gl:o/r.git"},
        "repository": {"git_http_url": "https://gl/o/r.git", "url": "git@gl:o/r.git"},
    }
    assert sorted(pushed_urls(gitlab)) == ["git@gl:o/r.git", "https://gl/o/r.git"]
    assert pushed_urls([1, 2]) == [] and pushed_urls({"repository": "x"}) == []
