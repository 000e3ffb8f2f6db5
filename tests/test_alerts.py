"""docs/alerts.yaml: valid Prometheus rules, their promtool unit tests (docs/alerts-test.yaml)
pass, and every metric they read is one the hub exposes.

promtool comes from Debian's `prometheus` package. Without it these skip, saying why, unless
ARGOSY_REQUIRE_PROMTOOL is set (CI sets it): then they fail, so CI cannot pass by skipping.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        reason = "promtool is not installed (Debian: apt-get install prometheus)"
        if os.environ.get("ARGOSY_REQUIRE_PROMTOOL"):
            pytest.fail(f"ARGOSY_REQUIRE_PROMTOOL is set but {reason}")
        pytest.skip(reason)
    return path


def run(*args: str) -> str:
    done = subprocess.run(args, cwd=DOCS, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


def test_alert_rules_are_valid() -> None:
    out = run(promtool(), "check", "rules", "alerts.yaml")
    assert "SUCCESS" in out


def test_alert_rules_pass_their_unit_tests() -> None:
    out = run(promtool(), "test", "rules", "alerts-test.yaml")
    assert "SUCCESS" in out


def test_alert_rules_read_only_metrics_the_hub_exposes() -> None:
    rules = yaml.safe_load((DOCS / "alerts.yaml").read_text())
    exprs = [r["expr"] for g in rules["groups"] for r in g["rules"]]
    used = {name for e in exprs for name in re.findall(r"\bargosy_hub_\w+", e)}
    assert used, "the rules read no argosy_hub_ metric"
    exposed = (ROOT / "hub" / "metrics.py").read_text()
    missing = sorted(n for n in used if f'"{n}"' not in exposed and n not in _constants(exposed))
    assert not missing, f"docs/alerts.yaml reads metrics hub/metrics.py does not define: {missing}"


def _constants(source: str) -> set[str]:
    """Names hub/metrics.py defines as module constants (NOT_READY = "argosy_hub_...")."""
    return set(re.findall(r'^[A-Z_]+ = "(argosy_hub_\w+)"', source, re.MULTILINE))
