"""A small synthetic MFCC-like corpus for tests and benchmarks (marked synthetic everywhere).

Each word type has a smooth random prototype trajectory; a token is its prototype read at a
random speaking rate, shifted by a per-speaker offset and with frame noise added. Utterances are
drawn from "topics" (disjoint groups of words), so words of one topic co-occur: a distributional
model over the tokens can find the topics. This is not speech; it only has the shapes of it.
"""

from __future__ import annotations

import numpy as np


class ArrayFeatureStore:
    """The feature-store interface over flat arrays (the layout FeatureStore uses on disk)."""

    def __init__(self, frames: np.ndarray, lengths: np.ndarray, utterance_ids: np.ndarray,
                 positions: np.ndarray, labels: list, speakers: list, metadata: dict):
        self.frames = np.ascontiguousarray(frames, dtype=np.float32)
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.lengths)[:-1]]).astype(np.int64)
        self.utterance_ids = np.asarray(utterance_ids, dtype=np.int64)
        self.positions = np.asarray(positions, dtype=np.int64)
        self.labels, self.speakers = list(labels), list(speakers)
        self.metadata = {**metadata, "synthetic": True}

    @property
    def n_segments(self) -> int:
        return int(len(self.lengths))

    @property
    def dim(self) -> int:
        return int(self.frames.shape[1])

    def features(self, i: int) -> np.ndarray:
        """Frames of segment i, float32 [T, dim]."""
        o = self.offsets[i]
        return self.frames[o:o + self.lengths[i]]


def make_toy_corpus(n_types: int = 20, n_utterances: int = 200, words_per_utterance: int = 8,
                    n_speakers: int = 4, held_out_speakers: int = 1, topics: int = 4, dim: int = 13,
                    mean_frames: int = 40, noise: float = 0.3, seed: int = 0) -> ArrayFeatureStore:
    """A synthetic labelled corpus: `n_types` words named "w0".., split among `topics`."""
    rng = np.random.default_rng(seed)
    proto_len = 12
    # smooth prototypes: cumulative random walk, normalised per type
    protos = np.cumsum(rng.normal(size=(n_types, proto_len, dim)), axis=1)
    protos = (protos - protos.mean(1, keepdims=True)) / (protos.std(1, keepdims=True) + 1e-6)
    speaker_shift = rng.normal(scale=0.3, size=(n_speakers, dim))
    topic_of = np.arange(n_types) % topics
    frames, lengths, utt, pos, labels, speakers = [], [], [], [], [], []
    for u in range(n_utterances):
        spk = u % n_speakers
        topic = rng.integers(topics)
        words = rng.choice(np.flatnonzero(topic_of == topic), size=words_per_utterance)
        for p, w in enumerate(words):
            t = int(np.clip(rng.normal(mean_frames, mean_frames * 0.2), 8, 3 * mean_frames))
            grid = np.linspace(0, proto_len - 1, t)
            lo = np.floor(grid).astype(int)
            hi = np.minimum(lo + 1, proto_len - 1)
            frac = (grid - lo)[:, None]
            f = protos[w, lo] * (1 - frac) + protos[w, hi] * frac
            f = f + speaker_shift[spk] + rng.normal(scale=noise, size=f.shape)
            frames.append(f.astype(np.float32))
            lengths.append(t)
            utt.append(u)
            pos.append(p)
            labels.append(f"w{w}")
            speakers.append(f"s{spk}")
    held = [f"s{s}" for s in range(n_speakers - held_out_speakers, n_speakers)]
    return ArrayFeatureStore(np.concatenate(frames), np.array(lengths), np.array(utt), np.array(pos), labels,
                             speakers, {"held_out_speakers": held, "source": "toy_corpus",
                                        "topics": {f"w{w}": int(topic_of[w]) for w in range(n_types)}})


def random_frames_store(n_segments: int, dim: int = 13, min_frames: int = 30, max_frames: int = 60,
                        words_per_utterance: int = 10, seed: int = 0) -> ArrayFeatureStore:
    """Unlabelled random frames of realistic lengths (benchmarks: speed only, no structure)."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(min_frames, max_frames + 1, size=n_segments)
    frames = rng.standard_normal((int(lengths.sum()), dim), dtype=np.float32)
    utt = np.arange(n_segments) // words_per_utterance
    return ArrayFeatureStore(frames, lengths, utt, np.arange(n_segments) % words_per_utterance,
                             [None] * n_segments, [None] * n_segments, {"source": "random_frames"})
