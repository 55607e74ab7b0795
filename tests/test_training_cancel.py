"""Issue 17, deliver 6: Cancel (the app's button; Ctrl-C on the command line) writes a checkpoint
before training stops, so no step is lost, and a resumed run says "resumed from step N"."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.errors import Cancelled
from core.progress import Progress
from core.speech.batching import load_frames
from core.speech.speech2vec import Speech2Vec, Speech2VecTask
from core.speech.toy_corpus import make_toy_corpus
from core.speech.training import LoopSettings, train

SETTINGS = dict(epochs=2, optimizer="adam", lr=1e-2, device="cpu", checkpoint_every=1000, log_every=1)


torch.set_num_threads(1)


@pytest.fixture(scope="module")
def toy():
    store = make_toy_corpus(n_types=6, n_utterances=24, words_per_utterance=5, mean_frames=12)
    return store, load_frames(store, max_frames=30)


def _task(toy):
    store, frames = toy
    torch.manual_seed(0)
    model = Speech2Vec(13, dim=8, hidden=8)
    return Speech2VecTask(model, frames, np.arange(store.n_segments), store.utterance_ids, 3, 16, 2, 0)


class CancelAfter(Progress):
    """Presses Cancel when the loop checks for the `n`-th time (before step n runs)."""

    def __init__(self, n: int, lines: list[str]):
        super().__init__(lambda stage, done, total, info: lines.append(info.get("message", "")) if info else None)
        self.n, self.calls = n, 0

    def check(self) -> None:
        self.calls += 1
        if self.calls == self.n:
            self.cancel()
        super().check()


def test_cancel_writes_a_checkpoint_and_the_resumed_run_says_so(toy, tmp_path):
    straight = _task(toy)
    full = train(straight, LoopSettings(**SETTINGS), tmp_path / "straight")
    lines: list[str] = []
    with pytest.raises(Cancelled):
        train(_task(toy), LoopSettings(**SETTINGS), tmp_path / "run", progress=CancelAfter(5, lines))
    assert any("cancelled; checkpoint at step 4" in line for line in lines)
    resumed_lines: list[str] = []
    resumed = _task(toy)
    rest = train(resumed, LoopSettings(**SETTINGS), tmp_path / "run", progress=CancelAfter(10**9, resumed_lines))
    assert any("resumed from step 4" in line for line in resumed_lines), resumed_lines
    assert rest.finished and rest.steps == full.steps and rest.history == full.history
    for (name, a), (_, b) in zip(straight.model.state_dict().items(), resumed.model.state_dict().items()):
        assert torch.equal(a, b), name
