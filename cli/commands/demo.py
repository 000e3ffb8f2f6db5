"""`argosy demo`: a hub and simulated clusters on this machine, examples/ applied to them.

The flags live here; what the demo does lives in cli/demo.py.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.client import Hub
from cli.demo import run_demo
from cli.parsing import Subparsers, runs


def add_parser(subparsers: Subparsers) -> None:
    demo = runs(
        subparsers.add_parser("demo", help="run a hub and simulated clusters, apply examples/"),
        run,
    )
    demo.add_argument("--clusters", type=int, default=5, help="number of simulated clusters")
    demo.add_argument("--keep", action="store_true", help="keep running until Ctrl-C")
    demo.add_argument("--examples", type=Path, default=None, help="bundle dirs to apply")
    demo.add_argument("--data-dir", type=Path, default=None, help="default: a temporary dir")
    demo.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for Ready")
    demo.add_argument(
        "--dashboard-listen",
        default="127.0.0.1:0",
        help="HOST:PORT for the hub's web dashboard (default: a free loopback port; '' for none)",
    )


async def run(args: argparse.Namespace, hub: Hub) -> None:
    del hub  # the demo starts its own
    await run_demo(args)
