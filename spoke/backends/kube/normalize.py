"""What an object becomes before it is sent with server-side apply (pure).

The manifests the hub sends are what users wrote; the API server wants a little more and a
little less: ownership stamped in, server-written fields and status left out, and the spellings
older API servers reject (ports without `protocol`, numeric quantities) written the way they
accept. Every rule here changes the body only in ways the server would have made anyway, so
nothing shows as drift afterwards. No I/O: tested with plain dicts.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Collection, Sequence
from typing import Any

from spoke.backends.base import DEPLOYMENT_ANNOTATION, OWNER_LABEL, Obj, Ownership

# Written by the API server; sending them back in an apply would be rejected or meaningless.
SERVER_METADATA = ("resourceVersion", "uid", "generation", "creationTimestamp", "managedFields")

# Built-in kinds holding a pod spec (custom resources follow their own schema: left alone).
_POD_TEMPLATE_KINDS = {
    "v1": {"Pod", "ReplicationController"},
    "apps/v1": {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"},
    "batch/v1": {"Job", "CronJob"},
    "batch/v1beta1": {"CronJob"},
}


def applyable(obj: Obj, *, owner: Ownership, namespaced: bool) -> dict[str, Any]:
    """The apply body: ownership stamped in, server-written fields and status left out.

    The input is not modified.
    """
    body = copy.deepcopy(dict(obj))
    body.pop("status", None)
    meta = body.setdefault("metadata", {})
    for name in SERVER_METADATA:
        meta.pop(name, None)
    if not namespaced:
        meta.pop("namespace", None)
    default_protocols(body)
    quantities_as_strings(body)
    meta["labels"] = {**(meta.get("labels") or {}), OWNER_LABEL: owner.bundle}
    meta["annotations"] = {
        **(meta.get("annotations") or {}),
        DEPLOYMENT_ANNOTATION: owner.deployment,
    }
    return body


def _pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    spec = obj.get("spec")
    kind = obj.get("kind")
    if not isinstance(spec, dict) or kind not in _POD_TEMPLATE_KINDS.get(
        str(obj.get("apiVersion")), ()
    ):
        return []
    if kind == "Pod":
        return [spec]
    if kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template = (spec.get("template") or {}).get("spec")
    return [template] if isinstance(template, dict) else []


def default_protocols(obj: dict[str, Any]) -> None:
    """Write `protocol: TCP` where the API defaults it in a list keyed by it (in place).

    Before Kubernetes 1.21 server-side apply rejects Service and container ports that omit
    their `protocol` key ("associative list with keys has an element that omits key field").
    TCP is the API's own default, so this changes nothing else and never shows as drift.
    """
    port_lists = []
    if (obj.get("apiVersion"), obj.get("kind")) == ("v1", "Service") and isinstance(
        obj.get("spec"), dict
    ):
        port_lists.append(obj["spec"].get("ports"))
    for pod in _pod_specs(obj):
        for containers in ("containers", "initContainers"):
            port_lists.extend(
                c.get("ports") for c in pod.get(containers) or [] if isinstance(c, dict)
            )
    for ports in port_lists:
        for port in ports if isinstance(ports, list) else []:
            if isinstance(port, dict):
                port.setdefault("protocol", "TCP")


def _quantity_maps(obj: dict[str, Any]) -> list[Any]:
    maps: list[Any] = []
    for pod in _pod_specs(obj):
        for containers in ("containers", "initContainers"):
            for c in pod.get(containers) or []:
                resources = c.get("resources") if isinstance(c, dict) else None
                if isinstance(resources, dict):
                    maps += [resources.get("limits"), resources.get("requests")]
        for volume in pod.get("volumes") or []:
            if isinstance(volume, dict) and isinstance(volume.get("emptyDir"), dict):
                maps.append(volume["emptyDir"])
    spec = obj.get("spec")
    if isinstance(spec, dict):
        if obj.get("apiVersion") != "v1":
            return maps
        if obj.get("kind") == "PersistentVolumeClaim" and isinstance(spec.get("resources"), dict):
            maps += [spec["resources"].get("limits"), spec["resources"].get("requests")]
        if obj.get("kind") == "ResourceQuota":
            maps.append(spec.get("hard"))
        if obj.get("kind") == "LimitRange":
            for limit in spec.get("limits") or []:
                if isinstance(limit, dict):
                    maps += [limit.get(k) for k in ("max", "min", "default", "defaultRequest")]
    return maps


def quantities_as_strings(obj: dict[str, Any]) -> None:
    """Write numeric resource quantities (`cpu: 0.5`) as strings ("0.5") (in place).

    Server-side apply before Kubernetes 1.21 rejects a JSON number where the schema says
    quantity ("expected string"), though kubectl users write them all the time. The value is
    the same; drift compares quantities by amount.
    """
    for amounts in _quantity_maps(obj):
        if not isinstance(amounts, dict):
            continue
        for name, value in amounts.items():
            if isinstance(value, int | float) and not isinstance(value, bool):
                amounts[name] = str(value)


# A server-side apply field path element: ".name", "[index]", "[k=v,...]" (a list item by its
# keys) or "[=value]" (an item of a set).
_FIELD_ELEMENT = re.compile(r'\.|\[(\d+)\]|\[((?:[^\]"]|"(?:[^"\\]|\\.)*")*)\]')


def field_pointer(body: Any, field: str) -> str | None:
    """The JSON pointer (RFC 6901) into body of a field as an apply conflict names it
    (".spec.template.spec.containers[name=\"web\"].image"); None when body does not hold it.

    A name may itself hold dots (annotation keys), so names are matched against body's keys,
    the longest first.
    """
    tokens: list[str] = []
    doc, rest = body, field
    while rest:
        if rest.startswith(".") and isinstance(doc, dict):
            names = [k for k in doc if rest[1:] == k or rest[1:].startswith((f"{k}.", f"{k}["))]
            if not names:
                return None
            name = max(names, key=len)
            tokens.append(name)
            doc, rest = doc[name], rest[1 + len(name) :]
            continue
        match = _FIELD_ELEMENT.match(rest)
        if match is None or not isinstance(doc, list) or match.group(0) == ".":
            return None
        index: int | None
        if match.group(1) is not None:
            index = int(match.group(1))
        else:
            index = _item_by_keys(doc, match.group(2))
        if index is None or index >= len(doc):
            return None
        tokens.append(str(index))
        doc, rest = doc[index], rest[match.end() :]
    return "".join("/" + t.replace("~", "~0").replace("/", "~1") for t in tokens)


def _item_by_keys(items: list[Any], keys: str) -> int | None:
    """The index of the list item whose keys are `k="v",...` (JSON values); None for a set
    item ("=value") or no match."""
    if keys.startswith("="):
        return None
    try:
        wanted = json.loads("{" + re.sub(r'(^|,)([^=,"]+)=', r'\1"\2":', keys) + "}")
    except ValueError:
        return None
    for i, item in enumerate(items):
        if isinstance(item, dict) and all(item.get(k) == v for k, v in wanted.items()):
            return i
    return None


def yielded(body: Any, fields: Sequence[str], paths: Collection[str]) -> list[str] | None:
    """Pointers of an apply conflict's fields, when every one of them lies under a path the
    bundle does not compare (comparePatches); None otherwise (the conflict stands)."""
    if not fields or not paths:
        return None
    pointers = []
    for field in fields:
        pointer = field_pointer(body, field)
        if pointer is None or not any(
            pointer == p or pointer.startswith(p.rstrip("/") + "/") for p in paths
        ):
            return None
        pointers.append(pointer)
    return pointers


def without(body: Obj, pointers: Collection[str]) -> dict[str, Any]:
    """body without the fields at these pointers (from `yielded`); the input is not modified.
    Removed deepest first, so removing an item of a list never shifts another pointer."""
    out = copy.deepcopy(dict(body))
    for pointer in sorted(
        pointers, key=lambda p: [_sort_token(t) for t in p.split("/")], reverse=True
    ):
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]
        doc: Any = out
        for token in tokens[:-1]:
            doc = doc[int(token)] if isinstance(doc, list) else doc[token]
        last = tokens[-1]
        if isinstance(doc, list):
            del doc[int(last)]
        else:
            del doc[last]
    return out


def _sort_token(token: str) -> tuple[int, str]:
    return (int(token), "") if token.isdigit() else (-1, token)
