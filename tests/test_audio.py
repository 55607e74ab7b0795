"""core.audio: loading (every kind of bad file), resampling, saving, silence trimming."""

import numpy as np
import pytest
import soundfile as sf

import core.audio as audio
from core.audio import (MIN_WORD_SECONDS, audio_duration, audio_warnings, load_audio, resample,
                        save_wav, trim_silence, word_span)
from core.errors import InputFileError, WordbridgeError


def tone(seconds, sr=16000, freq=440.0, amp=0.5):
    t = np.arange(int(round(seconds * sr))) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def dominant_freq(x, sr):
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.argmax(spectrum) * sr / len(x)


def test_missing_file(tmp_path):
    with pytest.raises(InputFileError, match=r"nope\.wav: file not found"):
        load_audio(tmp_path / "nope.wav")


def test_corrupt_file(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunkjunkjunk" * 10)
    with pytest.raises(WordbridgeError, match=r"bad\.wav: cannot read audio"):
        load_audio(bad)


def test_zero_byte_and_zero_sample_files(tmp_path):
    (tmp_path / "zero.wav").write_bytes(b"")
    with pytest.raises(InputFileError, match=r"zero\.wav: audio is empty \(0 bytes\)"):
        load_audio(tmp_path / "zero.wav")
    sf.write(tmp_path / "nosamples.wav", np.zeros(0, np.float32), 16000)
    with pytest.raises(InputFileError, match=r"nosamples\.wav: audio is empty \(0 samples\)"):
        load_audio(tmp_path / "nosamples.wav")


def test_too_short_for_a_word(tmp_path):
    sf.write(tmp_path / "blip.wav", tone(0.04), 16000)
    with pytest.raises(InputFileError, match=r"blip\.wav: audio is too short \(0\.040 s; a word needs at least 0\.05 s\)"):
        load_audio(tmp_path / "blip.wav", min_seconds=MIN_WORD_SECONDS)
    sf.write(tmp_path / "ok.wav", tone(0.05), 16000)
    samples, sr = load_audio(tmp_path / "ok.wav", min_seconds=MIN_WORD_SECONDS)
    assert sr == 16000 and len(samples) == 800


def test_silent_and_clipped_are_warnings_not_errors(tmp_path):
    sf.write(tmp_path / "silent.wav", np.zeros(8000, np.float32), 16000)
    samples, _ = load_audio(tmp_path / "silent.wav")
    assert audio_warnings(samples) == ["silent"]
    clipped = np.clip(tone(0.5, amp=3.0), -1, 1)
    sf.write(tmp_path / "clipped.wav", clipped, 16000)
    samples, _ = load_audio(tmp_path / "clipped.wav")
    assert audio_warnings(samples) == ["clipped"]
    assert audio_warnings(tone(0.5)) == []


@pytest.mark.parametrize("sr", [8000, 22050, 44100, 48000])
def test_resampled_to_16k_keeps_pitch_and_duration(tmp_path, sr):
    sf.write(tmp_path / "x.flac", tone(1.0, sr=sr, freq=1000.0), sr)
    samples, out_sr = load_audio(tmp_path / "x.flac")
    assert out_sr == 16000
    assert samples.dtype == np.float32 and samples.ndim == 1
    assert abs(len(samples) - 16000) <= 1
    assert abs(dominant_freq(samples, 16000) - 1000.0) < 5
    assert abs(audio_duration(tmp_path / "x.flac") - 1.0) < 1e-3


def test_stereo_is_mixed_down(tmp_path):
    left = tone(0.5)
    stereo = np.stack([left, np.zeros_like(left)], axis=1)
    sf.write(tmp_path / "stereo.wav", stereo, 16000, subtype="FLOAT")
    samples, _ = load_audio(tmp_path / "stereo.wav")
    np.testing.assert_allclose(samples, left / 2, atol=1e-6)


def test_block_resampling_matches_whole_signal(monkeypatch):
    x = np.random.default_rng(0).standard_normal(44100 * 3).astype(np.float32) * 0.1
    whole = resample(x, 44100, 16000)
    monkeypatch.setattr(audio, "RESAMPLE_BLOCK_SECONDS", 0.5)
    blocks = resample(x, 44100, 16000)
    assert len(blocks) == len(whole) == 48000
    np.testing.assert_allclose(blocks, whole, atol=1e-5)


def test_long_file_read_in_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(audio, "READ_BLOCK_FRAMES", 1 << 16)
    sr = 8000
    five_minutes = np.tile(tone(1.0, sr=sr, freq=300.0, amp=0.3), 300)
    five_minutes[-sr:] = 0.0
    sf.write(tmp_path / "long.wav", five_minutes, sr, subtype="PCM_16")
    samples, out_sr = load_audio(tmp_path / "long.wav")
    assert len(samples) == 300 * 16000
    assert abs(np.abs(samples[:16000 * 10]).max() - 0.3) < 0.01
    assert np.abs(samples[-8000:]).max() < 1e-3


def test_save_wav_is_mono_16_bit_and_atomic(tmp_path):
    target = tmp_path / "sub" / "word.wav"
    save_wav(target, np.stack([tone(0.3), tone(0.3)], axis=1) * 3, 16000)
    info = sf.info(target)
    assert (info.channels, info.samplerate, info.subtype, info.format) == (1, 16000, "PCM_16", "WAV")
    back, _ = load_audio(target)
    assert np.abs(back).max() == pytest.approx(1.0, abs=1e-3)  # clipped to full scale, not wrapped
    assert [p.name for p in target.parent.iterdir()] == ["word.wav"]


def test_trim_silence_finds_a_tone_between_silences():
    sr = 16000
    clip = np.concatenate([np.zeros(sr), tone(0.4), np.zeros(sr)])
    start, end = trim_silence(clip, sr)
    # the tone spans samples 16000..22400; 0.25-s margins on each side
    assert abs(start - (16000 - 4000)) <= 160
    assert abs(end - (22400 + 4000)) <= 160


def test_trim_silence_stops_at_a_long_pause_only():
    sr = 16000
    word = np.concatenate([tone(0.2), np.zeros(int(0.1 * sr)), tone(0.2)])  # short pause: one word
    clip = np.concatenate([np.zeros(sr // 2), word, np.zeros(int(0.5 * sr)), tone(0.2), np.zeros(sr // 2)])
    start, end = trim_silence(clip, sr, margin=0.0)
    assert abs(start - sr // 2) <= 160
    assert abs(end - (sr // 2 + len(word))) <= 160  # the tone after the 0.5-s pause is cut off


def _quiet_onset_word(sr=16000, lead=0.3):
    """Silence, a 0.1-s hiss at −26 dB of the vowel (an /s/ or /h/ onset), the 0.3-s vowel, silence."""
    hiss = (0.025 * np.random.default_rng(0).standard_normal(int(0.1 * sr))).astype(np.float32)
    gap = np.zeros(int(lead * sr), np.float32)
    return np.concatenate([gap, hiss, tone(0.3, sr), gap])


def test_word_span_keeps_a_quiet_onset_that_auto_trim_cuts():
    sr = 16000
    clip = _quiet_onset_word(sr)
    onset = int(0.3 * sr)  # the hiss starts here; the vowel 0.1 s later
    assert trim_silence(clip, sr, margin=0.0)[0] >= onset + int(0.09 * sr)  # the recorder cuts the hiss
    start, end = word_span(clip, sr)
    assert abs(start - onset) <= 160 and abs(end - (onset + int(0.4 * sr))) <= 160
    for variant in (0.05 * clip, resample(clip, sr, 44100)):  # level and sample rate do not matter
        rate = sr if len(variant) == len(clip) else 44100
        a, _ = word_span(variant, rate)
        assert abs(a / rate - onset / sr) <= 0.011


def test_word_span_does_not_take_steady_noise_for_an_onset():
    sr = 16000
    rng = np.random.default_rng(1)
    clip = np.concatenate([np.zeros(int(0.5 * sr), np.float32), tone(0.3, sr), np.zeros(int(0.5 * sr), np.float32)])
    clip = clip + (0.012 * rng.standard_normal(len(clip))).astype(np.float32)  # background at −29 dB of the word
    start, end = word_span(clip, sr)
    assert abs(start - int(0.5 * sr)) <= 320 and abs(end - int(0.8 * sr)) <= 320
    assert word_span(clip, sr, floor_ratio=0.0)[0] < int(0.1 * sr)  # without the floor: noise from the start


def test_word_span_widens_a_short_sound_instead_of_refusing_it():
    sr = 16000
    blip = np.concatenate([np.zeros(sr // 2), tone(0.08), np.zeros(sr // 2)])
    assert trim_silence(blip, sr) is None
    start, end = word_span(blip, sr)
    assert end - start == int(0.15 * sr) and start <= sr // 2 and end >= sr // 2 + int(0.08 * sr)
    short = tone(0.12)  # a whole clip shorter than 0.15 s is kept whole
    assert word_span(short, sr) == (0, len(short))


def test_word_span_refuses_silent_tiny_and_nan_clips():
    sr = 16000
    assert word_span(np.zeros(sr, np.float32), sr) is None
    assert word_span(tone(0.05), sr) is None  # shorter than MIN_CLIP_SECONDS
    bad = tone(0.5)
    bad[100:200] = np.nan
    assert word_span(bad, sr) is None
    assert word_span(np.zeros(0, np.float32), sr) is None


def test_trim_silence_rejects_silence_and_blips():
    sr = 16000
    assert trim_silence(np.zeros(sr, np.float32), sr) is None
    blip = np.concatenate([np.zeros(sr // 2), tone(0.1), np.zeros(sr // 2)])
    assert trim_silence(blip, sr) is None  # 0.1 s < min_duration 0.15 s
    assert trim_silence(blip, sr, min_duration=0.05) is not None
