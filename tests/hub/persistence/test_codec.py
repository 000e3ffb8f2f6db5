"""The record <-> row codec both stores share (pure)."""

from __future__ import annotations

import pytest

from argosy.selectors import LabelSelector, Requirement
from hub.models import (
    AdminTokenRecord,
    BundleControl,
    ClusterRecord,
    DeploymentRecord,
    GroupRecord,
    ResourceStateRecord,
    TokenRecord,
)
from hub.persistence import codec


def token(**changes: object) -> TokenRecord:
    fields: dict[str, object] = {
        "id": "t1",
        "secret_hash": "h",
        "created": 0,
        "expires": 0,
        "revoked": False,
        "uses": 0,
        "max_uses": 0,
    }
    fields.update(changes)
    return TokenRecord(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "usable"),
    [
        ({}, True),
        ({"revoked": True}, False),
        ({"expires": 100}, True),  # now is 99
        ({"expires": 99}, False),  # expiry is exclusive: at `expires` it is gone
        ({"uses": 5}, True),  # no max_uses: unlimited
        ({"uses": 2, "max_uses": 3}, True),
        ({"uses": 3, "max_uses": 3}, False),
    ],
)
def test_token_usable(changes: dict[str, object], usable: bool) -> None:
    assert codec.token_usable(token(**changes), now=99) is usable


def test_selectors_round_trip() -> None:
    selector = LabelSelector(
        {"env": "prod"}, (Requirement("tier", "In", ("web", "api")), Requirement("x", "Exists"))
    )
    assert codec.selector_from_json(codec.selector_to_json(selector)) == selector
    assert codec.selector_from_json("{}") == LabelSelector({})


def test_labels_are_stored_sorted_and_must_be_an_object() -> None:
    assert codec.labels_to_json({"b": "1", "a": "2"}) == '{"a": "2", "b": "1"}'
    assert codec.labels_from_json('{"a": "2"}') == {"a": "2"}
    with pytest.raises(AssertionError):
        codec.labels_from_json("[]")


def test_files_keep_any_bytes() -> None:
    files = {"b.yaml": b"\x00\xff\xfe raw", "a.yaml": "ünï".encode()}
    text = codec.files_to_json(files)
    assert list(codec.files_from_json(text)) == ["a.yaml", "b.yaml"]
    assert codec.files_from_json(text) == files


def test_resources_round_trip() -> None:
    resources = (ResourceStateRecord("/ConfigMap/ns/a", True, False, False, ""),)
    assert codec.resources_from_json(codec.resources_to_json(resources)) == resources


def test_pg_text_replaces_nul_only() -> None:
    assert codec.pg_text("a\x00b ü") == "a\ufffdb ü"


def test_rows_decode_the_same_from_either_store() -> None:
    # SQLite gives 0/1 where PostgreSQL gives booleans: both decode to the same record.
    for false, true in ((0, 1), (False, True)):
        assert codec.cluster_from_row(
            ("c-1", "one", '{"env": "prod"}', "h", 1, 2, true, '{"env": "prod", "spot": null}')
        ) == ClusterRecord(
            "c-1", "one", {"env": "prod"}, "h", 1, 2, True, {"env": "prod", "spot": None}
        )
        assert codec.deployment_from_row(
            ("web", "c-1", "r2", "r1", "", "r1", false, "[]", "r1")
        ) == DeploymentRecord("web", "c-1", "r2", "r1", "", "r1", False, (), "r1")
        assert codec.control_from_row(("web", true, "", 2)) == BundleControl("web", True, "", 2)
        assert codec.token_from_row(("t", "h", 1, 0, false, 2, 3)) == token(
            id="t", created=1, uses=2, max_uses=3
        )
        assert codec.admin_token_from_row(("a", "h", "admin", 1, true)) == AdminTokenRecord(
            "a", "h", "admin", 1, True
        )
    assert codec.control_from_row(("web", None, "", 0)).paused is None
    assert codec.group_from_row(("prod", '{"matchLabels": {"env": "prod"}}')) == GroupRecord(
        "prod", LabelSelector({"env": "prod"})
    )
    bundle = codec.bundle_from_row(("web", "{}", "r1", 3, 1, 2), {"z.yaml": b"z", "a.yaml": b"a"})
    assert list(bundle.files) == ["a.yaml", "z.yaml"]  # in path order, from either store
    assert (bundle.name, bundle.revision, bundle.resource_count) == ("web", "r1", 3)
