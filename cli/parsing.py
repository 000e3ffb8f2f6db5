"""What the verb modules (cli/commands/) share to build their parsers: the subparsers type, the
hook that names the coroutine a verb runs, and the flags several verbs spell the same way.

The hook is argparse's own idiom (a parser default, `set_defaults(run=...)`): the root reads
the coroutine from the parsed arguments instead of matching verb names a second time.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeAlias

from argosy.names import parse_labels
from cli.client import Hub

Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"
Run: TypeAlias = Callable[[argparse.Namespace, Hub], Awaitable[None]]

FORMATS = ("text", "json", "yaml")
# The ranges of the proto fields integer flags go into: past them protobuf raises, with a
# traceback instead of a usage error.
INT32_MAX = 2**31 - 1
UINT32_MAX = 2**32 - 1
INT64_MAX = 2**63 - 1
_RUN = "run"
_ROOT = "root_parser"


def runs(parser: argparse.ArgumentParser, run: Run) -> argparse.ArgumentParser:
    """Mark `run` as what this parser's verb does; returns the parser for chaining."""
    parser.set_defaults(**{_RUN: run})
    return parser


def handler(args: argparse.Namespace) -> Run | None:
    """The coroutine the parsed verb runs; None for verbs the root handles itself."""
    run: Run | None = getattr(args, _RUN, None)
    return run


def mark_root(parser: argparse.ArgumentParser) -> None:
    """Let verbs that describe the whole command line (completion) reach the root parser
    from their arguments, without importing cli.main (the root imports them)."""
    parser.set_defaults(**{_ROOT: parser})


def root(args: argparse.Namespace) -> argparse.ArgumentParser:
    parser = getattr(args, _ROOT, None)
    assert isinstance(parser, argparse.ArgumentParser), "build the parser with mark_root"
    return parser


def output_flag(
    parser: argparse.ArgumentParser, formats: Sequence[str] = FORMATS, default: str = "text"
) -> None:
    """`-o/--output FORMAT`: a table for people, or the same data as JSON or YAML."""
    parser.add_argument("-o", "--output", choices=list(formats), default=default)


def labels(pairs: Sequence[str], what: str) -> dict[str, str]:
    """Repeated `-l k=v` flags (each may hold several pairs, comma-separated) as one dict."""
    return parse_labels(",".join(pairs), what=what)


def int_in(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: a whole number from low to high, else a usage error that says so."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} is out of range ({low} to {high})")
        return value

    return parse
