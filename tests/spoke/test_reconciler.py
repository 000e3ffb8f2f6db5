"""The reconciler and its Retrier on the simulated cluster, without a hub: retries of failed
applies, whole-set applies per revision, and objects owned by another bundle."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest

import spoke.desired as desired_module
import spoke.reconciler as reconciler_module
from argosy.api.v1 import resources_pb2, spoke_pb2
from argosy.hashing import combine
from argosy.manifests import Manifest
from spoke.backends.base import OWNER_LABEL, Ownership, OwnerUnknown
from spoke.backends.simulated import SimulatedCluster, SimulationSettings
from spoke.link import Link, LinkSettings, _StreamEnded
from spoke.reconciler import Reconciler, StatusSink
from spoke.reporter import StatusReporter
from spoke.retry import Retrier, RetrySettings
from spoke.state import CredentialStore, LocalState
from tests.harness import eventually

GROUP = "example.com"
GADGET_KEY = f"{GROUP}/Gadget/default/g1"
# Long enough that only an immediate cause (not the backoff) can make a retry in a test.
SLOW = RetrySettings(initial=300.0, maximum=300.0)


def configmap(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def gadget_crd() -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"gadgets.{GROUP}"},
        "spec": {
            "group": GROUP,
            "names": {"kind": "Gadget", "plural": "gadgets"},
            "scope": "Namespaced",
            "versions": [{"name": "v1", "served": True, "storage": True}],
        },
    }


def gadget() -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/v1", "kind": "Gadget", "metadata": {"name": "g1"}}


def upsert(
    bundle: str,
    objs: Sequence[Mapping[str, Any]],
    *,
    take_ownership: bool = False,
    base: spoke_pb2.DeploymentUpsert | None = None,
) -> spoke_pb2.DeploymentUpsert:
    """A DeploymentUpsert as the hub sends it: whole, or the diff against `base`."""
    manifests = {m.key: m for m in (Manifest.of(o) for o in objs)}
    revision = combine(f"{k} {m.hash}" for k, m in sorted(manifests.items()))
    before = {r.key: r.hash for r in base.upserts} if base is not None else {}
    return spoke_pb2.DeploymentUpsert(
        bundle=bundle,
        revision=revision,
        base_revision=base.revision if base is not None else "",
        upserts=[
            resources_pb2.Resource(key=k, hash=m.hash, manifest=m.manifest)
            for k, m in manifests.items()
            if before.get(k) != m.hash
        ],
        removed=[k for k in before if k not in manifests],
        resource_count=len(manifests),
        options=spoke_pb2.DeploymentOptions(take_ownership=take_ownership),
    )


class Marks(StatusSink):
    def __init__(self) -> None:
        self.marked: list[str] = []

    def mark(self, bundle: str) -> None:
        self.marked.append(bundle)


@dataclass
class Local:
    cluster: SimulatedCluster
    state: LocalState
    marks: Marks
    retrier: Retrier
    reconciler: Reconciler

    def status(self, bundle: str) -> spoke_pb2.DeploymentStatus:
        return self.reconciler.status(bundle)

    def ready(self, bundle: str) -> bool:
        return self.status(bundle).ready


@asynccontextmanager
async def local_spoke(
    cluster: SimulatedCluster,
    *,
    state_path: Path | None = None,
    retry: RetrySettings = SLOW,
    run_retrier: bool = True,
) -> AsyncIterator[Local]:
    """A reconciler on `cluster` with its watch and (unless told not to) its Retrier running."""
    state = LocalState(state_path)
    state.load()
    marks = Marks()
    retrier = Retrier(retry)
    reconciler = Reconciler(backend=cluster, state=state, sink=marks, retries=retrier)
    await reconciler.start()
    tasks = [asyncio.create_task(reconciler.run(), name="test-watch")]
    if run_retrier:
        tasks.append(
            asyncio.create_task(retrier.run(reconciler, cluster.kinds), name="test-retrier")
        )
    try:
        # Changes made behind the spoke's back are seen only once its watch follows them.
        await eventually(lambda: cluster._watchers, what="the watch started")
        yield Local(cluster, state, marks, retrier, reconciler)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with suppress(asyncio.CancelledError):
                await task


def strict_cluster() -> SimulatedCluster:
    return SimulatedCluster(SimulationSettings(ready_delay=0.01, require_crds=True))


# --- 1. retries -----------------------------------------------------------------------------


async def test_a_custom_resource_applied_before_its_crd_applies_once_another_bundle_serves_it() -> (
    None
):
    async with local_spoke(strict_cluster()) as s:
        ack = await s.reconciler.upsert(upsert("gadgets", [gadget()]))
        assert 'does not serve kind "Gadget"' in ack.error
        assert not s.ready("gadgets")
        # The CRD arrives in another bundle: the served kinds change, and the errored
        # bundle is applied again at once (the backoff here is 300 s).
        assert not (await s.reconciler.upsert(upsert("crds", [gadget_crd()]))).error
        await eventually(lambda: s.ready("gadgets"), what="gadgets ready without user action")
        assert s.status("gadgets").apply_error == ""
        assert s.state.deployments["gadgets"].error == ""
        assert GADGET_KEY in s.cluster.objects


async def test_a_restarted_spoke_retries_what_it_held_in_error(tmp_path: Path) -> None:
    cluster = strict_cluster()
    state_path = tmp_path / "deployments.json"
    async with local_spoke(cluster, state_path=state_path, run_retrier=False) as s:
        assert (await s.reconciler.upsert(upsert("gadgets", [gadget()]))).error
    # While the spoke is down, someone installs the CRD.
    await cluster.apply([gadget_crd()], owner=Ownership("by-hand", "by-hand"), force=False)
    async with local_spoke(cluster, state_path=state_path) as s:
        await eventually(lambda: s.ready("gadgets"), what="restarted spoke retried")
        assert s.state.deployments["gadgets"].error == ""


async def test_the_hub_asking_for_a_retry_applies_the_held_set_now_and_resets_the_backoff() -> None:
    cluster = strict_cluster()
    async with local_spoke(cluster, retry=RetrySettings(initial=1.0, maximum=300.0)) as s:
        assert (await s.reconciler.upsert(upsert("gadgets", [gadget()]))).error
        # Failing again and again grows the backoff.
        for _ in range(8):
            assert await s.reconciler.retry("gadgets")
        assert (s.retrier.seconds_to_retry("gadgets") or 0) > 60
        link = Link(
            settings=LinkSettings(hub="127.0.0.1:1", name="sim", labels={}, insecure=True),
            credentials=CredentialStore(None),
            reconciler=s.reconciler,
            reporter=StatusReporter(),
        )
        applies = cluster.apply_calls
        await feed(
            link, spoke_pb2.ConnectResponse(retry=spoke_pb2.DeploymentRetry(bundle="gadgets"))
        )
        assert cluster.apply_calls == applies + 1, "the held set was applied again"
        # Still failing, but the next try comes as soon as a first one would.
        assert (s.retrier.seconds_to_retry("gadgets") or 300) <= 1.0


async def feed(link: Link, *messages: spoke_pb2.ConnectResponse) -> list[spoke_pb2.ConnectRequest]:
    """Run the link's reader over these messages from the hub; what it answered."""

    class Call:
        def __init__(self) -> None:
            self._messages = list(messages)

        async def read(self) -> Any:
            return self._messages.pop(0) if self._messages else grpc.aio.EOF

    queue: asyncio.Queue[spoke_pb2.ConnectRequest] = asyncio.Queue()
    with pytest.raises(_StreamEnded):
        await link._read(Call(), queue)
    return [queue.get_nowait() for _ in range(queue.qsize())]


