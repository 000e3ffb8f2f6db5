"""Paged, filtered reads (hub/paging.py) and hub-set cluster labels (hub/core/labels.py): pure."""

from __future__ import annotations

import pytest

from argosy.errors import InvalidInput
from argosy.names import parse_label_changes
from hub import paging
from hub.core import labels

STATUS = ("clusters", "bundles")


def walk(names: list[str], size: int) -> list[list[str]]:
    pages, after = [], ""
    while True:
        chunk, nxt = paging.page(names, key=str, after=after, size=size)
        pages.append(chunk)
        if nxt is None:
            return pages
        after = nxt


def test_pages_are_bounded_and_their_union_is_everything_once() -> None:
    names = sorted(f"c{i:04d}" for i in range(1234))
    pages = walk(names, 500)
    assert [len(p) for p in pages] == [500, 500, 234]
    assert [n for p in pages for n in p] == names


def test_a_page_that_ends_exactly_at_the_end_says_nothing_follows() -> None:
    assert walk(["a", "b", "c", "d"], 2) == [["a", "b"], ["c", "d"]]
    assert walk([], 3) == [[]]


def test_paging_is_stable_under_inserts_and_deletes_between_pages() -> None:
    names = ["a", "c", "e", "g"]
    first, after = paging.page(names, key=str, after="", size=2)
    assert (first, after) == (["a", "c"], "c")
    # "b" arrives before the cursor (not shown), "d" after it (shown); "c" itself is deleted.
    changed = ["a", "b", "d", "e", "g"]
    second, after = paging.page(changed, key=str, after="c", size=2)
    assert (second, after) == (["d", "e"], "e")


def test_tokens_round_trip_and_foreign_tokens_are_refused_naming_the_field() -> None:
    cursor = {"bundles": "web-1"}
    token = paging.encode_token(cursor)
    assert paging.decode_token(token, sections=STATUS) == cursor
    assert paging.decode_token("", sections=STATUS) == {"clusters": "", "bundles": ""}
    assert paging.encode_token({}) == ""
    clusters_token = paging.encode_token({"clusters": "c1"})
    for bad in ("nonsense!", "e30", paging.encode_token({"other": "x"}), clusters_token):
        with pytest.raises(InvalidInput, match="page_token"):
            paging.decode_token(bad, sections=("bundles",))


def test_page_size_has_a_default_and_a_hard_maximum() -> None:
    assert paging.page_size(0) == paging.DEFAULT_PAGE_SIZE
    assert paging.page_size(7) == 7
    assert paging.page_size(10**6) == paging.MAX_PAGE_SIZE


def test_state_filters_are_checked_and_spelled_as_the_hub_does() -> None:
    known = ("Ready", "NotReady", "WaitCheckIn")
    assert paging.state_filter("notready", known=known) == "NotReady"
    assert paging.state_filter("", known=known) == ""
    with pytest.raises(InvalidInput, match="state: 'Broken' is not a state"):
        paging.state_filter("Broken", known=known)


def test_selectors_use_kubectl_syntax() -> None:
    match = paging.selector("env=prod,tier!=web")
    assert match.matches({"env": "prod"})
    assert not match.matches({"env": "prod", "tier": "web"})
    with pytest.raises(InvalidInput, match="label_selector"):
        paging.selector("=x")


def test_status_pages_read_clusters_and_bundles_side_by_side() -> None:
    names = {"clusters": [f"c{i}" for i in range(5)], "bundles": ["b0", "b1"]}
    cursor = paging.decode_token("", sections=STATUS)
    seen: dict[str, list[str]] = {"clusters": [], "bundles": []}
    shapes = []
    while True:
        page, token = paging.page_sections(names, cursor=cursor, size=2)
        shapes.append((len(page["clusters"]), len(page["bundles"])))
        for section, got in page.items():
            seen[section] += got
        if not token:
            break
        cursor = paging.decode_token(token, sections=STATUS)
    # The two bundles come with the first clusters; the clusters go on alone.
    assert shapes == [(2, 2), (2, 0), (1, 0)]
    assert seen == names


