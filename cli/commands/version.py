"""`argosy version`: this Argosy's version and the image its install YAML names."""

from __future__ import annotations

import argparse

from argosy import __version__
from cli.client import Hub
from cli.manifests import DEFAULT_IMAGE
from cli.parsing import Subparsers, runs


def add_parser(subparsers: Subparsers) -> None:
    runs(subparsers.add_parser("version", help="print the version and the default image"), run)


async def run(args: argparse.Namespace, hub: Hub) -> None:
    del args, hub  # local: no hub is asked
    print(f"argosy {__version__}")
    print(f"image {DEFAULT_IMAGE}")