class ScriptedReconciler:
    """Stands for the reconciler: each retry fails until `fixed`, and says so to the retrier."""

    def __init__(self, retrier: Retrier) -> None:
        self.retrier = retrier
        self.fixed = False
        self.tries = 0
        self.tried = asyncio.Event()

    async def retry(self, bundle: str, *, reset_backoff: bool = False) -> str | None:
        self.tries += 1
        self.tried.set()
        error = "" if self.fixed else "still broken"
        self.retrier.applied(bundle, error, reset=reset_backoff)
        return error


async def test_retries_back_off_exponentially_and_stop_once_applied() -> None:
    retrier = Retrier(RetrySettings(initial=0.02, maximum=0.16))
    fake = ScriptedReconciler(retrier)
    kinds = SimulatedCluster().kinds
    retrier.applied("b", "broken")
    delays = []
    for _ in range(6):
        delays.append(retrier.seconds_to_retry("b"))
        retrier.applied("b", "broken")
    # Full jitter within [ceiling/2, ceiling], the ceiling doubling up to the cap.
    for delay, ceiling in zip(delays, (0.02, 0.04, 0.08, 0.16, 0.16, 0.16), strict=True):
        assert delay is not None and ceiling / 2 - 0.01 <= delay <= ceiling
    task = asyncio.create_task(retrier.run(fake, kinds), name="test-retrier")  # type: ignore[arg-type]
    try:
        await eventually(lambda: fake.tries >= 3, what="several retries")
        fake.fixed = True
        await eventually(lambda: retrier.seconds_to_retry("b") is None, what="retries stop")
        tries = fake.tries
        fake.tried.clear()
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.5):
                await fake.tried.wait()
        assert fake.tries == tries
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