def test_status_page_where_every_section_ends_exactly() -> None:
    page, token = paging.page_sections(
        {"clusters": ["a", "b"], "bundles": []}, cursor={"clusters": "", "bundles": ""}, size=2
    )
    assert (page, token) == ({"clusters": ["a", "b"], "bundles": []}, "")


def test_detail_pages_hold_at_most_the_budget_and_carry_on_per_owner() -> None:
    details = {"b0": [f"c{i:02}" for i in range(7)], "b1": ["c00", "c01"], "b2": ["c05"]}
    cursor: paging.Cursor = {}
    owners = ["b0", "b1", "b2"]  # on the first page; none on the next ones
    seen: dict[str, list[str]] = {}
    sizes = []
    while True:
        got, cursor, left = paging.page_details(
            owners, cursor=cursor, prefix="d:", names=details.__getitem__, budget=3
        )
        sizes.append(sum(map(len, got.values())))
        assert left == 3 - sizes[-1]
        for owner, names in got.items():
            seen.setdefault(owner, []).extend(names)
        owners = []
        if not cursor:
            break
        # The cursor survives its token, and only detail sections are admitted by the prefix.
        cursor = paging.decode_token(paging.encode_token(cursor), sections=(), prefixes=("d:",))
    assert seen == details
    assert sizes == [3, 3, 3, 1]


def test_detail_of_an_owner_gone_since_ends() -> None:
    got, cursor, left = paging.page_details(
        [], cursor={"d:gone": "c3", "clusters": "x"}, prefix="d:", names=lambda o: [], budget=5
    )
    assert (got, cursor, left) == ({}, {}, 5)


def test_a_detail_section_is_not_admitted_without_its_prefix() -> None:
    token = paging.encode_token({"d:b0": "c1"})
    with pytest.raises(InvalidInput, match="page_token"):
        paging.decode_token(token, sections=STATUS)


# --- cluster labels set on the hub ----------------------------------------------------------------


def test_hub_overrides_win_over_the_labels_a_spoke_registers_with() -> None:
    overrides = {"env": "prod", "spot": None}
    assert labels.effective({"env": "dev", "spot": "yes", "zone": "a"}, overrides) == {
        "env": "prod",
        "zone": "a",
    }


def test_a_change_sets_and_removes_and_records_both() -> None:
    new, overrides = labels.change(
        {"env": "dev", "spot": "yes"}, {}, set_={"env": "prod"}, remove=["spot"], what="c"
    )
    assert new == {"env": "prod"}
    assert overrides == {"env": "prod", "spot": None}
    # Removing the hub's own key keeps it removed (not back to the spoke's value).
    new, overrides = labels.change(new, overrides, set_={}, remove=["env"], what="c")
    assert new == {} and overrides == {"env": None, "spot": None}
    # Setting a removed key again makes it the hub's value.
    new, overrides = labels.change(new, overrides, set_={"spot": "no"}, remove=[], what="c")
    assert new == {"spot": "no"} and overrides["spot"] == "no"


def test_bad_label_changes_are_refused_naming_the_label() -> None:
    with pytest.raises(InvalidInput, match="label key 'bad key' is not valid"):
        labels.change({}, {}, set_={"bad key": "v"}, remove=[], what="cluster c labels")
    with pytest.raises(InvalidInput, match="label env='no way' has an invalid value"):
        labels.change({}, {}, set_={"env": "no way"}, remove=[], what="cluster c labels")
    with pytest.raises(InvalidInput, match="label key '-x' is not valid"):
        labels.change({}, {}, set_={}, remove=["-x"], what="cluster c labels")
    with pytest.raises(InvalidInput, match="'env' is both set and removed"):
        labels.change({}, {}, set_={"env": "a"}, remove=["env"], what="c")
    with pytest.raises(InvalidInput, match="nothing to change"):
        labels.change({}, {}, set_={}, remove=[], what="c")


def test_kubectl_label_arguments() -> None:
    assert parse_label_changes(["env=prod", "tier-", "empty="], what="x") == (
        {"env": "prod", "empty": ""},
        ["tier"],
    )
    for bad in ("env", "=v", "-"):
        with pytest.raises(InvalidInput, match=repr(bad)):
            parse_label_changes([bad], what="x")
