"""Merging a target customization over the bundle's options, as Fleet's options.Merge does (pure).

Kept apart from targeting so that the merge rules, which users rely on in subtle ways (values
deep-merge, overlays append, booleans OR), are one readable function with its own tests.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any, TypeVar

from argosy.bundle.fleetyaml import (
    ComparePatch,
    DeploymentOptions,
    HelmOptions,
    KustomizeOptions,
    YAMLOptions,
)

T = TypeVar("T")

# Fleet documents "-" as "clear the inherited value" for these string options.
_CLEAR = "-"


def merge_maps(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge: nested mappings merge, anything else in `over` replaces (wrangler MergeMaps)."""
    out = dict(base)
    for key, value in over.items():
        current = out.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            out[key] = merge_maps(current, value)
        else:
            out[key] = value
    return out


def _by_key(base: Sequence[T], custom: Sequence[T], key: Callable[[T], str]) -> tuple[T, ...]:
    """Custom entries replace base entries with the same key; new ones are appended."""
    out = list(base)
    index = {key(item): i for i, item in enumerate(out)}
    for item in custom:
        k = key(item)
        if k and k in index:
            out[index[k]] = item
        else:
            index[k] = len(out)
            out.append(item)
    return tuple(out)


def _string(base: str, custom: str) -> str:
    if custom == _CLEAR:
        return ""
    return custom or base


def _merge_helm(base: HelmOptions | None, custom: HelmOptions) -> HelmOptions:
    result = base or HelmOptions()
    values = result.values
    if values is None:
        values = custom.values
    elif custom.values is not None:
        values = merge_maps(values, custom.values)
    templates = result.template_values
    if templates is None:
        templates = custom.template_values
    elif custom.template_values is not None:
        templates = {**templates, **custom.template_values}
    timeout = result.timeout_seconds
    if custom.timeout_seconds > 0:
        timeout = custom.timeout_seconds
    elif custom.timeout_seconds < 0:
        timeout = 0
    return replace(
        result,
        values=values,
        template_values=templates,
        values_files=result.values_files + custom.values_files,
        values_from=_by_key(result.values_from, custom.values_from, _values_from_key),
        timeout_seconds=timeout,
        repo=custom.repo or result.repo,
        chart=custom.chart or result.chart,
        version=custom.version or result.version,
        release_name=custom.release_name or result.release_name,
        force=result.force or custom.force,
        atomic=result.atomic or custom.atomic,
        take_ownership=result.take_ownership or custom.take_ownership,
        disable_pre_process=result.disable_pre_process or custom.disable_pre_process,
        wait_for_jobs=result.wait_for_jobs or custom.wait_for_jobs,
        disable_dns=result.disable_dns or custom.disable_dns,
    )


def _values_from_key(ref: Mapping[str, Any]) -> str:
    for kind in ("configMapKeyRef", "secretKeyRef"):
        r = ref.get(kind)
        if isinstance(r, Mapping):
            return "|".join([kind, str(r.get("namespace", "")), str(r.get("name", "")),
                             str(r.get("key", ""))])  # fmt: skip
    return ""


def _patch_key(p: ComparePatch) -> str:
    return f"{p.api_version}|{p.kind}|{p.namespace}|{p.name}"


def merge_options(base: DeploymentOptions, custom: DeploymentOptions) -> DeploymentOptions:
    """base with the customization's options laid over it, by Fleet's rules.

    One deliberate difference: Fleet's code means "-" to clear defaultNamespace/namespace/
    serviceAccount but never reaches that branch; here "-" clears, as documented.
    """
    result = replace(
        base,
        default_namespace=_string(base.default_namespace, custom.default_namespace),
        namespace=_string(base.namespace, custom.namespace),
        service_account=_string(base.service_account, custom.service_account),
        keep_resources=base.keep_resources or custom.keep_resources,
        # Fleet's merge drops a customization's deleteNamespace; here it counts, like
        # keepResources, rather than being accepted and ignored.
        delete_namespace=base.delete_namespace or custom.delete_namespace,
        force_sync_generation=custom.force_sync_generation or base.force_sync_generation,
        namespace_labels={**base.namespace_labels, **custom.namespace_labels},
        namespace_annotations={**base.namespace_annotations, **custom.namespace_annotations},
        downstream_resources=_by_key(
            base.downstream_resources,
            custom.downstream_resources,
            lambda r: f"{r.get('kind', '').lower()}|{r.get('name', '')}",
        ),
    )
    if custom.helm is not None:
        result = replace(result, helm=_merge_helm(result.helm, custom.helm))
    if custom.kustomize is not None:
        result = replace(
            result,
            kustomize=KustomizeOptions(
                dir=custom.kustomize.dir or (result.kustomize.dir if result.kustomize else "")
            ),
        )
    if custom.compare_patches is not None:
        result = replace(
            result,
            compare_patches=_by_key(result.compare_patches or (), custom.compare_patches,
                                    _patch_key),
        )  # fmt: skip
    if custom.yaml is not None:
        base_overlays = result.yaml.overlays if result.yaml else ()
        result = replace(result, yaml=YAMLOptions(base_overlays + custom.yaml.overlays))
    if custom.correct_drift is not None:
        result = replace(result, correct_drift=custom.correct_drift)
    return result
