"""Protobuf <-> model conversions shared by hub, spoke and CLI: each one written once.

Servicers and clients convert at their edge with these; nothing past the edge sees protobuf.
"""

from __future__ import annotations

from argosy.api.v1 import fleet_pb2, spoke_pb2
from argosy.errors import InvalidInput
from argosy.options import ApplyOptions
from argosy.selectors import LabelSelector, Requirement

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def selector_to_pb(selector: LabelSelector) -> fleet_pb2.LabelSelector:
    return fleet_pb2.LabelSelector(
        match_labels=dict(selector.match_labels),
        match_expressions=[
            fleet_pb2.LabelSelectorRequirement(key=r.key, operator=r.operator, values=r.values)
            for r in selector.match_expressions
        ],
    )


def selector_from_pb(pb: fleet_pb2.LabelSelector) -> LabelSelector:
    """A selector from the wire; an unknown operator is the caller's error."""
    for r in pb.match_expressions:
        if r.operator not in OPERATORS:
            raise InvalidInput(
                f"selector operator {r.operator!r} is not In, NotIn, Exists or DoesNotExist"
            )
    return LabelSelector(
        dict(pb.match_labels),
        tuple(Requirement(r.key, r.operator, tuple(r.values)) for r in pb.match_expressions),
    )


def options_to_pb(o: ApplyOptions) -> spoke_pb2.DeploymentOptions:
    return spoke_pb2.DeploymentOptions(
        default_namespace=o.default_namespace,
        keep_resources=o.keep_resources,
        force=o.force,
        correct_drift=o.correct_drift,
        compare_patches_json=o.compare_patches_json,
        ignore_conditions_json=o.ignore_conditions_json,
        force_sync_generation=o.force_sync_generation,
        take_ownership=o.take_ownership,
        service_account=o.service_account,
        namespace_labels=o.namespace_labels,
        namespace_annotations=o.namespace_annotations,
        delete_namespace=o.delete_namespace,
    )


def options_from_pb(pb: spoke_pb2.DeploymentOptions) -> ApplyOptions:
    return ApplyOptions(
        default_namespace=pb.default_namespace,
        keep_resources=pb.keep_resources,
        force=pb.force,
        correct_drift=pb.correct_drift,
        compare_patches_json=pb.compare_patches_json,
        ignore_conditions_json=pb.ignore_conditions_json,
        force_sync_generation=pb.force_sync_generation,
        take_ownership=pb.take_ownership,
        service_account=pb.service_account,
        namespace_labels=dict(pb.namespace_labels),
        namespace_annotations=dict(pb.namespace_annotations),
        delete_namespace=pb.delete_namespace,
    )
