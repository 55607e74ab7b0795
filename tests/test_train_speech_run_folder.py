"""Issue 17, deliver 3 for `train-speech`: the run folder is built aside (`.<name>.partial`, next to
--out) and renamed into place when the run finishes (`core.run_folder.resumable_run_folder`, the same
swap as `align`). Real processes killed with SIGKILL: a run killed mid-training is never under --out
and its rerun resumes from the checkpoint; a rerun killed just before its rename leaves the finished
run under --out exactly as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.speech.toy_corpus import make_toy_corpus
from test_speech_cli import FAST, write_store

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}

# main.py train-speech in a process that kills itself (SIGKILL, nothing cleaned up) at one point
KILLER = ("import os, signal, sys\n"
          "import core.speech.training as t, core.run_folder as rf\n"
          "point, at = sys.argv[1], int(sys.argv[2])\n"
          "save = t.save_checkpoint\n"
          "def save_then_die(ckpt_dir, model, optimizer, info):\n"
          "    save(ckpt_dir, model, optimizer, info)\n"
          "    if point == 'checkpoint' and info['step'] >= at: os.kill(os.getpid(), signal.SIGKILL)\n"
          "def die(*args): os.kill(os.getpid(), signal.SIGKILL)\n"
          "t.save_checkpoint = save_then_die\n"
          "if point == 'swap': rf._swap_into_place = die\n"
          "from core.cli import main\nsys.exit(main(sys.argv[3:]))\n")


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("store") / "toy"
    write_store(folder, make_toy_corpus(n_types=6, n_utterances=20, words_per_utterance=5, mean_frames=12))
    return folder


def _args(store: Path, run: Path, *extra: str) -> list[str]:
    return ["train-speech", str(store), "--out", str(run), "--learner", "speech2vec", "--config", "A",
            "--epochs", "3", "--checkpoint-every", "2", *FAST, *extra]


def _killed(point: str, at: int, args: list[str]) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-c", KILLER, point, str(at), *args], cwd=ROOT, env=ENV,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == -9, result.stderr[-2000:]
    return result


def _run(args: list[str]) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=ENV, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_run_killed_mid_training_is_not_under_out_and_its_rerun_resumes(store_dir, tmp_path):
    run, partial = tmp_path / "run", tmp_path / ".run.partial"
    _killed("checkpoint", 2, _args(store_dir, run))
    assert not run.exists()  # nothing of an unfinished run is under --out
    checkpoint = json.loads((partial / "checkpoints" / "speech2vec" / "checkpoint.json").read_text())
    assert checkpoint["step"] == 2 and not checkpoint["finished"]
    rerun = _run(_args(store_dir, run))
    assert "speech2vec: resumed from step 2 (epoch" in rerun.stdout + rerun.stderr
    # and in the run's own log, after the first run's lines (issue 17: it used to be on the terminal only)
    log = (run / "log.txt").read_text()
    assert "speech2vec: resumed from step 2 (epoch 1, checkpoint" in log, log
    assert log.index("speech2vec: resumed from step 2") > log.index("speech2vec / configuration A")
    assert json.loads((run / "metrics.json").read_text())["types"] == 6
    assert not partial.exists() and sorted(p.name for p in tmp_path.iterdir()) == [".run.lock", "run"]


def test_a_rerun_killed_before_its_rename_leaves_the_finished_run_whole(store_dir, tmp_path):
    run, partial = tmp_path / "run", tmp_path / ".run.partial"
    _run(_args(store_dir, run))
    before = _files(run)
    # the rerun goes all the way (a new log line, metrics rewritten) and is killed before the rename
    _killed("swap", 0, _args(store_dir, run, "--checkpoint-every", "3"))
    assert _files(run) == before  # the finished run, byte for byte: the new files are all in .run.partial
    assert (partial / "log.txt").read_text().count("speech2vec / configuration A") == 2
    _run(_args(store_dir, run))  # the next run continues the partial one and puts it in place
    assert (run / "log.txt").read_text().count("speech2vec / configuration A") == 3
    assert not partial.exists()


def test_an_unfinished_run_with_other_settings_is_one_line(store_dir, tmp_path):
    run = tmp_path / "run"
    _killed("checkpoint", 2, _args(store_dir, run))
    result = subprocess.run([sys.executable, "main.py", *_args(store_dir, run, "--seed", "7")], cwd=ROOT, env=ENV,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line
    assert ".run.partial holds an unfinished run with other settings (seed)" in line
    assert "delete that folder to start over" in line
