"""`argosy repo add|list|get|delete|sync`: git repositories the hub fetches bundles from."""

from __future__ import annotations

import argparse
import re

from argosy.api.v1 import fleet_pb2
from argosy.errors import InvalidInput
from cli import output
from cli.client import Hub
from cli.parsing import Subparsers, labels, output_flag, runs

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$")


def parse_interval(text: str) -> int:
    """'15s', '2m', '1h30m' or plain seconds, as whole seconds."""
    m = _DURATION.match(text.strip())
    if not text.strip() or m is None:
        raise InvalidInput(f"--interval {text!r}: expected a duration like 15s, 2m or 1h")
    h, mi, s = (int(g) if g else 0 for g in m.groups())
    return h * 3600 + mi * 60 + s


def add_parser(subparsers: Subparsers) -> None:
    repo = runs(subparsers.add_parser("repo", help="git repositories the hub deploys from"), run)
    actions = repo.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add (or update) a repository; it is fetched at once")
    add.add_argument("name")
    add.add_argument("url", help="https://, ssh://, git://, file:// or user@host:path")
    ref = add.add_mutually_exclusive_group()
    ref.add_argument("--branch", default="")
    ref.add_argument("--tag", default="")
    ref.add_argument("--revision", default="", help="a full commit id")
    add.add_argument(
        "--paths", default="", help="comma-separated directories holding bundles (default: all)"
    )
    add.add_argument("--interval", default="", help="polling interval, e.g. 15s (default 15s)")
    add.add_argument("--secret", default="", help="credentials (argosy secret create)")
    add.add_argument("-l", "--label", action="append", default=[], help="k=v, on every bundle")
    output_flag(actions.add_parser("list", help="repositories and their status"))
    get = actions.add_parser("get", help="one repository, with every failing path")
    get.add_argument("name")
    output_flag(get, default="yaml", formats=("yaml", "json"))
    actions.add_parser("delete", help="delete a repository and its bundles").add_argument("name")
    actions.add_parser("sync", help="fetch now").add_argument("name")


async def run(args: argparse.Namespace, hub: Hub) -> None:
    if args.action == "add":
        spec = fleet_pb2.RepoSpec(
            name=args.name,
            url=args.url,
            branch=args.branch,
            tag=args.tag,
            revision=args.revision,
            paths=[p.strip() for p in args.paths.split(",") if p.strip()],
            interval_seconds=parse_interval(args.interval) if args.interval else 0,
            secret=args.secret,
            labels=labels(args.label, "-l"),
        )
    async with hub.stub() as stub:
        if args.action == "add":
            await stub.AddRepo(fleet_pb2.AddRepoRequest(spec=spec), timeout=30)
            print(f"repo/{args.name} configured")
        elif args.action == "list":
            repos = (await stub.ListRepos(fleet_pb2.ListReposRequest(), timeout=10)).repos
            output.show(
                [output.repo_dict(r) for r in repos],
                args.output,
                output.REPO_HEADERS,
                output.repo_row,
            )
        elif args.action == "get":
            got = await stub.GetRepo(fleet_pb2.GetRepoRequest(name=args.name), timeout=10)
            output.emit(output.repo_dict(got.repo), args.output)
        elif args.action == "delete":
            await stub.DeleteRepo(fleet_pb2.DeleteRepoRequest(name=args.name), timeout=60)
            print(f"repo/{args.name} deleted")
        else:
            await stub.SyncRepo(fleet_pb2.SyncRepoRequest(name=args.name), timeout=10)
            print(f"repo/{args.name} fetch requested")
