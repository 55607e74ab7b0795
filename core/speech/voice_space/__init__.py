"""The voices' shared space and the pseudo-word groups taken from it (configurations without word
labels; speaker ids are the only metadata read).

`voice_groups` is what the speech runner calls: the positives for the encoder's voice-groups round,
in the same form as core.speech.pair_mining.mine_pair_groups returns (a group id per segment, -1
outside a group, and a summary). normalise.py moves each voice into the shared space; groups.py cuts
that space into groups.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.speech.config import VOICE_GROUP_CLUSTERS
from core.speech.voice_space.groups import shared_space_groups
from core.speech.voice_space.normalise import shared_voice_space

__all__ = ["VoiceGroupSettings", "voice_groups", "shared_voice_space", "shared_space_groups"]


@dataclass(frozen=True)
class VoiceGroupSettings:
    """Sessions 18–20's settings, fixed on training-voice diagnostics before anything was classified."""

    n_groups: int = 2000              # average-linkage cut
    n_clusters: int = VOICE_GROUP_CLUSTERS  # k-means of the shared space, before the cut
    voice_clusters_total: int = 40000  # per-voice k-means for the rotations: 20 × K 2,000, split by share
    inner: float = 0.5                # share of each group kept, nearest its mean
    iters: int = 25
    seed: int = 0
    backend: str = "auto"
    device: str = "cpu"

    @classmethod
    def of(cls, cfg, device) -> "VoiceGroupSettings":
        """The settings of a run's SpeechConfig `cfg`: `cfg.voice_groups` groups; per-voice clusters for
        the rotations 20 × K split by the voices' shares (session 18's kmult 20)."""
        return cls(n_groups=cfg.voice_groups, voice_clusters_total=20 * cfg.clusters, seed=cfg.seed,
                   backend=cfg.kmeans_backend, device=str(device))


def voice_groups(seg_emb: np.ndarray, train_idx: np.ndarray, speakers: np.ndarray, n_segments: int,
                 settings: VoiceGroupSettings) -> tuple[np.ndarray, dict]:
    """Pseudo-labels for every segment (-1 outside a group; only `train_idx` get one) from the
    shared space of `seg_emb` (rows = train_idx), and a summary. Voices with no more training
    segments than embedding dimensions cannot be whitened and get no group."""
    train_idx = np.asarray(train_idx)
    spk = np.asarray(speakers)[train_idx]
    names, code, size = np.unique(spk, return_inverse=True, return_counts=True)
    usable = size[code] > seg_emb.shape[1]
    labels = np.full(n_segments, -1, dtype=np.int64)
    summary = {"voices": int(len(names)), "voices_too_small": int((size <= seg_emb.shape[1]).sum()),
               "groups": 0, "grouped_segments": 0}
    if len(np.unique(code[usable])) < 2:
        return labels, summary
    shared = shared_voice_space(seg_emb[usable], spk[usable], settings.voice_clusters_total, settings.iters,
                                settings.seed, settings.backend, settings.device)
    group = shared_space_groups(shared, spk[usable], settings.n_clusters, settings.n_groups, settings.inner,
                                settings.iters, settings.seed, settings.backend, settings.device)
    labels[train_idx[usable]] = group
    grouped = group >= 0
    summary.update(groups=int(len(np.unique(group[grouped]))), grouped_segments=int(grouped.sum()))
    return labels, summary
