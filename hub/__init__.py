"""The Argosy hub: stores bundles, clusters, groups and tokens; targets, renders, ships diffs."""
