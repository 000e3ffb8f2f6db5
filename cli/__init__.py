"""The argosy command line: one command, many subcommands, all through the public gRPC API."""
