"""core.voices: simulated microphones, frame sets, centroids over sources, confidence, scores, and one
tiny run of the people's-voices experiment (synthetic speech, MFCC front end, CPU)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from core.errors import InputFileError, WordbridgeError
from core.voices.confidence import Calibration, best_and_margin, fit_calibration, reliability
from core.voices.evaluate import hit_rates, ranked_types, text_word_scores, word_scores
from core.voices.frameset import FrameSet
from core.voices.microphone import MicrophoneConditions, change_speed, simulate, telephone_band
from core.voices.prototypes import check_prototypes, stack, type_prototypes, type_similarities
from core.voices.recognizer import type_centroids

SR = 16000


def _tone_mix(seconds=0.5, freqs=(440.0, 6000.0)):
    t = np.arange(int(seconds * SR)) / SR
    return (0.3 * sum(np.sin(2 * np.pi * f * t) for f in freqs)).astype(np.float32)


def _band_energy(x, lo, hi):
    spec = np.abs(np.fft.rfft(x)) ** 2
    f = np.fft.rfftfreq(len(x), 1 / SR)
    return spec[(f >= lo) & (f < hi)].sum()


def test_telephone_band_removes_everything_above_4khz_and_keeps_the_length():
    x = _tone_mix()
    y = telephone_band(x)
    assert len(y) == len(x)
    assert _band_energy(y, 5000, 8000) < 1e-3 * _band_energy(x, 5000, 8000)
    assert _band_energy(y, 400, 500) > 0.5 * _band_energy(x, 400, 500)


def test_speed_change_shortens_or_lengthens_by_the_factor():
    x = _tone_mix(1.0)
    assert abs(len(change_speed(x, 1.1)) - len(x) / 1.1) < 0.01 * len(x)
    assert abs(len(change_speed(x, 0.9)) - len(x) / 0.9) < 0.01 * len(x)


def test_simulate_is_seeded_bounded_and_varied():
    x = _tone_mix()
    a = simulate(x, np.random.default_rng(1))
    b = simulate(x, np.random.default_rng(1))
    c = simulate(x, np.random.default_rng(2))
    assert np.array_equal(a, b)
    assert not (len(a) == len(c) and np.allclose(a, c))
    for seed in range(20):
        y = simulate(x, np.random.default_rng(seed))
        assert np.isfinite(y).all() and np.abs(y).max() <= 1.0 and y.size > 0.8 * x.size


def test_microphone_conditions_reject_bad_values():
    with pytest.raises(WordbridgeError, match="p_noise must be a probability"):
        MicrophoneConditions(p_noise=1.5)
    with pytest.raises(WordbridgeError, match="unknown microphone condition"):
        MicrophoneConditions.from_dict({"loudness": 3})
    with pytest.raises(WordbridgeError, match="empty clip"):
        simulate(np.zeros(0, np.float32), np.random.default_rng(0))


def _frameset(n=4, dim=3):
    lengths = np.arange(1, n + 1, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    frames = np.arange(int(lengths.sum()) * dim, dtype=np.float16).reshape(-1, dim)
    return FrameSet(frames, offsets, lengths, [f"w{i % 2}" for i in range(n)], [f"s{i}" for i in range(n)],
                    ["synthetic"] * n, np.zeros(n, np.int64), {"name": "mfcc"})


def test_frameset_round_trip_subset_and_concat(tmp_path):
    fs = _frameset()
    fs.save(tmp_path / "a.safetensors")
    back = FrameSet.load(tmp_path / "a.safetensors")
    assert back.labels == fs.labels and np.array_equal(back.clip(3), fs.clip(3))
    sub = fs.subset([3, 1])
    assert sub.labels == ["w1", "w1"] and np.array_equal(sub.clip(0), fs.clip(3))
    both = FrameSet.concat([fs, sub])
    assert len(both) == 6 and np.array_equal(both.clip(5), fs.clip(1))


def test_frameset_load_reports_a_damaged_file_in_one_line(tmp_path):
    fs = _frameset()
    fs.save(tmp_path / "a.safetensors")
    (tmp_path / "a.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(InputFileError, match="damaged or truncated safetensors file"):
        FrameSet.load(tmp_path / "a.safetensors")


def test_frame_sets_of_different_front_ends_do_not_join():
    a, b = _frameset(), _frameset()
    b.frontend = {"name": "speech-embedding"}
    with pytest.raises(WordbridgeError, match="different front ends"):
        FrameSet.concat([a, b])


def test_centroids_average_sources_so_few_recordings_are_not_drowned():
    enc = np.array([[1, 0]] * 9 + [[0, 1]], dtype=np.float32)  # 9 synthetic clips, 1 recording
    cents, has = type_centroids(enc, ["a"] * 10, ["synthetic"] * 9 + ["so762"], ["a", "b"])
    assert has.tolist() == [True, False]
    assert cents[0] == pytest.approx([2 ** -0.5, 2 ** -0.5], abs=1e-6)
    assert cents[1].tolist() == [0.0, 0.0]


def test_a_clip_is_as_near_a_type_as_its_nearest_prototype():
    # word "a": synthetic clips point one way, recordings another; "b" only has synthetic clips
    enc = np.array([[1, 0, 0]] * 3 + [[0, 1, 0]] * 2 + [[0, 0, 1]], dtype=np.float32)
    labels, sources = ["a"] * 5 + ["b"], ["synthetic"] * 3 + ["so762"] * 2 + ["synthetic"]
    per_source, names = type_prototypes(enc, labels, sources, ["a", "b"])
    assert names == ["so762", "synthetic"] and per_source.shape == (2, 2, 3)
    assert per_source[0, 1].tolist() == [0, 0, 0]  # no recording of "b": a zero row, cosine 0
    averaged, _ = type_centroids(enc, labels, sources, ["a", "b"])
    protos = stack(averaged, per_source.astype(np.float16))
    assert protos.shape == (3, 2, 3) and protos.dtype == np.float32 and stack(averaged, None).shape == (2, 3)
    recording, synthetic = np.array([[0, 1, 0]], np.float32), np.array([[1, 0, 0]], np.float32)
    # each kind of clip is a perfect match for its own prototype, not only cos 45° to the average
    assert type_similarities(recording, protos)[0, 0] == pytest.approx(1.0)
    assert type_similarities(synthetic, protos)[0, 0] == pytest.approx(1.0)
    assert type_similarities(recording, averaged)[0, 0] == pytest.approx(2 ** -0.5, abs=1e-6)
    rows, sims = ranked_types(np.array([[0.1, 1, 0]], np.float32) / np.hypot(0.1, 1), protos, 2, allowed=np.array([0, 1]))
    assert rows[0].tolist() == [0, 1] and sims[0, 0] > 0.99
    assert check_prototypes(per_source, 2, 3) is None
    assert "shape" in check_prototypes(per_source[0], 2, 3)
    bad = per_source.copy()
    bad[0, 0, 0] = np.nan
    assert "NaN" in check_prototypes(bad, 2, 3)


def test_ranking_hits_and_baselines():
    cents = np.eye(3, dtype=np.float32)
    enc = np.array([[1, 0.1, 0], [0, 0.2, 1], [0.9, 1, 0]], dtype=np.float32)
    rows, sims = ranked_types(enc, cents, 2)
    assert rows[:, 0].tolist() == [0, 2, 1] and sims[0, 0] == pytest.approx(1.0)
    assert hit_rates(rows, np.array([0, 1, 0])) == {"top1": round(1 / 3, 4), "top10": 1.0}
    scores = word_scores(enc, ["a", "c", "x"], cents, ["a", "b", "c"], {"a": 5, "c": 1})
    assert scores["n"] == 2 and scores["top1"] == 1.0 and scores["in_vocabulary_share"] == round(2 / 3, 4)
    assert scores["most_frequent_word"] == "a" and scores["most_frequent_top1"] == 0.5
    closed = word_scores(enc, ["a", "c", "x"], cents, ["a", "b", "c"], {}, allowed=np.array([1, 2]))
    assert closed["n"] == 1 and closed["candidates"] == 2 and closed["top1"] == 1.0


def test_text_words_read_through_the_map_skip_unmapped_types_and_repeats():
    cents = np.eye(3, dtype=np.float32)
    enc = np.array([[1, 0.5, 0.2]], dtype=np.float32)
    scores = text_word_scores(enc, ["dog"], cents, [None, "cat", "dog"], k=2, m=3)
    assert scores == {"n": 1, "top1": 0.0, "top2": 1.0}


def test_confidence_calibration_orders_and_flags_far_clips():
    rng = np.random.default_rng(0)
    best = rng.uniform(0.2, 1.0, 400)
    margin = rng.uniform(0.0, 0.3, 400)
    right = rng.uniform(0, 1, 400) < best * 0.5 + margin  # likelier right when close and clear
    cal = fit_calibration(best, margin, right, "test")
    assert cal.w_best > 0 and cal.w_margin > 0
    assert cal.probability(0.95, 0.25) > cal.probability(0.3, 0.01)
    assert cal.no_match(0.0) and not cal.no_match(0.99)
    assert Calibration.from_dict(cal.to_dict()) == cal
    assert 0.0 <= reliability(cal.probability(best, margin), right)["ece"] < 0.1
    with pytest.raises(WordbridgeError, match="both right and wrong"):
        fit_calibration(best, margin, np.ones(400, bool), "test")
    b, m = best_and_margin(np.array([[0.1, 0.9, 0.5]]))
    assert b[0] == pytest.approx(0.9) and m[0] == pytest.approx(0.4)


def voices_main(argv) -> int:
    """scripts/voices_experiment.py's main, imported from its file (scripts/ is not a package)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "scripts" / "voices_experiment.py"
    spec = importlib.util.spec_from_file_location("voices_experiment", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main(argv)


@pytest.mark.timeout(600)
def test_voices_experiment_trains_and_scores_synthetic_words(tmp_path):
    """A tiny real run: 12 demo words + digits said by 2 synthetic voices, MFCC, one epoch."""
    out = tmp_path / "run"
    code = voices_main(["--out", str(out), "--frontend", "mfcc", "--voices", "2", "--copies", "1",
                        "--epochs", "1", "--max-vocabulary", "12", "--device", "cpu", "--stages", "train",
                        "--quiet"])
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    unseen = metrics["tests"]["synthetic_unseen"]
    assert 12 < metrics["vocabulary"] <= 22  # 12 speech types + the digit words they lack
    assert 0.0 <= unseen["top30_words"]["top1"] <= 1.0 and unseen["top30_words"]["candidates"] == metrics["vocabulary"]
    assert unseen["digits"]["candidates"] == 10
    meta = json.loads((out / "recognizer.json").read_text())
    assert meta["frontend"]["name"] == "mfcc"
    assert meta["prototypes"]["names"] == ["synthetic"] and meta["prototypes"]["voices"] == 2
    _install_and_classify(tmp_path, out, meta["vocabulary"])
    # the prototypes stage recomputes them from the frames another config describes (1 voice);
    # the encoder and the training config.json stay, the stage's own config is kept beside it
    encoder_before = (out / "recognizer.safetensors").read_bytes()
    assert voices_main(["--out", str(out), "--frontend", "mfcc", "--voices", "1", "--copies", "0",
                        "--max-vocabulary", "12", "--device", "cpu", "--stages", "prototypes", "--quiet"]) == 0
    assert json.loads((out / "recognizer.json").read_text())["prototypes"]["voices"] == 1
    assert json.loads((out / "config.json").read_text())["voices"] == 2
    assert json.loads((out / "config_prototypes.json").read_text())["voices"] == 1
    assert (out / "recognizer.safetensors").read_bytes() != encoder_before


def _install_and_classify(tmp_path, run_dir, vocabulary):
    """The run's recogniser becomes a project's encoder; a new clip then finds one of its types."""
    from core.embeddings import Embeddings
    from core.project import Project
    from core.speech.encode import ClipEncoder
    from core.synth.synthesize import synthesize_utterance
    from core.synth.voices import voice_for_speaker
    from core.voices.package import install_recognizer

    project = Project.create(tmp_path / "proj", "voices test")
    words = vocabulary[:5]
    rng = np.random.default_rng(0)
    project.add_space("speech-en", Embeddings(words, rng.normal(size=(5, 8)).astype(np.float32), modality="speech"),
                      kind="speech", language="en")
    text = install_recognizer(project, run_dir, "speech-en")
    assert "SYNTHETIC" in text and project.manifest.synthetic_speech
    weights, config = project.encoder("speech-en-encoder")
    assert config["frontend"]["name"] == "mfcc" and weights["assign_centroids"].shape[0] == 5
    audio, _ = synthesize_utterance(words[0], voice_for_speaker("en", 600), pad_s=0.3)
    vectors, confidence = ClipEncoder(weights, config).candidates(audio, 16000, 3)
    assert len(vectors) == 3 and 0.0 < confidence["best"] <= 1.0
    # the recogniser's per-source prototypes travel with it, rows in the space's order
    assert weights["assign_prototypes"].shape[:2] == (1, 5)  # synthetic only
    broken = dict(weights, assign_prototypes=weights["assign_prototypes"][:, :4])
    with pytest.raises(WordbridgeError, match=r"stored encoder: prototypes of shape \(1, 4, "):
        ClipEncoder(broken, config)
    bigger = Project.create(tmp_path / "proj2", "voices test 2")
    bigger.add_space("speech-en", Embeddings(words + ["notaword"], rng.normal(size=(6, 8)).astype(np.float32),
                                             modality="speech"), kind="speech", language="en")
    with pytest.raises(WordbridgeError, match="no centroid for 1 speech types"):
        install_recognizer(bigger, run_dir, "speech-en")


def test_voices_experiment_reports_bad_input_in_one_line(tmp_path, capsys):
    assert voices_main(["--out", str(tmp_path / "r"), "--stages", "fit"]) == 2
    assert "--stages must name train, prototypes and/or evaluate" in capsys.readouterr().err
    assert voices_main(["--out", str(tmp_path / "r"), "--frontend", "nonsense", "--stages", "train"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1
