"""Issue 17, deliver 6: Cancel (the app's button; Ctrl-C on the command line) writes a checkpoint
before training stops, so no step is lost, and a resumed run says "resumed from step N"."""

from __future__ import annotations

import json
from pathlib import Path

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


def _ddp_cancel_worker(rank: int, world: int, port: int, out_dir: str, interrupt_at: int) -> None:
    """One of two gloo ranks: an uninterrupted run, then a run whose rank 1 gets SIGINT (Ctrl-C)
    before its `interrupt_at`-th step, then a rerun into the same folder."""
    import os
    import signal

    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "WORLD_SIZE": str(world),
                       "RANK": str(rank), "LOCAL_RANK": str(rank)})
    torch.set_num_threads(1)
    import torch.distributed as dist

    from core.speech.training import distributed_context

    ctx = distributed_context("cpu")
    store = make_toy_corpus(n_types=6, n_utterances=24, words_per_utterance=5, mean_frames=12)
    toy = (store, load_frames(store, max_frames=30))
    settings = LoopSettings(**SETTINGS)
    out: dict = {}

    straight = _task(toy)
    out["full_steps"] = train(straight, settings, os.path.join(out_dir, "straight"), ctx=ctx).steps

    class Recorder(Progress):
        def __init__(self, interrupt_at: int | None = None):
            super().__init__(self._listen)
            self.lines, self.last_step, self.calls, self.interrupt_at = [], 0, 0, interrupt_at

        def _listen(self, stage, done, total, info):
            if "message" in info:
                self.lines.append(info["message"])
            elif done > 0:
                self.last_step = int(done)

        def check(self) -> None:
            self.calls += 1
            if self.calls == self.interrupt_at:
                os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C on this rank only
            super().check()

    handler_before = signal.getsignal(signal.SIGINT)
    progress = Recorder(interrupt_at if rank == 1 else None)
    try:
        train(_task(toy), settings, os.path.join(out_dir, "run"), progress=progress, ctx=ctx)
        out["cancelled"] = False
    except Cancelled:
        out["cancelled"] = True
    out["stopped_at"], out["cancel_lines"] = progress.last_step, progress.lines
    out["handler_restored"] = signal.getsignal(signal.SIGINT) is handler_before
    run = Path(out_dir) / "run"  # what the cancel left, before the rerun writes over it
    out["checkpoint"] = json.loads((run / "checkpoint.json").read_text())
    out["weights_files"] = sorted(p.name for p in run.glob("ckpt-*.safetensors"))

    torch.manual_seed(12345 + rank)  # the rerun starts from another global RNG state
    resumed, again = _task(toy), Recorder()
    result = train(resumed, settings, os.path.join(out_dir, "run"), progress=again, ctx=ctx)
    out.update(resume_lines=again.lines, finished=result.finished, steps=result.steps, history=result.history)
    out["straight"] = {k: v.clone() for k, v in straight.model.state_dict().items()}
    out["resumed"] = {k: v.clone() for k, v in resumed.model.state_dict().items()}
    torch.save(out, os.path.join(out_dir, f"rank{rank}.pt"))
    dist.destroy_process_group()


def test_ctrl_c_on_one_ddp_rank_stops_every_rank_with_one_checkpoint(tmp_path):
    """Two gloo ranks: SIGINT on rank 1 only → both ranks stop after the same step, rank 0 writes one
    checkpoint, and a rerun says "resumed from step N" and ends where an uninterrupted run ends."""
    import socket

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    interrupt_at = 3  # rank 1 is interrupted before its 3rd of 4 steps in epoch 1: mid-epoch
    # fork: the children inherit the imported modules (spawn re-imports torch, seconds per process)
    mp.start_processes(_ddp_cancel_worker, args=(2, port, str(tmp_path), interrupt_at), nprocs=2, join=True,
                       start_method="fork")
    r0, r1 = (torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in (0, 1))
    stop = r0["stopped_at"]
    assert r0["cancelled"] and r1["cancelled"]  # rank 0 was never interrupted, yet stopped too
    assert stop == r1["stopped_at"] and interrupt_at <= stop < r0["full_steps"]
    assert r0["handler_restored"] and r1["handler_restored"]
    assert any(f"cancelled; checkpoint at step {stop}" in line for line in r0["cancel_lines"]), r0["cancel_lines"]
    info = r0["checkpoint"]
    assert info["step"] == stop and info["world"] == 2 and not info["finished"]
    assert r0["weights_files"] == [f"ckpt-{stop:09d}.safetensors"]  # one checkpoint, rank 0's
    for r in (r0, r1):
        assert any(f"resumed from step {stop}" in line for line in r["resume_lines"]), r["resume_lines"]
        assert r["finished"] and r["steps"] == r["full_steps"]
        assert len(r["history"]) == r["steps"]  # log_every=1: the curve continues without a gap
        for name, value in r["straight"].items():  # same ranks, same threads; a tolerance, not last bits
            torch.testing.assert_close(r["resumed"][name], value, rtol=1e-5, atol=1e-6, msg=name)
    for (s0, _, l0), (s1, _, l1) in zip(r0["history"], r1["history"]):
        assert s0 == s1 and l0 == pytest.approx(l1)  # the losses are averaged over the ranks


def test_sigint_cancels_first_then_interrupts_and_puts_the_handler_back(capsys):
    """core.progress.sigint_cancels (the CLI's train-speech and every DDP rank use it): the first
    Ctrl-C cancels the work's Progress and says so on stderr, a second raises KeyboardInterrupt,
    and the handler from before is restored."""
    import os
    import signal

    from core.progress import Progress, sigint_cancels

    before = signal.getsignal(signal.SIGINT)
    progress = Progress()
    with pytest.raises(KeyboardInterrupt):
        with sigint_cancels(progress, "interrupted: test message"):
            os.kill(os.getpid(), signal.SIGINT)
            assert progress.cancelled
            assert "interrupted: test message" in capsys.readouterr().err
            os.kill(os.getpid(), signal.SIGINT)  # a second Ctrl-C stops at once
    assert signal.getsignal(signal.SIGINT) is before
