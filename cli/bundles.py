"""Bundle directories as the CLI reads them: checked locally, every problem named by the path the
user gave, before anything is sent to a hub.

`apply`, `render`, `target` and `demo` all read bundles this way; it lives here, not in one of
them, so that none imports another (cli.demo once imported cli.main for it: an import cycle).
Locating problems by path is argosy.bundle.discovery's, shared with the hub's git source.
"""

from __future__ import annotations

from collections.abc import Sequence

from argosy.api.v1 import fleet_pb2, resources_pb2
from argosy.bundle import Bundle, BundleSource, read_bundle_dirs
from argosy.bundle.discovery import load_located
from argosy.errors import Problems


def bundle_specs(
    dirs: Sequence[str], *, name: str | None, labels: dict[str, str]
) -> list[fleet_pb2.BundleSpec]:
    """Read and check bundle dirs locally: errors name the file and line before anything is sent.

    Every bundle is checked, and every problem found is reported together.
    """
    specs = []
    problems = Problems()
    for source in read_bundle_dirs(dirs, name=name):
        with problems.check():
            load_local(source, labels=labels)
            specs.append(
                fleet_pb2.BundleSpec(
                    name=source.name,
                    labels=labels,
                    files=[
                        resources_pb2.BundleFile(path=p, content=c)
                        for p, c in sorted(source.files.items())
                    ],
                )
            )
    problems.raise_any()
    return specs


def load_local(source: BundleSource, *, labels: dict[str, str] | None = None) -> Bundle:
    """load_bundle, with each problem naming its file by the path the user gave."""
    return load_located(source, labels=labels)
