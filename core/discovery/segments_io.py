"""Word-segment samples and their frames for the discovery evaluations: held-out synthetic voices,
speechocean762 test speakers, Mboshi dev (frames cached as .npz under a cache folder)."""

from __future__ import annotations

import collections
import re
import time
from pathlib import Path

import numpy as np

from core.segments import SegmentTable

SYNTHETIC_VOICE_START = 500  # core.voices.experiment.UNSEEN_VOICE_START: voices no build uses


def frequent_words(text_tsv_xz: str | Path, n: int) -> list[str]:
    """The `n` most frequent lower-case alphabetic words of a bible TSV (book, chapter, verse, text)."""
    import lzma

    counts = collections.Counter()
    with lzma.open(text_tsv_xz, "rt", encoding="utf-8") as f:
        for line in f:
            text = line.rstrip("\n").split("\t")[-1]
            counts.update(re.findall(r"[a-z]+", text.lower()))
    return [w for w, _ in counts.most_common(n)]


def sample_cross_speaker(table: SegmentTable, n: int, seed: int = 0, min_seconds: float = 0.1) -> SegmentTable:
    """A random sample of `n` segments of words said by at least 2 speakers (and at least
    `min_seconds` long), from all of the table's labelled segments."""
    dur = table.end - table.start
    ok = [i for i in range(len(table)) if table.label[i] and dur[i] >= min_seconds]
    speakers_of = collections.defaultdict(set)
    for i in ok:
        speakers_of[table.label[i]].add(table.speaker[i])
    eligible = np.array([i for i in ok if len(speakers_of[table.label[i]]) >= 2], dtype=np.int64)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(eligible, size=min(n, len(eligible)), replace=False))
    return table.subset(pick)


def table_frames(table: SegmentTable, frontend) -> list[np.ndarray]:
    """Frames of every segment through the front end's own segment rule (MFCC: slice of the
    recording's frames, CMVN over the recording; speech embedding: the segment's own audio)."""
    from core.audio import load_audio

    out: list = [None] * len(table)
    pieces, where = [], []
    for audio, rows in table.indices_by_audio().items():
        samples, _ = load_audio(audio, 16000)
        spans = [(table.start[i], table.end[i]) for i in rows]
        if frontend.segment_mode == "slice":
            for i, f in zip(rows, frontend.segment_frames(samples, spans)):
                out[i] = np.asarray(f, np.float32)
        else:  # own-audio: every segment's audio in one batched call (same result as per file)
            for i, piece in zip(rows, frontend.segment_audio(samples, spans)):
                if piece is None:
                    out[i] = np.zeros((0, frontend.dim), np.float32)
                else:
                    pieces.append(piece)
                    where.append(i)
    if pieces:
        for i, f in zip(where, frontend.batch_frames(pieces, device="cpu")):
            out[i] = np.asarray(f, np.float32)
    return out


def cached_frames(cache: Path, key: str, compute) -> list[np.ndarray]:
    """Frames from cache/key.npz, or computed by `compute()` and stored there."""
    path = Path(cache) / f"{key}.npz"
    if path.is_file():
        z = np.load(path)
        lengths = z["lengths"]
        return np.split(z["frames"], np.cumsum(lengths)[:-1])
    t = time.time()
    frames = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, frames=np.concatenate(frames), lengths=np.array([len(f) for f in frames]))
    print(f"  frames {key}: {len(frames)} segments in {time.time() - t:.0f} s", flush=True)
    return frames
