"""Wordbridge: `python main.py` opens the desktop app; `python main.py COMMAND ...` is the command line."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from core.cli import add_command, build_parser, run

    parser, sub = build_parser()
    app = add_command(sub, "app", help="open the desktop app (the default when no command is given)")
    app.add_argument("project", nargs="?", default=None,
                     help="project folder to open; none opens the last project or the bundled demo")
    app.set_defaults(func=_run_app)
    if not argv:
        argv = ["app"]
    args = parser.parse_args(argv)
    return run(args, parser)


def _run_app(args) -> int:
    from app.main_window import run_app

    return run_app(args.project)


if __name__ == "__main__":
    sys.exit(main())
