"""Wordbridge: `python main.py [PROJECT]` opens the desktop app (on PROJECT, a project folder, when given);
`python main.py COMMAND ...` is the command line."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the app (no arguments, `app [PROJECT]`, or a project folder) or a command; returns the exit code."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and _is_project_folder(argv[0]):
        argv = ["app", *argv]  # `python main.py PROJECT` opens that project in the app
    from core.cli import ArgumentParser, HelpFormatter, add_command, build_parser, run

    if not argv or argv[0] == "app":
        # The app alone: skip importing every command module (torch among them) before the window shows.
        parser = ArgumentParser(prog="wordbridge app", formatter_class=HelpFormatter, description=APP_HELP)
        _add_app_arguments(parser)
        return run(parser.parse_args(argv[1:]), parser)
    parser, sub = build_parser()
    _add_app_arguments(add_command(sub, "app", help=APP_HELP))
    return run(parser.parse_args(argv), parser)


APP_HELP = "open the desktop app (the default when no command is given)"


def _is_project_folder(arg: str) -> bool:
    """Whether a first argument names a project folder (or its wordbridge.json) rather than a command."""
    from pathlib import Path

    path = Path(arg)
    return not arg.startswith("-") and (path / "wordbridge.json").is_file() or \
        (path.name == "wordbridge.json" and path.is_file())


def _add_app_arguments(parser) -> None:
    parser.add_argument("project", nargs="?", default=None,
                        help="project folder to open; none opens the last project or the bundled demo")
    parser.set_defaults(func=_run_app)


def _run_app(args) -> int:
    import os

    from core.errors import WordbridgeError

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
                                                 or os.environ.get("QT_QPA_PLATFORM")):
        # Qt would abort with a core dump; say what is missing instead.
        raise WordbridgeError("no display found (DISPLAY and WAYLAND_DISPLAY are unset): start the app from a "
                              "desktop session, or use the command line (python main.py --help)")
    from app.main_window import run_app

    return run_app(args.project)


if __name__ == "__main__":
    sys.exit(main())
