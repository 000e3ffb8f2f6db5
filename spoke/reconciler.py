"""The reconciler: applies what the hub sends, prunes what it drops, and judges live objects.

It keeps, per managed object, the desired manifest and the last state it reported, and turns
backend watch events into resource-state changes. Only changes go to the reporter, which
coalesces them; nothing here polls. What each manifest becomes on the cluster and how a live
object stands are decided by spoke.desired (pure); this class owns the state and the I/O.

Every apply of a bundle (a new revision or a retry) applies its whole desired set, so an object
deleted by hand comes back, and every outcome goes to the Retrier, which retries failed ones.
An object another bundle owns (OWNER_LABEL) is refused, not taken, unless the bundle says
takeOwnership: two bundles must not silently fight over one object.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from argosy.api.v1 import resources_pb2, spoke_pb2
from argosy.convert import options_from_pb
from argosy.manifests import describe_key, resource_key
from argosy.options import ApplyOptions
from spoke.backends.base import OWNER_LABEL, Backend, Obj, Ownership, OwnerUnknown
from spoke.desired import ResourceState, crd_scopes, judge, place
from spoke.drift import ignored_paths
from spoke.state import Held, LocalState

log = logging.getLogger(__name__)

MAX_ERRORS_SHOWN = 3
# The drift diffs of one deployment's report, together: the hub keeps the last report of every
# deployment in memory, so a bundle drifted everywhere must not cost it 4 KiB per object.
MAX_DRIFT_DIFF_BYTES = 16 * 1024
# Managed.refused_by of an object whose owner could not be read.
UNKNOWN_OWNER = "(unknown)"
# The options of a bundle not (or no longer) held: every one at its default.
_DEFAULTS = ApplyOptions()


@dataclass
class Managed:
    """One desired object on this cluster, by its live key (namespace filled in)."""

    bundle: str
    hub_key: str
    obj: dict[str, Any]
    state: ResourceState | None = None
    # The manifest hash and default namespace obj was made from, to reuse it when unchanged.
    hash: str = ""
    default_namespace: str = ""
    # The other bundle that owns this object, when this bundle was refused it.
    refused_by: str = ""
    # What state was last judged from: the live resourceVersion and the options. Every upsert
    # applies the whole set again, and an unchanged object comes back unchanged: judging it
    # again (readiness and drift of thousands of objects) would cost the same answer.
    judged_version: str = ""
    judged_options: ApplyOptions | None = None


class StatusSink:
    """Where the reconciler says a deployment's status changed (the StatusReporter)."""

    def mark(self, bundle: str) -> None:
        raise NotImplementedError


class RetrySink:
    """Where the reconciler says how applying a bundle went (the Retrier); here, nowhere."""

    def applied(self, bundle: str, error: str, *, reset: bool = False) -> None:
        """A bundle was applied (error empty: fully). reset: start its backoff afresh."""

    def deleted(self, bundle: str) -> None:
        """A bundle is gone: forget it, and what it owned is free for others to take."""

    def freed(self) -> None:
        """A bundle pruned objects: a bundle refused them may take them now."""


