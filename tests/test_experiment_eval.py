"""Scoring of speech → text evaluation and the experiment config checks (fast, no training)."""

from types import SimpleNamespace

import numpy as np
import pytest

from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.pipeline import speech_eval as ev
from core.pipeline.config import load_experiment
from core.pipeline.report import aggregate, results_markdown


def _text(words):
    return Embeddings(words, np.eye(len(words), dtype=np.float32)[:, :max(2, len(words))])


def test_classification_accuracy_counts_only_covered_segments():
    text = _text(["god", "earth", "light"])
    truth = ["god", "earth", "heaven", None]  # heaven is not in the text space; None unlabelled
    top = {"nn": np.array([[0], [2], [1], [0]]), "csls": np.array([[0], [1], [1], [1]])}
    s = ev.classification_scores(top, truth, text)
    assert s["labelled"] == 3 and s["evaluated"] == 2
    assert s["coverage"] == pytest.approx(2 / 3)
    assert s["accuracy_nn"] == pytest.approx(0.5) and s["accuracy_csls"] == pytest.approx(1.0)


def test_translation_precision_accepts_any_gold_word_within_k():
    text = _text(["dieu", "terre", "sol", "lumière"])
    gold = {"god": {"dieu"}, "earth": {"terre", "sol"}, "day": {"jour"}}
    truth = ["god", "earth", "day"]  # day: its gold word is missing from the text → not covered
    top = {"csls": np.array([[1, 0], [2, 3], [0, 1]])}
    s = ev.translation_scores(top, truth, text, gold, ks=(1, 2))
    assert s["evaluated"] == 2 and s["test_words"] == 2
    assert s["p@1_csls"] == pytest.approx(0.5)  # earth → sol counts (any gold word)
    assert s["p@2_csls"] == pytest.approx(1.0)


def test_weighted_translation_scores_equal_the_scores_of_repeated_queries():
    text = _text(["dieu", "sol", "terre", "ciel"])
    gold = {"god": {"dieu"}, "earth": {"terre"}}
    top = {"csls": np.array([[0, 1], [1, 2]])}  # god right at 1; earth right only at 2
    weighted = ev.translation_scores(top, ["god", "earth"], text, gold, ks=(1, 2), weights=np.array([3, 1]))
    repeated = ev.translation_scores({"csls": top["csls"][[0, 0, 0, 1]]}, ["god"] * 3 + ["earth"], text, gold,
                                     ks=(1, 2))
    assert weighted["p@1_csls"] == pytest.approx(0.75) == repeated["p@1_csls"]
    assert weighted["p@2_csls"] == pytest.approx(1.0) == repeated["p@2_csls"]


def test_overlap_labels_take_the_word_with_the_largest_overlap(tmp_path):
    words = SimpleNamespace(table=SimpleNamespace(audio=["a.wav", "a.wav", "b.wav"], start=[0.0, 0.5, 0.0],
                                                  end=[0.5, 1.0, 1.0], label=["in", "the", "x"]))
    chunks = SimpleNamespace(audio=["a.wav", "a.wav", "c.wav"], start=np.array([0.2, 0.4, 0.0]),
                             end=np.array([0.6, 1.0, 1.0]))
    labels = ev.overlap_labels(chunks, np.array([0, 1, 2]), words)
    assert labels == ["in", "the", None]


def test_supervised_seed_excludes_test_words_for_translation():
    speech = _text(["god", "earth", "light"])
    fr = _text(["dieu", "terre", "lumière"])
    gold = {"god": {"dieu"}, "earth": {"terre"}, "light": {"lumière", "clarté"}}
    pairs = ev.supervised_seed_pairs(speech, fr, "translation", gold, test_words={"earth"})
    assert sorted(map(tuple, pairs.tolist())) == [(0, 0), (2, 2)]
    same = ev.supervised_seed_pairs(speech, _text(["light", "god"]), "classification", None, {"god"})
    assert sorted(map(tuple, same.tolist())) == [(0, 1), (2, 0)]


def test_test_segments_are_only_held_out_speakers():
    store = SimpleNamespace(metadata={"held_out_speakers": ["s2"]}, speakers=["s1", "s2", "s1", "s2"])
    assert ev.test_segments(store).tolist() == [1, 3]
    with pytest.raises(WordbridgeError, match="no held-out speakers"):
        ev.test_segments(SimpleNamespace(metadata={}, speakers=["s1"]))


def test_report_means_and_std_over_seeds():
    evals = [{"task": "classification", "text": "en", "learner": "speech2vec", "configuration": c, "seed": s,
              "stage": f"eval-{c}-{s}", "alignment": {"method_used": "selflearn"},
              "scores": {"evaluated": 10, "accuracy_nn": a, "accuracy_csls": a, "coverage": 1.0}}
             for c, s, a in [("A", 0, 0.2), ("A", 1, 0.4), ("F", 0, 0.0)]]
    rows = aggregate(evals)
    a = next(r for r in rows if r["configuration"] == "A")
    assert a["accuracy_nn"]["mean"] == pytest.approx(0.3) and a["accuracy_nn"]["std"] == pytest.approx(0.1)
    md = results_markdown({"summary": rows, "config": {"seeds": [0, 1]}, "experiment": "t",
                           "config_file": "t.toml", "date": "today", "synthetic_speech": True})
    assert "| A | 30.0 ± 10.0 / 30.0 ± 10.0 / 100.0 ± 0.0 |" in md and "| F | 0.0 / 0.0 / 100.0 |" in md


CONFIG = """
name = "t"
[corpus]
text = "{text}"
[[text]]
name = "en"
path = "{text}"
"""


