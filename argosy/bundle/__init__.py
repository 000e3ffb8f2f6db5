"""Bundles: reading a bundle directory, validating it, targeting it, and rendering it.

The CLI reads directories into BundleSources and sends their files; the hub loads the same files
with the same code, so a bundle the CLI accepts is one the hub accepts, and the hub never trusts
the CLI's word for it. The hub then asks targeting which clusters get the bundle and with which
render key, and renders once per key.
"""

from argosy.bundle.fleetyaml import BundleOptions, DeploymentOptions, parse_fleet_yaml
from argosy.bundle.loader import Bundle, load_bundle
from argosy.bundle.reader import BundleSource, read_bundle_dirs
from argosy.bundle.render import render
from argosy.bundle.targeting import (
    Cluster,
    Decision,
    Target,
    apply_options,
    decide,
    target_for,
)

__all__ = [
    "Bundle",
    "BundleOptions",
    "BundleSource",
    "Cluster",
    "Decision",
    "DeploymentOptions",
    "Target",
    "apply_options",
    "decide",
    "load_bundle",
    "parse_fleet_yaml",
    "read_bundle_dirs",
    "render",
    "target_for",
]
