"""scripts/merge_runs.py: seeds from several run folders in one table, each number keeping its run."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "merge_runs.py"


def _run_metrics(path: Path, seeds: list[int], p1: dict[int, float]) -> Path:
    """A run folder's metrics.json with one A → fr translation evaluation per seed."""
    evals = [{"learner": "unit-skipgram", "configuration": "A", "seed": s, "text": "fr", "task": "translation",
              "language": "fr", "stage": f"eval-A-fr-s{s}", "alignment": {"method_used": "selflearn"},
              "scores": {"test_segments": 100, "labelled": 100, "evaluated": 80, "coverage": 0.8, "test_words": 40,
                         "p@1_nn": p1[s], "p@5_nn": p1[s], "p@1_csls": p1[s], "p@5_csls": p1[s]}}
             for s in seeds]
    path.mkdir(parents=True)
    (path / "metrics.json").write_text(json.dumps({
        "experiment": "x", "config_file": "experiments/x.toml", "date": "2026-12-02 12:00:00",
        "config": {"seeds": seeds}, "evaluations": evals}), encoding="utf-8")
    return path / "metrics.json"


def _merge(tmp_path, *args):
    return subprocess.run([sys.executable, str(SCRIPT), *args, "--name", "x", "--out", str(tmp_path / "merged")],
                          capture_output=True, text=True, cwd=ROOT)


def test_a_seed_redone_in_a_later_run_is_taken_from_that_run_only(tmp_path):
    first = _run_metrics(tmp_path / "run1", [1, 2], {1: 0.30, 2: 0.32})
    redo = _run_metrics(tmp_path / "run2", [2], {2: 0.20})
    result = _merge(tmp_path, f"{first}@1", str(redo))
    assert result.returncode == 0, result.stderr
    merged = json.loads((tmp_path / "merged" / "metrics.json").read_text(encoding="utf-8"))
    by_seed = {e["seed"]: e for e in merged["evaluations"]}
    assert sorted(by_seed) == [1, 2]
    assert by_seed[2]["scores"]["p@1_csls"] == 0.20 and by_seed[2]["run"] == str(tmp_path / "run2")
    assert by_seed[1]["run"] == str(tmp_path / "run1")
    assert [s["seeds_taken"] for s in merged["sources"]] == [[1], [2]]
    assert merged["config_file"] == "experiments/x.toml"  # one config named once
    assert "25.0" in (tmp_path / "merged" / "results.md").read_text(encoding="utf-8")  # mean of 30 and 20


def test_the_same_seed_from_two_runs_is_refused(tmp_path):
    first = _run_metrics(tmp_path / "run1", [1, 2], {1: 0.30, 2: 0.32})
    redo = _run_metrics(tmp_path / "run2", [2], {2: 0.20})
    result = _merge(tmp_path, str(first), str(redo))
    assert result.returncode == 2
    assert "appears in two runs" in result.stderr


@pytest.mark.parametrize("suffix", ["@one", "@1,x"])
def test_bad_seed_lists_are_one_line_errors(tmp_path, suffix):
    first = _run_metrics(tmp_path / "run1", [1], {1: 0.30})
    result = _merge(tmp_path, f"{first}{suffix}")
    assert result.returncode == 2
    assert "seeds after @ must be comma-separated integers" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_or_malformed_metrics_are_one_line_errors(tmp_path):
    missing = _merge(tmp_path, str(tmp_path / "nowhere" / "metrics.json"))
    assert missing.returncode == 2 and "cannot read it" in missing.stderr and "Traceback" not in missing.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    result = _merge(tmp_path, str(broken))
    assert result.returncode == 2 and "not a metrics.json" in result.stderr and "Traceback" not in result.stderr
    other = tmp_path / "other.json"
    other.write_text('{"evaluations": []}', encoding="utf-8")
    result = _merge(tmp_path, str(other))
    assert result.returncode == 2 and "missing config_file, date, config" in result.stderr
    assert not (tmp_path / "merged").exists()  # nothing written on bad input
