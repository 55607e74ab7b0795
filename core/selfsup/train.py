"""Train a small HuBERT-style front end on untranscribed audio (HuBERT iteration 1, Hsu et al. 2021).

1. Audio: every file `core.corpus.report.find_audio_files` finds under a folder, mono 16 kHz
   (files shorter than `min_seconds` are left out), kept as int16 in memory.
2. Targets: 39 MFCCs (13 + Δ + ΔΔ, CMVN per file, `core.features`) at 100 frames/s, the frame at
   the centre of each 20-ms model frame (MFCC frame 2t + 1 for model frame t), clustered by
   k-means (sklearn MiniBatchKMeans, `clusters` units, fitted on a random sample of frames).
3. Model: torchaudio's `hubert_pretrain_model` with a small configuration (`SMALL`: a 7-layer
   conv extractor of 64-192 channels with the usual 320-sample stride, 4 pre-LN transformer
   layers of 192 dims). Loss: cross-entropy of the k-means unit of every masked frame against
   all units (cosine logits, torchaudio's LogitGenerator), spans of `mask_length` frames starting
   at `mask_prob` of the frames (the paper's 0.8 and 10); unmasked frames have no loss (α = 1),
   plus 10 × the extractor's feature penalty. AdamW, linear warm-up, then linear decay over the
   time budget (training stops after `minutes` or `max_steps`, whichever comes first).
   Batches: `batch` random files, each cropped at a random multiple of 320 samples to the shortest
   one's length (at most `crop_seconds`); each crop is normalised to zero mean, unit variance.
4. Output: the model's `Wav2Vec2Model` part as MODEL.safetensors (as `save_ssl_checkpoint`, the
   hyper-parameters in the file's metadata) and MODEL.safetensors.json beside it (the same plus
   the training figures). `main.py ... --frontend ssl:MODEL.safetensors` loads it unchanged.

A few CPU minutes make a weak model (docs/runs/2026-12-06-s11-cpu-selfsup-frontend): the recipe
is the paper's, the amount of compute is not (HuBERT base: 250k + 400k steps on 32 GPUs).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.errors import WordbridgeError
from core.progress import Progress, ensure

STRIDE = 320
# (channels, kernel, stride): wav2vec 2.0's kernels and strides, far fewer channels
SMALL_CONVS = [(64, 10, 5), (64, 3, 2), (128, 3, 2), (128, 3, 2), (192, 3, 2), (192, 2, 2), (192, 2, 2)]


@dataclass
class SelfSupConfig:
    """Model size and training settings (defaults: minutes on a 2-core CPU)."""

    clusters: int = 100
    embed_dim: int = 192
    layers: int = 4
    heads: int = 4
    ff_dim: int = 768
    final_dim: int = 128
    convs: list = field(default_factory=lambda: [list(c) for c in SMALL_CONVS])
    pos_conv_kernel: int = 64
    pos_conv_groups: int = 16
    mask_prob: float = 0.8
    mask_length: int = 10
    batch: int = 8
    crop_seconds: float = 3.0
    min_seconds: float = 0.5
    lr: float = 1e-3
    warmup_steps: int = 200
    kmeans_frames: int = 200_000
    layer: int | None = None  # the layer the saved front end uses (None: the last)
    seed: int = 0


def wav2vec2_params(cfg: SelfSupConfig) -> dict:
    """The `torchaudio.models.wav2vec2_model` keyword arguments of the model (what the file stores)."""
    return {"extractor_mode": "group_norm", "extractor_conv_layer_config": [list(c) for c in cfg.convs],
            "extractor_conv_bias": False, "encoder_embed_dim": cfg.embed_dim, "encoder_projection_dropout": 0.0,
            "encoder_pos_conv_kernel": cfg.pos_conv_kernel, "encoder_pos_conv_groups": cfg.pos_conv_groups,
            "encoder_num_layers": cfg.layers, "encoder_num_heads": cfg.heads, "encoder_attention_dropout": 0.0,
            "encoder_ff_interm_features": cfg.ff_dim, "encoder_ff_interm_dropout": 0.0, "encoder_dropout": 0.0,
            "encoder_layer_norm_first": True, "encoder_layer_drop": 0.0, "aux_num_out": None}


def build_pretrain_model(cfg: SelfSupConfig):
    """torchaudio's HuBERTPretrainModel of this configuration (masking on, unmasked loss off)."""
    from torchaudio.models import hubert_pretrain_model

    params = wav2vec2_params(cfg)
    params.pop("aux_num_out")
    params["extractor_conv_layer_config"] = [tuple(c) for c in cfg.convs]
    return hubert_pretrain_model(
        **params, mask_prob=cfg.mask_prob, mask_selection="static", mask_other=0.0,
        mask_length=cfg.mask_length, no_mask_overlap=False, mask_min_space=1, mask_channel_prob=0.0,
        mask_channel_selection="static", mask_channel_other=0.0, mask_channel_length=10,
        no_mask_channel_overlap=False, mask_channel_min_space=1, skip_masked=False, skip_nomask=True,
        num_classes=cfg.clusters, final_dim=cfg.final_dim, feature_grad_mult=None)


