"""Speech synthesis with word timings (espeak-ng via espeakng-loader), voices, augmentation,
TextGrid writing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.errors import WordbridgeError
from core.synth.augment import AugmentConfig, add_noise, add_reverb, draw_augmentation, parse_snr_range
from core.synth.synthesize import SAMPLE_RATE, synthesize_utterance
from core.synth.textgrid import read_words, textgrid_text
from core.synth.voices import (VoiceSpec, accents_for, available_variants, default_variants,
                               make_speakers, voice_for_speaker)
from core.synth.word_timing import tokenize, word_timings_from_events

pytest.importorskip("espeakng_loader")


def _check_timings(audio, timings, text):
    duration = audio.size / SAMPLE_RATE
    assert [w for w, _, _ in timings] == tokenize(text)
    previous_end = 0.0
    for word, start, end in timings:
        assert previous_end <= start < end <= duration + 1e-9, (word, start, end, duration)
        previous_end = end


def _rms(audio, start, end):
    piece = audio[int(start * SAMPLE_RATE):int(end * SAMPLE_RATE)]
    return float(np.sqrt(np.mean(piece ** 2)))


@pytest.mark.parametrize("language, text", [
    ("en", "The quick brown fox jumps over the lazy dog."),
    ("fr", "Il était une fois, à l'été, qu'il n'y avait pas d'eau."),
    ("es", "Y dijo Dios: Sea la luz; y fué la luz."),
])
def test_one_sentence_per_language(language, text):
    voice = voice_for_speaker(language, 0, seed=0)
    audio, timings = synthesize_utterance(text, voice)
    assert audio.dtype == np.float32 and audio.size > SAMPLE_RATE // 2
    assert float(np.max(np.abs(audio))) > 0.05
    _check_timings(audio, timings, text)


def test_words_sound_and_pauses_between_them_are_silent():
    text = "In the beginning, God created the heaven and the earth. And the earth was without form."
    voice = VoiceSpec("s", "en", "en-US", "m3", 170, 50, 50)
    audio, timings = synthesize_utterance(text, voice, pad_s=0.2)
    _check_timings(audio, timings, text)
    assert timings[0][1] >= 0.2  # padding shifts the words
    speech = np.concatenate([audio[int(s * SAMPLE_RATE):int(e * SAMPLE_RATE)] for _, s, e in timings])
    reference = float(np.sqrt(np.mean(speech ** 2)))
    for word, start, end in timings:
        assert _rms(audio, start, end) > 0.1 * reference, word
    gaps = [(a[2], b[1]) for a, b in zip(timings, timings[1:]) if b[1] - a[2] > 0.05]
    assert len(gaps) >= 2  # the comma and the full stop
    for start, end in gaps:
        assert _rms(audio, start, end) < 0.1 * reference


def test_clitic_merge_is_split_by_character_length():
    text = "He went out of the house."
    audio, timings = synthesize_utterance(text, VoiceSpec("s", "en", "en", "", 160, 50, 50))
    _check_timings(audio, timings, text)
    by_word = {w: (s, e) for w, s, e in timings}
    out, of = by_word["out"], by_word["of"]
    assert out[1] == pytest.approx(of[0])  # one espeak event, shared boundary
    assert (out[1] - out[0]) / (of[1] - of[0]) == pytest.approx(3 / 2, rel=1e-6)


def test_event_mapping_rules_without_espeak():
    text = "Out of 12 l'été holocauste"
    # tokens: out [0,3) of [4,6) l [10,11) été [12,15) holocauste [16,26); "12" is no token.
    words = [(0, 0), (7, 1000), (10, 2000), (18, 3000)]  # char 18 is inside "holocauste"
    phonemes = [(500, False), (900, True), (1500, True), (2500, True), (2600, False),
                (3500, True), (3600, True)]
    timings = word_timings_from_events(text, words, phonemes, 4000, 1000)
    expected = [
        ("out", 0.0, 0.54), ("of", 0.54, 0.9),  # one event split 3:2, ended by the pause at 0.9
        # the "12" event (1.0-2.0 s) is left unlabelled; the event inside "holocauste" joins the
        # one before it; the pause at 2.5 s is followed by a sounding phoneme, so it ends nothing.
        ("l", 2.0, 2.0 + 1.5 / 14), ("été", 2.0 + 1.5 / 14, 2.0 + 1.5 * 4 / 14),
        ("holocauste", 2.0 + 1.5 * 4 / 14, 3.5),
    ]
    assert [w for w, _, _ in timings] == [w for w, _, _ in expected]
    for (_, s, e), (_, s2, e2) in zip(timings, expected):
        assert (s, e) == pytest.approx((s2, e2))


def test_unknown_language_lists_available_ones():
    with pytest.raises(WordbridgeError, match=r"no voice for language 'xx'.*available: .*\ben\b.*\bfr\b"):
        voice_for_speaker("xx", 0)


def test_voice_specs_are_deterministic_and_varied():
    first = make_speakers("en", 12, seed=3)
    assert first == make_speakers("en", 12, seed=3)
    assert voice_for_speaker("en", 5, seed=3) == first[5]
    assert make_speakers("en", 12, seed=4) != first
    assert len({(v.accent, v.variant) for v in first}) == 12
    assert len({v.accent for v in first}) >= 3
    for v in first:
        assert 130 <= v.rate <= 210 and 30 <= v.pitch <= 70 and 30 <= v.pitch_range <= 80
        assert v.speaker.startswith("spk")


def test_voices_come_from_the_bundled_data():
    english = accents_for("en")
    assert {"en", "en-US", "en-GB-x-rp", "en-029", "en-GB-scotland"} <= set(english)
    assert "en-Shaw" not in english
    assert accents_for("en-GB-x-rp") == ["en-GB-x-rp"]
    assert {"fr", "fr-BE"} <= set(accents_for("fr"))
    assert set(default_variants()) <= set(available_variants())
    assert {"m1", "f1", "klatt"} <= set(default_variants())


def test_noise_reaches_the_requested_snr_and_reverb_keeps_length():
    rng = np.random.default_rng(0)
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    clean = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    noisy = add_noise(clean, 10.0, rng)
    snr = 10 * np.log10(np.mean(clean ** 2) / np.mean((noisy - clean) ** 2))
    assert snr == pytest.approx(10.0, abs=0.5)
    wet = add_reverb(clean, SAMPLE_RATE, 0.4, rng)
    assert wet.size == clean.size and not np.allclose(wet, clean)
    params = draw_augmentation(AugmentConfig((10, 30), 0.5), np.random.default_rng(1))
    assert 10 <= params["snr_db"] <= 30 and 0.1 <= params["reverb_rt60"] <= 0.5
    assert params == draw_augmentation(AugmentConfig((10, 30), 0.5), np.random.default_rng(1))
    assert parse_snr_range("10-30") == (10.0, 30.0) and parse_snr_range("none") is None
    with pytest.raises(WordbridgeError, match="--noise-snr"):
        parse_snr_range("loud")


def test_textgrid_writer_is_read_back_by_praatio(tmp_path):
    from praatio import textgrid

    timings = [("out", 0.2, 0.35), ("of", 0.35, 0.45), ("house", 0.6, 1.0)]
    path = tmp_path / "u.TextGrid"
    path.write_text(textgrid_text(timings, 1.25), encoding="utf-8")
    tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
    assert list(tg.tierNames) == ["words"]
    entries = tg.getTier("words").entries
    assert [(e.label, e.start, e.end) for e in entries] == timings
    assert tg.maxTimestamp == pytest.approx(1.25)
    assert read_words(path) == ["out", "of", "house"]
    # Same bytes as praatio's own long-format writer.
    tg.save(str(tmp_path / "p.TextGrid"), format="long_textgrid", includeBlankSpaces=True)
    assert (tmp_path / "p.TextGrid").read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_textgrid_bytes_match_those_of_existing_corpora():
    """tests/fixtures/synth/words.TextGrid was written by the synth writer before it moved into
    core.lexicon_export: gaps, µs rounding, a quote, an overlap moved up and an end cut at the file's end."""
    timings = [("in", 0.2, 0.4515654), ('say "hi"', 0.45, 0.9), ("the", 0.95, 1.3000004), ("end", 1.31, 2.0)]
    expected = (Path(__file__).parent / "fixtures" / "synth" / "words.TextGrid").read_bytes()
    assert textgrid_text(timings, 1.5000004).encode("utf-8") == expected


def test_coloured_noise_spectrum():
    from core.synth.augment import coloured_noise

    rng = np.random.default_rng(0)
    n = 48_001  # an awkward length on purpose
    power = {}
    for exponent in (0.0, 1.0, 2.0):
        noise = coloured_noise(n, exponent, rng)
        assert noise.shape == (n,) and noise.dtype == np.float32
        spectrum = np.abs(np.fft.rfft(noise)) ** 2
        power[exponent] = spectrum[10:200].mean() / spectrum[-2000:].mean()  # low / high band
    assert power[0.0] == pytest.approx(1.0, rel=0.3)
    assert power[2.0] > power[1.0] > 10 * power[0.0]
