"""Word clips for training and testing a word recogniser: synthetic words said alone, and words cut
out of any corpus's utterances (real recordings placed by forced alignment, or given word times).

A `ClipSet` holds the 16-kHz mono samples of every clip with its word, speaker and source ("synthetic"
or the corpus's name), so the training set can mix voices and recordings and every metric can be
split by where a clip came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import InputFileError, WordbridgeError
from core.progress import Progress, ensure

SAMPLE_RATE = 16000
CLIP_MARGIN_S = 0.05  # silence kept on each side of a training word clip (the app's trimmed clips get the same)


@dataclass
class ClipSet:
    """Clips (float32, 16 kHz) with their word, speaker and source; `skipped` counts reasons."""

    samples: list[np.ndarray] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    speakers: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.samples)

    def add(self, samples: np.ndarray, label: str, speaker: str, source: str) -> None:
        """Append one clip."""
        self.samples.append(np.asarray(samples, dtype=np.float32))
        self.labels.append(label)
        self.speakers.append(speaker)
        self.sources.append(source)

    def skip(self, reason: str) -> None:
        """Count one clip left out, by reason."""
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def extend(self, other: "ClipSet") -> "ClipSet":
        """Append every clip (and skip count) of `other`; returns self."""
        self.samples += other.samples
        self.labels += other.labels
        self.speakers += other.speakers
        self.sources += other.sources
        for reason, n in other.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + n
        return self

    def subset(self, rows) -> "ClipSet":
        """The clips at `rows` (skip counts are not carried)."""
        rows = list(rows)
        return ClipSet([self.samples[i] for i in rows], [self.labels[i] for i in rows],
                       [self.speakers[i] for i in rows], [self.sources[i] for i in rows])

    @property
    def seconds(self) -> float:
        return float(sum(len(s) for s in self.samples)) / SAMPLE_RATE


def synthetic_word_clips(words: list[str], voices: list, margin_s: float = CLIP_MARGIN_S, workers: int = 0,
                         progress: Progress | None = None) -> ClipSet:
    """Every word of `words` said alone by every voice (core.synth VoiceSpec), cut to the word's
    span ± `margin_s`; `workers` > 0 synthesises voices in that many processes. Source
    "synthetic" (espeak-ng: synthetic speech, labelled so)."""
    progress = ensure(progress)
    clips = ClipSet()
    jobs = [(list(words), voice, margin_s) for voice in voices]
    if workers > 0 and len(jobs) > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(workers) as pool:
            for n, part in enumerate(pool.map(_voice_clips, jobs)):
                clips.extend(part)
                progress.update(n + 1, len(jobs))
    else:
        for n, job in enumerate(jobs):
            clips.extend(_voice_clips(job))
            progress.update(n + 1, len(jobs))
    return clips


def _voice_clips(job) -> ClipSet:
    from core.synth.synthesize import synthesize_utterance

    words, voice, margin_s = job
    clips = ClipSet()
    for word in words:
        try:
            audio, timings = synthesize_utterance(word, voice, pad_s=margin_s)
        except WordbridgeError:
            clips.skip("espeak said nothing")
            continue
        if not timings:
            clips.skip("espeak said nothing")
            continue
        a = max(0, int((timings[0][1] - margin_s) * SAMPLE_RATE))
        b = min(len(audio), int((timings[-1][2] + margin_s) * SAMPLE_RATE))
        if b - a < int(0.05 * SAMPLE_RATE):
            clips.skip("shorter than 0.05 s")
            continue
        clips.add(audio[a:b], word, voice.speaker, "synthetic")
    return clips


def segment_clips(table, source: str, margin_s: float = CLIP_MARGIN_S, labels: set[str] | None = None,
                  audio_root: str | Path | None = None, progress: Progress | None = None) -> ClipSet:
    """The segments of a SegmentTable as clips, each its span ± `margin_s` (within its file).

    Each audio file is read once (any format soundfile reads, any rate, channels averaged).
    `labels` keeps only those words. A missing or unreadable file skips its segments, counted."""
    from core.audio import load_audio

    progress = ensure(progress)
    clips = ClipSet()
    groups = table.indices_by_audio()
    for n, (audio, rows) in enumerate(groups.items()):
        path = Path(audio_root) / audio if audio_root is not None and not Path(audio).is_absolute() else Path(audio)
        try:
            samples, _ = load_audio(path, SAMPLE_RATE)
        except InputFileError:
            for _ in rows:
                clips.skip("audio file missing or unreadable")
            continue
        for i in rows:
            label = table.label[i]
            if not label:
                clips.skip("no label")
                continue
            if labels is not None and label not in labels:
                clips.skip("word outside the vocabulary")
                continue
            a = max(0, int((table.start[i] - margin_s) * SAMPLE_RATE))
            b = min(len(samples), int((table.end[i] + margin_s) * SAMPLE_RATE))
            if b - a < int(0.05 * SAMPLE_RATE):
                clips.skip("shorter than 0.05 s")
                continue
            clips.add(samples[a:b], label, table.speaker[i] or "", source)
        if n % 100 == 0:
            progress.update(n, len(groups))
    progress.update(len(groups), len(groups))
    return clips