class Reconciler:
    def __init__(
        self,
        *,
        backend: Backend,
        state: LocalState,
        sink: StatusSink,
        retries: RetrySink | None = None,
        cluster_name: str = "",
        default_namespace: str = "default",
    ) -> None:
        self._backend = backend
        self._state = state
        self._sink = sink
        self._retries = retries or RetrySink()
        self._cluster_name = cluster_name
        self._default_namespace = default_namespace
        self._managed: dict[str, Managed] = {}
        self._by_bundle: dict[str, dict[str, Managed]] = {}
        self._lock = asyncio.Lock()
        # Each bundle's apply options (comparePatches, ignore.conditions), as last received.
        self._options: dict[str, ApplyOptions] = {}
        # Told of every apply of a bundle (a new revision or a retry): its seconds and its
        # error ("" when it applied). The spoke's metrics (spoke/metrics.py) listen here.
        self.on_applied: Callable[[float, str], None] = _ignore

    # --- desired state ---------------------------------------------------------------------------

    def _index(self, held: Held, *, reuse: bool = True) -> dict[str, Managed]:
        """Live key -> Managed for a held deployment.

        reuse=False parses every manifest again: a retry after the cluster learnt a kind may
        place an object differently (a cluster-scoped custom kind loses its namespace).
        """
        old = self._by_bundle.get(held.bundle, {})
        by_hub_key = {m.hub_key: m for m in old.values()} if reuse else {}
        default_ns = held.options.default_namespace
        scopes = crd_scopes(held.resources)
        index = {}
        for hub_key, (digest, manifest) in held.resources.items():
            prev = by_hub_key.get(hub_key)
            if prev is not None and (prev.hash, prev.default_namespace) == (digest, default_ns):
                # Unchanged: parsing thousands of manifests again on every diff is the cost
                # that dominates a spoke; the previous object is still exactly right.
                index[resource_key(prev.obj)] = prev
                continue
            obj = place(
                manifest,
                default_namespace=default_ns or self._default_namespace,
                scopes=scopes,
                is_namespaced=self._backend.is_namespaced,
            )
            key = resource_key(obj)
            previous = old.get(key)
            index[key] = Managed(
                held.bundle,
                hub_key,
                obj,
                previous.state if previous else None,
                hash=digest,
                default_namespace=default_ns,
                refused_by=previous.refused_by if previous else "",
            )
        return index

    async def start(self) -> None:
        """Index what the local state holds and judge it against the live cluster.

        Errored deployments go to the Retrier: a restarted spoke tries them again rather
        than keep reporting an error the cluster may no longer have.
        """
        for held in self._state.deployments.values():
            self._options[held.bundle] = held.options
            index = self._index(held)
            self._by_bundle[held.bundle] = index
            for key, managed in index.items():
                live = await self._backend.get(key)
                labels = ((live or {}).get("metadata") or {}).get("labels") or {}
                owner = str(labels.get(OWNER_LABEL) or "")
                if not owner and key in self._managed:
                    # Gone, and wanted by two bundles: the first to claim it keeps it.
                    owner = self._managed[key].bundle
                if owner and owner != held.bundle:
                    _refuse(managed, owner)
                else:
                    managed.refused_by = ""
                    self._managed[key] = managed
                    self._judge(key, managed, live)
            self._sink.mark(held.bundle)
            self._retries.applied(held.bundle, held.error)

    def applied(self) -> dict[str, str]:
        return self._state.applied()

    # --- hub messages ----------------------------------------------------------------------------

    @property
    def resource_count(self) -> int:
        """Objects this spoke manages now (the bundles' desired objects it owns)."""
        return len(self._managed)

    @property
    def bundle_count(self) -> int:
        return len(self._state.deployments)

    async def upsert(self, msg: spoke_pb2.DeploymentUpsert) -> spoke_pb2.Ack:
        async with self._lock:
            started = time.monotonic()
            ack = await self._upsert(msg)
            if not ack.resync:
                self.on_applied(time.monotonic() - started, ack.error)
            return ack

    async def _upsert(self, msg: spoke_pb2.DeploymentUpsert) -> spoke_pb2.Ack:
        held = self._state.deployments.get(msg.bundle)
        if msg.base_revision and (held is None or held.revision != msg.base_revision):
            log.warning("bundle %s: diff base does not match what we hold; resync", msg.bundle)
            return spoke_pb2.Ack(bundle=msg.bundle, resync=True)
        resources = dict(held.resources) if held and msg.base_revision else {}
        for r in msg.upserts:
            resources[r.key] = (r.hash, r.manifest)
        for key in msg.removed:
            resources.pop(key, None)
        if len(resources) != msg.resource_count:
            log.warning(
                "bundle %s: diff gives %d resources, hub says %d; resync",
                msg.bundle,
                len(resources),
                msg.resource_count,
            )
            return spoke_pb2.Ack(bundle=msg.bundle, resync=True)
        options = options_from_pb(msg.options)
        self._options[msg.bundle] = options
        new = Held(msg.bundle, msg.revision, resources, options)
        index = self._index(new)
        # The whole desired set, not only what changed: an object deleted by hand comes back
        # with the next revision, and server-side apply of an unchanged object is cheap.
        errors = await self._apply(msg.bundle, index, list(index), options=options)
        errors += await self._label_namespace(
            msg.bundle, options, held.options if held else _DEFAULTS
        )
        gone = [k for k in self._by_bundle.get(msg.bundle, {}) if k not in index]
        if gone and not options.keep_resources:
            errors += await self._prune(msg.bundle, gone)
            # Before _settle: its applied() then backs this bundle off if it failed.
            self._retries.freed()
        await self._settle(new, index, errors, gone=gone)
        return spoke_pb2.Ack(bundle=msg.bundle, revision=msg.revision, error=new.error)

    async def retry(self, bundle: str, *, reset_backoff: bool = False) -> str | None:
        """Apply again the whole desired set held for a bundle; its new error ("" when it
        applied), or None when the bundle is not held."""
        async with self._lock:
            held = self._state.deployments.get(bundle)
            if held is None:
                return None
            log.info("bundle %s: applying again (was: %s)", bundle, held.error or "applied")
            started = time.monotonic()
            if reset_backoff:
                self._backend.rediscover_soon()
            index = self._index(held, reuse=False)
            errors = await self._apply(bundle, index, list(index), options=held.options)
            errors += await self._label_namespace(bundle, held.options, held.options)
            gone = [k for k in self._by_bundle.get(bundle, {}) if k not in index]
            await self._settle(held, index, errors, gone=gone, reset_backoff=reset_backoff)
            self.on_applied(time.monotonic() - started, held.error)
            return held.error

    async def _settle(
        self,
        held: Held,
        index: dict[str, Managed],
        errors: list[str],
        *,
        gone: list[str],
        reset_backoff: bool = False,
    ) -> None:
        """Record an apply of a bundle: its error, its index, its state, and who to tell."""
        bundle = held.bundle
        for key in gone:
            self._release(bundle, key)
        error = _summarize(errors)
        # A retry that failed as before changes nothing held: no rewrite of the state file.
        changed = self._state.deployments.get(bundle) is not held or held.error != error
        held.error = error
        self._state.deployments[bundle] = held
        if changed:
            self._state.save()
        self._by_bundle[bundle] = index
        taken: dict[str, list[str]] = {}
        for key, managed in index.items():
            if not managed.refused_by:
                previous = self._managed.get(key)
                if previous is not None and previous.bundle != bundle:
                    # Taken over (takeOwnership): the other bundle no longer has it, and says
                    # so, until a retry takes it back once this bundle lets it go.
                    _refuse(previous, bundle)
                    taken.setdefault(previous.bundle, []).append(
                        f"{describe_key(key)} is owned by bundle {bundle}"
                    )
                self._managed[key] = managed
        for other, lost in taken.items():
            self._lost(other, lost)
        for key, managed in index.items():
            if managed.state is None:
                self._judge(key, managed, await self._backend.get(key))
        self._sink.mark(bundle)
        self._retries.applied(bundle, held.error, reset=reset_backoff)

    def _lost(self, bundle: str, errors: list[str]) -> None:
        """Another bundle took objects of this one: it is in error, and retried."""
        held = self._state.deployments.get(bundle)
        if held is None:
            return
        held.error = _summarize(([held.error] if held.error else []) + errors)
        self._state.save()
        self._sink.mark(bundle)
        self._retries.applied(bundle, held.error)

    def _release(self, bundle: str, key: str) -> None:
        """Stop following key for bundle, unless another bundle has taken it over."""
        managed = self._managed.get(key)
        if managed is not None and managed.bundle == bundle:
            del self._managed[key]

    async def delete(self, bundle: str) -> spoke_pb2.Ack:
        async with self._lock:
            return await self._delete(bundle)

    async def _delete(self, bundle: str) -> spoke_pb2.Ack:
        held = self._state.deployments.pop(bundle, None)
        index = self._by_bundle.pop(bundle, {})
        errors: list[str] = []
        keep = held is not None and held.options.keep_resources
        if held is not None and not keep:
            errors = await self._prune(bundle, list(index))
        for key in index:
            self._release(bundle, key)
        # keepResources keeps everything, the namespace (and all in it) included.
        if held is not None and held.options.delete_namespace and not keep:
            errors += await self._delete_namespace(bundle, held.options)
        self._options.pop(bundle, None)
        self._state.save()
        if errors:
            log.warning("bundle %s: delete left errors: %s", bundle, _summarize(errors))
        self._retries.deleted(bundle)
        return spoke_pb2.Ack(bundle=bundle, revision="")

    async def _apply(
        self,
        bundle: str,
        index: Mapping[str, Managed],
        keys: list[str],
        *,
        options: ApplyOptions,
        force: bool | None = None,
    ) -> list[str]:
        if not keys:
            return []
        errors = []
        if not options.take_ownership:
            refused = await self._owned_elsewhere(bundle, keys)
            for key, other in refused.items():
                if isinstance(other, OwnerUnknown):
                    # Refused until a retry can read it: it may well be another bundle's.
                    message = f"cannot read the owner of {describe_key(key)}: {other.error}"
                    errors.append(message)
                    _refuse(index[key], UNKNOWN_OWNER, message)
                else:
                    errors.append(f"{describe_key(key)} is owned by bundle {other}")
                    _refuse(index[key], other)
            keys = [k for k in keys if k not in refused]
        for key in keys:
            index[key].refused_by = ""
        namespaces = sorted(
            {
                ns
                for k in keys
                if (ns := index[k].obj["metadata"].get("namespace"))
                and f"/Namespace//{ns}" not in index
            }
        )
        errors += [
            f"namespace {r.key}: {r.error}"
            for r in await self._backend.ensure_namespaces(
                namespaces, service_account=self._service_account(bundle)
            )
            if r.error
        ]
        if not keys:
            return errors
        owner = Ownership(
            bundle=bundle,
            deployment=f"{bundle}/{self._cluster_name}",
            service_account=self._service_account(bundle),
        )
        if force is None:
            force = options.force
        yield_paths = {
            k: paths
            for k in keys
            if (paths := ignored_paths(options.compare_patches, index[k].obj))
        }
        results = await self._backend.apply(
            [index[k].obj for k in keys], owner=owner, force=force, yield_paths=yield_paths
        )
        for key, result in zip(keys, results, strict=True):
            if result.error:
                errors.append(f"{describe_key(key)}: {result.error}")
                index[key].state = ResourceState(False, False, True, result.error)
                index[key].judged_version = ""  # not judged from a live object
            else:
                self._judge(key, index[key], result.obj)
        return errors

    async def _owned_elsewhere(self, bundle: str, keys: list[str]) -> dict[str, str | OwnerUnknown]:
        """key -> the other bundle owning it (or OwnerUnknown when its owner could not be
        read), for the keys this bundle must not take.

        This spoke's own index answers for what it manages; only keys nobody here manages
        (new to this bundle, or refused before) are read from the cluster.
        """
        refused: dict[str, str | OwnerUnknown] = {}
        unknown = []
        for key in keys:
            managed = self._managed.get(key)
            if managed is None:
                unknown.append(key)
            elif managed.bundle != bundle:
                refused[key] = managed.bundle
        if unknown:
            for key, owner in (await self._backend.owners(unknown)).items():
                if owner != bundle:
                    refused[key] = owner
        return refused

    async def _prune(self, bundle: str, keys: list[str]) -> list[str]:
        """Delete objects this bundle applied; anything not labelled as ours is left alone."""
        ours = []
        for key in keys:
            live = await self._backend.get(key)
            labels = ((live or {}).get("metadata") or {}).get("labels") or {}
            if live is not None and labels.get(OWNER_LABEL) == bundle:
                ours.append(key)
        sa = self._service_account(bundle)
        return [
            f"{describe_key(r.key)}: {r.error}"
            for r in await self._backend.delete(ours, service_account=sa)
            if r.error
        ]

    def _service_account(self, bundle: str) -> str:
        return self._options.get(bundle, _DEFAULTS).service_account

    def _target_namespace(self, options: ApplyOptions) -> str:
        return options.default_namespace or self._default_namespace

    async def _label_namespace(
        self, bundle: str, options: ApplyOptions, previous: ApplyOptions
    ) -> list[str]:
        """fleet.yaml namespaceLabels/namespaceAnnotations, onto the deployment's namespace.

        Also when they were just removed from fleet.yaml, so that they go away.
        """
        labels = options.namespace_labels
        annotations = options.namespace_annotations
        had = previous.namespace_labels or previous.namespace_annotations
        if not (labels or annotations or had):
            return []
        result = await self._backend.set_namespace_metadata(
            self._target_namespace(options),
            labels=labels,
            annotations=annotations,
            bundle=bundle,
            service_account=self._service_account(bundle),
        )
        return (
            [f"namespace labels on {describe_key(result.key)}: {result.error}"]
            if result.error
            else []
        )

    async def _delete_namespace(self, bundle: str, options: ApplyOptions) -> list[str]:
        """fleet.yaml deleteNamespace: the deployment's namespace goes with the bundle.

        Never a namespace Fleet also spares (default, kube-*), nor the spoke's default or its own,
        nor one where another bundle still has objects: deleting it would delete those too.
        """
        namespace = self._target_namespace(options)
        spared = ("default", self._default_namespace, self._backend.agent_namespace)
        if namespace in spared or namespace.startswith("kube-"):
            log.info("bundle %s: deleteNamespace never deletes namespace %s", bundle, namespace)
            return []
        # Also a bundle that declares the Namespace object itself.
        users = sorted(
            {
                m.bundle
                for key, m in self._managed.items()
                if m.obj["metadata"].get("namespace") == namespace
                or (key == f"/Namespace//{namespace}" and m.bundle != bundle)
            }
        )
        if users:
            log.warning(
                "bundle %s: namespace %s not deleted: bundles %s still use it",
                bundle,
                namespace,
                ", ".join(users),
            )
            return []
        results = await self._backend.delete(
            [f"/Namespace//{namespace}"], service_account=self._service_account(bundle)
        )
        return [f"{describe_key(r.key)}: {r.error}" for r in results if r.error]

    # --- live state ------------------------------------------------------------------------------

    def _judge(self, key: str, managed: Managed, live: Obj | None) -> bool:
        """Recompute one object's state from its live form; True when it changed."""
        options = self._options.get(managed.bundle, _DEFAULTS)
        version = str(((live or {}).get("metadata") or {}).get("resourceVersion") or "")
        if (
            version
            and managed.state is not None
            and version == managed.judged_version
            and options == managed.judged_options
        ):
            return False
        state = judge(managed.obj, live, options)
        managed.judged_version, managed.judged_options = version, options
        if state == managed.state:
            return False
        managed.state = state
        return True

    async def run(self) -> None:
        """Follow the backend's watch; re-judge, report, and correct drift when asked to."""
        async for event in self._backend.watch():
            managed = self._managed.get(event.key)
            if managed is None or not self._judge(event.key, managed, event.obj):
                continue
            self._sink.mark(managed.bundle)
            held = self._state.deployments.get(managed.bundle)
            if managed.state and managed.state.modified and held and held.options.correct_drift:
                async with self._lock:
                    await self._correct_drift(event.key)

    async def _correct_drift(self, key: str) -> None:
        # Checked again under the lock: a delete or an upsert may have run while we waited.
        managed = self._managed.get(key)
        if managed is None or not (managed.state and managed.state.modified):
            return
        held = self._state.deployments.get(managed.bundle)
        index = self._by_bundle.get(managed.bundle, {})
        if held is None or not held.options.correct_drift or key not in index:
            return
        log.info("correcting drift of %s", describe_key(key))
        # With force, as Fleet does: the edit took ownership of the fields it changed, and
        # without force the correction would only conflict.
        await self._apply(managed.bundle, index, [key], options=held.options, force=True)

    def status(self, bundle: str) -> spoke_pb2.DeploymentStatus:
        held = self._state.deployments.get(bundle)
        index = self._by_bundle.get(bundle, {})
        # Reported by live key (namespace filled in): that is what the user finds in the cluster.
        problems = []
        budget = MAX_DRIFT_DIFF_BYTES
        for key, m in index.items():
            if m.state is None or (m.state.ready and not m.state.modified):
                continue
            diff = m.state.drift_diff
            if len(diff.encode()) > budget:
                diff = "(diff left out: this report's drift diffs are over 16 KiB)\n"
            budget -= len(diff.encode())
            problems.append(
                resources_pb2.ResourceState(
                    key=key,
                    ready=m.state.ready,
                    modified=m.state.modified,
                    missing=m.state.missing,
                    message=m.state.message,
                    drift_paths=m.state.drift_paths,
                    drift_diff=diff,
                    api_version=str(m.obj.get("apiVersion", "")) if m.state.modified else "",
                )
            )
        unknown = any(m.state is None for m in index.values())
        return spoke_pb2.DeploymentStatus(
            bundle=bundle,
            revision=held.revision if held else "",
            ready=held is not None and not problems and not unknown and not held.error,
            resources=problems,
            resource_count=len(index),
            apply_error=held.error if held else "",
        )

    def bundles(self) -> list[str]:
        return list(self._state.deployments)


def _ignore(seconds: float, error: str) -> None:
    pass


def _refuse(managed: Managed, owner: str, message: str = "") -> None:
    managed.refused_by = owner
    managed.state = ResourceState(False, False, False, message or f"owned by bundle {owner}")
    managed.judged_version = ""  # not judged from a live object


def _summarize(errors: list[str]) -> str:
    if not errors:
        return ""
    more = len(errors) - MAX_ERRORS_SHOWN
    return "; ".join(errors[:MAX_ERRORS_SHOWN]) + (f"; and {more} more" if more > 0 else "")
