"""Credentials for sources, kept in the store: checked on the way in, never handed back.

A secret is HTTPS basic (a token goes in as the password) or an SSH key with the known_hosts
lines of its host: the hub checks host keys strictly, so an SSH secret without them is refused
now rather than failing every fetch later.

A basic secret may also name chart repository hosts (`--helm-repo-host`, Fleet's
helmSecretName scoped the way its helmRepoURLRegex scopes it): `lookup` gives the chart
fetcher those credentials for those hosts only, and one host belongs to one secret at most, so
which credentials a host gets never depends on the order secrets were listed in.
"""

from __future__ import annotations

import re
from dataclasses import replace

from argosy.bundle.charts import Credentials, host_of
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
        if secret.helm_repo_hosts and not basic:
            raise InvalidInput("--helm-repo-host: chart repositories take --username credentials")
        hosts = tuple(dict.fromkeys(repo_host(h) for h in secret.helm_repo_hosts))
        for name in await self._store.list_source_secrets():
            other = await self._store.get_source_secret(name)
            if other is None or name == secret.name:
                continue
            taken = sorted(set(hosts) & set(other.helm_repo_hosts))
            if taken:
                raise InvalidInput(
                    f"--helm-repo-host {taken[0]}: secret {name!r} already holds that host's "
                    "credentials"
                )
        await self._store.put_source_secret(replace(secret, helm_repo_hosts=hosts))

    async def lookup(self, host: str) -> Credentials | None:
        """The chart repository credentials for host (`host[:port]`), None if no secret has it.

        Read from the store on every call: a chart request is rare (charts are cached), and a
        secret created on any replica counts at once.
        """
        host = host.lower()
        for name in await self._store.list_source_secrets():
            secret = await self._store.get_source_secret(name)
            if secret is not None and host in secret.helm_repo_hosts:
                return Credentials(secret.username, secret.password.decode("utf-8", "replace"))
        return None

    async def names(self) -> list[str]:
        return await self._store.list_source_secrets()

    async def delete(self, name: str) -> None:
        if await self._store.get_source_secret(name) is None:
            raise NotFound(f"secret {name!r} not found")
        users = [r.name for r in await self._store.list_repos() if r.secret == name]
        if users:
            raise InvalidInput(f"secret {name!r} is used by repo {', '.join(users)}")
        await self._store.delete_source_secret(name)


_HOST = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9.-]*[a-z0-9])?)(:[0-9]{1,5})?$")


def repo_host(text: str) -> str:
    """`HOST[:PORT]` in lower case, as the chart fetcher looks hosts up (`host_of`, so an IPv6
    `[::1]:8443` is kept as `::1:8443`); a repository URL is reduced to its host (pure).
    InvalidInput for anything else."""
    text = text.strip().lower()
    if "://" not in text:
        if not _HOST.match(text):
            raise InvalidInput(f"--helm-repo-host {text!r}: not HOST or HOST:PORT")
        text = f"https://{text}"
    try:
        host = host_of(text)
    except ValueError:  # a port out of range
        host = ""
    if not host:
        raise InvalidInput(f"--helm-repo-host {text!r}: not HOST or HOST:PORT")
    return host
