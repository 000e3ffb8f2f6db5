"""Bundles: reading a bundle directory, validating it, and rendering it for a cluster.

The CLI reads directories into BundleSources and sends their files; the hub loads the same files
with the same code, so a bundle the CLI accepts is one the hub accepts, and the hub never trusts
the CLI's word for it.
"""

from argosy.bundle.loader import Bundle, load_bundle
from argosy.bundle.reader import BundleSource, read_bundle_dirs

__all__ = ["Bundle", "BundleSource", "load_bundle", "read_bundle_dirs"]
