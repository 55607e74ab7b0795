"""The standardised front end (issue 18): another front end's frames standardised per dimension with
fixed statistics fitted on the corpus; its config round-trips, nests the inner record (an ssl
checkpoint stays relative to the project), refuses ill-formed statistics in one line, and
`corpus build --standardise` fits it on a fixed sample of the corpus before the features."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from core.cli import main as cli_main
from core.corpus.build import build_feature_store
from core.corpus.feature_store import FeatureStore
from core.corpus.standardise import sample_recordings
from core.errors import WordbridgeError
from core.features import FeatureConfig
from core.frontends import FRONTENDS, frontend_record, make_frontend
from core.frontends.mfcc import MfccFrontEnd
from core.frontends.standardised import StandardisedFrontEnd, fit_standardiser
from tests.test_frontends import HAVE_OWW, SR, _corpus, _tiny, vowels

torch.set_num_threads(1)


def _signals():
    return [vowels(0.6, seed=1), vowels(0.4, seed=2, level=0.1), vowels(0.9, seed=3, level=0.8)]


def _fitted(features=None) -> StandardisedFrontEnd:
    return fit_standardiser(MfccFrontEnd(features or FeatureConfig(cmvn=False)), _signals(), device="cpu")


def _moments(front, signals):
    frames = np.concatenate([front.frames(s) for s in signals]).astype(np.float64)
    return frames.mean(axis=0), frames.std(axis=0)


def test_fitted_frames_have_zero_mean_unit_std_and_the_config_round_trips():
    front = _fitted()
    assert "standardised" in FRONTENDS and front.name == "standardised"
    assert (front.dim, front.frame_rate, front.segment_mode) == (13, 100.0, "slice")
    mean, std = _moments(front, _signals())
    np.testing.assert_allclose(mean, 0.0, atol=1e-3)
    np.testing.assert_allclose(std, 1.0, atol=1e-3)
    raw = np.concatenate([front.inner.frames(s) for s in _signals()])
    assert np.abs(raw.mean(axis=0)).max() > 1.0  # the inner frames were not standardised already
    config = json.loads(json.dumps(front.config()))
    assert config["name"] == "standardised" and config["inner"] == front.inner.config()
    assert config["fitted_on"] == {"recordings": 3, "frames": len(raw)}
    again = make_frontend(config)
    assert again == front and again.config() == config
    clip = vowels(0.3, seed=4)
    np.testing.assert_allclose(again.frames(clip), front.frames(clip), atol=1e-6)
    spans = [(0.0, 0.2), (0.1, 0.3)]
    for got, inner in zip(front.segment_frames(clip, spans), front.inner.segment_frames(clip, spans)):
        np.testing.assert_allclose(got, front.standardise(inner), atol=1e-6)
    assert "statistics of 3 recordings" in front.provenance() and "no labels used" in front.provenance()


@pytest.mark.parametrize("change, message", [
    ({"mean": [0.0] * 3}, "'mean' must be 13 finite numbers (the mfcc front end's width)"),
    ({"std": [float("nan")] * 13}, "'std' must be 13 finite numbers"),
    ({"mean": "zero"}, "'mean' must be 13 finite numbers"),
    ({"std": [-1.0] * 13}, "'std' must not be negative"),
    ({"inner": None}, "'inner' must be a front-end config"),
    ({"inner": {"name": "fbank"}}, "unknown front end 'fbank'"),
    ({"fitted_on": {"recordings": -1}}, "'fitted_on' must be"),
    ({"scale": 2}, r"unknown keys ['scale']"),
])
def test_ill_formed_configs_are_one_line_errors(change, message):
    config = {**_fitted().config(), **change}
    with pytest.raises(WordbridgeError) as info:
        make_frontend(config)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_zero_std_dimension_is_divided_by_a_floor():
    inner = MfccFrontEnd(FeatureConfig(cmvn=False))
    front = StandardisedFrontEnd(inner, np.zeros(13), np.zeros(13))
    frames = front.frames(vowels(0.3))
    assert frames.dtype == np.float32 and np.isfinite(frames).all()
    np.testing.assert_allclose(frames, inner.frames(vowels(0.3)) / 1e-5, rtol=1e-5)


def test_the_sample_of_recordings_is_fixed_and_capped():
    names = [f"spk{k % 7}/utt{k:04d}.wav" for k in range(250)]
    first = sample_recordings(names)
    assert len(first) == 200 and first == sorted(first) and sample_recordings(reversed(names)) == first
    assert sample_recordings(names[:5]) == sorted(names[:5])


def test_cli_build_with_standardised_mfcc_and_a_rerun_is_a_no_op(tmp_path, capsys):
    corpus = _corpus(tmp_path)
    sf.write(corpus / "v.wav", vowels(0.7, seed=5, level=0.2), SR)  # no TextGrid: not a recording of the corpus
    args = ["corpus", "build", str(corpus), "--out", str(tmp_path / "s"), "--workers", "0", "--quiet",
            "--frontend", "mfcc", "--standardise", "--device", "cpu"]
    assert cli_main(args) == 0 and "wrote" in capsys.readouterr().out
    store = FeatureStore.open(tmp_path / "s")
    header = store.header
    assert header["frontend"]["name"] == "standardised" and header["frontend"]["inner"]["name"] == "mfcc"
    assert header["standardisation"]["recordings"] == ["u.wav"] and header["feature_config"] is None
    assert header["build_settings"]["standardise"] == {"max_recordings": 200, "seed": 0}
    front = store.frontend
    assert isinstance(front, StandardisedFrontEnd) and front.fitted_on["recordings"] == 1
    samples, _ = sf.read(corpus / "u.wav", dtype="float32")
    alone = fit_standardiser(front.inner, [samples], device="cpu")  # the whole recording's frames
    np.testing.assert_allclose(front.mean, alone.mean, atol=1e-4)
    np.testing.assert_allclose(front.std, alone.std, atol=1e-4)
    for i, want in enumerate(front.segment_frames(samples, [(0.0, 0.5), (0.5, 0.8)])):
        np.testing.assert_allclose(store.features(i), want, atol=0.01 + 2e-3 * np.abs(want).max())
    assert cli_main(args) == 0 and "nothing to do" in capsys.readouterr().out
    assert cli_main(["corpus", "info", str(tmp_path / "s")]) == 0
    assert "front end: standardised" in capsys.readouterr().out


def test_cli_refusals_are_one_line(tmp_path, capsys):
    corpus = _corpus(tmp_path)
    code = cli_main(["corpus", "build", str(corpus), "--out", str(tmp_path / "t"), "--quiet", "--workers", "0",
                     "--frontend", "fbank", "--standardise"])
    err = capsys.readouterr().err
    assert code == 2 and "error: unknown front end 'fbank'" in err and "Traceback" not in err
    sf.write(corpus / "u.wav", np.zeros(SR, np.float32), SR)  # the only recording is silent
    code = cli_main(["corpus", "build", str(corpus), "--out", str(tmp_path / "u"), "--quiet", "--workers", "0",
                     "--standardise", "--device", "cpu"])
    err = capsys.readouterr().err
    assert code == 2 and err.strip() == "error: no readable recording to fit the standardisation on"


def test_a_resumed_build_keeps_the_statistics_it_fitted(tmp_path, monkeypatch):
    from core.corpus import standardise

    corpus = _corpus(tmp_path)
    (corpus / "b").mkdir()
    for name in ("u.wav", "u.TextGrid"):
        (corpus / "b" / name).write_bytes((corpus / name).read_bytes())
    calls = []
    fit = standardise.fit_on_recordings
    monkeypatch.setattr(standardise, "fit_on_recordings", lambda *a, **k: calls.append(1) or fit(*a, **k))

    def crash(k):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_feature_store(corpus, tmp_path / "s", "textgrid", device="cpu", shard_files=1, standardise=True,
                            on_shard_done=crash)
    result = build_feature_store(corpus, tmp_path / "s", "textgrid", device="cpu", shard_files=1, standardise=True)
    assert calls == [1] and result.shards_resumed == 1
    assert FeatureStore.open(tmp_path / "s").header["standardisation"]["recordings"] == ["b/u.wav", "u.wav"]


def test_an_ssl_inner_checkpoint_stays_relative_to_the_project(tmp_path):
    from core.frontends import ssl_checkpoint
    from core.frontends.ssl_checkpoint import SslFrontEnd
    from core.project import Project
    from core.project.paths import absolute_strings, frontend_problems

    models = tmp_path / "models"
    models.mkdir()
    path, _, _ = _tiny(models)
    inner = SslFrontEnd(path)
    try:
        front = fit_standardiser(inner, _signals()[:2], device="cpu")
        assert frontend_record(front.config())["inner"]["path"] == "tiny.safetensors"  # outside a project
        project = Project.create(tmp_path / "proj", "ssl", languages=["en"])
        out = project.root / "corpora" / "words"
        build_feature_store(_corpus(tmp_path), out, "textgrid", frontend=inner, device="cpu", standardise=True)
        header = json.loads((out / "header.json").read_text())
        assert header["frontend"]["name"] == "standardised"
        assert header["frontend"]["inner"]["path"] == f"frontends/tiny-{inner.sha256[:12]}.safetensors"
        assert absolute_strings(header) == []
        assert frontend_problems(project.root, header["frontend"], "header.json frontend") == []
        broken = {**header["frontend"], "inner": {**header["frontend"]["inner"], "path": str(path)}}
        assert "frontend.inner: the self-supervised checkpoint is recorded by an absolute" in \
            frontend_problems(project.root, broken, "header.json frontend")[0]
        ssl_checkpoint._KNOWN.clear()
        ssl_checkpoint._MODELS.clear()
        loaded = FeatureStore.open(out).frontend
        assert isinstance(loaded, StandardisedFrontEnd) and loaded.inner.path.is_relative_to(project.root.resolve())
        clip = vowels(0.3, seed=6)
        np.testing.assert_allclose(loaded.frames(clip), StandardisedFrontEnd(
            inner, loaded.mean, loaded.std).frames(clip), atol=1e-4)
    finally:
        ssl_checkpoint._KNOWN.clear()
        ssl_checkpoint._MODELS.clear()


@pytest.fixture
def speech_weights(tmp_path, monkeypatch):
    """speech_embedding weights converted from the installed openwakeword (as tests/test_frontends.py does)."""
    from core.frontends import speech_embedding as se

    if not HAVE_OWW:
        pytest.skip("openwakeword 0.4.0 / onnx not installed")
    monkeypatch.setenv(se.ENV_VAR, str(se.convert_openwakeword(tmp_path / "speech_embedding.safetensors")))


def test_speech_embedding_standardised(speech_weights):
    from core.frontends.speech_embedding import SpeechEmbeddingFrontEnd

    front = fit_standardiser(SpeechEmbeddingFrontEnd(), _signals(), device="cpu")
    assert (front.dim, front.frame_rate, front.segment_mode) == (96, 25.0, "own-audio")
    mean, std = _moments(front, _signals())
    np.testing.assert_allclose(mean, 0.0, atol=1e-3)
    np.testing.assert_allclose(std[std > 0], 1.0, atol=1e-3)
    assert "English keyword" in front.provenance() and make_frontend(front.config()) == front


def test_batched_in_the_main_process_the_store_is_the_same(tmp_path):
    corpus = _corpus(tmp_path)
    for name, batch in (("a", False), ("b", True)):  # b: as on CUDA, workers only decode
        build_feature_store(corpus, tmp_path / name, "textgrid", device="cpu", standardise=True, batch_in_main=batch)
    a, b = FeatureStore.open(tmp_path / "a"), FeatureStore.open(tmp_path / "b")
    assert a.header["frontend"] == b.header["frontend"] and a.n_segments == b.n_segments == 2
    for i in range(2):
        np.testing.assert_allclose(a.features(i), b.features(i), atol=1e-2)


def test_a_speech_space_built_on_a_standardised_store_standardises_new_clips_the_same_way():
    """What the app does with a clip: the encoder config carries the fitted statistics, so the clip's
    frames are the standardised front end's frames of the trimmed word, not the raw ones."""
    from core.audio import word_span
    from core.embeddings import Embeddings
    from core.speech.acoustic import ContrastiveAWE
    from core.speech.encode import ClipEncoder, pack_type_space
    from core.speech.type_space import SpeechTypeSpace

    front = _fitted()
    torch.manual_seed(0)
    model = ContrastiveAWE(front.dim, "conv", hidden=16, dim=12).eval()
    emb = Embeddings(["a", "b"], np.eye(2, 8, dtype=np.float32), np.array([2, 1]), modality="speech")
    space = SpeechTypeSpace(emb, model, np.eye(2, 12, dtype=np.float32),
                            {"learner": "unit-skipgram", "grouping": "VAD", "max_frames": 40, "feat_dim": front.dim})
    weights, config = pack_type_space(space, front)
    config = json.loads(json.dumps(config))  # as stored on disk
    assert config["frontend"]["name"] == "standardised"
    encoder = ClipEncoder(weights, config)
    gap = np.zeros(int(0.3 * SR), np.float32)
    clip = np.concatenate([gap, vowels(0.5, seed=4), gap])
    span = word_span(clip, SR)
    got = encoder.clip_features(clip, SR)
    want = front.segment_frames(clip, [(span[0] / SR, span[1] / SR)])[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    raw = front.inner.segment_frames(clip, [(span[0] / SR, span[1] / SR)])[0]
    assert np.abs(got - raw).max() > 0.1  # the statistics were applied, not skipped
