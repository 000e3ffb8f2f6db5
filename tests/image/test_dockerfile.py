"""The Dockerfile agrees with what it packages and with the YAML that runs it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from cli import manifests

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_every_package_of_the_project_is_copied_into_the_build() -> None:
    packages = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    wanted = {p.rstrip("*") for p in packages["packages"]["find"]["include"]}
    copied = set(re.findall(r"^COPY (\w+) /src/\1$", DOCKERFILE, re.MULTILINE))
    assert copied == wanted
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert {f"!{p}" for p in wanted} <= set(ignore)


def test_the_image_user_is_the_one_the_yaml_runs_as() -> None:
    deployment = next(d for d in manifests.hub_docs(image="i:1") if d["kind"] == "Deployment")
    run_as = deployment["spec"]["template"]["spec"]["containers"][0]
    uid = run_as["securityContext"]["runAsUser"]
    assert f"USER {uid}:{uid}" in DOCKERFILE
    assert 'ENTRYPOINT ["argosy"]' in DOCKERFILE
    # The containers' arguments are argosy's: `hub ...`, `spoke ...`.
    assert run_as["args"][0] == "hub"
