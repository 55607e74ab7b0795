"""The command line: subcommands listed, every default stated, user errors exit 2 without a traceback."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

import main as entry
from core.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[name] = sub
                for child_name, child in _subparsers(sub).items():
                    found[f"{name} {child_name}"] = child
    return found


def test_help_lists_subcommands():
    result = subprocess.run([sys.executable, "main.py", "--help"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0
    parser, _ = build_parser()
    names = [n for n in _subparsers(parser) if " " not in n]
    assert len(names) >= 3
    for name in names + ["app"]:
        assert name in result.stdout


def test_every_option_states_its_default():
    """Each subcommand's --help shows the default of every option (argparse's defaults formatter)."""
    parser, _ = build_parser()
    subs = _subparsers(parser)
    assert subs
    for name, sub in subs.items():
        formatter = sub._get_formatter()
        for action in sub._actions:
            if not action.option_strings or action.help in (None, argparse.SUPPRESS):
                continue
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction)) or action.required:
                continue
            if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)):
                continue  # a flag is off unless given
            shown = formatter._get_help_string(action)
            assert "%(default)" in shown or "default" in shown.lower(), (
                f"`{name} {action.option_strings[0]}` --help does not state its default")
        if any(a.option_strings and a.default not in (None, False, argparse.SUPPRESS) for a in sub._actions):
            assert "(default:" in sub.format_help(), f"`{name}` --help states no defaults"


def test_unknown_command_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        entry.main(["no-such-command"])
    assert info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_app_without_a_display_is_one_line_and_exit_2():
    env = {k: v for k, v in __import__("os").environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "main.py"], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "no display found" in result.stderr and "Traceback" not in result.stderr
