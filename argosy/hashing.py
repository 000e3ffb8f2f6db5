"""Canonical JSON and content hashes: the identity of everything Argosy ships.

Two manifests that mean the same object (key order, YAML formatting, comments) hash the same, so
re-applying an unchanged bundle changes no revision and sends nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any


def canonical_json(obj: Any) -> bytes:
    """Serialise to JSON with sorted keys and no whitespace."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def combine(parts: Iterable[str]) -> str:
    """One hash over many (already sorted) hashes or keys."""
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\n")
    return h.hexdigest()
