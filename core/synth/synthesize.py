"""Text → synthetic speech at 16 kHz with one (word, start, end) per token.

The audio is made by espeak-ng (labelled synthetic wherever it is stored). espeak speaks at
22050 Hz; we resample to 16 kHz with a polyphase filter (320/441).
"""

from __future__ import annotations

import re

import numpy as np

from core.errors import WordbridgeError
from core.synth.voices import VoiceSpec
from core.synth.word_timing import make_valid, word_timings_from_events
from core.text.tokenize import tokenize

SAMPLE_RATE = 16000
# Characters espeak reads aloud or turns into odd pauses; replaced by spaces (same length, so
# character positions in espeak's events still index the original text).
_SILENCED = str.maketrans({c: " " for c in "[]{}<>*#/\\|~^_=+@$%&¶"})
# Standalone accented letters that espeak spells out ("á" -> "a, acento agudo") in old Spanish
# orthography, where they are the words "a", "e", "u": speak the base letter (same length).
_SPELLED_LETTERS = {"es": (re.compile(r"(?<!\w)[áéúÁÉÚ](?!\w)"),
                           str.maketrans("áéúÁÉÚ", "aeuAEU"))}


def synthesize_utterance(text: str, voice: VoiceSpec, pad_s: float = 0.0
                         ) -> tuple[np.ndarray, list[tuple[str, float, float]]]:
    """Speak `text` with `voice`. Returns (float32 mono samples at 16 kHz, [(word, start_s,
    end_s)]) with exactly one timing per token of `tokenize(text)`, monotonic, non-overlapping
    and within the audio. `pad_s` seconds of silence are added at both ends."""
    from core.synth.espeak import engine

    if not tokenize(text):
        raise WordbridgeError(f"nothing to speak in {text[:60]!r} (no words)")
    spoken = spoken_form(text, voice.language)
    result = engine().synthesize(spoken, voice.espeak_name, voice.rate, voice.pitch, voice.pitch_range)
    raw = np.frombuffer(result.samples, dtype="<i2").astype(np.float32) / 32768.0
    timings = word_timings_from_events(text, result.words, result.phonemes,
                                       max(result.end_sample, raw.size), result.sample_rate)
    audio = resample_to_16k(raw, result.sample_rate)
    duration = audio.size / SAMPLE_RATE
    timings = make_valid(timings, duration)
    if pad_s > 0:
        pad = np.zeros(int(round(pad_s * SAMPLE_RATE)), dtype=np.float32)
        audio = np.concatenate([pad, audio, pad])
        shift = pad.size / SAMPLE_RATE
        timings = [(w, t0 + shift, t1 + shift) for w, t0, t1 in timings]
    return audio, timings


def spoken_form(text: str, language: str) -> str:
    """The text handed to espeak: same length as `text` (so event positions index `text`), with
    symbols espeak would read aloud blanked and spelled-out letters replaced."""
    spoken = text.translate(_SILENCED).replace("\n", " ").replace("\t", " ").replace("\r", " ")
    fix = _SPELLED_LETTERS.get(language.split("-")[0].lower())
    if fix is not None:
        pattern, table = fix
        spoken = pattern.sub(lambda m: m.group(0).translate(table), spoken)
    return spoken


def resample_to_16k(samples: np.ndarray, rate: int) -> np.ndarray:
    """Resample float32 audio from `rate` to 16 kHz (scipy's polyphase FIR; for 22050 Hz that is
    320/441, about 15 ms per minute of audio, negligible next to espeak)."""
    if rate == SAMPLE_RATE:
        return samples.astype(np.float32, copy=False)
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(SAMPLE_RATE, rate)
    return resample_poly(samples, SAMPLE_RATE // g, rate // g).astype(np.float32, copy=False)
