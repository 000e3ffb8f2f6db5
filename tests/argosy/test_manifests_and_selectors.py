"""Manifest parsing errors name the file and line; selectors match as Kubernetes does."""

from __future__ import annotations

import pytest

from argosy.errors import InvalidInput
from argosy.manifests import build_resource_set, describe_key, parse_manifests
from argosy.selectors import parse_selector, selector_from_dict


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a: [1\n", "f.yaml:2: invalid YAML"),
        ("apiVersion: v1\nmetadata: {name: a}\n", "f.yaml:1: missing or empty 'kind'"),
        ("---\n# c\n---\nkind: X\napiVersion: v1\n", "f.yaml:4: X has no 'metadata' mapping"),
        ("- 1\n- 2\n", "f.yaml:1: a Kubernetes object must be a mapping, got list"),
        ("kind: X\napiVersion: v1\nmetadata: {namespace: 3, name: a}\n", "namespace"),
    ],
)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_manifests(text, path="f.yaml")


def test_list_is_expanded_and_duplicates_refused() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
        "- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n"
    )
    objs = parse_manifests(text, path="l.yaml")
    assert len(objs) == 2
    with pytest.raises(InvalidInput, match="defined twice"):
        build_resource_set(objs)


def test_describe_key() -> None:
    assert describe_key("apps/Deployment/web/frontend") == "deployment.apps web/frontend"
    assert describe_key("/Namespace//web") == "namespace web"


@pytest.mark.parametrize(
    ("expr", "labels", "match"),
    [
        ("env=prod", {"env": "prod"}, True),
        ("env=prod", {"env": "dev"}, False),
        ("env!=prod", {}, True),
        ("env in (dev,test),gpu", {"env": "test", "gpu": "1"}, True),
        ("env notin (dev,test)", {"env": "test"}, False),
        ("!spot", {"spot": "yes"}, False),
        ("", {"anything": "x"}, True),
    ],
)
def test_selector_syntax(expr: str, labels: dict[str, str], match: bool) -> None:
    assert parse_selector(expr).matches(labels) is match


def test_selector_from_yaml_errors_name_the_field() -> None:
    with pytest.raises(InvalidInput, match=r"targets\[0\].matchExpressions\[0\].operator"):
        selector_from_dict(
            {"matchExpressions": [{"key": "a", "operator": "Is"}]}, where="targets[0]"
        )
