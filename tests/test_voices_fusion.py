"""Score fusion of two word recognisers in one project encoder (core.voices.fusion): ranking by the
weighted sum of the two recognisers' cosines, each with its own front end; w = 0 is the first
recogniser alone; the second recogniser is built at the first clip, not at load; the fused entry survives reopening
and `project info --check`; a missing second recogniser is a one-line error; the install path (scripts/install_recognizer.py --fuse)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.errors import WordbridgeError
from core.features import FeatureConfig
from core.speech.acoustic import ContrastiveAWE
from core.speech.encode import ClipEncoder, pack_type_space
from core.speech.type_space import SpeechTypeSpace
from core.vectors import unit_rows
from core.voices.fusion import FUSE_PREFIX, fuse_encoders, fusion_problem
from tests.test_speech_encode import FEATURES, _segments, _type_space, _word_clip

SECOND_FEATURES = FeatureConfig(deltas=True)  # another front end (39 dims) than the first's (13)


def _second_space(n_types: int = 6) -> SpeechTypeSpace:
    """A second tiny recogniser over the same types, on another front end."""
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    model = ContrastiveAWE(SECOND_FEATURES.dim, "conv", hidden=8, dim=10).eval()
    first = _type_space("unit-skipgram", n_types)
    space = SpeechTypeSpace(first.embeddings, model, np.zeros((n_types, 10), np.float32),
                            {"learner": "unit-skipgram", "grouping": "A", "max_frames": 40,
                             "feat_dim": SECOND_FEATURES.dim})
    segs = [rng.normal(size=(int(rng.integers(5, 60)), SECOND_FEATURES.dim)).astype(np.float32)
            for _ in range(n_types)]
    space.assign_centroids = unit_rows(space.encode(segs))
    return space


def _pair():
    """Two packed recognisers over the same 6 types; their centroids spread at random so that the
    cosines differ enough for the fused order to be neither recogniser's own."""
    (w1, c1), (w2, c2) = pack_type_space(_type_space("unit-skipgram"), FEATURES), \
        pack_type_space(_second_space(), SECOND_FEATURES)
    rng = np.random.default_rng(12)
    for w in (w1, w2):
        w["assign_centroids"] = unit_rows(rng.normal(size=w["assign_centroids"].shape)).astype(np.float32)
    return (w1, c1), (w2, c2)


def _hand_cosines(weights, config, clip) -> np.ndarray:
    """One recogniser's cosines of a clip to its types, computed here from its own parts."""
    enc = ClipEncoder(weights, config)
    e = enc.encode_features(enc.clip_features(clip, 16000))
    e = e / np.linalg.norm(e)
    c = weights["assign_centroids"] / np.linalg.norm(weights["assign_centroids"], axis=1, keepdims=True)
    return c @ e


def test_fused_ranking_is_the_weighted_sum_of_both_recognisers_cosines():
    (w1, c1), (w2, c2) = _pair()
    weights, config = fuse_encoders(w1, c1, w2, c2, 0.6, None)
    assert any(k.startswith(FUSE_PREFIX + "encoder.") for k in weights) and FUSE_PREFIX + "type_vectors" not in weights
    fused = ClipEncoder(weights, config)
    assert fused.fusion is not None and fused.fusion.second.feat_dim == 39 and fused.feat_dim == 13
    clip = _word_clip()
    s1, s2 = _hand_cosines(w1, c1, clip), _hand_cosines(w2, c2, clip)
    expected = 0.4 * s1 + 0.6 * s2
    np.testing.assert_allclose(fused.fusion.scores(clip, 16000), expected, rtol=1e-5, atol=1e-6)
    order = np.argsort(-expected)
    assert order[0] not in (np.argmax(s1), np.argmax(s2))  # the mix chooses a type neither alone puts first
    vectors, conf = fused.candidates(clip, 16000, 3)
    np.testing.assert_allclose(np.stack(vectors), w1["type_vectors"][order[:3]], rtol=1e-6)
    assert conf["best"] == pytest.approx(expected[order[0]], abs=1e-4)
    assert conf["margin"] == pytest.approx(expected[order[0]] - expected[order[1]], abs=1e-4)
    assert conf["probability"] is None and conf["no_match"] is False  # stored without a calibration
    np.testing.assert_allclose(fused(clip, 16000), w1["type_vectors"][order[0]], rtol=1e-6)
    np.testing.assert_allclose(np.stack(fused.candidate_vectors(clip, 16000, 2)), w1["type_vectors"][order[:2]])
    # the fused calibration is the encoder's calibration
    far = {"w_best": 0.0, "w_margin": 0.0, "bias": 0.0, "no_match_below": 1.01, "fitted_on": "test"}
    _, conf = ClipEncoder(*fuse_encoders(w1, c1, w2, c2, 0.6, far)).candidates(clip, 16000, 3)
    assert conf["no_match"] is True and conf["probability"] == 0.5


