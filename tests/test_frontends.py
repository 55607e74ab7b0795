"""core.frontends: one interface, MFCC unchanged, speech_embedding equal to its ONNX reference,
a self-supervised checkpoint read safely, and the front end recorded where clips are embedded."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import soundfile as sf
import torch

from core.errors import WordbridgeError
from core.features import FeatureConfig, extract_features, extract_one, span_features
from core.frontends import FRONTENDS, FrontEnd, frontend_from_record, make_frontend, parse_frontend_spec
from core.frontends import speech_embedding as se
from core.frontends.mfcc import MfccFrontEnd
from core.frontends.ssl_checkpoint import SslFrontEnd, save_ssl_checkpoint

torch.set_num_threads(1)
SR = 16000
HAVE_OWW = importlib.util.find_spec("openwakeword") is not None and importlib.util.find_spec("onnx") is not None


def vowels(seconds: float = 1.0, seed: int = 0, level: float = 0.5) -> np.ndarray:
    """Real-ish speech: a glottal pulse train with a moving pitch through moving formant resonators."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * seconds)) / SR
    f0 = 120 + 30 * np.sin(2 * np.pi * 1.5 * t)
    phase = np.cumsum(2 * np.pi * f0 / SR)
    y = sum(np.sin(h * phase) / h for h in range(1, 30))
    half = len(y) // 2
    for formants in ([(700, 80), (1200, 90), (2600, 120)], [(300, 60), (2300, 100), (3000, 120)]):
        for f, b in formants:
            r, th = np.exp(-np.pi * b / SR), 2 * np.pi * f / SR
            y = np.concatenate([lfilter([1 - r], [1, -2 * r * np.cos(th), r * r], y[:half]), y[half:]])
        y = np.concatenate([y[half:], y[:half]])  # the second vowel gets the second formant set
    y = y / np.abs(y).max() * np.hanning(len(y)) ** 0.3 + 0.01 * rng.normal(size=len(y))
    return (level * y / np.abs(y).max()).astype(np.float32)


@pytest.fixture(scope="module")
def speech_weights(tmp_path_factory):
    """speech_embedding weights converted from the installed openwakeword into a temporary file."""
    if not HAVE_OWW:
        pytest.skip("openwakeword 0.4.0 / onnx not installed")
    path = se.convert_openwakeword(tmp_path_factory.mktemp("se") / "speech_embedding.safetensors")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(se.ENV_VAR, str(path))
        yield path


def test_registry_configs_and_unknown_names():
    assert set(FRONTENDS) == {"mfcc", "speech-embedding", "ssl", "standardised"}
    assert make_frontend(None) == MfccFrontEnd()
    logmel = FeatureConfig(kind="logmel", deltas=True)
    assert make_frontend(json.loads(json.dumps(MfccFrontEnd(logmel).config()))).dim == 120
    old = frontend_from_record(None, logmel.to_dict())  # an encoder stored before front ends existed
    assert isinstance(old, MfccFrontEnd) and old.features == logmel
    embedding = make_frontend({"name": "speech-embedding", "hop_ms": 80})
    assert (embedding.dim, embedding.frame_rate) == (96, 12.5) and make_frontend(embedding.config()) == embedding
    assert "Apache-2.0" in embedding.provenance() and "English keyword" in embedding.provenance()
    with pytest.raises(WordbridgeError, match="unknown front end 'wavlm'"):
        make_frontend({"name": "wavlm"})
    with pytest.raises(WordbridgeError, match="unknown front end 'fbank'"):
        parse_frontend_spec("fbank")
    with pytest.raises(WordbridgeError, match=r"unknown keys \['bogus'\]"):
        make_frontend({"name": "speech-embedding", "bogus": 1})
    with pytest.raises(WordbridgeError, match="hop must be 10, 20, 40 or 80 ms"):
        make_frontend({"name": "speech-embedding", "hop_ms": 30})


