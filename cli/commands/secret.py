"""`argosy secret create|list|delete`: credentials the hub fetches repositories with (git
repositories, and with --helm-repo-host, chart repositories on those hosts).

The password is read from stdin, never from the command line (where `ps` and shell history
would keep it); key files are read here and sent once. The hub never sends a secret back.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from argosy.api.v1 import fleet_pb2
from argosy.errors import InvalidInput
from cli import output
from cli.client import Hub
from cli.parsing import Subparsers, output_flag, runs


def add_parser(subparsers: Subparsers) -> None:
    secret = runs(subparsers.add_parser("secret", help="credentials for repositories"), run)
    actions = secret.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create or replace a secret")
    create.add_argument("name")
    create.add_argument("--username", default="", help="HTTPS user (with --password-stdin)")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password or token from stdin"
    )
    create.add_argument("--ssh-key", type=Path, default=None, help="private key file")
    create.add_argument("--known-hosts", type=Path, default=None, help="known_hosts file")
    create.add_argument(
        "--helm-repo-host",
        action="append",
        default=[],
        metavar="HOST[:PORT]",
        help="a chart repository host these credentials are sent to (and no other); repeatable",
    )
    output_flag(actions.add_parser("list", help="secret names (never their content)"))
    actions.add_parser("delete", help="delete an unused secret").add_argument("name")


def _read(path: Path | None, flag: str) -> bytes:
    if path is None:
        return b""
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{flag} {path}: {exc.strerror}") from None


def spec_of(args: argparse.Namespace) -> fleet_pb2.SecretSpec:
    password = b""
    if args.password_stdin:
        password = sys.stdin.buffer.read().rstrip(b"\r\n")
    elif args.username:
        raise InvalidInput("--username needs --password-stdin (the password is never a flag)")
    return fleet_pb2.SecretSpec(
        name=args.name,
        username=args.username,
        password=password,
        ssh_key=_read(args.ssh_key, "--ssh-key"),
        known_hosts=_read(args.known_hosts, "--known-hosts").decode("utf-8", "replace"),
        helm_repo_hosts=args.helm_repo_host,
    )


async def run(args: argparse.Namespace, hub: Hub) -> None:
    spec = spec_of(args) if args.action == "create" else None
    async with hub.stub() as stub:
        if spec is not None:
            await stub.CreateSecret(fleet_pb2.CreateSecretRequest(spec=spec), timeout=30)
            print(f"secret/{args.name} configured")
        elif args.action == "list":
            names = (await stub.ListSecrets(fleet_pb2.ListSecretsRequest(), timeout=10)).names
            output.show(
                [{"name": n} for n in names], args.output, ["SECRET"], lambda d: [d["name"]]
            )
        else:
            await stub.DeleteSecret(fleet_pb2.DeleteSecretRequest(name=args.name), timeout=30)
            print(f"secret/{args.name} deleted")
