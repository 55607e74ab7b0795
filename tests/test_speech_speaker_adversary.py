"""The speaker adversary of the acoustic encoder (configurations B/VAD/F): gradient reversal, the
batch's speaker codes, cross-speaker partners, and that it removes voice information from the
embeddings of the toy corpus (SYNTHETIC frames; a speaker is a constant offset there)."""

import numpy as np
import pytest
import torch

from core.errors import WordbridgeError
from core.speech.acoustic import (AugmentSettings, ContrastiveAWE, ContrastiveTask, SpeakerAdversarialAWE,
                                  reverse_gradient)
from core.speech.batching import load_frames
from core.speech.config import SpeechConfig
from core.speech.runner import speaker_codes
from core.speech.speech2vec import embed_segments
from core.speech.toy_corpus import make_toy_corpus
from core.speech.training import LoopSettings, train
from core.vectors import unit_rows

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def toy():
    store = make_toy_corpus(n_types=8, n_utterances=120, words_per_utterance=6, mean_frames=20,
                            n_speakers=4, held_out_speakers=0, seed=1)
    return store, load_frames(store, max_frames=60)


def test_gradient_reversal_is_identity_forward_and_scaled_negative_backward():
    x = torch.randn(5, 3, requires_grad=True)
    y = reverse_gradient(x, 0.5)
    assert torch.equal(y, x)
    y.sum().backward()
    assert torch.allclose(x.grad, torch.full_like(x, -0.5))


def test_config_adversary_is_off_by_default_and_rejects_negative_weights():
    assert SpeechConfig(grouping="B").ac_speaker_adversary == 0 == SpeechConfig(grouping="A").ac_speaker_adversary
    assert SpeechConfig(grouping="B").ac_cross_speaker_positives is False
    assert SpeechConfig(grouping="B", ac_speaker_adversary=2.5).ac_speaker_adversary == 2.5
    with pytest.raises(WordbridgeError, match="ac_speaker_adversary"):
        SpeechConfig(ac_speaker_adversary=-0.5)


def test_speaker_codes_skip_non_members_and_unknown_speakers():
    codes, names = speaker_codes(["b", "a", None, "c", "a"], np.array([0, 1, 2, 4]))
    assert names == ["a", "b"] and codes.tolist() == [1, 0, -1, -1, 0]  # "c" is not a member


def test_batches_carry_speakers_and_partners_cross_speakers(toy):
    store, frames = toy
    idx = np.arange(store.n_segments)
    codes, _ = speaker_codes(store.speakers, idx)
    words = np.array([int(w[1:]) for w in store.labels])
    plain = ContrastiveTask(ContrastiveAWE(13, "conv", 8, 8), frames, idx, AugmentSettings(max_frames=60), 64, 2, 0,
                            labels=words, speakers=codes)
    crossed = ContrastiveTask(plain.model, frames, idx, plain.aug, 64, 2, 0, labels=words, speakers=codes,
                              partner_speakers=codes)
    same_speaker = {}
    for name, task in (("plain", plain), ("crossed", crossed)):
        rows = []
        for spec in task.plan(0)[:4]:
            batch = task.prepare(spec, 7)
            assert batch["spk1"].tolist() == codes[spec].tolist()
            rows.append((batch["spk1"] == batch["spk2"]).float().mean().item())
        same_speaker[name] = np.mean(rows)
    # 4 speakers: a random group-mate is the same speaker ~1/4 of the time; forced partners almost never
    assert same_speaker["crossed"] < 0.02 < 0.15 < same_speaker["plain"]


def embeddings_after_training(store, frames, weight, seed):
    idx = np.arange(store.n_segments)
    codes, names = speaker_codes(store.speakers, idx)
    torch.manual_seed(seed)
    awe = ContrastiveAWE(13, "conv", hidden=16, dim=16)
    model = SpeakerAdversarialAWE(awe, len(names), weight) if weight else awe
    task = ContrastiveTask(model, frames, idx, AugmentSettings(max_frames=60), 32, 2, seed,
                           speakers=codes if weight else None)
    train(task, LoopSettings(epochs=12, optimizer="adam", lr=3e-3, device="cpu", seed=seed, checkpoints=False,
                             log_every=1000), "/nonexistent-unused")
    awe.eval()
    return embed_segments(awe.encode, frames, batch_size=512, device=torch.device("cpu")), codes


def linear_speaker_probe(emb, codes):
    """Accuracy of a fresh linear speaker classifier, fitted on one half and scored on the other."""
    perm = np.random.default_rng(0).permutation(len(emb))
    fit, test = perm[: len(perm) // 2], perm[len(perm) // 2:]
    x, y = torch.from_numpy(unit_rows(emb).astype(np.float32)), torch.from_numpy(codes)
    torch.manual_seed(0)
    lin = torch.nn.Linear(x.shape[1], int(codes.max()) + 1)
    opt = torch.optim.Adam(lin.parameters(), lr=0.05, weight_decay=1e-4)
    for _ in range(300):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(lin(x[fit]), y[fit]).backward()
        opt.step()
    with torch.no_grad():
        return float((lin(x[test]).argmax(1) == y[test]).float().mean())


def test_adversary_removes_speaker_information_from_the_embeddings(toy):
    store, frames = toy
    acc = {w: np.mean([linear_speaker_probe(*embeddings_after_training(store, frames, w, seed)) for seed in (0, 1)])
           for w in (0.0, 1.0)}
    # chance 0.25 (4 speakers); measured: 0.97 without, ~0.7 with weight 1
    assert acc[0.0] > 0.85
    assert acc[1.0] < acc[0.0] - 0.12


def test_adversary_checkpoint_resumes_to_the_same_weights(toy, tmp_path):
    store, frames = toy
    idx = np.arange(store.n_segments)
    codes, names = speaker_codes(store.speakers, idx)

    def run(ckpt, stop):
        torch.manual_seed(0)
        model = SpeakerAdversarialAWE(ContrastiveAWE(13, "conv", 8, 8), len(names), 1.0)
        task = ContrastiveTask(model, frames, idx, AugmentSettings(max_frames=60), 64, 2, 0, speakers=codes)
        train(task, LoopSettings(epochs=2, optimizer="adam", lr=3e-3, device="cpu", seed=0, checkpoint_every=5,
                                 stop_after_steps=stop), ckpt)
        return model

    whole = run(tmp_path / "a", None)
    run(tmp_path / "b", 7)
    resumed = run(tmp_path / "b", None)
    for (k, v), (_, w) in zip(whole.state_dict().items(), resumed.state_dict().items()):
        assert torch.allclose(v, w, atol=1e-6), k
