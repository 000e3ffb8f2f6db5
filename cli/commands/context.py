"""`argosy context use|list`: the saved contexts, and which one is current."""

from __future__ import annotations

import argparse
from dataclasses import replace

from argosy import config
from cli import output
from cli.client import Hub, UserError, config_path
from cli.parsing import Subparsers, runs


def add_parser(subparsers: Subparsers) -> None:
    context = runs(subparsers.add_parser("context", help="contexts"), run)
    actions = context.add_subparsers(dest="action", required=True)
    actions.add_parser("use", help="make a context current").add_argument("name")
    actions.add_parser("list", help="list contexts")


async def run(args: argparse.Namespace, hub: Hub) -> None:
    del hub  # contexts are local: the file, not the hub
    path = config_path(args.config)
    cfg = config.load(path)
    if args.action == "use":
        if cfg.context(args.name) is None:
            raise UserError(f"no context {args.name!r} in {path}")
        config.save(replace(cfg, current=args.name), path)
        print(f"using context {args.name}")
        return
    print(
        output.table(
            ["CURRENT", "NAME", "HUB", "TLS"],
            [
                ["*" if c.name == cfg.current else "", c.name, c.hub, "yes" if c.ca else "no"]
                for c in cfg.contexts
            ],
        )
    )