def test_weight_zero_is_the_first_recogniser_alone():
    (w1, c1), (w2, c2) = _pair()
    single = ClipEncoder(w1, c1)
    fused = ClipEncoder(*fuse_encoders(w1, c1, w2, c2, 0.0, c1.get("calibration")))
    for clip, sr in ((_word_clip(), 16000), (_word_clip(22050), 22050)):
        v1, conf1 = single.candidates(clip, sr, 3)
        v0, conf0 = fused.candidates(clip, sr, 3)
        np.testing.assert_array_equal(np.stack(v0), np.stack(v1))
        assert conf0 == conf1
        np.testing.assert_array_equal(fused(clip, sr), single(clip, sr))


def test_the_second_recogniser_is_built_once_at_the_first_clip(monkeypatch):
    """Not while the encoder loads (the app loads it while the window paints); one that cannot be
    built raises at the first clip instead of being taken for a clip it finds no speech in."""
    from core.speech import encode

    (w1, c1), (w2, c2) = _pair()
    weights, config = fuse_encoders(w1, c1, w2, c2, 0.6, None)
    built = []

    class Counted(ClipEncoder):
        def __init__(self, *args, **kwargs):
            built.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(encode, "ClipEncoder", Counted)
    fused = ClipEncoder(weights, config)
    assert built == []
    clip = _word_clip()
    first = fused.candidates(clip, 16000, 3)
    assert fused.candidates(clip, 16000, 3)[1] == first[1] and len(built) == 1
    assert fused.fusion.second.feat_dim == 39 and len(built) == 1
    key = next(k for k in weights if k.startswith(FUSE_PREFIX + "encoder."))
    broken = ClipEncoder({**weights, key: np.zeros((3, 3), np.float32)}, config)  # loads
    with pytest.raises(WordbridgeError, match="do not fit its architecture"):
        broken.candidates(clip, 16000, 3)


def test_fused_entry_survives_reopening_and_check_and_a_missing_second_is_one_line(tmp_path, capsys):
    from core.classify import clip_embedder
    from core.project import Project
    from core.project.paths import unsafe_references
    from main import main

    (w1, c1), (w2, c2) = _pair()
    weights, config = fuse_encoders(w1, c1, w2, c2, 0.6, None)
    root = tmp_path / "p"
    project = Project.create(root, "fusion test", synthetic_speech=True, synthetic_speech_note="tone bursts")
    project.set_encoder("enc", weights, config)
    clip = _word_clip()
    direct = ClipEncoder(weights, config).candidates(clip, 16000, 3)
    reopened = Project.open(root, read_only=True)
    embed = clip_embedder(reopened)
    assert embed.fusion is not None and embed.fusion.weight == 0.6
    again = embed.candidates(clip, 16000, 3)
    np.testing.assert_array_equal(np.stack(again[0]), np.stack(direct[0]))
    assert again[1] == direct[1]
    assert unsafe_references(reopened) == []
    assert main(["project", "info", str(root), "--check"]) == 0
    assert "all files load" in capsys.readouterr().out
    # the second recogniser's arrays gone from the encoder file: one line, at load and at --check
    project.set_encoder("enc", {k: v for k, v in weights.items() if not k.startswith(FUSE_PREFIX)}, config)
    with pytest.raises(WordbridgeError, match="second recogniser is missing from the encoder file") as info:
        clip_embedder(Project.open(root, read_only=True))
    assert "\n" not in str(info.value)
    assert main(["project", "info", str(root), "--check"]) == 2
    err = capsys.readouterr().err
    assert "second recogniser is missing" in err and len(err.strip().splitlines()) == 1


def test_fusion_refuses_bad_input():
    (w1, c1), (w2, c2) = _pair()
    with pytest.raises(WordbridgeError, match="outside 0..1"):
        fuse_encoders(w1, c1, w2, c2, 1.5, None)
    with pytest.raises(WordbridgeError, match="centroids for 6 and 5 speech types"):
        fuse_encoders(w1, c1, dict(w2, assign_centroids=w2["assign_centroids"][:5]), c2, 0.5, None)
    weights, config = fuse_encoders(w1, c1, w2, c2, 0.5, None)
    with pytest.raises(WordbridgeError, match="cannot be fused again"):
        fuse_encoders(weights, config, w2, c2, 0.5, None)
    assert fusion_problem(weights, config) is None and fusion_problem(w1, c1) is None
    bad = {**config, "fusion": {**config["fusion"], "weight": "much"}}
    assert "not a number" in fusion_problem(weights, bad)
    with pytest.raises(WordbridgeError, match="stored encoder: fusion weight 'much' is not a number"):
        ClipEncoder(weights, bad)


