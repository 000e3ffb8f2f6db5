"""The Argosy spoke: registers, holds one stream to the hub, applies, watches and reports."""
