"""Cluster-specific Helm values: Fleet's label substitution and `${ }` templates (pure parts).

Fleet templates helm.values per cluster with Go text/template, delimiters `${ }`, over
ClusterName, ClusterNamespace, ClusterLabels, ClusterAnnotations and ClusterValues. Argosy runs
the template with Helm's own Go template engine (see engines.py), so the language is the real
one. What is decided here, without running anything, is which cluster facts a template reads:
clusters that agree on those facts get the same values, so they can share one render.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

# A values string "global.fleet.clusterLabels.env" is replaced by the cluster's 'env' label.
LABEL_PREFIX = "global.fleet.clusterLabels."
ROOTS = ("ClusterName", "ClusterNamespace", "ClusterLabels", "ClusterAnnotations", "ClusterValues")
_MAP_ROOTS = ("ClusterLabels", "ClusterAnnotations", "ClusterValues")
_FIELD_CHAIN = re.compile(r"(?<![\w)\]])\.([A-Za-z_]\w*)(?:\.([A-Za-z_][\w-]*))?")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`|\'(?:[^\'\\]|\\.)*\'')


@dataclass(frozen=True)
class References:
    """The cluster facts a template reads. `everything` when that cannot be told statically."""

    names: frozenset[str] = frozenset()
    keys: frozenset[tuple[str, str]] = frozenset()
    whole: frozenset[str] = frozenset()
    everything: bool = False

    def __bool__(self) -> bool:
        return bool(self.names or self.keys or self.whole or self.everything)


def substitute_labels(
    values: Mapping[str, Any], labels: Mapping[str, str]
) -> tuple[dict[str, Any], frozenset[str]]:
    """Fleet's clusterLabels prefix substitution, and the label keys it read."""
    used: set[str] = set()

    def walk(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(LABEL_PREFIX):
            key = value.removeprefix(LABEL_PREFIX)
            used.add(key)
            # Fleet sets a missing label to "" (and logs), rather than failing.
            return labels.get(key, "")
        if isinstance(value, Mapping):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            # Fleet only descends into maps inside lists, not into bare strings there.
            return [walk(v) if isinstance(v, Mapping) else v for v in value]
        return value

    return walk(dict(values)), frozenset(used)


def dump_values(values: Mapping[str, Any]) -> str:
    """Values as the YAML text Fleet templates (keys sorted, no line wrapping)."""
    return yaml.safe_dump(dict(values), sort_keys=True, width=math.inf)


def actions(text: str) -> list[tuple[int, int, str]]:
    """The `${ ... }` actions of text as (start, end, body); quoted '}' do not end one."""
    found = []
    i = 0
    while (start := text.find("${", i)) != -1:
        j = start + 2
        while j < len(text) and text[j] != "}":
            if text[j] in "\"'`":
                m = _STRING.match(text, j)
                j = m.end() if m else j + 1
            else:
                j += 1
        found.append((start, min(j + 1, len(text)), text[start + 2 : j]))
        i = j + 1
    return found


def references(text: str) -> References:
    """Which cluster facts the `${ }` actions of text read."""
    names: set[str] = set()
    keys: set[tuple[str, str]] = set()
    whole: set[str] = set()
    everything = False
    for _, _, body in actions(text):
        code = _STRING.sub('""', body)
        if "$" in code:
            everything = True  # variables can alias any part of the context
        for m in _FIELD_CHAIN.finditer(code):
            root, key = m.group(1), m.group(2)
            if root not in ROOTS:
                everything = True  # e.g. `.env` inside `with .ClusterLabels`
            elif root in _MAP_ROOTS:
                if key:
                    keys.add((root, key))
                else:
                    whole.add(root)
            else:
                names.add(root)
        if code.strip().startswith(("with", "range", "template", "block", "define")):
            everything = True
    return References(frozenset(names), frozenset(keys), frozenset(whole), everything)


def to_helm_template(text: str) -> str:
    """Fleet's `${ }` template as a Helm template, whose delimiters are `{{ }}`.

    Literal `{{` in the text is escaped so Helm prints it unchanged.
    """
    out = []
    last = 0
    for start, end, body in actions(text):
        out.append(_escape(text[last:start]))
        out.append("{{" + body + "}}")
        last = end
    out.append(_escape(text[last:]))
    return "".join(out)


def _escape(text: str) -> str:
    return text.replace("{{", '{{ "{{" }}')