@pytest.mark.parametrize("extra, message", [
    ("[features]\nbogus = 1\n", "unknown key 'bogus' in \\[features\\]"),
    ("[speech]\nconfigurations = ['Z']\n", "unknown configuration 'Z'"),
    ("[speech.speech2vec]\nepochs = 0\n", "epochs must be at least 1"),
    ("[align]\nmethod = 'supervised'\n", "unsupervised method"),
    ("seeds = []\n", "seeds must be a non-empty list"),
    ("[speech.speech2vec]\nseeds = 'zero'\n", "\\[speech.speech2vec\\] seeds must be a non-empty list"),
    ("max_tokens = -5\n", "max_tokens must be a positive integer"),  # lands in the [[text]] table
])
def test_config_errors_are_one_line_and_name_the_problem(tmp_path, extra, message):
    text = tmp_path / "t.txt"
    text.write_text("in the beginning\n", encoding="utf-8")
    path = tmp_path / "x.toml"
    body = CONFIG.format(text=text)
    path.write_text((extra + body) if extra.startswith("seeds") else (body + extra), encoding="utf-8")
    with pytest.raises(WordbridgeError, match=message) as info:
        load_experiment(path)
    assert "\n" not in str(info.value) and str(path) in str(info.value)


def test_config_missing_files_are_named(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text(CONFIG.format(text=tmp_path / "nope.tsv"), encoding="utf-8")
    with pytest.raises(WordbridgeError, match="nope.tsv not found"):
        load_experiment(path)
    with pytest.raises(WordbridgeError, match="experiment config not found"):
        load_experiment(tmp_path / "missing.toml")


def test_a_learner_can_run_fewer_seeds_than_the_rest(tmp_path):
    from core.pipeline.experiment import Runtime, plan_experiment

    text = tmp_path / "t.txt"
    text.write_text("in the beginning\n", encoding="utf-8")
    path = tmp_path / "x.toml"
    path.write_text("seeds = [0, 1, 2]\n" + CONFIG.format(text=text)
                    + "[speech]\nconfigurations = ['A']\n[speech.speech2vec]\nseeds = [0]\n", encoding="utf-8")
    cfg = load_experiment(path)
    assert cfg.seeds_of("speech2vec") == [0] and cfg.seeds_of("unit-skipgram") == [0, 1, 2]
    speech = plan_experiment(cfg, Runtime(device="cpu")).stages["speech"]
    seeds = sorted((s.settings["learner"], s.settings["seed"]) for s in speech)
    assert seeds == [("speech2vec", 0), ("unit-skipgram", 0), ("unit-skipgram", 1), ("unit-skipgram", 2)]


def test_every_committed_experiment_config_loads(tmp_path, monkeypatch):
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    configs = sorted((root / "experiments").glob("*.toml"))
    assert len(configs) >= 3
    # the configs name their inputs under ${WORDBRIDGE_DATA}; loading only checks that they exist
    for config in configs:
        for rel in re.findall(r"\$\{WORDBRIDGE_DATA\}/([^\"]+)", config.read_text(encoding="utf-8")):
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).touch()
    monkeypatch.setenv("WORDBRIDGE_DATA", str(tmp_path))
    for config in configs:
        cfg = load_experiment(config)
        assert cfg.texts and cfg.learners, config.name


@pytest.mark.parametrize("pivot_entry, message", [
    ('name = "fr"\npath = "{text}"\ntask = "translation"\ndictionary = "{text}"\npivot = "de"\n',
     "fr: pivot must name a classification \\[\\[text\\]\\] of this file"),
    ('name = "fr"\npath = "{text}"\npivot = "en"\n', "only a translation task can have one"),
])
def test_a_pivot_must_be_a_classification_text_of_the_file(tmp_path, pivot_entry, message):
    text = tmp_path / "t.txt"
    text.write_text("in the beginning\n", encoding="utf-8")
    path = tmp_path / "x.toml"
    path.write_text(CONFIG.format(text=text) + "[[text]]\n" + pivot_entry.format(text=text), encoding="utf-8")
    with pytest.raises(WordbridgeError, match=message):
        load_experiment(path)


def test_pivot_translation_goes_through_the_pivot_word():
    """Speech → English (one map) and English → French (another): a query lands on its English word,
    whose French word is found; rows of all three spaces are the same words here."""
    from core.alignment import align
    from core.alignment.base import AlignConfig
    from core.alignment.synthetic import noisy_rotation, structured_space
    from core.embeddings import Embeddings
    from core.pipeline.pivot import pivot_topk

    n = 300
    english = structured_space(n, 16, seed=0)
    speech, _ = noisy_rotation(english, noise=0.02, seed=1)
    french, _ = noisy_rotation(english, noise=0.02, seed=2)
    speech = Embeddings([f"#{i}" for i in range(n)], speech.vectors, modality="speech")
    french = Embeddings([f"fr{i}" for i in range(n)], french.vectors)
    pairs = np.stack([np.arange(n), np.arange(n)], 1)
    cfg = AlignConfig(method="supervised", device="cpu")
    speech_map = align(speech, english, cfg, seed_pairs=pairs).mapping
    text_map = align(english, french, cfg, seed_pairs=pairs).mapping
    top = pivot_topk(speech_map, speech.vectors[:50], speech, english, text_map, french, 5, 10, "cpu")
    assert set(top) == {"nn", "csls"} and top["csls"].shape == (50, 5)
    assert (top["csls"][:, 0] == np.arange(50)).mean() >= 0.95
    assert (top["nn"][:, 0] == np.arange(50)).mean() >= 0.95