# --- 2. a new revision applies the whole desired set ------------------------------------------


async def test_a_new_revision_restores_an_object_deleted_by_hand() -> None:
    cluster = SimulatedCluster(SimulationSettings(ready_delay=0.01))
    async with local_spoke(cluster) as s:
        v1 = upsert("web", [configmap("a", v="1"), configmap("b", v="1")])
        assert not (await s.reconciler.upsert(v1)).error
        cluster.remove("/ConfigMap/default/a")
        await eventually(lambda: not s.ready("web"), what="the delete is seen")
        b_before = cluster.objects["/ConfigMap/default/b"]["metadata"]["resourceVersion"]
        # v2 changes b only; the hub sends only b.
        v2 = upsert("web", [configmap("a", v="1"), configmap("b", v="2")], base=v1)
        assert [r.key for r in v2.upserts] == ["/ConfigMap//b"]
        assert not (await s.reconciler.upsert(v2)).error
        assert "/ConfigMap/default/a" in cluster.objects
        assert cluster.objects["/ConfigMap/default/b"]["data"] == {"v": "2"}
        assert cluster.objects["/ConfigMap/default/b"]["metadata"]["resourceVersion"] != b_before
        await eventually(lambda: s.ready("web"), what="web ready again")
        # Re-applying what is unchanged writes nothing.
        a_rv = cluster.objects["/ConfigMap/default/a"]["metadata"]["resourceVersion"]
        v3 = upsert("web", [configmap("a", v="1"), configmap("b", v="3")], base=v2)
        await s.reconciler.upsert(v3)
        assert cluster.objects["/ConfigMap/default/a"]["metadata"]["resourceVersion"] == a_rv


