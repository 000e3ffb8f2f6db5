"""`argosy login --token T`: save a context (hub address, its CA, an admin token) and make it
current, so later commands need no flags."""

from __future__ import annotations

import argparse
from pathlib import Path

from argosy import config
from cli.client import Hub, config_path
from cli.parsing import Subparsers, runs


def add_parser(subparsers: Subparsers) -> None:
    login = runs(
        subparsers.add_parser("login", help="save a context: hub address, CA and token"), run
    )
    login.add_argument("--token", required=True, help="an admin token")
    login.add_argument("--ca", type=Path, help="PEM of the hub CA (omit for an --insecure hub)")
    login.add_argument("--context", default="default", help="context name")


async def run(args: argparse.Namespace, hub: Hub) -> None:
    # hub.address is --hub, else $ARGOSY_HUB, else the current context's, else the default.
    path = config_path(args.config)
    ca = args.ca.read_text() if args.ca else ""
    cfg = config.load(path).with_context(
        config.Context(name=args.context, hub=hub.address, ca=ca, token=args.token)
    )
    config.save(cfg, path)
    print(f"context {args.context} ({hub.address}) saved in {path} and made current")
