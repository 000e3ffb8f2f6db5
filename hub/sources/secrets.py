"""Credentials for sources, kept in the store: checked on the way in, never handed back.

A secret is HTTPS basic (a token goes in as the password) or an SSH key with the known_hosts
lines of its host: the hub checks host keys strictly, so an SSH secret without them is refused
now rather than failing every fetch later.
"""

from __future__ import annotations

from argosy.errors import InvalidInput, NotFound
from argosy.names import check_name
from hub.models import SourceSecret
from hub.persistence.protocol import Store


class Secrets:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def create(self, secret: SourceSecret) -> None:
        """Store a secret, replacing one of that name."""
        check_name(secret.name, what="secret name")
        basic = bool(secret.username or secret.password)
        if basic == bool(secret.ssh_key):
            raise InvalidInput(
                "a secret is either --username with --password-stdin, or --ssh-key with "
                "--known-hosts"
            )
        if secret.ssh_key and not secret.known_hosts.strip():
            raise InvalidInput("--known-hosts: an SSH secret needs its host's known_hosts lines")
        if basic and not secret.password:
            raise InvalidInput("--password-stdin: the password (or token) is empty")
        await self._store.put_source_secret(secret)

    async def names(self) -> list[str]:
        return await self._store.list_source_secrets()

    async def delete(self, name: str) -> None:
        if await self._store.get_source_secret(name) is None:
            raise NotFound(f"secret {name!r} not found")
        users = [r.name for r in await self._store.list_repos() if r.secret == name]
        if users:
            raise InvalidInput(f"secret {name!r} is used by repo {', '.join(users)}")
        await self._store.delete_source_secret(name)
