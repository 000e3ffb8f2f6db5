"""An example for every verb's --help, in one table: `argosy X --help` ends with "example:".

Kept here rather than in each verb's module so a test can check that every parser in the tree
has one (tests/cli/test_polish.py), and a verb added without one fails it. `argosy hub` and
`argosy spoke` hand their line to the hub's and the spoke's own parsers, which carry theirs.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

EXAMPLES: dict[str, tuple[str, ...]] = {
    "token": ("argosy token create --ttl 3600", "argosy token list"),
    "token create": ("argosy token create --ttl 3600 --max-uses 1 -o json",),
    "token list": ("argosy token list -o yaml",),
    "token revoke": ("argosy token revoke t-1a2b3c",),
    "apply": (
        "argosy apply examples/01-hello --name hello -l team=web",
        "argosy apply examples/ --dry-run",
        "argosy apply examples/ --wait --timeout 5m",
    ),
    "status": (
        "argosy status",
        "argosy status -l env=prod --state NotReady",
        "argosy status web --watch",
        "argosy status --wait-for Ready web --timeout 90s",
    ),
    "pause": ("argosy pause web",),
    "unpause": ("argosy unpause web",),
    "rollout": ("argosy rollout resume web",),
    "rollout resume": ("argosy rollout resume web",),
    "render": ("argosy render examples/02-settings -l env=prod --cluster-name prod-1",),
    "target": ("argosy target examples/",),
    "bundle": ("argosy bundle list -l team=web", "argosy bundle get web"),
    "bundle list": ("argosy bundle list --state NotReady -o json",),
    "bundle get": ("argosy bundle get web -o json",),
    "bundle delete": ("argosy bundle delete web",),
    "cluster": ("argosy cluster list -l env=prod", "argosy cluster label prod-1 tier=gold"),
    "cluster list": ("argosy cluster list -l env=prod,zone!=b --state Offline --limit 20",),
    "cluster label": ("argosy cluster label prod-1 env=prod tier=gold spot-",),
    "cluster delete": ("argosy cluster delete prod-1",),
    "cluster revoke": ("argosy cluster revoke prod-1",),
    "admin-token": ("argosy admin-token create --role viewer", "argosy admin-token list"),
    "admin-token create": ("argosy admin-token create --role viewer -o json",),
    "admin-token list": ("argosy admin-token list",),
    "admin-token revoke": ("argosy admin-token revoke a-1a2b3c",),
    "login": ("argosy --hub hub.example:7443 login --token TOKEN --ca ca.pem --context prod",),
    "context": ("argosy context list", "argosy context use prod"),
    "context use": ("argosy context use prod",),
    "context list": ("argosy context list",),
    "group": ("argosy group create prod --selector env=prod", "argosy group list"),
    "group create": ("argosy group create prod --selector 'env=prod,zone in (a,b)'",),
    "group list": ("argosy group list -o yaml",),
    "group delete": ("argosy group delete prod",),
    "repo": ("argosy repo add apps https://git.example/apps.git --paths web,api",),
    "repo add": ("argosy repo add apps https://git.example/apps.git --branch main --paths web",),
    "repo list": ("argosy repo list",),
    "repo get": ("argosy repo get apps -o json",),
    "repo delete": ("argosy repo delete apps",),
    "repo sync": ("argosy repo sync apps",),
    "secret": ("argosy secret create git-creds --username bot --password-stdin < token.txt",),
    "secret create": ("argosy secret create deploy-key --ssh-key id_ed25519 --known-hosts kh",),
    "secret list": ("argosy secret list",),
    "secret delete": ("argosy secret delete git-creds",),
    "install": ("argosy install hub --namespace argosy | kubectl apply -f -",),
    "install agent-token": (
        "argosy install agent-token --name prod-1 --labels env=prod | kubectl apply -f -",
    ),
    "install hub": (
        "argosy install hub --image ghcr.io/example/argosy:0.1.0 | kubectl apply -f -",
    ),
    "demo": ("argosy demo --clusters 5",),
    "version": ("argosy version",),
    "events": (
        "argosy events --bundle web --kind DeploymentStateChanged --limit 500",
        "argosy events --cluster prod-1 --watch",
    ),
    "bundle history": ("argosy bundle history web -o json",),
    "rollback": ("argosy rollback web", "argosy rollback web --to 3"),
    "unpin": ("argosy unpin web",),
    "bundle diff": (
        "argosy bundle diff web --cluster prod-1",
        "argosy bundle diff web --fleet-yaml",
    ),
    "completion": (
        "argosy completion bash > /etc/bash_completion.d/argosy",
        'argosy completion zsh > "${fpath[1]}/_argosy"',
    ),
}


class ExampleFormatter(argparse.HelpFormatter):
    """argparse's own wrapping for prose, but text already laid out in lines (an example) is
    kept as it is."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        if "\n" in text:
            return "".join(indent + line for line in text.splitlines(keepends=True))
        return super()._fill_text(text, width, indent)


def walk(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """(command path, parser) for every parser below `parser`, depth first."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield " ".join((*path, name)), sub
                yield from walk(sub, (*path, name))


def attach(root: argparse.ArgumentParser) -> None:
    """Give every parser below the root its example epilog."""
    for path, parser in walk(root):
        lines = EXAMPLES.get(path)
        if not lines:
            continue
        text = "example:\n" + "\n".join(f"  {line}" for line in lines) + "\n"
        parser.epilog = f"{parser.epilog}\n\n{text}" if parser.epilog else text
        if parser.formatter_class is argparse.HelpFormatter:
            parser.formatter_class = ExampleFormatter
