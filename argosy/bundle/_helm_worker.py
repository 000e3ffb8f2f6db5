"""Render one Helm chart offline with helm-python-sdk, or pull one from an OCI registry; run as
a child process by engines.py.

A child process, not a thread: Helm's Go runtime then lives and dies with the render, a render
that hangs can be killed at its deadline, and a crash in native code cannot take the hub down.
Reads {"chart", "values", "release", "namespace"} as JSON on stdin and writes
{"manifests": [...]}, or reads {"pull", "version", "destination", "username", "password"} and
writes {"output": path}; either way {"error": "..."} on failure, as JSON on stdout.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import helm_python


def pull(request: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = helm_python.pull(
        request["pull"],
        destination=request["destination"],
        version=request["version"] or None,
        username=request["username"] or None,
        password=request["password"] or None,
        plain_http=bool(request.get("plain_http")),
    )
    return {"output": str(result.get("output", ""))}


def render(request: dict[str, Any]) -> dict[str, Any]:
    with helm_python.Chart.load(request["chart"]) as chart:
        rendered = chart.render(
            request["values"],
            name=request["release"],
            namespace=request["namespace"],
            is_install=True,
        )
        crds = [crd["data"] for crd in chart.crds]
    # helm template's order: CRDs first, then templates by path; NOTES.txt is not a manifest.
    manifests = crds + [
        text for path, text in sorted(rendered.items()) if not path.endswith("NOTES.txt")
    ]
    return {"manifests": manifests}


def main() -> int:
    request = json.load(sys.stdin)
    try:
        answer = pull(request) if "pull" in request else render(request)
    except helm_python.HelmError as exc:
        json.dump({"error": str(exc)}, sys.stdout)
        return 1
    json.dump(answer, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
