"""A trained speech type space on disk, and how a new clip reaches one of its types.

Files in a run folder:
- `types.vec` (+ `types.counts`): the type space that gets aligned (word2vec text format).
- `encoder.safetensors`: the segment encoder (Speech2Vec or acoustic), architecture in metadata.
- `type_space.safetensors`: `assign_centroids` — one unit vector per type in the encoder's space;
  a new clip's type is the centroid nearest (cosine) to its encoding. For k-means groupings these
  are the cluster centroids; for configuration A the normalised mean encoding of each word. Types
  joined from several clusters (core.speech.type_join) also keep `assign_prototypes` [P, types, d]:
  their clusters' centroids (zero rows where a type has fewer); a clip then takes the type of its
  nearest prototype or centroid (core.voices.prototypes.type_similarities).
- `type_space.json`: learner, grouping, frame cap, counts of types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.atomic import load_safetensors, read_safetensors_metadata, save_safetensors, write_json
from core.embeddings import Embeddings
from core.errors import InputFileError, WordbridgeError
from core.speech.batching import SegmentFrames
from core.speech.speech2vec import embed_segments
from core.vectors import unit_rows

TYPES_VEC = "types.vec"
ENCODER_FILE = "encoder.safetensors"
ASSIGN_FILE = "type_space.safetensors"
INFO_FILE = "type_space.json"


def placement_similarities(encodings: np.ndarray, centroids: np.ndarray,
                           prototypes: np.ndarray | None = None) -> np.ndarray:
    """Cosines [n, n_types] of segment encodings to each type: to its assign centroid, or to the
    nearest of its prototypes when the type space keeps them; a segment's type is the argmax."""
    from core.voices.prototypes import stack, type_similarities

    return type_similarities(unit_rows(encodings), stack(centroids, prototypes))


def build_model(arch: dict) -> nn.Module:
    """Rebuild a model from its stored architecture dict."""
    from core.speech.acoustic import ContrastiveAWE
    from core.speech.speech2vec import Speech2Vec

    kind = arch.get("kind", "")
    if kind == "speech2vec":
        return Speech2Vec(arch["feat_dim"], arch["dim"], arch["hidden"], arch.get("mode", "skipgram"))
    if kind.startswith("acoustic-"):
        return ContrastiveAWE(arch["feat_dim"], kind.split("-", 1)[1], arch["hidden"], arch["dim"])
    raise WordbridgeError(f"unknown encoder architecture {kind!r}")


@dataclass
class SpeechTypeSpace:
    """The aligned-to type space plus the encoder and centroids that place new clips in it."""

    embeddings: Embeddings
    encoder: nn.Module  # has .encode(x, lengths)
    assign_centroids: np.ndarray  # [n_types, d_encoder], unit rows
    info: dict
    prototypes: np.ndarray | None = None  # [P, n_types, d_encoder]: joined types' cluster centroids

    def type_similarities(self, encodings: np.ndarray) -> np.ndarray:
        """Cosines [n, n_types] of encodings to each type: to its centroid, or its nearest prototype."""
        return placement_similarities(encodings, self.assign_centroids, self.prototypes)

    def encode(self, clips: list[np.ndarray], batch_size: int = 1024) -> np.ndarray:
        """Encoder vectors of clips given as MFCC arrays [T, dim] (cut at the run's frame cap)."""
        cap = int(self.info.get("max_frames", 120))
        feat_dim = int(self.info["feat_dim"])
        lengths = np.array([min(len(c), cap) for c in clips], dtype=np.int64)
        if (lengths < 1).any():
            raise WordbridgeError("a clip has no frames")
        for c in clips:
            if c.ndim != 2 or c.shape[1] != feat_dim:
                raise WordbridgeError(f"clip features of shape {c.shape}, but this space needs [T, {feat_dim}]")
        offsets = np.concatenate([[0], np.cumsum(lengths[:-1])]).astype(np.int64)
        flat = np.concatenate([c[:n] for c, n in zip(clips, lengths)]).astype(np.float32)
        frames = SegmentFrames(torch.from_numpy(flat), torch.from_numpy(offsets), torch.from_numpy(lengths), lengths)
        self.encoder.eval()
        return embed_segments(self.encoder.encode, frames, batch_size=batch_size)

    def assign(self, clips: list[np.ndarray]) -> tuple[list[str], np.ndarray]:
        """Nearest type of each clip and its cosine to that type's centroid."""
        sims = self.type_similarities(self.encode(clips))
        best = sims.argmax(1)
        return [self.embeddings.words[i] for i in best], sims[np.arange(len(best)), best]


def save_type_space(run_dir: str | Path, space: SpeechTypeSpace) -> None:
    """Write the four files of a type space into `run_dir` (each atomically)."""
    from core.speech.training import save_model
    from core.vectors import save_vectors

    run_dir = Path(run_dir)
    save_vectors(space.embeddings, run_dir / TYPES_VEC)
    save_model(space.encoder, run_dir / ENCODER_FILE, space.encoder.architecture())
    arrays = {"assign_centroids": torch.from_numpy(np.ascontiguousarray(space.assign_centroids, dtype=np.float32))}
    if space.prototypes is not None:
        arrays["assign_prototypes"] = torch.from_numpy(np.ascontiguousarray(space.prototypes, dtype=np.float32))
    save_safetensors(run_dir / ASSIGN_FILE, arrays)
    write_json(run_dir / INFO_FILE, {**space.info, "n_types": len(space.embeddings),
                                     "dim": space.embeddings.dim})


def load_type_space(run_dir: str | Path) -> SpeechTypeSpace:
    """Read a type space written by `save_type_space` (or by `train-speech`)."""
    from core.vectors import load_vectors

    run_dir = Path(run_dir)
    for name in (TYPES_VEC, ENCODER_FILE, ASSIGN_FILE, INFO_FILE):
        if not (run_dir / name).is_file():
            raise InputFileError(run_dir / name, "missing: is this a finished train-speech run folder?")
    try:
        info = json.loads((run_dir / INFO_FILE).read_text(encoding="utf-8"))
        arch = json.loads(read_safetensors_metadata(run_dir / ENCODER_FILE)["architecture"])
        model = build_model(arch)
        model.load_state_dict(load_safetensors(run_dir / ENCODER_FILE, torch=True))
        arrays = load_safetensors(run_dir / ASSIGN_FILE, torch=True)
        centroids = arrays["assign_centroids"].numpy()
        prototypes = arrays["assign_prototypes"].numpy() if "assign_prototypes" in arrays else None
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise InputFileError(run_dir, f"damaged type space ({str(exc).splitlines()[0]})") from None
    if prototypes is not None:
        from core.voices.prototypes import check_prototypes

        problem = check_prototypes(prototypes, *centroids.shape)
        if problem:
            raise InputFileError(run_dir / ASSIGN_FILE, f"damaged type space ({problem})")
    emb = load_vectors(run_dir / TYPES_VEC, modality="speech")
    return SpeechTypeSpace(emb, model, centroids, info, prototypes)


def label_centroids(enc: np.ndarray, type_of: np.ndarray, members: np.ndarray, n_types: int) -> np.ndarray:
    """Configuration A: each type's normalised mean encoding over its member segments."""
    from core.speech.clustering import type_means

    return unit_rows(type_means(unit_rows(enc), type_of, members, n_types))
