"""The change feed's wire format (pure): encoding under NOTIFY's limit, decoding, merging."""

from __future__ import annotations

import json
from collections import deque

from hub.replication.messages import MAX_PAYLOAD, Change, decode, encode, merge, pair, take


def test_a_large_change_is_split_under_the_notify_limit() -> None:
    ids = [f"bundle-{i}/c-{i:08x}" for i in range(5000)]
    payloads = encode("origin", "deployments", "", "", ids)
    assert len(payloads) > 1
    assert all(len(p.encode()) <= MAX_PAYLOAD for p in payloads)
    assert [i for p in payloads for i in json.loads(p)["ids"]] == ids
    assert [json.loads(p)["ids"] for p in encode("o", "alive", "", "", [])] == [[]]


def test_pg_refuses_8000_bytes_and_the_limit_leaves_room() -> None:
    # Ids that are all non-ASCII grow under json.dumps (\\u escapes): the split counts what is
    # sent, so even these stay under the limit PostgreSQL enforces.
    ids = ["ü" * 100 for _ in range(200)]
    payloads = encode("o", "attach", "", "", ids)
    assert all(len(p.encode()) < 8000 for p in payloads)
    assert [i for p in payloads for i in json.loads(p)["ids"]] == ids


def test_every_split_payload_carries_the_whole_head() -> None:
    ids = [f"c-{i:06d}" for i in range(3000)]
    for p in encode("me", "released", "web", "r7", ids):
        change = decode(p)
        assert change is not None
        assert (change.origin, change.kind, change.name, change.revision) == (
            "me",
            "released",
            "web",
            "r7",
        )


def test_decode_round_trips_encode() -> None:
    [payload] = encode("me", "bundle", "web", "r1", ["a", "b"])
    assert decode(payload) == Change("me", "bundle", "web", "r1", ("a", "b"))


def test_decode_refuses_what_is_not_a_change() -> None:
    assert decode("not json") is None
    assert decode("[1, 2]") is None
    # Missing fields default rather than fail: an older replica may send fewer.
    assert decode('{"o": "x", "k": "alive"}') == Change("x", "alive")


def test_merge_joins_consecutive_sets_and_alives_and_keeps_order() -> None:
    batch = [
        ("deployments", "", "", ("a/1",)),
        ("deployments", "", "", ("a/2",)),
        ("bundle", "web", "", ()),
        ("alive", "", "", ()),
        ("alive", "", "", ()),
        ("attach", "", "", ("c1",)),
        ("detach", "", "", ("c2",)),
        ("detach", "", "", ("c3",)),
        ("bundle", "api", "", ()),
        ("bundle", "api", "", ()),
    ]
    assert merge(batch) == [
        ("deployments", "", "", ("a/1", "a/2")),
        ("bundle", "web", "", ()),
        ("alive", "", "", ()),
        ("attach", "", "", ("c1",)),
        ("detach", "", "", ("c2", "c3")),
        # Named changes are not sets: each is announced.
        ("bundle", "api", "", ()),
        ("bundle", "api", "", ()),
    ]


def test_take_gathers_queued_deployment_changes_only() -> None:
    inbox = deque(
        [
            Change("a", "deployments", ids=("web/c1",)),
            Change("b", "deployments", ids=("web/c2",)),
            Change("a", "bundle", "web"),
            Change("a", "deployments", ids=("web/c3",)),
        ]
    )
    assert take(inbox) == Change("a", "deployments", ids=("web/c1", "web/c2"))
    assert take(inbox) == Change("a", "bundle", "web")
    assert take(inbox) == Change("a", "deployments", ids=("web/c3",))
    assert not inbox


def test_pair_splits_at_the_first_slash() -> None:
    assert pair("web/c1") == ("web", "c1")
    assert pair("c1/sha256:ab/cd") == ("c1", "sha256:ab/cd")
    assert pair("lonely") == ("lonely", "")
