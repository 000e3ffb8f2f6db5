"""The registry of `argosy` verbs: one module per verb, listed in the order `argosy --help`
shows them.

Each module has `add_parser(subparsers)`, which adds its parser(s) and marks its `run` with
`cli.parsing.runs`, and `async def run(args, hub)`. A new verb is a new module listed here;
cli/main.py does not change. (`argosy hub` and `argosy spoke` are the root's own: they hand the
rest of the line to the hub's or the spoke's main.)
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable
from typing import Protocol

from cli.client import Hub
from cli.commands import (
    admin_token,
    apply,
    bundle,
    cluster,
    context,
    demo,
    group,
    install,
    login,
    pause,
    render,
    repo,
    rollout,
    secret,
    status,
    target,
    token,
    version,
)
from cli.parsing import Subparsers


class Command(Protocol):
    """What a verb module provides."""

    def add_parser(self, subparsers: Subparsers) -> None: ...

    def run(self, args: argparse.Namespace, hub: Hub) -> Awaitable[None]: ...


COMMANDS: tuple[Command, ...] = (
    token,
    apply,
    status,
    pause,
    rollout,
    render,
    target,
    bundle,
    cluster,
    admin_token,
    login,
    context,
    group,
    repo,
    secret,
    install,
    demo,
    version,
)
