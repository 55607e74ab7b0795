"""silero-vad on real (SYNTHETIC, espeak-ng) speech with pauses: regions, then the VAD reader's words."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("espeakng_loader")
pytest.importorskip("silero_vad")
torch = pytest.importorskip("torch")

from core.corpus.unsegmented import read_vad, silero_speech_regions  # noqa: E402
from core.errors import WordbridgeError  # noqa: E402
from core.synth.synthesize import SAMPLE_RATE, synthesize_utterance  # noqa: E402
from core.synth.voices import VoiceSpec  # noqa: E402

PHRASES = ["In the beginning God created the heaven", "and the earth was without form",
           "and darkness was upon the face of the deep"]
GAP_S = 1.0


@pytest.fixture(scope="module")
def spoken():
    """SYNTHETIC speech: three espeak-ng phrases with GAP_S of faint noise between them, and the
    words' (start, end) seconds in the clip."""
    voice = VoiceSpec("spk1", "en", "en-US", "m3", 160, 50, 50)
    rng = np.random.default_rng(0)
    pieces, words, t = [], [], GAP_S / 2
    pieces.append(np.zeros(int(GAP_S / 2 * SAMPLE_RATE), np.float32))
    for phrase in PHRASES:
        audio, timings = synthesize_utterance(phrase, voice)
        pieces.append(audio)
        words += [(w, t + a, t + b) for w, a, b in timings]
        t += audio.size / SAMPLE_RATE
        pieces.append(np.zeros(int(GAP_S * SAMPLE_RATE), np.float32))
        t += GAP_S
    clip = np.concatenate(pieces)
    clip = (clip + rng.normal(0, 1e-3, clip.size)).astype(np.float32)  # a little room noise
    return clip, words


def _overlap(a0, a1, b0, b1) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def test_silero_regions_cover_the_words_and_not_the_pauses(spoken):
    clip, words = spoken
    threads = torch.get_num_threads()
    regions = [(a / SAMPLE_RATE, b / SAMPLE_RATE) for a, b in silero_speech_regions(clip, SAMPLE_RATE)]
    assert torch.get_num_threads() == threads  # importing silero_vad must not pin torch to one thread
    assert 3 <= len(regions) <= 6
    for word, start, end in words:
        covered = sum(_overlap(start, end, r0, r1) for r0, r1 in regions)
        assert covered >= 0.5 * (end - start), (word, start, end, regions)
    # the middle of every long pause is silence
    ends, starts = _phrase_edges(words)
    for end, next_start in zip(ends, starts[1:]):
        middle = (end + next_start) / 2
        assert not any(r0 <= middle <= r1 for r0, r1 in regions), (middle, regions)


def _phrase_edges(words) -> tuple[list[float], list[float]]:
    """Ends and starts of the PHRASES in the clip (phrase boundaries: gaps of more than half GAP_S)."""
    starts, ends = [words[0][1]], []
    for (_, _, e), (_, s, _) in zip(words, words[1:]):
        if s - e > GAP_S / 2:
            ends.append(e)
            starts.append(s)
    ends.append(words[-1][2])
    assert len(starts) == len(PHRASES)
    return ends, starts


def test_read_vad_with_silero_gives_word_like_segments_on_the_words(spoken, tmp_path):
    clip, words = spoken
    (tmp_path / "spk1").mkdir()
    sf.write(tmp_path / "spk1" / "genesis.wav", clip, SAMPLE_RATE, subtype="PCM_16")
    table, report = read_vad(tmp_path, vad="silero")
    assert report.files_used == 1 and report.segments == len(table) >= len(PHRASES)
    segments = [(table.start[i], table.end[i]) for i in range(len(table))]
    assert all(table.label[i] is None and table.speaker[i] == "spk1" for i in range(len(table)))
    # every segment lies on speech, and most words are touched by a segment
    for s0, s1 in segments:
        on_words = sum(_overlap(s0, s1, a, b) for _, a, b in words)
        assert on_words >= 0.5 * (s1 - s0), (s0, s1)
    touched = sum(any(_overlap(a, b, s0, s1) > 0 for s0, s1 in segments) for _, a, b in words)
    assert touched >= 0.8 * len(words)
    # one utterance per phrase at least: the long pauses split them
    assert len(set(table.utterance)) >= len(PHRASES)


def test_silero_errors_are_one_line(monkeypatch):
    with pytest.raises(WordbridgeError, match="silero VAD takes 8000 or 16000 Hz audio, got 22050 Hz"):
        silero_speech_regions(np.zeros(22050, np.float32), 22050)
    import core.corpus.unsegmented as unsegmented

    monkeypatch.setattr(unsegmented, "_SILERO", {})
    monkeypatch.setitem(sys.modules, "silero_vad", None)  # as if the package were not installed
    with pytest.raises(WordbridgeError, match="silero VAD needs the silero-vad package"):
        silero_speech_regions(np.zeros(16000, np.float32), 16000)
    with pytest.raises(WordbridgeError, match="unknown VAD 'cobra'"):
        read_vad(".", vad="cobra")
