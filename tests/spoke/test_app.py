"""The spoke's composition root and its backend's lifecycle, with in-memory fakes (no hub)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from argosy.api.v1 import spoke_pb2
from spoke.app import Settings, Spoke
from spoke.backends.simulated import SimulatedCluster
from spoke.state import CredentialStore, MirroredCredentialStore
from tests.harness import eventually


class Mirror(MirroredCredentialStore):
    def __init__(self, path: Path | None, steps: list[str], *, fail: bool = False) -> None:
        super().__init__(path)
        self.steps = steps
        self.fail = fail

    async def restore(self) -> None:
        self.steps.append("restore")
        if self.fail:
            raise RuntimeError("restore failed")

    async def run(self) -> None:
        self.steps.append("mirror")
        await asyncio.Event().wait()


class Cluster(SimulatedCluster):
    """A simulated cluster that records being entered and left, and offers a mirror."""

    def __init__(self, steps: list[str], *, fail_restore: bool = False) -> None:
        super().__init__()
        self.steps = steps
        self.fail_restore = fail_restore
        self.mirror: Mirror | None = None

    async def __aenter__(self) -> Cluster:
        self.steps.append("enter")
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.steps.append("exit")

    def credential_mirror(self, path: Path | None, *, secret: str) -> Mirror:
        self.steps.append(f"mirror for {secret}")
        self.mirror = Mirror(path, self.steps, fail=self.fail_restore)
        return self.mirror


class Link:
    """Stands in for the Link to the hub: records that it ran."""

    def __init__(self, steps: list[str]) -> None:
        self.steps = steps

    async def run(self) -> None:
        self.steps.append("link")
        await asyncio.Event().wait()

    async def send(self, msg: spoke_pb2.ConnectRequest) -> None:
        del msg


def settings(tmp_path: Path, *, credential_secret: str = "") -> Settings:
    return Settings(
        hub="127.0.0.1:1",
        name="c1",
        simulate=True,
        insecure=True,
        data_dir=tmp_path,
        credential_secret=credential_secret,
    )


async def test_the_spoke_runs_inside_its_backend_and_restores_the_mirror_before_the_link(
    tmp_path: Path,
) -> None:
    steps: list[str] = []
    cluster = Cluster(steps)
    spoke = Spoke(settings(tmp_path, credential_secret="ns/cred"), backend=cluster)
    assert spoke.credentials is cluster.mirror, "the Link keeps the credential in the mirror"
    spoke.link = Link(steps)  # type: ignore[assignment]
    task = asyncio.create_task(spoke.run(), name="test-spoke")
    await eventually(lambda: {"link", "mirror"} <= set(steps), what="link and mirror loops")
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert steps[:3] == ["mirror for ns/cred", "enter", "restore"]
    assert {"link", "mirror"} == set(steps[3:5])
    assert steps[-1] == "exit"


async def test_a_failing_start_still_leaves_the_backend(tmp_path: Path) -> None:
    steps: list[str] = []
    spoke = Spoke(
        settings(tmp_path, credential_secret="cred"), backend=Cluster(steps, fail_restore=True)
    )
    spoke.link = Link(steps)  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="restore failed"):
        await spoke.run()
    assert steps == ["mirror for cred", "enter", "restore", "exit"]


def test_without_credential_secret_no_mirror_is_asked_for_and_sim_offers_none(
    tmp_path: Path,
) -> None:
    steps: list[str] = []
    spoke = Spoke(settings(tmp_path), backend=Cluster(steps))
    assert spoke.mirror is None and steps == []
    # The plain simulated cluster has no place for a credential: --credential-secret is moot.
    plain = Spoke(settings(tmp_path, credential_secret="cred"))
    assert plain.mirror is None
    assert type(plain.credentials) is CredentialStore
