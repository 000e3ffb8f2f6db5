"""The git source's labels (argosy.io/repo, argosy.io/commit) are the hub's: `argosy apply` and
fleet.yaml `labels:` may not set them, or a repository would adopt and delete that bundle."""

from __future__ import annotations

import pytest

from argosy.bundle import BundleSource
from argosy.errors import InvalidInput
from hub.fleet import Fleet
from hub.rendering import Renderer
from hub.status import StatusBook
from tests.hub.fakes import FakePeers, MemoryStore, configmap_bundle


async def fleet() -> Fleet:
    f = Fleet(store=MemoryStore(), status=StatusBook(), renderer=Renderer())
    f.peers = FakePeers()
    await f.load()
    return f


async def test_apply_refuses_the_git_sources_labels_which_the_source_itself_may_set() -> None:
    f = await fleet()
    by_flag = (BundleSource("a", configmap_bundle("a")), {"argosy.io/repo": "r"})
    with pytest.raises(InvalidInput, match=r"bundle a: label 'argosy.io/repo' is set by the hub"):
        await f.apply_bundles([by_flag])
    in_yaml = configmap_bundle("b", "labels:\n  argosy.io/commit: abc\n")
    with pytest.raises(InvalidInput, match=r"bundle b: label 'argosy.io/commit'"):
        await f.apply_bundles([(BundleSource("b", in_yaml), {})])
    assert f.bundles() == []
    await f.apply_bundles([by_flag], by_source=True)
    assert [b.labels for b in f.bundles()] == [{"argosy.io/repo": "r"}]
