"""The interface every cluster backend implements: lifecycle, apply, delete, list, watch.

The reconciler and the spoke's composition root see only this, so the simulated cluster and a
real kube-apiserver are interchangeable, and anything they rely on has to be true of both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, Self

from spoke.state import MirroredCredentialStore

Obj = Mapping[str, Any]

# Every object Argosy applies carries these; prune deletes only objects that do.
OWNER_LABEL = "argosy.io/bundle"
DEPLOYMENT_ANNOTATION = "argosy.io/deployment"


@dataclass(frozen=True)
class ApplyResult:
    key: str
    error: str = ""
    # The live object after the call, when the backend returned it.
    obj: Obj | None = None


@dataclass(frozen=True)
class OwnerUnknown:
    """An object's owner could not be read (forbidden, server or network error): not absent."""

    error: str


@dataclass(frozen=True)
class WatchEvent:
    """A managed object changed; obj is None when it was deleted."""

    key: str
    obj: Obj | None


@dataclass(frozen=True)
class Ownership:
    """Who an applied object belongs to (written into its labels and annotations), and who
    applies it."""

    bundle: str
    deployment: str
    # fleet.yaml serviceAccount: requests are made as this account of the spoke's namespace
    # (Kubernetes impersonation), so the cluster's RBAC for it bounds what the bundle may do.
    service_account: str = ""


def namespace_field_manager(bundle: str) -> str:
    """The field manager of a bundle's namespaceLabels/namespaceAnnotations: one per bundle, so
    bundles sharing a namespace keep each other's labels, and a label a bundle drops goes away."""
    return f"argosy-namespace-{bundle}"[:128]


class ChangeCounter:
    """A count that only grows, and a way to wait until it passes a value one has seen.

    Waiters compare counts instead of sharing an event, so a bump that happens while a waiter
    is busy elsewhere is not lost, and any number of waiters can follow it.
    """

    def __init__(self) -> None:
        self.value = 0
        self._bumped = asyncio.Event()

    def bump(self) -> None:
        self.value += 1
        # A fresh event per bump: whoever waits next waits for the next bump.
        bumped, self._bumped = self._bumped, asyncio.Event()
        bumped.set()

    async def wait_past(self, seen: int) -> int:
        """The current count, once it is greater than seen."""
        while self.value <= seen:
            await self._bumped.wait()
        return self.value


class Backend(Protocol):
    """A cluster. `async with backend:` connects (and learns what the cluster serves: indexing
    asks which kinds are namespaced) and closes; nothing else is used outside that block. A
    backend may be entered again after it was closed (a restarted spoke on the same cluster)."""

    # The namespace the agent runs in: where fleet.yaml serviceAccount names an account.
    agent_namespace: str
    kinds: ChangeCounter

    @property
    def watch_restarts(self) -> int:
        """Times a watch of the cluster started over (relisted, or resumed after a failure)."""
        ...

    """Bumped whenever the kinds the cluster serves change (discovery learnt or lost one):
    an apply that failed for want of a kind may now succeed."""

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...

    def credential_mirror(
        self, path: Path | None, *, secret: str
    ) -> MirroredCredentialStore | None:
        """A credential store (file at path) that also keeps the cluster credential in the
        cluster, in Secret `secret` (NAME or NAMESPACE/NAME), so a rescheduled agent stays
        registered; None when this backend has no such place."""
        ...

    def rediscover_soon(self) -> None:
        """Let the next apply that meets an unknown kind re-read discovery at once, whatever
        its rate limit: a user asked for this retry, maybe right after installing a CRD."""
        ...

    def is_namespaced(self, api_version: str, kind: str) -> bool:
        """Whether objects of this kind live in a namespace."""
        ...

    async def apply(
        self,
        objs: Sequence[Obj],
        *,
        owner: Ownership,
        force: bool,
        yield_paths: Mapping[str, Collection[str]] | None = None,
    ) -> list[ApplyResult]:
        """Server-side apply, in dependency order; one result per object, in input order.

        yield_paths: per object key, the JSON pointers the bundle does not compare (fleet.yaml
        comparePatches). A field there that another field manager took over (an apply
        conflict on it) is left to that manager instead of failing the apply.
        """
        ...

    async def delete(self, keys: Sequence[str], *, service_account: str = "") -> list[ApplyResult]:
        """Delete objects by key; a missing object is not an error."""
        ...

    async def ensure_namespaces(
        self, names: Sequence[str], *, service_account: str = ""
    ) -> list[ApplyResult]:
        """Create these namespaces if they are missing (not owned: never pruned)."""
        ...

    async def set_namespace_metadata(
        self,
        name: str,
        *,
        labels: Mapping[str, str],
        annotations: Mapping[str, str],
        bundle: str,
        service_account: str = "",
    ) -> ApplyResult:
        """Make the bundle's labels and annotations on the namespace exactly these: others'
        stay, the ones this bundle set before and no longer lists are removed."""
        ...

    async def get(self, key: str) -> Obj | None: ...

    async def owners(self, keys: Sequence[str]) -> dict[str, str | OwnerUnknown]:
        """The OWNER_LABEL of each of these objects that exists and carries one, and
        OwnerUnknown for each that could not be read (absent keys are left out)."""
        ...

    def watch(self) -> AsyncIterator[WatchEvent]:
        """Every change to objects Argosy manages, from now on, until cancelled."""
        ...
