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

from argosy.api.v1 import fleet_pb2, fleet_pb2_grpc
from cli.parsing import INT32_MAX


class Paged(Protocol):
    page_size: int
    page_token: str


# The hub's default and largest page sizes (hub/paging.py), which the CLI cannot import: a
# page shorter than the size asked for (as the hub caps it) ends its list.
DEFAULT_PAGE_SIZE = 500
MAX_PAGE_SIZE = 5000

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
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    if value > INT32_MAX:  # page_size is a uint32, and no list is that long
        raise argparse.ArgumentTypeError(f"{text} is out of range (1 to {INT32_MAX})")
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


async def collect_status(
    stub: fleet_pb2_grpc.FleetServiceAsyncStub,
    request: fleet_pb2.GetStatusRequest,
    *,
    limit: int = 0,
    found: Callable[[fleet_pb2.GetStatusResponse], bool] | None = None,
    timeout: float = 30,
) -> fleet_pb2.GetStatusResponse:
    """GetStatus's pages as one response: every page, or until `limit` clusters and `limit`
    bundles are in (a section that came short of a page is complete), or until `found` says
    the page holds what the caller looks for (`status BUNDLE`: that bundle, its detail
    complete). A bundle or cluster whose detail goes on over several pages comes on each:
    they are merged into one."""
    pages: list[fleet_pb2.GetStatusResponse] = []
    seen: list[set[str]] = [set(), set()]
    complete = [False, False]
    while True:
        request.page_size = limit
        page = await stub.GetStatus(request, timeout=timeout)
        pages.append(page)
        size = min(limit, MAX_PAGE_SIZE) if limit else DEFAULT_PAGE_SIZE
        names = ([c.name for c in page.clusters], [b.name for b in page.bundles])
        # A page that carries on a bundle's or cluster's detail holds only those again: it
        # says nothing of where the lists end.
        carried = any(n in seen[i] for i in (0, 1) for n in names[i])
        for i in (0, 1):
            seen[i].update(names[i])
            complete[i] = complete[i] or (not carried and len(names[i]) < size)
        if not page.next_page_token or (found is not None and found(page)):
            break
        if limit and all(len(n) >= limit or done for n, done in zip(seen, complete, strict=True)):
            break
        request.page_token = page.next_page_token
    return merge_status(pages, limit=limit)


def merge_status(
    pages: Sequence[fleet_pb2.GetStatusResponse], *, limit: int = 0
) -> fleet_pb2.GetStatusResponse:
    """One GetStatusResponse from its pages (groups and repos are in the first). A bundle or
    cluster that comes again (its detail carried on) adds its deployments to the first."""
    out = fleet_pb2.GetStatusResponse()
    clusters: dict[str, fleet_pb2.ClusterStatus] = {}
    bundles: dict[str, fleet_pb2.BundleStatus] = {}
    for page in pages:
        for c in page.clusters:
            if c.name in clusters:
                clusters[c.name].deployments.extend(c.deployments)
                clusters[c.name].more_deployments = c.more_deployments
            else:
                out.clusters.append(c)
                clusters[c.name] = out.clusters[-1]
        for b in page.bundles:
            if b.name in bundles:
                bundles[b.name].deployments.extend(b.deployments)
                bundles[b.name].more_deployments = b.more_deployments
            else:
                out.bundles.append(b)
                bundles[b.name] = out.bundles[-1]
        out.groups.extend(page.groups)
        out.repos.extend(page.repos)
    if limit:
        del out.clusters[limit:]
        del out.bundles[limit:]
    return out