def _run_folder(path, space, features, vocabulary):
    """A voices run folder (recognizer.safetensors/.json, metrics.json) holding a tiny recogniser."""
    from core.atomic import save_safetensors
    from core.frontends.mfcc import MfccFrontEnd

    path.mkdir()
    weights = {"encoder." + k: v.detach().numpy().astype(np.float32) for k, v in space.encoder.state_dict().items()}
    weights["assign_centroids"] = np.ascontiguousarray(space.assign_centroids, np.float32)
    save_safetensors(path / "recognizer.safetensors", weights)
    frontend = MfccFrontEnd(features).config()
    (path / "recognizer.json").write_text(json.dumps({"architecture": space.encoder.architecture(),
                                                      "vocabulary": vocabulary, "frontend": frontend,
                                                      "calibration": None}))
    (path / "metrics.json").write_text(json.dumps({"config": {"voices": 2}, "frontend": frontend}))
    return path


def _install_script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "install_recognizer.py"
    spec = importlib.util.spec_from_file_location("install_recognizer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_install_script_fuses_two_run_folders(tmp_path, capsys):
    from core.embeddings import Embeddings
    from core.project import Project
    install_main = _install_script().main

    first, second = _type_space("unit-skipgram"), _second_space()
    words = first.embeddings.words
    run1 = _run_folder(tmp_path / "run-a", first, FEATURES, words)
    run2 = _run_folder(tmp_path / "run-b", second, SECOND_FEATURES, words)
    root = tmp_path / "proj"
    project = Project.create(root, "install test")
    project.add_space("speech-en", Embeddings(words, first.embeddings.vectors, modality="speech"), kind="speech",
                      language="en")
    cal = {"w_best": 1.0, "w_margin": 2.0, "bias": -1.0, "no_match_below": 0.5, "fitted_on": "calibration"}
    (tmp_path / "cal.json").write_text(json.dumps({"weight": 0.6, "calibration": cal}))
    (tmp_path / "cal7.json").write_text(json.dumps({"weight": 0.7, "calibration": cal}))
    assert install_main([str(run1), str(root), "--fuse", str(run2), "--fuse-weight", "0.6",
                         "--fuse-calibration", str(tmp_path / "cal7.json")]) == 2
    assert "fitted with weight 0.7" in capsys.readouterr().err
    (tmp_path / "broken.json").write_text("{not json")
    assert install_main([str(run1), str(root), "--fuse", str(run2), "--fuse-calibration",
                         str(tmp_path / "broken.json")]) == 2
    assert "not a fused-score calibration file" in capsys.readouterr().err
    assert install_main([str(run1), str(root), "--fuse", str(run2), "--fuse-weight", "0.6",
                         "--fuse-calibration", str(tmp_path / "cal.json")]) == 0
    capsys.readouterr()
    project = Project.open(root, read_only=True)
    weights, config = project.encoder("speech-en-encoder")
    assert config["fusion"]["weight"] == 0.6 and config["calibration"] == cal
    assert config["fusion"]["config"]["frontend"]["features"]["deltas"] is True
    assert "mixed 0.4 : 0.6" in config["trained_on"] and "word recognition by two" in project.manifest.synthetic_speech_note
    assert project.encoders[0].provenance["fused_run"] == "run-b"
    fused = ClipEncoder(weights, config, root)
    single = ClipEncoder(*pack_type_space(first, FEATURES))
    clip = _word_clip()
    (w1, c1), (w2, c2) = pack_type_space(first, FEATURES), pack_type_space(second, SECOND_FEATURES)
    # a run's recogniser reads up to 120 frames (core.voices.package), the packed spaces 40
    expected = 0.4 * _hand_cosines(w1, {**c1, "max_frames": 120}, clip) + \
        0.6 * _hand_cosines(w2, {**c2, "max_frames": 120}, clip)
    np.testing.assert_allclose(fused.fusion.scores(clip, 16000), expected, rtol=1e-5, atol=1e-6)
    assert single.fusion is None
    assert install_main([str(run1), str(root), "--fuse", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1


def test_build_demo_takes_the_fusion_options_only_with_a_recognizer(capsys):
    """build_demo.py rebuilds the shipped demo in one command (--recognizer RUN --fuse RUN2 ...);
    fusion options without a recogniser are a usage error before any work starts."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "build_demo.py"
    spec = importlib.util.spec_from_file_location("build_demo_for_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--fuse", "runs/x"])
    assert exit_info.value.code == 2 and "--fuse and --fuse-calibration need --recognizer" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        module.main(["--recognizer", "runs/a", "--fuse-calibration", "c.json"])
    assert exit_info.value.code == 2 and "--fuse-calibration needs --fuse" in capsys.readouterr().err
