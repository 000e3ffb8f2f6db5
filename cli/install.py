"""The names tests/k8s/test_install.py imports as `cli.install`, kept for one merge.

`argosy install` is now cli/commands/install.py (the verb) and cli/manifests.py (the YAML).
tests/k8s belongs to another part of issue #12, so this module keeps that test's imports working
until it imports those two modules directly; then delete this file.
"""

from __future__ import annotations

import argparse

from cli.client import resolve
from cli.commands import install as _command
from cli.commands.install import add_parser
from cli.manifests import agent_docs, agent_token_yaml, hub_docs, hub_yaml

__all__ = ["add_parser", "agent_docs", "agent_token_yaml", "hub_docs", "hub_yaml", "run"]


async def run(args: argparse.Namespace) -> None:
    """`argosy install ...` with the hub resolved as the root resolves it."""
    await _command.run(args, resolve(args.hub, args.config))
