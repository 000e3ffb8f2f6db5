"""`argosy completion bash|zsh`: a shell completion script, generated from the parser tree.

Generated (by shtab) from the same argparse tree `argosy` parses with, so a new verb or flag
completes without anyone editing a script.
"""

from __future__ import annotations

import argparse

import shtab

from cli.client import Hub
from cli.parsing import Subparsers, root, runs

SHELLS = ("bash", "zsh")

DESCRIPTION = """\
Print a completion script for bash or zsh. Load it in the current shell, or install it:
  bash: source <(argosy completion bash)   (or save it in /etc/bash_completion.d/argosy)
  zsh:  argosy completion zsh > "${fpath[1]}/_argosy"   (then start a new shell)
"""


def add_parser(subparsers: Subparsers) -> None:
    completion = runs(
        subparsers.add_parser(
            "completion",
            help="print a bash or zsh completion script",
            description=DESCRIPTION,
        ),
        run,
    )
    completion.add_argument("shell", choices=SHELLS)


def script(parser: argparse.ArgumentParser, shell: str) -> str:
    return str(shtab.complete(parser, shell=shell))


async def run(args: argparse.Namespace, hub: Hub) -> None:
    del hub  # the script is made here, the hub is not asked
    print(script(root(args), args.shell), end="")
