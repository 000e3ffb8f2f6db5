"""Reading long lists from the hub: the filter flags the list verbs share, and following page
tokens.

The hub bounds every response (ListClusters, ListBundles, GetStatus page by name); the CLI
follows next_page_token until the list is complete, so output is whole by default, and
`--limit N` stops as soon as it has N items. Filters are evaluated on the hub: only what
matches travels.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from argosy.api.v1 import fleet_pb2


class Paged(Protocol):
    page_size: int
    page_token: str


Req = TypeVar("Req", bound=Paged)
Resp = TypeVar("Resp")


def filter_flags(parser: argparse.ArgumentParser, *, what: str) -> None:
    """`-l SELECTOR`, `--state STATE` and `--limit N`."""
    parser.add_argument(
        "-l",
        "--selector",
        default="",
        help=f"only {what} whose labels match (kubectl syntax: env=prod,tier!=web,zone in (a,b))",
    )
    parser.add_argument(
        "--state", default="", help=f"only {what} in this state (e.g. Ready, NotReady, Modified)"
    )
    parser.add_argument(
        "--limit",
        type=positive,
        default=0,
        help="stop after N items (default: all; the hub sends them a page at a time)",
    )


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


async def collect(
    call: Callable[..., Awaitable[Resp]],
    request: Req,
    items: Callable[[Resp], Sequence[Any]],
    *,
    limit: int = 0,
    timeout: float = 30,
) -> list[Resp]:
    """Every page of a listing (or pages up to `limit` items), in order."""
    pages: list[Resp] = []
    count = 0
    while True:
        # Ask for no more than is still wanted: --limit 5 moves 5 items, not a page of 500.
        request.page_size = limit - count if limit else 0
        page = await call(request, timeout=timeout)
        pages.append(page)
        count += len(items(page))
        token = getattr(page, "next_page_token", "")
        if not token or (limit and count >= limit):
            return pages
        request.page_token = token


def merge_status(
    pages: Sequence[fleet_pb2.GetStatusResponse], *, limit: int = 0
) -> fleet_pb2.GetStatusResponse:
    """One GetStatusResponse from its pages (groups and repos are in the first)."""
    out = fleet_pb2.GetStatusResponse()
    for page in pages:
        out.clusters.extend(page.clusters)
        out.bundles.extend(page.bundles)
        out.groups.extend(page.groups)
        out.repos.extend(page.repos)
    if limit:
        del out.clusters[limit:]
        del out.bundles[max(0, limit - len(out.clusters)) :]
    return out
