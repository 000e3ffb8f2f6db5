"""Kubernetes label selectors: parsing from YAML/JSON/flags, and matching labels (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from argosy.errors import InvalidInput

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        if self.operator == "In":
            return labels.get(self.key) in self.values
        if self.operator == "NotIn":
            return labels.get(self.key) not in self.values
        if self.operator == "Exists":
            return self.key in labels
        return self.key not in labels


@dataclass(frozen=True)
class LabelSelector:
    """matchLabels and matchExpressions, ANDed. The empty selector matches everything."""

    match_labels: Mapping[str, str] = field(default_factory=dict)
    match_expressions: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(labels.get(k) == v for k, v in self.match_labels.items()) and all(
            r.matches(labels) for r in self.match_expressions
        )

    def is_empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def __str__(self) -> str:
        parts = [f"{k}={v}" for k, v in sorted(self.match_labels.items())]
        for r in self.match_expressions:
            if r.operator in ("In", "NotIn"):
                parts.append(f"{r.key} {r.operator.lower()} ({','.join(r.values)})")
            else:
                parts.append(r.key if r.operator == "Exists" else f"!{r.key}")
        return ",".join(parts) or "(all)"


def selector_from_dict(data: Any, *, where: str) -> LabelSelector:
    """A selector from its Kubernetes YAML form; errors name `where` and the field."""
    if data is None:
        return LabelSelector()
    if not isinstance(data, dict):
        raise InvalidInput(f"{where}: a label selector must be a mapping")
    unknown = set(data) - {"matchLabels", "matchExpressions"}
    if unknown:
        raise InvalidInput(f"{where}: unknown selector field {sorted(unknown)[0]!r}")
    match_labels = data.get("matchLabels") or {}
    if not isinstance(match_labels, dict):
        raise InvalidInput(f"{where}.matchLabels: must be a mapping")
    exprs = []
    for i, expr in enumerate(data.get("matchExpressions") or []):
        at = f"{where}.matchExpressions[{i}]"
        if not isinstance(expr, dict) or "key" not in expr or "operator" not in expr:
            raise InvalidInput(f"{at}: needs 'key' and 'operator'")
        op = expr["operator"]
        if op not in OPERATORS:
            raise InvalidInput(f"{at}.operator: {op!r} is not one of {', '.join(OPERATORS)}")
        values = tuple(str(v) for v in expr.get("values") or ())
        if op in ("In", "NotIn") and not values:
            raise InvalidInput(f"{at}.values: {op} needs at least one value")
        exprs.append(Requirement(str(expr["key"]), op, values))
    return LabelSelector({str(k): str(v) for k, v in match_labels.items()}, tuple(exprs))


def parse_selector(text: str) -> LabelSelector:
    """kubectl's -l syntax: 'env=prod,tier!=web,zone in (a,b),gpu,!spot'."""
    labels: dict[str, str] = {}
    exprs: list[Requirement] = []
    for raw in _split_outside_parens(text):
        term = raw.strip()
        if not term:
            continue
        lowered = f" {term} "
        for word, op in ((" notin ", "NotIn"), (" in ", "In")):
            if word in lowered:
                key, _, rest = term.partition(word.strip())
                values = rest.strip().removeprefix("(").removesuffix(")")
                vals = tuple(v.strip() for v in values.split(",") if v.strip())
                exprs.append(Requirement(key.strip(), op, vals))
                break
        else:
            if "!=" in term:
                key, _, value = term.partition("!=")
                exprs.append(Requirement(key.strip(), "NotIn", (value.strip(),)))
            elif "=" in term:
                key, _, value = term.partition("=")
                labels[key.strip().rstrip("=")] = value.strip().lstrip("=")
            elif term.startswith("!"):
                exprs.append(Requirement(term[1:].strip(), "DoesNotExist"))
            else:
                exprs.append(Requirement(term, "Exists"))
    for key in [*labels, *(r.key for r in exprs)]:
        if not key:
            raise InvalidInput(f"selector {text!r}: a term has no key")
    return LabelSelector(labels, tuple(exprs))


def _split_outside_parens(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += (ch == "(") - (ch == ")")
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts
