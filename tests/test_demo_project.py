"""The bundled demo project (resources/demo, built by scripts/build_demo.py) opens, is labelled
synthetic, and classifies a new synthetic clip spoken by a voice the build never used."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

DEMO = Path(__file__).resolve().parent.parent / "resources" / "demo"
UNSEEN_SPEAKER = 45  # scripts/build_demo.py uses speakers 0..N-1 and keeps 40+ for checks like this one

pytestmark = pytest.mark.skipif(not (DEMO / "wordbridge.json").is_file(),
                                reason="resources/demo is absent (build it with scripts/build_demo.py)")


@pytest.fixture(scope="module")
def project():
    from core.project import Project

    return Project.open(DEMO, read_only=True)


@pytest.fixture(scope="module")
def classifier(project):
    import torch

    from core.classify import ClipClassifier, clip_embedder

    torch.set_num_threads(1)
    return ClipClassifier.load(project, embed=clip_embedder(project))


def test_opens_read_only_and_is_small():
    from core.project import Project

    assert Project.open(DEMO, read_only=True).read_only  # never upgrade or write the committed demo
    size = sum(f.stat().st_size for f in DEMO.rglob("*") if f.is_file())
    assert size < 40e6


def test_names_no_path_of_the_machine_it_was_built_on(project):
    """The demo travels with every clone: `project info --check` finds nothing unsafe in it."""
    from core.project.paths import unsafe_references

    assert unsafe_references(project) == []


def test_manifest_says_synthetic(project):
    manifest = project.manifest
    assert manifest.synthetic_speech is True
    assert "espeak-ng" in manifest.synthetic_speech_note
    assert "SYNTHETIC" in manifest.description
    speech = [s for s in project.spaces if s.kind == "speech"]
    assert speech and all(s.synthetic for s in speech)
    config = project.encoders[0].config if project.encoders else {}
    # an encoder of synthetic speech says so; a word recogniser also trained on recordings of people
    # says what it was trained on, synthetic voices named as such
    assert config.get("synthetic") is True or "SYNTHETIC" in config.get("trained_on", "")


def test_spaces_mappings_and_projections_load(project):
    spaces = {s.id: project.space(s.id) for s in project.spaces}
    assert {"speech-en", "text-en", "text-fr", "text-es"} <= set(spaces)
    for emb in spaces.values():
        assert len(emb) > 100 and emb.dim == 50 and np.isfinite(emb.vectors).all()
    ends = {(m.source, m.target) for m in project.mappings}
    assert {("speech-en", "text-en"), ("text-en", "text-fr"), ("text-en", "text-es")} <= ends
    for m in project.mappings:
        assert project.mapping(m.id).W.shape == (50, 50)
        assert "supervised" in m.metrics  # every mapping says whether it was learned with a dictionary
    methods = {(p.method, p.alignment) for p in project.projections}
    assert {("pca", "after"), ("pca", "before")} <= methods
    for p in project.projections:
        proj = project.projection(p.id)
        assert proj.coords.shape[1] == 2 and np.isfinite(proj.coords).all()
        assert {g.space for g in proj.groups} >= {"speech-en", "text-en"}
    labelled = [r for r in project.recordings() if r.label]
    assert labelled and project.recording_audio(labelled[0].id)[0].size > 0


def test_unseen_voice_clip_lands_in_the_top_10(project, classifier):
    synthesize = pytest.importorskip("core.synth.synthesize")
    from core.synth.voices import voice_for_speaker

    voice = voice_for_speaker("en", UNSEEN_SPEAKER, seed=0)
    speech_words = project.space("speech-en").words
    words = [w for w in speech_words if len(w) > 2][:8]  # frequent content-ish words
    hits = []
    for word in words:
        samples, _ = synthesize.synthesize_utterance(word, voice, pad_s=0.3)
        result = classifier.classify_clip(samples, 16000, k=10, method="csls")
        top = [c.word for c in result.by_space["text-en"]]
        hits.append(word in top)
        assert result.by_space["text-fr"] and result.by_space["text-es"]  # translations reached too
    # A measured property, not a guarantee per word. The MFCC demo of sessions 2-8 got 7 of 8 for
    # this voice; the session-9 demo, whose word recogniser is trained on 3 synthetic voices plus
    # real speakers (speechocean762), got 3 of 8, the session-10 one (12 voices, per-source type
    # prototypes) 4 of 8 — they traded synthetic voices for people's (docs/RESULTS.md, "People's
    # voices"). Chance is 10 / 5,335 words per clip, so 2 of 8 still fails for a broken encoder or
    # mapping (which scores 0).
    assert sum(hits) >= 2, f"top-10 hits {dict(zip(words, hits))}"


def test_rate_level_channels_and_silence_do_not_change_the_answer(project, classifier):
    """The same word at 44.1 kHz, 26 dB quieter, with silence around it, or as two channels averaged
    (what core.audio.load_audio does) gets the same first word as the 16-kHz clip (among its first
    three, for float differences). 8-kHz audio is not in this list: telephone band does change the
    input (docs/RESULTS.md)."""
    synthesize = pytest.importorskip("core.synth.synthesize")
    from core.audio import resample
    from core.synth.voices import voice_for_speaker

    voice = voice_for_speaker("en", UNSEEN_SPEAKER, seed=0)
    for word in ("water", "house", "three"):
        s, _ = synthesize.synthesize_utterance(word, voice, pad_s=0.1)
        reference = [c.word for c in classifier.classify_clip(s, 16000, k=3).by_space["text-en"]]
        variants = {"44.1 kHz": (resample(s, 16000, 44100), 44100), "quiet": (0.05 * s, 16000),
                    "silence": (np.concatenate([np.zeros(8000, np.float32), s, np.zeros(12000, np.float32)]), 16000),
                    "two channels": (np.stack([s, 0.8 * s], 1).mean(1), 16000)}
        for name, (x, sr) in variants.items():
            first = classifier.classify_clip(np.asarray(x, np.float32), sr, k=3).by_space["text-en"][0].word
            assert first in reference, f"{word} ({name}): {first!r} not among {reference}"
