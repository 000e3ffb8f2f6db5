"""Render one Helm chart offline with helm-python-sdk; run as a child process by engines.py.

A child process, not a thread: Helm's Go runtime then lives and dies with the render, a render
that hangs can be killed at its deadline, and a crash in native code cannot take the hub down.
Reads {"chart", "values", "release", "namespace"} as JSON on stdin; writes {"manifests": [...]}
or {"error": "..."} as JSON on stdout.
"""

from __future__ import annotations

import json
import sys

import helm_python


def main() -> int:
    request = json.load(sys.stdin)
    try:
        with helm_python.Chart.load(request["chart"]) as chart:
            rendered = chart.render(
                request["values"],
                name=request["release"],
                namespace=request["namespace"],
                is_install=True,
            )
            crds = [crd["data"] for crd in chart.crds]
    except helm_python.HelmError as exc:
        json.dump({"error": str(exc)}, sys.stdout)
        return 1
    # helm template's order: CRDs first, then templates by path; NOTES.txt is not a manifest.
    manifests = crds + [
        text for path, text in sorted(rendered.items()) if not path.endswith("NOTES.txt")
    ]
    json.dump({"manifests": manifests}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
