"""The deployment states, as Fleet names them, and their order: the one list of them.

Hub, CLI and fleet.yaml validation all read it from here. States travel as their names (plain
strings in the protobuf), so `State` is a `StrEnum`: `State.READY == "Ready"`.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class State(StrEnum):
    # Declared worst first: a roll-up shows the worst state present.
    ERR_APPLIED = "ErrApplied"
    OFFLINE = "Offline"
    WAIT_APPLIED = "WaitApplied"
    MODIFIED = "Modified"
    OUT_OF_SYNC = "OutOfSync"
    PENDING = "Pending"
    NOT_READY = "NotReady"
    READY = "Ready"


# Worst first.
ORDER: tuple[State, ...] = tuple(State)
RANK: dict[str, int] = {state.value: i for i, state in enumerate(ORDER)}
# Fleet's BundleState names (its StateRank): what dependsOn.acceptedStates may name. Offline is
# Argosy's own (Fleet shows it on the cluster, not the bundle).
BUNDLE_STATES: tuple[State, ...] = tuple(s for s in ORDER if s is not State.OFFLINE)


def worst(states: Iterable[str], *, default: str = State.READY) -> str:
    """The worst of these states (by ORDER); default when there are none."""
    return min(states, key=RANK.__getitem__, default=default)
