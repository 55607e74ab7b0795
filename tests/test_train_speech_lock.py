"""Issue 17: two `train-speech` processes pointed at one --out run folder. The second is refused with
one line (exit 2) before it reads or writes anything there, instead of both training into the same
checkpoints. Real processes: the first trains (long), the second starts while it runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.speech.toy_corpus import make_toy_corpus
from test_speech_cli import write_store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("store") / "toy"
    write_store(folder, make_toy_corpus(n_types=6, n_utterances=40, words_per_utterance=6, mean_frames=15))
    return folder


def _command(store: Path, run: Path) -> list[str]:
    return [sys.executable, "main.py", "train-speech", str(store), "--out", str(run), "--learner", "speech2vec",
            "--epochs", "100000", "--checkpoint-every", "1000000", "--device", "cpu", "--batch-size", "32", "--quiet"]


def test_a_second_train_speech_on_the_same_out_is_refused(store_dir, tmp_path):
    from filelock import FileLock

    run = tmp_path / "run"
    building = tmp_path / ".run.partial"  # a run is built aside, renamed to `run` when it finishes
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    first = subprocess.Popen(_command(store_dir, run), cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 120
        while not (building / "log.txt").is_file():  # written once the first run holds the folder
            assert first.poll() is None, first.stderr.read()
            assert time.time() < deadline, "the first run did not start"
            time.sleep(0.2)
        log_before = (building / "log.txt").read_text()
        second = subprocess.run(_command(store_dir, run), cwd=ROOT, env=env, capture_output=True, text=True,
                                timeout=60)
        assert first.poll() is None, "the first run must still be training"
        assert second.returncode == 2, second.stderr
        assert "another run is writing this folder" in second.stderr and "Traceback" not in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
        assert (building / "log.txt").read_text().count("speech2vec / configuration") == 1  # only the first wrote
        assert not run.exists()  # an unfinished run is never under --out
        assert log_before.count("speech2vec / configuration") == 1
    finally:
        first.kill()
        first.wait()
    lock = FileLock(str(tmp_path / ".run.lock"), timeout=0)
    lock.acquire()  # the killed holder released it with its process
    lock.release()
