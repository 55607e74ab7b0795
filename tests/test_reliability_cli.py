"""Command-line promises of issue 17: `main.py PROJECT` opens the project, the default data folder
follows the repository, and `align` without --method does not start hours of CPU work."""

from __future__ import annotations

from pathlib import Path

import pytest

import main as entry
from core.project import Project

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("manifest", [False, True])
def test_main_with_a_project_folder_opens_it_in_the_app(tmp_path, monkeypatch, manifest):
    p = Project.create(tmp_path / "proj", "Opened")
    opened = []
    monkeypatch.setattr(entry, "_run_app", lambda args: opened.append(args.project) or 0)
    arg = str(p.root / "wordbridge.json") if manifest else str(p.root)
    assert entry.main([arg]) == 0 and opened == [arg]


def test_main_with_an_unknown_word_is_still_a_one_line_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        entry.main([str(tmp_path / "not-a-project")])
    assert exc.value.code == 2 and "Traceback" not in capsys.readouterr().err


def test_default_data_folder_is_the_repositorys_sibling_shared_data():
    from core.pipeline.config import DEFAULT_DATA

    assert Path(DEFAULT_DATA) == REPO.parent / "shared" / "data"


@pytest.mark.parametrize("cuda, device, expected", [(False, "auto", "selflearn"), (True, "auto", "auto"),
                                                     (True, "cpu", "selflearn")])
def test_align_without_method_runs_the_robust_method_on_a_cpu(monkeypatch, cuda, device, expected):
    import torch

    from core.cli import build_parser
    from core.commands.align import config_from_args

    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    parser, _ = build_parser()
    args = parser.parse_args(["align", "a.vec", "b.vec", "--out", "o", "--device", device])
    assert config_from_args(args).method == expected
    args = parser.parse_args(["align", "a.vec", "b.vec", "--out", "o", "--method", "auto"])
    assert config_from_args(args).method == "auto"  # asked for explicitly: kept


def test_align_gw_start_option_turns_on_the_gromov_wasserstein_starts():
    from core.cli import build_parser
    from core.commands.align import config_from_args

    parser, _ = build_parser()
    plain = config_from_args(parser.parse_args(["align", "a.vec", "b.vec", "--out", "o", "--method", "selflearn"]))
    assert plain.gw_start is False
    cfg = config_from_args(parser.parse_args(["align", "a.vec", "b.vec", "--out", "o", "--method", "selflearn",
                                              "--gw-start"]))
    assert cfg.gw_start is True and cfg.gw_starts() == [(0.005, 2000), (0.01, 2000), (0.005, 3000), (0.01, 3000)]
