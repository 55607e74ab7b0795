"""The command line: `python main.py SUBCOMMAND ...`.

Each subcommand lives in its own module under `core/commands/` with a `register(subparsers)`
function that adds its parser and sets `func(args) -> int`. User errors (`WordbridgeError`)
print one line and exit with code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from core.errors import WordbridgeError

# Modules under core/commands, in the order --help lists them.
COMMAND_MODULES = [
    "synthesize",
    "corpus",
    "text_space",
    "speech",
    "align",
    "evaluate",
    "classify",
    "project",
    "experiment",
    "selfsup",
]


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Shows every default in --help and keeps the description's line breaks."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse with exit code 2 and one line for usage errors (argparse's own convention)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    """Build the top-level parser with every registered subcommand."""
    parser = ArgumentParser(
        prog="wordbridge",
        description="Wordbridge: align a space of spoken words with a space of written words "
        "without parallel data (Chung et al., NeurIPS 2018). Run with no arguments to open the app.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version="wordbridge 0.1.0")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for name in COMMAND_MODULES:
        importlib.import_module(f"core.commands.{name}").register(sub)
    return parser, sub


def add_command(sub, name: str, help: str, description: str | None = None) -> argparse.ArgumentParser:
    """Add a subcommand parser that shows defaults in its --help."""
    return sub.add_parser(name, help=help, description=description or help, formatter_class=HelpFormatter)


def run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Run the parsed subcommand, turning user errors into one line on stderr and exit code 2."""
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except WordbridgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    """Entry point of the command line (without the app subcommand, see main.py)."""
    parser, _ = build_parser()
    args = parser.parse_args(argv)
    return run(args, parser)