def test_mfcc_front_end_is_core_features_unchanged():
    x, y = vowels(0.8), vowels(1.3, seed=1)
    front = parse_frontend_spec("mfcc", FeatureConfig(deltas=True))
    assert front.segment_mode == "slice" and front.frame_rate == 100
    np.testing.assert_array_equal(front.frames(x), extract_one(x, front.features, device="cpu"))
    for got, want in zip(front.batch_frames([x, y], "cpu"), extract_features([x, y], front.features, device="cpu")):
        np.testing.assert_array_equal(got, want)
    spans = [(0.1, 0.3), (0.5, 0.79)]
    for got, want in zip(front.segment_frames(x, spans), span_features(x, spans, front.features, device="cpu")):
        np.testing.assert_array_equal(got, want)


@pytest.mark.skipif(not HAVE_OWW or importlib.util.find_spec("onnxruntime") is None, reason="needs onnxruntime")
def test_speech_embedding_matches_onnxruntime(speech_weights):
    import onnxruntime as ort

    models = se._openwakeword_models()
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    mel_ref = ort.InferenceSession(str(models / "melspectrogram.onnx"), options, providers=["CPUExecutionProvider"])
    emb_ref = ort.InferenceSession(str(models / "embedding_model.onnx"), options, providers=["CPUExecutionProvider"])
    pcm = (vowels(1.5) * 32767).astype(np.int16).astype(np.float32)  # what openwakeword feeds
    want_mel = mel_ref.run(None, {"input": pcm[None]})[0].squeeze() / 10 + 2  # openwakeword's transform
    net = se.load_net(speech_weights)
    with torch.inference_mode():
        mel = net.mel_db(torch.from_numpy(pcm)[None])[0]
        mel = (torch.maximum(mel, mel.max() - se.TOP_DB) / 10 + 2).numpy()
        windows = np.stack([want_mel[i:i + 76] for i in range(0, len(want_mel) - 75, 8)]).astype(np.float32)
        want_emb = emb_ref.run(None, {"input_1": windows[..., None]})[0].squeeze()
        emb = net.embed(torch.from_numpy(want_mel[:76 + 8 * (len(windows) - 1)])[None])[0].numpy()
    assert mel.shape == want_mel.shape == (147, 32) and emb.shape == want_emb.shape == (9, 96)
    # measured: mel 2e-6 of a 5-unit range, embedding 5e-5 of an 80-unit range
    assert np.abs(mel - want_mel).max() < 1e-3 * np.ptp(want_mel)
    assert np.abs(emb - want_emb).max() < 1e-3 * np.ptp(want_emb)


def test_speech_embedding_frames_for_short_and_long_words(speech_weights):
    front = se.SpeechEmbeddingFrontEnd()
    short, word = front.frames(vowels(0.2)), front.frames(vowels(1.0))
    assert short.shape == (6, 96) and word.shape == (26, 96) and word.dtype == np.float32
    assert se.SpeechEmbeddingFrontEnd(hop_ms=80).frames(vowels(0.2)).shape == (3, 96)
    assert front.frames(np.zeros(100, np.float32)).shape == (1, 96)
    # every 40-ms frame of the 80-ms front end is every other frame here
    np.testing.assert_allclose(se.SpeechEmbeddingFrontEnd(hop_ms=80).frames(vowels(1.0)), word[::2], atol=1e-3)


def _cos(a, b):
    return float((a * b).sum() / np.linalg.norm(a) / np.linalg.norm(b))


def test_speech_embedding_ignores_silence_around_the_word_and_its_level(speech_weights):
    front = se.SpeechEmbeddingFrontEnd()
    word = vowels(0.6)
    base = front.frames(word)
    quiet = 10 ** (-70 / 20) * np.random.default_rng(3).normal(size=int(0.32 * SR)).astype(np.float32)
    padded = front.frames(np.concatenate([quiet, word, quiet[:4000]]))  # 0.32 s = 8 frames before the word
    assert len(padded) == len(base) + 8 + 6
    assert min(_cos(a, b) for a, b in zip(base, padded[8:8 + len(base)])) > 0.97  # measured 0.989
    softer = front.frames(0.05 * word)  # 20 dB quieter
    assert np.abs(softer - base).max() < 1e-3 * np.ptp(base)


