"""Secrets the hub hands out: registration tokens and per-cluster credentials.

Only hashes are stored. A credential carries its cluster id in clear so the hub can look the
cluster up in O(1), and the secret part is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable

TOKEN_PREFIX = "argosy-reg-"
CREDENTIAL_PREFIX = "argosy-cl-"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_id(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(6)}"


def new_token(token_id: str) -> str:
    return f"{TOKEN_PREFIX}{token_id}.{secrets.token_urlsafe(24)}"


def token_id(token: str) -> str | None:
    """The token id a registration token claims, or None when it is not of Argosy's form."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    found, sep, _ = token[len(TOKEN_PREFIX) :].partition(".")
    return found if sep and found else None


def new_credential(cluster_id: str) -> str:
    return f"{CREDENTIAL_PREFIX}{cluster_id}.{secrets.token_urlsafe(32)}"


def credential_cluster_id(credential: str) -> str | None:
    """The cluster id a credential claims, or None when it is not of Argosy's form."""
    if not credential.startswith(CREDENTIAL_PREFIX):
        return None
    cluster_id, sep, _ = credential[len(CREDENTIAL_PREFIX) :].partition(".")
    return cluster_id if sep and cluster_id else None


def secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def bearer(metadata: Iterable[tuple[str, str | bytes]] | None) -> str:
    """The bearer credential from gRPC metadata, or ''."""
    for key, value in metadata or ():
        if key == "authorization":
            text = value.decode() if isinstance(value, bytes) else value
            scheme, _, cred = text.partition(" ")
            if scheme.lower() == "bearer":
                return cred.strip()
    return ""
