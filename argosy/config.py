"""The CLI's contexts file, kubeconfig-like: which hub, which CA to trust, which token to present.

The hub writes one (DATA_DIR/admin.yaml) on first start; `argosy login` and `argosy context use`
edit the user's (~/.config/argosy/config.yaml). Both have the same shape:

    apiVersion: argosy/v1
    kind: Config
    current-context: local
    contexts:
    - name: local
      hub: 127.0.0.1:7443
      ca: |
        -----BEGIN CERTIFICATE-----
      token: argosy-adm-...
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from argosy.errors import InvalidInput


@dataclass(frozen=True)
class Context:
    name: str
    hub: str
    ca: str = ""
    """PEM of the hub CA; empty for a hub run with --insecure."""
    token: str = field(default="", repr=False)


@dataclass(frozen=True)
class Config:
    contexts: tuple[Context, ...] = ()
    current: str = ""

    def context(self, name: str | None = None) -> Context | None:
        wanted = name or self.current
        return next((c for c in self.contexts if c.name == wanted), None)

    def with_context(self, ctx: Context, *, make_current: bool = True) -> Config:
        others = tuple(c for c in self.contexts if c.name != ctx.name)
        return replace(
            self, contexts=(*others, ctx), current=ctx.name if make_current else self.current
        )


def default_path() -> Path:
    env = os.environ.get("ARGOSY_CONFIG")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(base) / "argosy" / "config.yaml"


def load(path: Path) -> Config:
    if not path.exists():
        return Config()
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{path}: invalid YAML: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidInput(f"{path}: a config must be a mapping")
    contexts = []
    for i, raw in enumerate(doc.get("contexts") or []):
        if not isinstance(raw, dict) or not raw.get("name") or not raw.get("hub"):
            raise InvalidInput(f"{path}: contexts[{i}] needs a name and a hub")
        contexts.append(
            Context(
                name=str(raw["name"]),
                hub=str(raw["hub"]),
                ca=str(raw.get("ca") or ""),
                token=str(raw.get("token") or ""),
            )
        )
    return Config(tuple(contexts), str(doc.get("current-context") or ""))


def dump(config: Config) -> str:
    doc: dict[str, Any] = {
        "apiVersion": "argosy/v1",
        "kind": "Config",
        "current-context": config.current,
        "contexts": [
            {
                k: v
                for k, v in (("name", c.name), ("hub", c.hub), ("ca", c.ca), ("token", c.token))
                if v
            }
            for c in config.contexts
        ],
    }
    return yaml.safe_dump(doc, sort_keys=False)


def save(config: Config, path: Path) -> None:
    """Write atomically, readable by the owner only: it holds a token."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(dump(config))
    tmp.chmod(0o600)
    os.replace(tmp, path)