def test_speech_embedding_batches_and_blocks_equal_one_by_one(speech_weights, monkeypatch):
    front = se.SpeechEmbeddingFrontEnd()
    signals = [vowels(2.5, seed=1), vowels(0.2, seed=2), vowels(1.0, seed=3)]
    alone = [front.frames(s) for s in signals]
    for got, want in zip(front.batch_frames(signals, "cpu"), alone):
        np.testing.assert_allclose(got, want, atol=1e-3 * np.ptp(want))
    monkeypatch.setattr(se, "BLOCK_MELS", 64)  # 2.5 s now counts as long: mel and frames in blocks
    np.testing.assert_allclose(front.frames(signals[0]), alone[0], atol=1e-3 * np.ptp(alone[0]))


def test_speech_embedding_weights_lookup(speech_weights, tmp_path, monkeypatch):
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda name: str(tmp_path / "cache" / name))
    monkeypatch.delenv(se.ENV_VAR)
    converted = se.weights_path()  # first use: converted from the installed openwakeword, into the cache
    assert converted == tmp_path / "cache" / "wordbridge" / se.CACHE_NAME and converted.is_file()
    from safetensors.torch import load_file

    ours, theirs = load_file(converted), load_file(speech_weights)
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
    converted.unlink()
    monkeypatch.setattr(se, "_openwakeword_models", lambda: (_ for _ in ()).throw(WordbridgeError("absent")))
    with pytest.raises(WordbridgeError, match=r"speech_embedding weights not found: set \$WORDBRIDGE_SPEECH_EMBEDDING"):
        se.weights_path()
    monkeypatch.setenv(se.ENV_VAR, str(tmp_path / "missing.safetensors"))
    with pytest.raises(WordbridgeError, match="missing.safetensors: speech_embedding weights not found"):
        se.weights_path()
    (tmp_path / "junk.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(WordbridgeError, match="not a speech_embedding .safetensors file"):
        se.load_net(tmp_path / "junk.safetensors")
    with pytest.raises(WordbridgeError, match="melspectrogram.onnx: not found"):
        se.convert_openwakeword(tmp_path / "x.safetensors", models_dir=tmp_path)


TINY = dict(extractor_mode="group_norm", extractor_conv_layer_config=[[16, 10, 5], [16, 3, 2], [16, 2, 2]],
            extractor_conv_bias=False, encoder_embed_dim=32, encoder_projection_dropout=0.0,
            encoder_pos_conv_kernel=16, encoder_pos_conv_groups=4, encoder_num_layers=3, encoder_num_heads=2,
            encoder_attention_dropout=0.0, encoder_ff_interm_features=64, encoder_ff_interm_dropout=0.0,
            encoder_dropout=0.0, encoder_layer_norm_first=False, encoder_layer_drop=0.0, aux_num_out=None)


UNPICKLED: list = []


def _unpickled():
    UNPICKLED.append(True)


class Payload:
    """Unpickling this runs code (as a malicious checkpoint would)."""

    def __reduce__(self):
        return _unpickled, ()


def _tiny(tmp_path, name="tiny.safetensors", **changes):
    from torchaudio.models import wav2vec2_model

    params = {**TINY, **changes}
    torch.manual_seed(0)
    model = wav2vec2_model(**{**params, "extractor_conv_layer_config": [tuple(c) for c in params["extractor_conv_layer_config"]]})
    return save_ssl_checkpoint(tmp_path / name, model, params, layer=2, licence="MIT (test)"), model, params


@pytest.mark.parametrize("mode", ["group_norm", "layer_norm"])
def test_ssl_checkpoint_frames_are_one_transformer_layer(tmp_path, mode):
    path, model, _ = _tiny(tmp_path, extractor_mode=mode, encoder_layer_norm_first=mode == "layer_norm")
    front = parse_frontend_spec(f"ssl:{path}")
    assert (front.dim, front.frame_rate, front.layer) == (32, 800.0, 2) and "MIT (test)" in front.provenance()
    x = vowels(0.3)
    frames = front.frames(x)
    with torch.inference_mode():
        want = model.eval().extract_features(torch.from_numpy((x - x.mean()) / x.std() if mode == "layer_norm" else x)[None],
                                             num_layers=2)[0][-1][0].numpy()
    np.testing.assert_allclose(frames, want, atol=1e-4)
    assert front.receptive_field == 30 and len(front.frames(np.ones(20, np.float32))) == 1  # padded to 30
    rebuilt = make_frontend(json.loads(json.dumps(front.config())))
    signals = [vowels(0.5, seed=1), x]
    for got, one in zip(rebuilt.batch_frames(signals, "cpu"), signals):
        np.testing.assert_allclose(got, front.frames(one), atol=1e-4)


def test_ssl_checkpoint_formats_and_refusals(tmp_path):
    path, model, params = _tiny(tmp_path)
    meta = {"params": params, "layer": 3}
    torch.save({"state_dict": model.state_dict(), "config": meta}, tmp_path / "plain.pt")
    assert SslFrontEnd(tmp_path / "plain.pt").layer == 3
    torch.save({"state_dict": model.state_dict(), "config": meta, "extra": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(WordbridgeError, match="evil.pt: refused: not a plain tensor file"):
        SslFrontEnd(tmp_path / "evil.pt")
    assert UNPICKLED == []  # the payload's code never ran
    torch.save(torch.nn.Linear(3, 4).state_dict(), tmp_path / "linear.pt")
    (tmp_path / "linear.json").write_text(json.dumps(meta))
    with pytest.raises(WordbridgeError, match=r"not a checkpoint of this wav2vec2/HuBERT model \(\d+ missing and 2 unexpected"):
        SslFrontEnd(tmp_path / "linear.pt")
    torch.save(model.state_dict(), tmp_path / "wide.pt")
    (tmp_path / "wide.json").write_text(json.dumps({"params": {**params, "encoder_ff_interm_features": 96}}))
    with pytest.raises(WordbridgeError, match=r"has shape \(64, 32\), the model needs \(96, 32\)"):
        SslFrontEnd(tmp_path / "wide.pt")
    torch.save(model.state_dict(), tmp_path / "bare.pt")
    with pytest.raises(WordbridgeError, match="bare.pt: no hyper-parameters"):
        SslFrontEnd(tmp_path / "bare.pt")
    with pytest.raises(WordbridgeError, match="layer 5 is not between 1 and 3"):
        SslFrontEnd(path, layer=5)
    config = SslFrontEnd(path).config()
    _tiny(tmp_path, encoder_ff_interm_features=48)  # the file changes under the same name
    with pytest.raises(WordbridgeError, match="checkpoint has changed"):
        make_frontend(config)
    with pytest.raises(WordbridgeError, match="checkpoint not found"):
        parse_frontend_spec(f"ssl:{tmp_path / 'none.safetensors'}")


def _word_in_silence(seconds=0.5):
    gap = np.zeros(int(0.4 * SR), np.float32)
    return np.concatenate([gap, vowels(seconds), gap])


def test_clip_encoder_takes_its_front_end_from_the_config(speech_weights):
    from core.audio import word_span
    from core.embeddings import Embeddings
    from core.speech.acoustic import ContrastiveAWE
    from core.speech.encode import ClipEncoder, pack_type_space
    from core.speech.type_space import SpeechTypeSpace

    front = se.SpeechEmbeddingFrontEnd()
    torch.manual_seed(0)
    model = ContrastiveAWE(front.dim, "conv", hidden=16, dim=12).eval()
    emb = Embeddings(["a", "b"], np.eye(2, 8, dtype=np.float32), np.array([2, 1]), modality="speech")
    space = SpeechTypeSpace(emb, model, np.eye(2, 12, dtype=np.float32),
                            {"learner": "unit-skipgram", "grouping": "A", "max_frames": 40, "feat_dim": 96})
    weights, config = pack_type_space(space, front)
    config = json.loads(json.dumps(config))
    assert config["frontend"] == front.config() and config["features"] is None
    encoder = ClipEncoder(weights, config)
    clip = _word_in_silence()
    span = word_span(clip, SR)
    want = front.segment_frames(clip, [(span[0] / SR, span[1] / SR)])[0]
    np.testing.assert_array_equal(encoder.clip_features(clip, SR), want)
    assert encoder(clip, SR).shape == (8,)
    # a recogniser trained on words ± 0.05 s keeps that much around the trimmed word
    pad = int(0.05 * SR)
    margined = ClipEncoder(weights, {**config, "trim_margin_s": 0.05})
    want = front.segment_frames(clip, [((span[0] - pad) / SR, (span[1] + pad) / SR)])[0]
    np.testing.assert_array_equal(margined.clip_features(clip, SR), want)
    with pytest.raises(WordbridgeError, match="features of 96 dims but the model takes 13"):
        ClipEncoder(weights, {**config, "feat_dim": 13})
    mfcc_weights, mfcc_config = pack_type_space(space, FeatureConfig())
    assert mfcc_config["frontend"] == {"name": "mfcc", "features": FeatureConfig().to_dict()}


def _corpus(tmp_path):
    from praatio import textgrid
    from praatio.data_classes.interval_tier import IntervalTier

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    wave = np.concatenate([vowels(0.5, seed=1), vowels(0.3, seed=2), np.zeros(SR // 5, np.float32)])
    sf.write(corpus / "u.wav", wave, SR)
    tg = textgrid.Textgrid()
    tg.addTier(IntervalTier("words", [(0.0, 0.5, "one"), (0.5, 0.8, "two")], 0, 1.0))
    tg.save(str(corpus / "u.TextGrid"), format="short_textgrid", includeBlankSpaces=True)
    return corpus


def test_feature_store_with_a_pretrained_front_end(speech_weights, tmp_path):
    from core.corpus.build import build_feature_store
    from core.corpus.feature_store import FeatureStore

    corpus = _corpus(tmp_path)
    front = se.SpeechEmbeddingFrontEnd(segment_margin_s=0.05)
    build_feature_store(corpus, tmp_path / "store", "textgrid", frontend=front, device="cpu")
    store = FeatureStore.open(tmp_path / "store")
    assert store.dim == 96 and store.header["frontend"] == front.config() and store.config == front
    samples, _ = sf.read(corpus / "u.wav", dtype="float32")
    for i, want in enumerate(front.segment_frames(samples, [(0.0, 0.5), (0.5, 0.8)])):
        np.testing.assert_allclose(store.features(i), want, atol=0.05 + 2e-3 * np.abs(want).max())  # float16 storage
    assert isinstance(store.frontend, FrontEnd)


def test_cli_corpus_build_frontend(speech_weights, tmp_path, capsys):
    from core.cli import main as cli_main

    corpus = _corpus(tmp_path)
    code = cli_main(["corpus", "build", str(corpus), "--out", str(tmp_path / "s"), "--workers", "0", "--quiet",
                     "--frontend", "speech-embedding", "--device", "cpu"])
    assert code == 0 and "wrote" in capsys.readouterr().out
    assert cli_main(["corpus", "info", str(tmp_path / "s")]) == 0
    out = capsys.readouterr().out
    assert "2 segments" in out and '"name": "speech-embedding"' in out and "× 96" in out
    code = cli_main(["corpus", "build", str(corpus), "--out", str(tmp_path / "t"), "--quiet", "--frontend", "fbank"])
    assert code == 2 and "error: unknown front end 'fbank'" in capsys.readouterr().err