def model_frames(n_samples: int, convs) -> int:
    """Frames the conv extractor makes of `n_samples` samples (0 when too short)."""
    n = int(n_samples)
    for _, kernel, stride in convs:
        n = (n - kernel) // stride + 1
        if n <= 0:
            return 0
    return n


def read_folder(folder, min_seconds: float = 0.5, max_hours: float | None = None,
                progress: Progress | None = None) -> tuple[list[np.ndarray], list[str]]:
    """int16 16-kHz signals of the audio files under `folder` (too short or unreadable files
    skipped), stopping at `max_hours`. Files are taken from each sub-folder in turn (the first file
    of every folder, then the second, ...), so a cap on the hours still samples every speaker
    folder instead of the first folders in name order. A one-line WordbridgeError when there is none."""
    from core.audio import load_audio
    from core.corpus.report import find_audio_files
    from core.errors import InputFileError

    progress = ensure(progress)
    folder = Path(folder)
    if not folder.exists():
        raise WordbridgeError(f"{folder}: folder not found")
    if not folder.is_dir():
        raise WordbridgeError(f"{folder}: not a folder of audio files")
    paths = find_audio_files(folder)
    if not paths:
        raise WordbridgeError(f"{folder}: no audio files (wav, flac, ogg, opus, mp3, ...) in it")
    paths = interleave_folders(paths)
    progress.set_stage("reading audio")
    signals, names, seconds, skipped = [], [], 0.0, 0
    for k, path in enumerate(paths):
        progress.check()
        try:
            x, _ = load_audio(path, 16000)
        except InputFileError:
            skipped += 1
            continue
        if len(x) < min_seconds * 16000:
            skipped += 1
            continue
        signals.append((np.clip(x, -1.0, 1.0) * 32767).astype(np.int16))
        names.append(str(path))
        seconds += len(x) / 16000
        progress.update(k + 1, len(paths), hours=round(seconds / 3600, 2))
        if max_hours is not None and seconds >= max_hours * 3600:
            break
    if not signals:
        raise WordbridgeError(f"{folder}: no usable audio ({skipped} file(s) unreadable or shorter than "
                              f"{min_seconds:g} s)")
    if skipped:
        progress.log(f"{skipped} file(s) skipped (unreadable or shorter than {min_seconds:g} s)")
    return signals, names


def interleave_folders(paths) -> list[Path]:
    """`paths` ordered round-robin over their folders (in the order of the paths sorted by name)."""
    by_folder: dict[Path, list[Path]] = {}
    for path in sorted(Path(p) for p in paths):
        by_folder.setdefault(path.parent, []).append(path)
    columns = list(by_folder.values())
    return [col[k] for k in range(max(map(len, columns), default=0)) for col in columns if k < len(col)]


