"""Sources of bundles other than `argosy apply`: git repositories (git.py).

A source is a loop of its own beside the servicers: it fetches, finds the bundles with the
same code the CLI uses (argosy.bundle.discovery), and hands them to `Fleet.apply_bundles` like
any client. The core does not know where a bundle came from, except by its labels.
"""
