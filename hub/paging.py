"""Paged, filtered reads of the admin API (ListClusters, ListBundles, GetStatus): pure.

A response holds at most `page_size` items, so 10,000 clusters never travel in one message
unless a client asks for pages that large (and the hard maximum bounds even that). Items are
ordered by name and a page token is the last name a page held (base64 of a small JSON), so
paging is stable under concurrent inserts and deletes: the next page starts after that name,
wherever it now is, and never repeats or skips a name that existed throughout.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from argosy.errors import InvalidInput
from argosy.selectors import LabelSelector, parse_selector

DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 5000
_VERSION = 1

T = TypeVar("T")


# Where the next page starts in each section still to read: the last name sent. A list has
# one section; GetStatus has two (clusters, bundles), read side by side.
Cursor = dict[str, str]


def page_size(requested: int) -> int:
    """The page size to use: the default for 0, never more than the maximum."""
    if requested <= 0:
        return DEFAULT_PAGE_SIZE
    return min(requested, MAX_PAGE_SIZE)


def encode_token(cursor: Cursor) -> str:
    """The token for a cursor; "" when no section has more (the last page)."""
    if not cursor:
        return ""
    raw = json.dumps({"v": _VERSION, "after": cursor}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str, *, sections: Sequence[str], prefixes: Sequence[str] = ()) -> Cursor:
    """The cursor a token names; the empty token starts every section. A token this hub did
    not make (or one of another list) is refused, naming the field. `prefixes` admit sections
    named after an object (GetStatus's detail of one bundle: "bundle-detail:NAME")."""
    if not token:
        return dict.fromkeys(sections, "")
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        after = data["after"]
        ok = (
            data.get("v") == _VERSION
            and isinstance(after, dict)
            and bool(after)
            and all(
                (k in sections or k.startswith(tuple(prefixes))) and isinstance(v, str)
                for k, v in after.items()
            )
        )
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
        ok = False
    if not ok:
        raise InvalidInput(
            f"page_token {token[:40]!r} is not a token this list returned "
            "(pass next_page_token back unchanged)"
        )
    return {str(k): str(v) for k, v in after.items()}


def page(
    items: Sequence[T], *, key: Callable[[T], str], after: str, size: int
) -> tuple[list[T], str | None]:
    """Up to `size` items whose key sorts after `after`, from `items` sorted by key; and the
    key to continue after, or None when nothing follows."""
    keys = [key(i) for i in items]
    start = bisect.bisect_right(keys, after) if after else 0
    chunk = list(items[start : start + size])
    more = start + size < len(items)
    return chunk, (key(chunk[-1]) if more and chunk else None)


def selector(text: str, *, field: str = "label_selector") -> LabelSelector:
    """A label selector from kubectl's -l syntax, the field named when it is bad."""
    try:
        return parse_selector(text)
    except InvalidInput as exc:
        raise InvalidInput(f"{field}: {exc}") from None


def state_filter(text: str, *, known: Sequence[str], field: str = "state") -> str:
    """A state name as given (`--state notready`), checked and spelled as the hub does."""
    if not text:
        return ""
    names = {s.lower(): s for s in known}
    found = names.get(text.lower())
    if found is None:
        raise InvalidInput(f"{field}: {text!r} is not a state; use one of {', '.join(known)}")
    return found


def page_sections(
    sections: Mapping[str, Sequence[str]], *, cursor: Cursor, size: int
) -> tuple[dict[str, list[str]], str]:
    """One page of several sorted name lists read side by side (GetStatus: clusters and
    bundles): up to `size` names of each section the cursor still reads, and the next token.

    Side by side rather than one after the other, so the few bundles of a fleet of 10,000
    clusters come on the first page, not after twenty pages of clusters.
    """
    out, following = read_sections(sections, cursor=cursor, size=size)
    return out, encode_token(following)


def read_sections(
    sections: Mapping[str, Sequence[str]], *, cursor: Cursor, size: int
) -> tuple[dict[str, list[str]], Cursor]:
    """page_sections, with the cursor that follows rather than its token (GetStatus adds
    the detail sections to it)."""
    out: dict[str, list[str]] = {}
    following: Cursor = {}
    for section, names in sections.items():
        if section not in cursor:
            out[section] = []
            continue
        out[section], after = page(names, key=str, after=cursor[section], size=size)
        if after is not None:
            following[section] = after
    return out, following


def page_details(
    owners: Sequence[str],
    *,
    cursor: Cursor,
    prefix: str,
    names: Callable[[str], Sequence[str]],
    budget: int,
) -> tuple[dict[str, list[str]], Cursor, int]:
    """One page of per-object detail lists (GetStatus: a bundle's clusters, by name), at most
    `budget` names in all, however many objects ask for detail.

    An object's detail starts on the page that first holds it (`owners`, in order) and goes on
    in a section of its own, `prefix + owner`, whose cursor is the last name sent ("" for none
    yet). Sections the cursor carries on are read first, in name order, then the new owners;
    what the budget leaves out waits in the next cursor. `names(owner)` is the owner's detail
    list, sorted; an owner gone since (an empty list) just ends.

    Returns the names to send per owner (only owners with some), the sections still to read,
    and what is left of the budget.
    """
    carried = sorted((k[len(prefix) :], v) for k, v in cursor.items() if k.startswith(prefix))
    started = {o for o, _ in carried}
    queue = [*carried, *((o, "") for o in owners if o not in started)]
    out: dict[str, list[str]] = {}
    following: Cursor = {}
    for owner, after in queue:
        if budget <= 0:
            following[prefix + owner] = after
            continue
        chunk, more = page(names(owner), key=str, after=after, size=budget)
        budget -= len(chunk)
        if chunk:
            out[owner] = chunk
        if more is not None:
            following[prefix + owner] = more
    return out, following, budget