def kmeans_targets(signals, cfg: SelfSupConfig, progress: Progress | None = None, device: str = "cpu"):
    """(per-signal int64 unit sequences at the model's frame rate, k-means centroids [K, 39]);
    the MFCCs are computed on `device`."""
    from sklearn.cluster import MiniBatchKMeans

    from core.features import FeatureConfig, extract_features

    progress = ensure(progress)
    progress.set_stage("MFCC frames")
    feats = []
    chunk = 256
    for a in range(0, len(signals), chunk):
        progress.check()
        wave = [s.astype(np.float32) / 32767 for s in signals[a:a + chunk]]
        for x, f in zip(wave, extract_features(wave, FeatureConfig(deltas=True), device=device)):
            n = model_frames(len(x), cfg.convs)
            feats.append(f[np.minimum(2 * np.arange(n) + 1, len(f) - 1)])
        progress.update(min(a + chunk, len(signals)), len(signals))
    progress.set_stage("k-means")
    every = np.concatenate(feats)
    rng = np.random.default_rng(cfg.seed)
    sample = every[rng.choice(len(every), size=min(cfg.kmeans_frames, len(every)), replace=False)]
    if len(sample) < cfg.clusters:
        raise WordbridgeError(f"too little audio: {len(sample)} frames for {cfg.clusters} k-means units")
    km = MiniBatchKMeans(n_clusters=cfg.clusters, batch_size=10_000, n_init=3, random_state=cfg.seed,
                         max_iter=100).fit(sample)
    progress.update(1, 1, inertia=round(float(km.inertia_) / len(sample), 3))
    return [km.predict(f).astype(np.int64) for f in feats], km.cluster_centers_.astype(np.float32)


