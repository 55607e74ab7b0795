"""Subcommands of the command line; each module has `register(subparsers)`."""
