"""Train the acoustic step of configuration A on synthetic and real speech together.

The encoder is core.speech.acoustic's ContrastiveAWE with positives = other clips of the same word
(any voice, synthetic or recorded, clean or through a simulated microphone), trained with the
project's one training loop (core.speech.training.train: checkpoints, resume, cancel). A word's
type centroid is the mean of its clips' unit encodings, taken per source and then averaged over
the sources, so a word recorded by a few people is not drowned by its many synthetic clips.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from core.errors import WordbridgeError
from core.progress import Progress, ensure


@dataclass
class RecognizerSettings:
    """Encoder and training settings (defaults: the unit-skipgram learner's acoustic step)."""

    encoder: str = "conv"
    hidden: int = 256
    dim: int = 128
    temperature: float = 0.1
    epochs: int = 10
    batch_size: int = 1024
    lr: float = 1e-3
    max_frames: int = 120
    real_repeat: int = 4  # each recorded clip appears this many times per epoch (few next to synthetic)
    seed: int = 0
    device: str = "auto"
    precision: str = "bf16"
    checkpoint_every: int = 1000

    def to_dict(self) -> dict:
        """Plain dict for run configs."""
        return asdict(self)


def train_recognizer(train, settings: RecognizerSettings, ckpt_dir: str | Path,
                     progress: Progress | None = None):
    """Train a ContrastiveAWE on a FrameSet `train` (labels as positives); returns (model, TrainResult).

    Resumes from `ckpt_dir` when it holds a checkpoint of the same run."""
    import torch

    from core.speech.acoustic import AugmentSettings, ContrastiveAWE, ContrastiveTask
    from core.speech.training import LoopSettings, resolve_device
    from core.speech.training import train as train_loop

    progress = ensure(progress)
    if len(train) == 0:
        raise WordbridgeError("no training clips")
    torch.manual_seed(settings.seed)
    device = resolve_device(settings.device)
    frames = train.segment_frames(device)
    names = sorted(set(train.labels))
    index = {w: i for i, w in enumerate(names)}
    labels = np.array([index[w] for w in train.labels], dtype=np.int64)
    real = np.array([s != "synthetic" for s in train.sources])
    rows = np.concatenate([np.arange(len(train))] + [np.flatnonzero(real)] * max(settings.real_repeat - 1, 0))
    model = ContrastiveAWE(train.dim, settings.encoder, settings.hidden, settings.dim, settings.temperature)
    aug = AugmentSettings(max_frames=settings.max_frames, noise=0.05)
    task = ContrastiveTask(model, frames, rows, aug, settings.batch_size, 50, settings.seed, labels=labels)
    loop = LoopSettings(epochs=settings.epochs, optimizer="adam", lr=settings.lr, device=settings.device,
                        precision=settings.precision, seed=settings.seed,
                        checkpoint_every=settings.checkpoint_every, name="recognizer")
    result = train_loop(task, loop, ckpt_dir, progress)
    return model.cpu().eval(), result


def encode_frameset(model, frames, device="cpu", batch: int = 2048, max_frames: int = 120) -> np.ndarray:
    """Unit-length encodings `[n, dim]` of every clip of a FrameSet."""
    import torch

    model = model.to(device).eval()
    seg = frames.segment_frames(device)
    out = []
    order = np.argsort(frames.lengths, kind="stable")  # similar lengths together: less padding
    with torch.inference_mode():
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            x, lengths = seg.pad(idx)
            x = x[:, :max_frames]
            lengths = lengths.clamp(max=max_frames)
            out.append(model.encode(x, lengths).float().cpu().numpy())
    enc = np.zeros((len(frames), model.dim), dtype=np.float32)
    if out:
        enc[order] = np.concatenate(out)
    return enc / np.maximum(np.linalg.norm(enc, axis=1, keepdims=True), 1e-12)


def type_centroids(enc: np.ndarray, labels: list[str], sources: list[str], vocabulary: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(centroids [V, dim] unit rows, has_clips [V] bool) for `vocabulary`: per word, the mean unit
    encoding of each source's clips, averaged over sources. Words with no clip get a zero row."""
    index = {w: i for i, w in enumerate(vocabulary)}
    src_names = sorted(set(sources))
    sums = np.zeros((len(src_names), len(vocabulary), enc.shape[1]), dtype=np.float64)
    counts = np.zeros((len(src_names), len(vocabulary)), dtype=np.int64)
    src_of = {s: k for k, s in enumerate(src_names)}
    rows = np.array([index.get(w, -1) for w in labels])
    srcs = np.array([src_of[s] for s in sources])
    keep = rows >= 0
    np.add.at(sums, (srcs[keep], rows[keep]), enc[keep])
    np.add.at(counts, (srcs[keep], rows[keep]), 1)
    means = sums / np.maximum(counts, 1)[..., None]
    n_src = (counts > 0).sum(0)
    centroids = means.sum(0) / np.maximum(n_src, 1)[:, None]
    norms = np.linalg.norm(centroids, axis=1, keepdims=True)
    centroids = np.where(norms > 0, centroids / np.maximum(norms, 1e-12), 0.0)
    return centroids.astype(np.float32), n_src > 0
