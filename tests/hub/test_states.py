"""Deployment state, table-driven (pure)."""

from __future__ import annotations

import pytest

from hub.states import DeploymentFacts, deployment_state, worst


def facts(**kw: object) -> DeploymentFacts:
    base: dict[str, object] = dict(
        desired="r2",
        released="r2",
        sent="r2",
        acked="r2",
        error="",
        status_revision="r2",
        ready=True,
        modified=False,
    )
    base.update(kw)
    return DeploymentFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "f", "state"),
    [
        ("nothing sent yet", facts(sent="", acked="", status_revision=""), "Pending"),
        ("old revision held, new not sent", facts(sent="r1", acked="r1"), "Pending"),
        ("sent, not acked", facts(acked="r1"), "WaitApplied"),
        ("acked with an apply error", facts(error="boom"), "ErrApplied"),
        ("acked, no status for it yet", facts(status_revision="r1"), "NotReady"),
        ("applied, not ready", facts(ready=False), "NotReady"),
        ("ready but drifted", facts(modified=True), "Modified"),
        (
            "drifted and not ready: Modified ranks worse",
            facts(modified=True, ready=False),
            "Modified",
        ),
        ("all good", facts(), "Ready"),
        ("held back by the rollout or a pause", facts(released="r1"), "OutOfSync"),
        ("never released, held by the rollout", facts(released=""), "OutOfSync"),
        ("waiting for a dependency", facts(released="", held_by_dependency=True), "Pending"),
        ("cluster offline: never a false Ready", facts(offline=True), "Offline"),
        ("offline hides stale data, errors included", facts(offline=True, error="x"), "Offline"),
        (
            "the hub cannot render it for this cluster: an error, even when offline",
            facts(desired="", released="", render_error="no label", offline=True),
            "ErrApplied",
        ),
    ],
)
def test_deployment_state(case: str, f: DeploymentFacts, state: str) -> None:
    assert deployment_state(f) == state, case


def test_worst_follows_fleet_order() -> None:
    assert worst(["Ready", "NotReady", "Modified"]) == "Modified"
    assert worst(["Pending", "WaitApplied", "ErrApplied"]) == "ErrApplied"
    assert worst([]) == "Ready"