def make_batch(signals, targets, cfg: SelfSupConfig, rng: np.random.Generator):
    """(waveforms [B, L] float32, labels [B, T] int64): random crops of `batch` random files."""
    pick = rng.choice(len(signals), size=min(cfg.batch, len(signals)), replace=False)
    length = min(int(cfg.crop_seconds * 16000), min(len(signals[i]) for i in pick))
    n = model_frames(length, cfg.convs)
    waves, labels = [], []
    for i in pick:
        first = int(rng.integers(0, (len(signals[i]) - length) // STRIDE + 1))
        x = signals[i][first * STRIDE:first * STRIDE + length].astype(np.float32) / 32767
        waves.append((x - x.mean()) / max(float(x.std()), 1e-5))
        y = targets[i][first:first + n]
        labels.append(np.pad(y, (0, n - len(y)), mode="edge"))
    return np.stack(waves), np.stack(labels)


def train_frontend(audio_dir, out, minutes: float = 5.0, device: str = "cpu", cfg: SelfSupConfig | None = None,
                   max_steps: int | None = None, max_hours: float | None = None,
                   progress: Progress | None = None) -> dict:
    """Train on the audio under `audio_dir` and write `out` (.safetensors) and `out`.json; the summary dict."""
    import torch
    import torch.nn.functional as F

    from core.atomic import save_safetensors, write_json
    from core.frontends.ssl_checkpoint import META_KEY

    cfg = cfg or SelfSupConfig()
    progress = ensure(progress)
    out = Path(out)
    if out.suffix != ".safetensors":
        raise WordbridgeError(f"{out}: the model file must end in .safetensors")
    if device == "cuda" and not torch.cuda.is_available():
        raise WordbridgeError("--device cuda: no CUDA device here")
    layer = int(cfg.layer or cfg.layers)
    if not 1 <= layer <= cfg.layers:
        raise WordbridgeError(f"layer {layer} is not between 1 and {cfg.layers}")
    t_start = time.time()
    signals, names = read_folder(audio_dir, cfg.min_seconds, max_hours, progress)
    hours = sum(len(s) for s in signals) / 16000 / 3600
    targets, _ = kmeans_targets(signals, cfg, progress, device=device)
    prep_s = time.time() - t_start

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    model = build_pretrain_model(cfg).to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.01)
    budget = max(1.0, float(minutes) * 60)
    progress.set_stage("training")
    progress.log(f"{len(signals)} files, {hours:.2f} h of audio; {sum(p.numel() for p in model.parameters()):,} "
                 f"parameters; training for {minutes:g} min" + (f" or {max_steps} steps" if max_steps else ""))
    t0 = time.time()
    step, losses, accs = 0, [], []
    while True:
        elapsed = time.time() - t0
        if elapsed >= budget or (max_steps is not None and step >= max_steps):
            break
        progress.check()
        warm = min(1.0, (step + 1) / max(1, cfg.warmup_steps))
        lr = cfg.lr * warm * max(0.05, 1.0 - elapsed / budget)
        for group in opt.param_groups:
            group["lr"] = lr
        waves, labels = make_batch(signals, targets, cfg, rng)
        logit_m, _, penalty = model(torch.from_numpy(waves).to(device), torch.from_numpy(labels).to(device))
        if logit_m is None or logit_m.shape[0] == 0:
            continue
        target = torch.zeros(logit_m.shape[0], dtype=torch.long, device=logit_m.device)
        loss = F.cross_entropy(logit_m.float(), target) + 10.0 * penalty
        if not torch.isfinite(loss):
            raise WordbridgeError(f"training diverged at step {step} (loss {float(loss)}); try a lower learning rate")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
        step += 1
        losses.append(float(loss.detach()))
        accs.append(float((logit_m.argmax(-1) == 0).float().mean()))
        progress.update(round(min(time.time() - t0, budget)), round(budget), step=step,
                        loss=round(float(np.mean(losses[-50:])), 3), acc=round(float(np.mean(accs[-50:])), 3))
    train_s = time.time() - t0
    if step == 0:
        raise WordbridgeError("no training step ran (time budget too short?)")
    summary = {"files": len(signals), "audio_hours": round(hours, 3), "steps": step,
               "prepare_minutes": round(prep_s / 60, 2), "train_minutes": round(train_s / 60, 2),
               "loss_first50": round(float(np.mean(losses[:50])), 4), "loss_last50": round(float(np.mean(losses[-50:])), 4),
               "masked_acc_last50": round(float(np.mean(accs[-50:])), 4),
               "chance_acc": round(1.0 / cfg.clusters, 4), "device": str(device),
               "torch_threads": torch.get_num_threads(), "audio_dir": str(Path(audio_dir).resolve())}
    info = {"model": f"Wordbridge HuBERT-style model (iteration 1, {cfg.clusters} MFCC k-means units, "
                     f"{cfg.layers} layers × {cfg.embed_dim}), {step} steps",
            "licence": "trained by the user on their own recordings",
            "trained_on": f"{len(signals)} files, {hours:.2f} h under {Path(audio_dir).name}",
            "normalize_waveform": True}
    meta = {"params": wav2vec2_params(cfg), "layer": layer, **info}
    state = {k: v.detach().cpu().contiguous() for k, v in model.wav2vec2.state_dict().items()}
    # what save_ssl_checkpoint writes (its keyword `model` would clash with the "model" entry)
    save_safetensors(out, state, metadata={META_KEY: json.dumps(meta)})
    write_json(Path(f"{out}.json"), {**meta,
                                     "training": {"config": asdict(cfg), **summary,
                                                  "loss_curve": _curve(losses)}})
    progress.log(f"wrote {out} ({step} steps, loss {summary['loss_first50']} → {summary['loss_last50']}, "
                 f"masked-unit accuracy {summary['masked_acc_last50']:.3f})")
    return summary


def _curve(losses: list[float], points: int = 20) -> list[list[float]]:
    """[step, mean loss] at about `points` evenly spaced steps (mean of the steps since the last point)."""
    every = max(1, math.ceil(len(losses) / points))
    return [[min(a + every, len(losses)), round(float(np.mean(losses[a:a + every])), 4)]
            for a in range(0, len(losses), every)]


def describe(summary: dict) -> str:
    """One line of a training summary."""
    return json.dumps({k: v for k, v in summary.items() if k != "audio_dir"})
