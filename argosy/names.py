"""Names users give or Argosy derives: Kubernetes-style DNS labels, checked once, here."""

from __future__ import annotations

import re
from collections.abc import Iterable

from argosy.errors import InvalidInput
from argosy.hashing import sha256_hex

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_LABEL_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$"
)
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
MAX_NAME = 63


def check_name(name: str, *, what: str) -> str:
    """name, if it is a DNS label (lowercase letters, digits, '-', at most 63)."""
    if len(name) > MAX_NAME or not _DNS_LABEL.match(name):
        raise InvalidInput(
            f"{what} {name!r} is not a valid name: use lowercase letters, digits and '-', "
            f"starting and ending with a letter or digit, at most {MAX_NAME} characters"
        )
    return name


def check_labels(labels: dict[str, str], *, what: str) -> dict[str, str]:
    for key, value in labels.items():
        if len(key) > 253 or not _LABEL_KEY.match(key):
            raise InvalidInput(f"{what}: label key {key!r} is not valid")
        if len(value) > MAX_NAME or not _LABEL_VALUE.match(value):
            raise InvalidInput(f"{what}: label {key}={value!r} has an invalid value")
    return labels


def derive_name(text: str) -> str:
    """A DNS label made from a path or free text, kept unique by a short hash when cut."""
    name = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "bundle"
    if len(name) > MAX_NAME:
        name = f"{name[: MAX_NAME - 9].rstrip('-')}-{sha256_hex(text.encode())[:8]}"
    return name


def parse_labels(text: str, *, what: str) -> dict[str, str]:
    """'k=v,k2=v2' as a dict; an error names the bad pair."""
    labels: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InvalidInput(f"{what}: {pair!r} is not of the form key=value")
        labels[key.strip()] = value.strip()
    return check_labels(labels, what=what)


def parse_label_changes(args: Iterable[str], *, what: str) -> tuple[dict[str, str], list[str]]:
    """kubectl label's arguments: `k=v` sets, `k-` removes; an error names the bad one."""
    set_: dict[str, str] = {}
    remove: list[str] = []
    for arg in args:
        if "=" in arg:
            key, _, value = arg.partition("=")
            if not key:
                raise InvalidInput(f"{what}: {arg!r} has no key (expected key=value or key-)")
            set_[key] = value
        elif arg.endswith("-") and len(arg) > 1:
            remove.append(arg[:-1])
        else:
            raise InvalidInput(f"{what}: {arg!r} is neither key=value (set) nor key- (remove)")
    return set_, remove
