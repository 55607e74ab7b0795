"""The training loop: exact resume after a kill, pickle-free checkpoints, DDP over gloo, devices."""

import json
import os
import socket

import numpy as np
import pytest
import torch

from core.errors import WordbridgeError
from core.speech.acoustic import AugmentSettings, ContrastiveAWE, ContrastiveTask
from core.speech.batching import load_frames
from core.speech.speech2vec import Speech2Vec, Speech2VecTask
from core.speech.toy_corpus import make_toy_corpus
from core.speech.training import LoopSettings, resolve_device, train

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def toy():
    store = make_toy_corpus(n_types=6, n_utterances=24, words_per_utterance=5, mean_frames=12)
    return store, load_frames(store, max_frames=30)


def _speech2vec_task(toy, optimizer):
    store, frames = toy
    torch.manual_seed(0)
    model = Speech2Vec(13, dim=8, hidden=8)
    return Speech2VecTask(model, frames, np.arange(store.n_segments), store.utterance_ids, 3, 16, 2, 0)


def _acoustic_task(toy, optimizer):
    store, frames = toy
    torch.manual_seed(0)
    model = ContrastiveAWE(13, "conv", hidden=8, dim=8)
    return ContrastiveTask(model, frames, np.arange(store.n_segments), AugmentSettings(max_frames=30), 16, 2, 0)


@pytest.mark.parametrize("make_task,optimizer", [(_speech2vec_task, "sgd"), (_speech2vec_task, "adam"),
                                                 (_acoustic_task, "adam")])
def test_resume_after_kill_gives_identical_parameters(toy, tmp_path, make_task, optimizer):
    settings = dict(epochs=3, optimizer=optimizer, lr=1e-2, momentum=0.9 if optimizer == "sgd" else 0.0,
                    device="cpu", checkpoint_every=3, log_every=1, grad_clip=1.0)
    straight = make_task(toy, optimizer)
    full = train(straight, LoopSettings(**settings), tmp_path / "straight")
    n = full.steps
    stop = n // 2 + 1  # in the middle of an epoch, not on a checkpoint boundary
    killed = make_task(toy, optimizer)
    part = train(killed, LoopSettings(**settings, stop_after_steps=stop), tmp_path / "resumed")
    assert not part.finished and part.steps == stop
    torch.manual_seed(12345)  # the resumed process starts from another global RNG state
    resumed = make_task(toy, optimizer)  # a fresh model, as after a restart
    rest = train(resumed, LoopSettings(**settings), tmp_path / "resumed")
    assert rest.finished and rest.steps == n
    for (name, a), (_, b) in zip(straight.model.state_dict().items(), resumed.model.state_dict().items()):
        assert torch.equal(a, b), name
    assert rest.history == full.history  # the same loss curve, continued


def test_checkpoint_is_safetensors_and_json_only(toy, tmp_path):
    task = _speech2vec_task(toy, "adam")
    train(task, LoopSettings(epochs=1, optimizer="adam", device="cpu", checkpoint_every=2), tmp_path)
    files = sorted(p.name for p in tmp_path.iterdir())  # older weights files are removed
    assert len(files) == 2 and files[0] == "checkpoint.json" and files[1].endswith(".safetensors")
    info = json.loads((tmp_path / "checkpoint.json").read_text())
    assert info["finished"] and info["epoch"] == 1 and info["weights"] == files[1]
    again = train(_speech2vec_task(toy, "adam"), LoopSettings(epochs=1, optimizer="adam", device="cpu"), tmp_path)
    assert again.finished and again.steps == info["step"]  # a finished run is not trained again


def test_damaged_checkpoint_is_a_user_error(toy, tmp_path):
    (tmp_path / "checkpoint.json").write_text("{not json")
    with pytest.raises(WordbridgeError, match="damaged checkpoint"):
        train(_speech2vec_task(toy, "sgd"), LoopSettings(device="cpu"), tmp_path)


def test_device_selection():
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(WordbridgeError, match="no CUDA GPU"):
            resolve_device("cuda")
    with pytest.raises(WordbridgeError, match="unknown device"):
        resolve_device("tpu")


def _ddp_worker(rank: int, world: int, port: int, out_dir: str) -> None:
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "WORLD_SIZE": str(world),
                       "RANK": str(rank), "LOCAL_RANK": str(rank)})
    torch.set_num_threads(1)
    import torch.distributed as dist

    from core.speech.training import distributed_context

    ctx = distributed_context("cpu")
    store = make_toy_corpus(n_types=6, n_utterances=24, words_per_utterance=5, mean_frames=12)
    frames = load_frames(store, max_frames=30)
    torch.manual_seed(rank)  # different initial weights: DDP must broadcast rank 0's
    model = Speech2Vec(13, dim=8, hidden=8)
    task = Speech2VecTask(model, frames, np.arange(store.n_segments), store.utterance_ids, 3, 16, 2, 0)
    result = train(task, LoopSettings(epochs=2, optimizer="adam", lr=1e-2, device="cpu", log_every=1,
                                      checkpoint_every=4), os.path.join(out_dir, "ckpt"), ctx=ctx)
    flat = torch.cat([p.detach().flatten() for p in model.parameters()])
    torch.save({"params": flat, "steps": result.steps, "history": result.history, "finished": result.finished},
               os.path.join(out_dir, f"rank{rank}.pt"))
    dist.destroy_process_group()


def test_ddp_two_gloo_processes_agree(tmp_path):
    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # fork: the children inherit the imported modules (spawn re-imports torch, seconds per process)
    mp.start_processes(_ddp_worker, args=(2, port, str(tmp_path)), nprocs=2, join=True, start_method="fork")
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    assert r0["finished"] and r1["finished"] and r0["steps"] == r1["steps"] > 0
    assert torch.equal(r0["params"], r1["params"])  # gradients averaged, the same update everywhere
    assert r0["history"] == r1["history"]  # losses are averaged over ranks before logging
    info = json.loads((tmp_path / "ckpt" / "checkpoint.json").read_text())
    assert info["world"] == 2 and info["finished"]


def test_dataloader_workers_give_the_same_training(toy, tmp_path):
    settings = dict(epochs=1, optimizer="adam", lr=1e-2, device="cpu", log_every=1)
    inline = _acoustic_task(toy, "adam")
    a = train(inline, LoopSettings(**settings), tmp_path / "inline")
    workers = _acoustic_task(toy, "adam")
    b = train(workers, LoopSettings(**settings, num_workers=1), tmp_path / "workers")
    assert a.history == b.history  # batches cut in a worker process, with the same per-step randomness
    for x, y in zip(inline.model.parameters(), workers.model.parameters()):
        assert torch.equal(x, y)
