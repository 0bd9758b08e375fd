"""The `antrian` command: the core's subcommands, and each wing's through the registry."""

from antrian.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