async def test_a_new_revision_judges_again_only_what_changed_or_when_the_options_did(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    judged: list[str] = []
    real_judge = desired_module.judge

    def counting(desired: Any, live: Any, options: Any) -> Any:
        judged.append(desired["metadata"]["name"])
        return real_judge(desired, live, options)

    monkeypatch.setattr(reconciler_module, "judge", counting)
    cluster = SimulatedCluster(SimulationSettings(ready_delay=0.01))
    async with local_spoke(cluster) as s:
        names = [f"cm{i}" for i in range(20)]
        v1 = upsert("web", [configmap(n, v="1") for n in names])
        assert not (await s.reconciler.upsert(v1)).error
        await eventually(lambda: s.ready("web"), what="web ready")
        judged.clear()
        # Every object is applied again, but only the changed one is judged again.
        v2 = upsert("web", [configmap(n, v="2" if n == "cm3" else "1") for n in names], base=v1)
        assert not (await s.reconciler.upsert(v2)).error
        assert sorted(set(judged)) == ["cm3"]
        # New options (ignore.conditions) may change any object's state: all are judged again.
        judged.clear()
        v3 = upsert("web", [configmap(n, v="2" if n == "cm3" else "1") for n in names])
        v3.options.ignore_conditions_json = '[{"type":"Stalled"}]'
        assert not (await s.reconciler.upsert(v3)).error
        assert sorted(set(judged)) == sorted(names)


# --- 3. objects owned by another bundle -------------------------------------------------------

X = "/ConfigMap/default/x"


async def test_an_object_owned_by_another_bundle_is_refused_then_taken_once_it_is_free() -> None:
    cluster = SimulatedCluster(SimulationSettings(ready_delay=0.01))
    async with local_spoke(cluster) as s:
        assert not (await s.reconciler.upsert(upsert("dup-one", [configmap("x", v="1")]))).error
        ack = await s.reconciler.upsert(upsert("dup-two", [configmap("x", v="2")]))
        assert ack.error == "configmap default/x is owned by bundle dup-one"
        assert s.status("dup-two").apply_error == ack.error
        assert not s.ready("dup-two")
        # Refused means untouched.
        live = cluster.objects[X]
        assert (live["metadata"]["labels"][OWNER_LABEL], live["data"]) == ("dup-one", {"v": "1"})
        await eventually(lambda: s.ready("dup-one"), what="dup-one stays ready")
        # Deleting the refused bundle leaves the owner's object alone.
        await s.reconciler.delete("dup-two")
        assert X in cluster.objects
        assert s.ready("dup-one")
        # Deleting the owner frees the object: the refused bundle takes it (no user action).
        await s.reconciler.upsert(upsert("dup-two", [configmap("x", v="2")]))
        assert not s.ready("dup-two")
        await s.reconciler.delete("dup-one")
        await eventually(lambda: s.ready("dup-two"), what="dup-two took the freed object")
        live = cluster.objects[X]
        assert (live["metadata"]["labels"][OWNER_LABEL], live["data"]) == ("dup-two", {"v": "2"})


async def test_take_ownership_takes_an_object_owned_by_another_bundle() -> None:
    cluster = SimulatedCluster(SimulationSettings(ready_delay=0.01))
    async with local_spoke(cluster) as s:
        await s.reconciler.upsert(upsert("dup-one", [configmap("x", v="1")]))
        new = upsert("dup-two", [configmap("x", v="2")], take_ownership=True)
        assert not (await s.reconciler.upsert(new)).error
        live = cluster.objects[X]
        assert (live["metadata"]["labels"][OWNER_LABEL], live["data"]) == ("dup-two", {"v": "2"})
        await eventually(lambda: s.ready("dup-two"), what="dup-two ready")
        # Deleting the old owner does not delete what dup-two now owns.
        await s.reconciler.delete("dup-one")
        assert X in cluster.objects


async def test_an_object_labelled_by_a_bundle_this_spoke_does_not_hold_is_refused() -> None:
    """For a key this spoke does not manage, the live object's owner label decides."""
    cluster = SimulatedCluster(SimulationSettings(ready_delay=0.01))
    await cluster.ensure_namespaces(["default"])
    await cluster.apply(
        [{**configmap("x", v="0"), "metadata": {"name": "x", "namespace": "default"}}],
        owner=Ownership("elsewhere", "elsewhere/other-spoke"),
        force=False,
    )
    async with local_spoke(cluster) as s:
        ack = await s.reconciler.upsert(upsert("mine", [configmap("x", v="1")]))
        assert ack.error == "configmap default/x is owned by bundle elsewhere"
        assert cluster.objects[X]["data"] == {"v": "0"}


async def test_a_restarted_spoke_keeps_refusing_an_object_another_bundle_owns(
    tmp_path: Path,
) -> None:
    cluster = SimulatedCluster(SimulationSettings(ready_delay=0.01))
    state_path = tmp_path / "deployments.json"
    async with local_spoke(cluster, state_path=state_path) as s:
        await s.reconciler.upsert(upsert("dup-one", [configmap("x", v="1")]))
        assert (await s.reconciler.upsert(upsert("dup-two", [configmap("x", v="2")]))).error
    async with local_spoke(cluster, state_path=state_path) as s:
        # The restart retries dup-two (it held an error): refused again, x untouched.
        await eventually(lambda: s.retrier.retries >= 1, what="the retry at start")
        assert s.status("dup-two").apply_error == "configmap default/x is owned by bundle dup-one"
        live = cluster.objects[X]
        assert (live["metadata"]["labels"][OWNER_LABEL], live["data"]) == ("dup-one", {"v": "1"})
        await eventually(lambda: s.ready("dup-one"), what="dup-one ready")
        await s.reconciler.delete("dup-one")
        await eventually(lambda: s.ready("dup-two"), what="dup-two took the freed object")


async def test_a_bundle_whose_object_was_taken_over_says_so_and_takes_it_back_once_free() -> None:
    cluster = SimulatedCluster(SimulationSettings(ready_delay=0.01))
    async with local_spoke(cluster) as s:
        await s.reconciler.upsert(upsert("dup-one", [configmap("x", v="1")]))
        await eventually(lambda: s.ready("dup-one"), what="dup-one ready")
        new = upsert("dup-two", [configmap("x", v="2")], take_ownership=True)
        assert not (await s.reconciler.upsert(new)).error
        assert s.status("dup-one").apply_error == "configmap default/x is owned by bundle dup-two"
        assert not s.ready("dup-one")
        # Deleting the taker prunes x; the old owner is retried and applies it again.
        await s.reconciler.delete("dup-two")
        await eventually(lambda: s.ready("dup-one"), what="dup-one took x back")
        live = cluster.objects[X]
        assert (live["metadata"]["labels"][OWNER_LABEL], live["data"]) == ("dup-one", {"v": "1"})


# --- 4. deleteNamespace -----------------------------------------------------------------------


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def in_scratch(msg: spoke_pb2.DeploymentUpsert, **options: bool) -> spoke_pb2.DeploymentUpsert:
    msg.options.default_namespace = "scratch"
    for name, value in options.items():
        setattr(msg.options, name, value)
    return msg


async def test_delete_namespace_spares_a_namespace_another_bundle_declares() -> None:
    cluster = SimulatedCluster(SimulationSettings(ready_delay=0.01))
    async with local_spoke(cluster) as s:
        assert not (await s.reconciler.upsert(upsert("ns", [namespace("scratch")]))).error
        gone = in_scratch(upsert("gone", [configmap("c")]), delete_namespace=True)
        assert not (await s.reconciler.upsert(gone)).error
        assert "/ConfigMap/scratch/c" in cluster.objects
        await s.reconciler.delete("gone")
        assert "/ConfigMap/scratch/c" not in cluster.objects
        assert "/Namespace//scratch" in cluster.objects


async def test_delete_namespace_with_keep_resources_keeps_the_namespace() -> None:
    cluster = SimulatedCluster(SimulationSettings(ready_delay=0.01))
    async with local_spoke(cluster) as s:
        kept = in_scratch(upsert("kept", [configmap("c")]), delete_namespace=True)
        kept.options.keep_resources = True
        assert not (await s.reconciler.upsert(kept)).error
        await s.reconciler.delete("kept")
        assert "/ConfigMap/scratch/c" in cluster.objects
        assert "/Namespace//scratch" in cluster.objects


async def test_delete_namespace_deletes_the_namespace_nobody_else_uses() -> None:
    cluster = SimulatedCluster(SimulationSettings(ready_delay=0.01))
    async with local_spoke(cluster) as s:
        gone = in_scratch(upsert("gone", [configmap("c")]), delete_namespace=True)
        assert not (await s.reconciler.upsert(gone)).error
        await s.reconciler.delete("gone")
        assert "/Namespace//scratch" not in cluster.objects


class Unreadable(SimulatedCluster):
    """A cluster where reading x's owner fails (forbidden, say) while `broken`."""

    broken = True

    async def owners(self, keys: Sequence[str]) -> dict[str, str | OwnerUnknown]:
        found = await super().owners(keys)
        if self.broken and X in keys:
            found[X] = OwnerUnknown("configmaps is forbidden")
        return found


async def test_an_object_whose_owner_cannot_be_read_is_refused_until_it_can() -> None:
    cluster = Unreadable(SimulationSettings(ready_delay=0.01))
    await cluster.ensure_namespaces(["default"])
    await cluster.apply(
        [{**configmap("x", v="0"), "metadata": {"name": "x", "namespace": "default"}}],
        owner=Ownership("elsewhere", "elsewhere/other-spoke"),
        force=False,
    )
    async with local_spoke(cluster) as s:
        ack = await s.reconciler.upsert(upsert("mine", [configmap("x", v="1")]))
        assert ack.error == "cannot read the owner of configmap default/x: configmaps is forbidden"
        assert cluster.objects[X]["data"] == {"v": "0"}
        assert s.retrier.seconds_to_retry("mine") is not None
        # Once readable, the retry sees the real owner and refuses for that reason.
        cluster.broken = False
        error = await s.reconciler.retry("mine")
        assert error == "configmap default/x is owned by bundle elsewhere"
        assert cluster.objects[X]["data"] == {"v": "0"}


async def test_an_object_pruned_by_its_owner_is_taken_at_once_by_the_bundle_refused_it() -> None:
    cluster = SimulatedCluster(SimulationSettings(ready_delay=0.01))
    async with local_spoke(cluster) as s:
        await s.reconciler.upsert(upsert("dup-one", [configmap("x", v="1")]))
        assert (await s.reconciler.upsert(upsert("dup-two", [configmap("x", v="2")]))).error
        # dup-one's next revision drops x: pruned, so free; dup-two (backoff 300 s) takes it.
        await s.reconciler.upsert(upsert("dup-one", [configmap("y", v="1")]))
        await eventually(lambda: s.ready("dup-two"), what="dup-two took the pruned object")
        live = cluster.objects[X]
        assert (live["metadata"]["labels"][OWNER_LABEL], live["data"]) == ("dup-two", {"v": "2"})


async def test_drift_seen_while_its_bundle_is_deleted_is_dropped_and_the_watch_goes_on() -> None:
    cluster = SimulatedCluster(SimulationSettings(ready_delay=0.01))
    async with local_spoke(cluster) as s:
        drifty = upsert("drifty", [configmap("x", v="1")])
        drifty.options.correct_drift = True
        assert not (await s.reconciler.upsert(drifty)).error
        await eventually(lambda: s.ready("drifty"), what="drifty ready")
        marked = s.marks.marked.count("drifty")
        async with s.reconciler._lock:
            cluster.inject_drift(X, {"data": {"v": "edited"}})
            # Marked, so the watch now waits for the lock to correct the drift...
            await eventually(
                lambda: s.marks.marked.count("drifty") > marked, what="the drift is seen"
            )
            # ...while the bundle is deleted.
            await s.reconciler._delete("drifty")
        # The watch still follows the cluster.
        assert not (await s.reconciler.upsert(upsert("other", [configmap("y")]))).error
        await eventually(lambda: s.ready("other"), what="other ready")
        cluster.remove("/ConfigMap/default/y")
        await eventually(lambda: not s.ready("other"), what="the watch saw y go")


async def test_a_retry_that_fails_as_before_does_not_rewrite_the_state_file(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    async with local_spoke(strict_cluster(), state_path=path, run_retrier=False) as s:
        assert (await s.reconciler.upsert(upsert("gadgets", [gadget()]))).error
        saves = 0
        save = s.state.save

        def counted() -> None:
            nonlocal saves
            saves += 1
            save()

        s.state.save = counted  # type: ignore[method-assign]
        assert await s.reconciler.retry("gadgets")
        assert saves == 0
        await s.cluster.apply([gadget_crd()], owner=Ownership("by-hand", "by-hand"), force=False)
        assert await s.reconciler.retry("gadgets") == ""
        assert saves == 1


async def test_a_report_carries_drift_paths_and_diffs_within_its_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(reconciler_module, "MAX_DRIFT_DIFF_BYTES", 250)
    cluster = SimulatedCluster(SimulationSettings(ready_delay=0.01))
    async with local_spoke(cluster) as s:
        names = [f"c{i}" for i in range(4)]
        many = upsert("many", [configmap(n, v="1") for n in names])
        assert not (await s.reconciler.upsert(many)).error
        await eventually(lambda: s.ready("many"), what="ready")
        for n in names:
            cluster.inject_drift(f"/ConfigMap/default/{n}", {"data": {"v": "edited"}})

        def drifted() -> list[resources_pb2.ResourceState]:
            return [r for r in s.status("many").resources if r.modified]

        await eventually(lambda: len(drifted()) == 4, what="all four drifted")
        report = drifted()
        assert all(list(r.drift_paths) == ["/data/v"] for r in report)
        assert all(r.api_version == "v1" for r in report)
        shown = [r for r in report if "+  v: edited" in r.drift_diff]
        left_out = [r for r in report if "diff left out" in r.drift_diff]
        assert shown and left_out and len(shown) + len(left_out) == 4
        assert sum(len(r.drift_diff.encode()) for r in report) <= 250 + 100 * len(left_out)
