"""`argosy`: the one command. Subcommands talk to a hub through the public gRPC API.

This module is the root: it parses the line, resolves the hub from the flags and the context,
runs the verb's module (cli/commands/, one per verb), and maps errors to exit codes.
Exit codes: 0 ok, 1 a user error (with a message on stderr), 2 usage.
`argosy hub` and `argosy spoke` run the hub and the spoke in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import grpc

from argosy.errors import ArgosyError, InvalidInput
from cli import examples
from cli.client import DEFAULT_HUB, UserError, explain, resolve
from cli.commands import COMMANDS
from cli.parsing import handler, mark_root

EPILOG = """\
commands:
  argosy hub --data-dir DIR --listen 127.0.0.1:PORT        run a hub
  argosy spoke --hub HOST:PORT --name NAME --labels k=v,k2=v2 --token TOKEN
               [--data-dir DIR] [--simulate]                run a spoke
  argosy token create [--ttl SECONDS] [-o json]             a registration token (stdout)
  argosy apply DIR... [--name NAME] [-l k=v]                create or update bundles
  argosy apply DIR... --dry-run [-o json] | --wait [--timeout 5m]   preview; wait for Ready
  argosy status [BUNDLE | --cluster NAME] [-o json|yaml] [--watch]
  argosy status --wait-for Ready BUNDLE [--timeout 5m]      exit 0 once Ready everywhere
                                                            groups, clusters and bundles
  argosy pause|unpause BUNDLE                               hold / release new revisions
  argosy rollout resume BUNDLE                              resume a halted rollout
  argosy render DIR [-l k=v]... [--cluster-name N]          what a cluster would receive
  argosy target DIR                                         which clusters each bundle reaches
  argosy bundle list|get NAME|delete NAME
  argosy bundle diff NAME [--cluster C] [--fleet-yaml]     drift: desired vs live
  argosy cluster list|delete NAME
  argosy group create NAME --selector env=prod | list | delete NAME
  argosy cluster revoke NAME                                cut a cluster off (certificate refused)
  argosy admin-token create [--role admin|viewer] [-o json] an admin API token; list, revoke ID
  argosy login --token T [--ca FILE] [--context NAME]       save a context; context use|list
  argosy install agent-token --name N [--labels k=v] [--token T] [--agent-hub ADDR]
                                                            YAML that registers this cluster
  argosy install hub [--image IMG] [--namespace NS] [--advertise HOST]... [--service-type T]
                                                            YAML for a hub in a cluster
  argosy demo [--clusters N] [--keep]                       hub + simulated clusters + examples
  argosy cluster label NAME k=v k2-                         set/remove labels on the hub
  argosy cluster list|bundle list [-l SEL] [--state S] [--limit N]
  argosy version                                            client, hub and image versions
  argosy completion bash|zsh                                shell completion script

Contexts (--config FILE, $ARGOSY_CONFIG, ~/.config/argosy/config.yaml) hold the hub address, its
CA and a token; a hub writes one for its admin to DATA_DIR/admin.yaml on first start.

--hub defaults to $ARGOSY_HUB, else 127.0.0.1:7443.
`argosy` alone prints this help and exits 2 (usage): a command is missing.
exit codes: 0 ok, 1 user error (or a --wait that failed or timed out), 2 usage.
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="argosy",
        description="Ship bundles of Kubernetes manifests to many clusters from one hub.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--hub", help=f"HOST:PORT of the hub (default: $ARGOSY_HUB, the context, {DEFAULT_HUB})"
    )
    p.add_argument(
        "--config",
        type=Path,
        help="contexts file (default: $ARGOSY_CONFIG or ~/.config/argosy/config.yaml)",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    # Listed for the help only: main() hands these lines to the hub's and the spoke's own parser.
    sub.add_parser("hub", help="run a hub", add_help=False)
    sub.add_parser("spoke", help="run a spoke", add_help=False)
    for command in COMMANDS:
        command.add_parser(sub)
    examples.attach(p)
    mark_root(p)
    return p


async def dispatch(args: argparse.Namespace) -> None:
    hub = resolve(args.hub, args.config)
    run = handler(args)
    if run is not None:
        await run(args, hub)


def quiet_broken_pipe() -> NoReturn:
    """`argosy status | head`: the reader left, so stop quietly, as Unix tools do on SIGPIPE.

    stdout is pointed at /dev/null first, or Python's own flush at exit would fail again and
    print "Exception ignored ... BrokenPipeError".
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    raise SystemExit(128 + signal.SIGPIPE)


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    # `argosy [--hub X] hub|spoke ...`: the rest of the line belongs to the hub or the spoke.
    rest = argv[2:] if argv[:1] == ["--hub"] else argv
    if rest[:1] == ["hub"]:
        from hub.app import main as hub_main  # noqa: PLC0415 (only `argosy hub` pays for it)

        hub_main(rest[1:])
        return
    if rest[:1] == ["spoke"]:
        from spoke.app import main as spoke_main  # noqa: PLC0415 (likewise)

        extra = ["--hub", argv[1]] if rest is not argv and "--hub" not in rest else []
        spoke_main([*extra, *rest[1:]])
        return
    parser = build_parser()
    if not argv:
        # The whole help, not argparse's one-line "the following arguments are required".
        parser.print_help()
        raise SystemExit(2)
    args = parser.parse_args(argv)
    try:
        asyncio.run(dispatch(args))
        # Inside the try: a pipe closed early fails here, not in Python's flush at exit.
        sys.stdout.flush()
    except BrokenPipeError:
        quiet_broken_pipe()
    except InvalidInput as exc:
        for problem in exc.problems:
            print(f"argosy: error: {problem}", file=sys.stderr)
        raise SystemExit(1) from None
    except (UserError, ArgosyError) as exc:
        print(f"argosy: error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except grpc.aio.AioRpcError as exc:
        print(f"argosy: error: {explain(exc, args.hub or 'the hub')}", file=sys.stderr)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
