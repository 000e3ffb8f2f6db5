"""Cluster labels set on the hub (`argosy cluster label`), and how they win over the spoke's.

A spoke registers with its own labels (--labels). The hub keeps, beside a cluster's labels,
the overrides an admin made: a key set to a value, or a key removed (None). The overrides are
applied to whatever labels the spoke sends when it registers again, so a spoke coming back
with its old --labels does not undo the hub's change (as Fleet's cluster labels, set on the
Cluster resource, win over the agent's). Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from argosy.errors import InvalidInput
from argosy.names import check_labels

# key -> the value the hub set, or None: removed on the hub.
Overrides = Mapping[str, str | None]


def effective(spoke_labels: Mapping[str, str], overrides: Overrides) -> dict[str, str]:
    """The labels targeting sees: the spoke's, with the hub's overrides applied."""
    labels = dict(spoke_labels)
    for key, value in overrides.items():
        if value is None:
            labels.pop(key, None)
        else:
            labels[key] = value
    return labels


def change(
    labels: Mapping[str, str],
    overrides: Overrides,
    *,
    set_: Mapping[str, str],
    remove: Iterable[str],
    what: str,
) -> tuple[dict[str, str], dict[str, str | None]]:
    """(new labels, new overrides) after an admin sets and removes keys.

    A key both set and removed is refused (the intent is unclear); every bad key or value is
    named. Removing a key the cluster does not have is recorded all the same: a spoke that
    registers again with it does not bring it back.
    """
    removed = list(dict.fromkeys(remove))
    if not set_ and not removed:
        raise InvalidInput(f"{what}: nothing to change: give key=value to set or key- to remove")
    both = sorted(set(set_) & set(removed))
    if both:
        raise InvalidInput(f"{what}: label {both[0]!r} is both set and removed")
    check_labels(dict(set_), what=what)
    check_labels(dict.fromkeys(removed, ""), what=what)
    new_overrides: dict[str, str | None] = dict(overrides)
    new_overrides.update(set_)
    new_overrides.update(dict.fromkeys(removed))
    new_labels = dict(labels)
    new_labels.update(set_)
    for key in removed:
        new_labels.pop(key, None)
    return new_labels, new_overrides
