"""`argosy demo`: its flags reach cli.demo, which refuses nonsense before starting anything."""

from __future__ import annotations

import pytest

from cli.client import UserError
from tests.cli.fakes import FakeHub, parse, run


def test_defaults() -> None:
    args = parse("demo")
    assert (args.clusters, args.keep, args.examples, args.data_dir, args.timeout) == (
        5,
        False,
        None,
        None,
        120.0,
    )


async def test_no_clusters_is_refused_before_any_process_starts() -> None:
    hub = FakeHub()
    with pytest.raises(UserError, match="--clusters must be at least 1"):
        await run(hub, "demo", "--clusters", "0")
    assert hub.opened == 0
