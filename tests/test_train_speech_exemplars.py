"""A speech space trained into a project (core.speech.project_space.train_project_speech_space, what
Train ▸ Train speech space… runs) gets its type exemplars when it is made: chosen on the types of
held-out training utterances, before any map exists (core.speech.exemplars.for_training_run)."""

from __future__ import annotations

import json

import numpy as np
import torch

from core.project import Project
from core.speech import exemplars as ex
from core.speech.config import preset
from core.speech.project_space import EXEMPLARS_FILE, train_project_speech_space
from core.speech.toy_corpus import make_toy_corpus
from test_speech_cli import write_store

torch.set_num_threads(1)


def test_a_trained_unit_skipgram_space_stores_what_its_calibration_chose(tmp_path):
    store = tmp_path / "toy"
    write_store(store, make_toy_corpus(n_types=6, n_utterances=60, words_per_utterance=5, mean_frames=12))
    header = json.loads((store / "header.json").read_text())
    (store / "header.json").write_text(json.dumps({**header, "n_labelled": 300}))  # configuration A needs labels
    project = Project.create(tmp_path / "p", "exemplars at training", synthetic_speech=True,
                             synthetic_speech_note="toy frames, not speech")
    cfg = preset("unit-skipgram", grouping="A", ac_hidden=16, ac_dim=16, ac_epochs=1, sg_epochs=1, batch_size=64,
                 device="cpu", dim=8, ac_pair_rounds=0)
    result = train_project_speech_space(project, store, cfg, "speech-toy", "en")
    summary = result["type_exemplars"]
    assert summary["measure"] == "types" and summary["held_out_segments"] > 0  # 60 utterances: some held out
    assert 0 <= summary["nearest_type_right"] <= 1 and summary["type_candidates"] >= 1
    assert summary["max_per_type"] is None  # fewer than MAX_EXEMPLARS segments: no cap
    weights, config = Project.open(tmp_path / "p").encoder("speech-toy-encoder")
    assert config["type_candidates"] == summary["type_candidates"]
    if summary["stored"]:
        assert len(weights[ex.EXEMPLARS]) == summary["n"] == config["type_exemplars"]["n"]
        assert summary["n"] == summary["of"] and summary["megabytes"] > 0  # a small corpus: every segment
    else:  # the centroids were as good on this easy corpus: none stored, the calibrated number of types is
        assert ex.EXEMPLARS not in weights and "type_exemplars" not in config
    stored = json.loads((tmp_path / "p" / "speech-runs" / "speech-toy" / EXEMPLARS_FILE).read_text())
    assert stored["variant"] == summary["variant"] and "centroids" in stored["variants"]
    # the held-out speaker's segments are no exemplars (nor calibration segments)
    assert summary["of"] + summary["held_out_segments"] <= 60 * 5
    assert np.isfinite(np.asarray(weights["assign_centroids"])).all()


def test_a_space_trained_with_voice_free_word_types_says_so_in_its_provenance(tmp_path):
    """Align's Gromov–Wasserstein start defaults on for such a space (app/align_dialog.py reads this)."""
    from core.speech.config import voice_free_settings

    store = tmp_path / "toy"
    write_store(store, make_toy_corpus(n_types=6, n_utterances=40, words_per_utterance=5, mean_frames=12))
    project = Project.create(tmp_path / "p", "voice-free", synthetic_speech=True,
                             synthetic_speech_note="toy frames, not speech")
    base = dict(grouping="B", ac_hidden=16, ac_dim=8, ac_epochs=1, sg_epochs=1, batch_size=64, device="cpu", dim=8,
                ac_pair_rounds=1, clusters=8, kmeans_backend="torch")
    train_project_speech_space(project, store, preset("unit-skipgram", **base, **voice_free_settings(8)), "vf", "en")
    train_project_speech_space(project, store, preset("unit-skipgram", **base), "plain", "en")
    spaces = {s.id: s for s in Project.open(tmp_path / "p").manifest.spaces}
    assert spaces["vf"].provenance["voice_free"] is True and spaces["plain"].provenance["voice_free"] is False
    assert spaces["vf"].n_words <= 4  # 8 clusters joined into 4 types
