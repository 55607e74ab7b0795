"""The parameter-free "mean" acoustic encoder (issue 18): a segment's embedding is its mean frame,
nothing is trained, and k-means types, the type space and new clips all use that same vector."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.atomic import load_safetensors
from core.errors import WordbridgeError
from core.speech.acoustic import make_encoder
from core.speech.config import SpeechConfig
from core.speech.runner import SEGMENTS_FILE, train_speech_space
from core.speech.toy_corpus import make_toy_corpus
from core.speech.type_space import load_type_space

torch.set_num_threads(1)


def test_vad_style_types_from_mean_frames_and_new_clips_the_same_way(tmp_path):
    store = make_toy_corpus(n_types=6, n_utterances=24, words_per_utterance=5, mean_frames=16, held_out_speakers=0)
    cfg = SpeechConfig(learner="unit-skipgram", grouping="B", ac_encoder="mean", clusters=6, sg_epochs=1,
                       batch_size=32, device="cpu", kmeans_backend="torch")
    metrics = train_speech_space(store, cfg, tmp_path / "run")
    assert metrics["encoder_steps"] == 0
    log = (tmp_path / "run" / "log.txt").read_text()
    assert "acoustic encoder 'mean': each segment's mean frame, no training" in log
    emb = load_safetensors(tmp_path / "run" / SEGMENTS_FILE)["embedding"]
    want = np.stack([store.features(i)[:cfg.max_frames].mean(0) for i in range(store.n_segments)])
    np.testing.assert_allclose(emb, want, rtol=1e-4, atol=1e-4)
    space = load_type_space(tmp_path / "run")
    clip = store.features(3)
    np.testing.assert_allclose(space.encode([clip])[0], clip.mean(0), rtol=1e-4, atol=1e-4)


def test_the_mean_encoder_keeps_the_width_and_unknown_kinds_are_one_line():
    with pytest.raises(ValueError, match="keeps the frame width"):
        make_encoder("mean", 13, 16, 8)
    with pytest.raises(WordbridgeError, match="unknown acoustic encoder 'lstm'"):
        make_encoder("lstm", 13, 16, 8)
    with pytest.raises(WordbridgeError):
        SpeechConfig(learner="unit-skipgram", ac_encoder="lstm")


def test_train_speech_cli_defaults_to_the_mean_encoder_on_a_speech_embedding_store(tmp_path, capsys, monkeypatch):
    """The command line picks the encoder the app's Train dialog defaults to (core.speech.expectations.encoder_for);
    a settings file that names one wins, read once."""
    import json

    import main
    from core.commands import speech as speech_command
    from test_speech_cli import FAST, write_store

    store = tmp_path / "toy"
    write_store(store, make_toy_corpus(n_types=4, n_utterances=12, words_per_utterance=4, mean_frames=10))
    header = json.loads((store / "header.json").read_text())
    (store / "header.json").write_text(json.dumps({**header, "frontend": {"name": "speech-embedding"}}))
    assert main.main(["train-speech", str(store), "--out", str(tmp_path / "b"), "--learner", "unit-skipgram",
                      "--config", "B", "--clusters", "4",
                      "--sg-epochs", "1", *FAST]) == 0
    assert "note: Encoder “mean”" in capsys.readouterr().out
    assert json.loads((tmp_path / "b" / "config.json").read_text())["speech"]["ac_encoder"] == "mean"
    settings = tmp_path / "s.toml"
    settings.write_text('ac_encoder = "conv"\n')
    reads = []
    read = speech_command.read_config_dict
    monkeypatch.setattr(speech_command, "read_config_dict", lambda path: reads.append(path) or read(path))
    assert main.main(["train-speech", str(store), "--out", str(tmp_path / "c"), "--learner", "unit-skipgram",
                      "--config", "B", "--clusters", "4",
                      "--epochs", "1", "--sg-epochs", "1", "--config-file", str(settings), *FAST]) == 0
    assert "note: Encoder" not in capsys.readouterr().out
    assert json.loads((tmp_path / "c" / "config.json").read_text())["speech"]["ac_encoder"] == "conv"
    assert reads == [str(settings)]  # the settings file is read once, for the config and the encoder choice
