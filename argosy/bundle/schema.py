"""The shape of fleet.yaml, and checking a YAML node tree against it with line numbers.

The field names and types follow Fleet's published schema (schemas/fleet.yaml.json), so a
fleet.yaml Fleet accepts is one Argosy accepts. Fleet silently drops unknown keys; Argosy refuses
them, because a typo ('namespce') that is silently ignored deploys to the wrong namespace. For
the same reason a known key Argosy cannot carry out is refused when set (fleetyaml.UNSUPPORTED).
Checking happens on the composed YAML nodes rather than on loaded data, so every error names a
line.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass

import yaml

from argosy.errors import InvalidInput


@dataclass(frozen=True)
class Scalar:
    """A scalar of one of the named YAML types ('str', 'bool', 'int')."""

    types: tuple[str, ...]
    what: str


@dataclass(frozen=True)
class Obj:
    """A mapping with a fixed set of keys."""

    fields: Mapping[str, Spec]


@dataclass(frozen=True)
class ListOf:
    item: Spec


@dataclass(frozen=True)
class MapOf:
    """A mapping with free keys, every value of one spec."""

    value: Spec


@dataclass(frozen=True)
class AnyValue:
    """Free-form data (Helm values): any mapping, checked by the chart, not here."""

    mapping_only: bool = True


Spec = Scalar | Obj | ListOf | MapOf | AnyValue

STR = Scalar(("str",), "a string")
BOOL = Scalar(("bool",), "a boolean (true or false)")
INT = Scalar(("int",), "an integer")
INT_OR_STR = Scalar(("int", "str"), "an integer or a percentage string")
STR_MAP = MapOf(STR)

SELECTOR = Obj(
    {
        "matchLabels": STR_MAP,
        "matchExpressions": ListOf(
            Obj({"key": STR, "operator": STR, "values": ListOf(STR)}),
        ),
    }
)

HELM = Obj(
    {
        "chart": STR,
        "repo": STR,
        "version": STR,
        "releaseName": STR,
        "values": AnyValue(),
        "valuesFiles": ListOf(STR),
        "templateValues": STR_MAP,
        "valuesFrom": ListOf(
            Obj(
                {
                    "configMapKeyRef": Obj({"name": STR, "namespace": STR, "key": STR}),
                    "secretKeyRef": Obj({"name": STR, "namespace": STR, "key": STR}),
                }
            )
        ),
        "timeoutSeconds": INT,
        "force": BOOL,
        "takeOwnership": BOOL,
        "maxHistory": INT,
        "waitForJobs": BOOL,
        "atomic": BOOL,
        "disablePreProcess": BOOL,
        "disableDNS": BOOL,
        "skipSchemaValidation": BOOL,
        "disableDependencyUpdate": BOOL,
    }
)

COMPARE_PATCH = Obj(
    {
        "apiVersion": STR,
        "kind": STR,
        "name": STR,
        "namespace": STR,
        "jsonPointers": ListOf(STR),
        "operations": ListOf(Obj({"op": STR, "path": STR, "value": STR})),
    }
)

# The options a targetCustomization may override: Fleet's BundleDeploymentOptions.
DEPLOYMENT_FIELDS: Mapping[str, Spec] = {
    "defaultNamespace": STR,
    "namespace": STR,
    "serviceAccount": STR,
    "createNamespace": BOOL,
    "forceSyncGeneration": INT,
    "helm": HELM,
    "kustomize": Obj({"dir": STR}),
    "yaml": Obj({"overlays": ListOf(STR)}),
    "diff": Obj({"comparePatches": ListOf(COMPARE_PATCH)}),
    "keepResources": BOOL,
    "deleteNamespace": BOOL,
    "ignore": Obj({"conditions": ListOf(STR_MAP)}),
    "correctDrift": Obj({"enabled": BOOL, "force": BOOL, "keepFailHistory": BOOL}),
    "namespaceLabels": STR_MAP,
    "namespaceAnnotations": STR_MAP,
    "allowPodSecurityNamespaceLabels": BOOL,
    "deleteCRDResources": BOOL,
    "downstreamResources": ListOf(Obj({"kind": STR, "name": STR})),
}

MATCH_FIELDS: Mapping[str, Spec] = {
    "name": STR,
    "clusterName": STR,
    "clusterSelector": SELECTOR,
    "clusterGroup": STR,
    "clusterGroupSelector": SELECTOR,
}

BUNDLE_TARGET = Obj({**DEPLOYMENT_FIELDS, **MATCH_FIELDS, "doNotDeploy": BOOL})

PARTITION = Obj({**MATCH_FIELDS, "maxUnavailable": INT_OR_STR})

FLEET_YAML = Obj(
    {
        "name": STR,
        "labels": STR_MAP,
        **DEPLOYMENT_FIELDS,
        "paused": BOOL,
        "rolloutStrategy": Obj(
            {
                "maxUnavailable": INT_OR_STR,
                "maxUnavailablePartitions": INT_OR_STR,
                "autoPartitionSize": INT_OR_STR,
                "autoPartitionThreshold": INT,
                "maxNew": INT,
                "partitions": ListOf(PARTITION),
                # Argosy's own, beyond Fleet: see hub/rollout.py.
                "bakeSeconds": INT,
                "maxFailures": INT,
                "progressDeadlineSeconds": INT,
            }
        ),
        "targetCustomizationMode": STR,
        "targets": ListOf(BUNDLE_TARGET),
        "targetCustomizations": ListOf(BUNDLE_TARGET),
        "dependsOn": ListOf(
            Obj({"name": STR, "selector": SELECTOR, "acceptedStates": ListOf(STR)})
        ),
        # Loaded so that an empty list in a Fleet repository is fine; a non-empty one is refused
        # in fleetyaml.py (Argosy does not scan images).
        "imageScans": ListOf(AnyValue()),
        "overrideTargets": ListOf(Obj(dict(MATCH_FIELDS))),
    }
)

_TAG_TYPES = {
    "tag:yaml.org,2002:str": "str",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:timestamp": "timestamp",
}


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    kind = _TAG_TYPES.get(node.tag, node.tag)
    return f"{kind} {node.value!r}"


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def check_node(node: yaml.Node, spec: Spec, *, path: str, field: str) -> None:
    """Raise InvalidInput naming path:line and the dotted field if node does not fit spec.

    A null value is accepted anywhere and means "not set", as it does for Fleet (Go zero value).
    """
    if node.tag == "tag:yaml.org,2002:null":
        return
    at = f"{path}:{_line(node)}"
    label = field or "the document"
    if isinstance(spec, Scalar):
        kind = _TAG_TYPES.get(node.tag) if isinstance(node, yaml.ScalarNode) else None
        if kind not in spec.types:
            raise InvalidInput(f"{at}: {label} must be {spec.what}, got {_describe(node)}")
        return
    if isinstance(spec, AnyValue):
        if spec.mapping_only and not isinstance(node, yaml.MappingNode):
            raise InvalidInput(f"{at}: {label} must be a mapping, got {_describe(node)}")
        return
    if isinstance(spec, ListOf):
        if not isinstance(node, yaml.SequenceNode):
            raise InvalidInput(f"{at}: {label} must be a list, got {_describe(node)}")
        for i, item in enumerate(node.value):
            check_node(item, spec.item, path=path, field=f"{field}[{i}]")
        return
    if not isinstance(node, yaml.MappingNode):
        raise InvalidInput(f"{at}: {label} must be a mapping, got {_describe(node)}")
    for key_node, value_node in node.value:
        key = key_node.value
        if not isinstance(key_node, yaml.ScalarNode) or not isinstance(key, str):
            raise InvalidInput(f"{path}:{_line(key_node)}: keys of {label} must be strings")
        sub = f"{field}.{key}" if field else key
        if isinstance(spec, MapOf):
            check_node(value_node, spec.value, path=path, field=sub)
            continue
        if key not in spec.fields:
            raise InvalidInput(f"{path}:{_line(key_node)}: {unknown_key(key, spec.fields, sub)}")
        check_node(value_node, spec.fields[key], path=path, field=sub)


def unknown_key(key: str, allowed: Mapping[str, object], field: str) -> str:
    """'unknown key 'namespce' (did you mean 'namespace'?)', with the close match if any."""
    close = difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    where = f" in {field.rpartition('.')[0]}" if "." in field else ""
    return f"unknown key {key!r}{where}{hint}"
