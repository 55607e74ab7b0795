"""Settings of a speech-space run: one dataclass, JSON/TOML round trip, named presets.

Two learners share one config:
- "speech2vec": the paper's model (Chung & Glass 2018): BiLSTM encoder, LSTM decoder that
  reconstructs a neighbouring word's MFCCs, SGD lr 1e-3, 50 dimensions, window 3.
- "unit-skipgram": acoustic word embeddings learned contrastively from audio alone → k-means
  into pseudo-word types (or true identities in configuration A) → word2vec skip-gram over the
  stream of pseudo-word tokens.

`grouping` says where a segment's type comes from: "A" the true labels (forced-alignment
identities); "B", "VAD", "F" k-means over the segments' embeddings (they differ only in how the
corpus reader cut the segments, which is not this package's business).
"""

from __future__ import annotations

import dataclasses
import json
import tomllib
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputFileError, WordbridgeError

LEARNERS = ("speech2vec", "unit-skipgram")
GROUPINGS = ("A", "B", "VAD", "F")
VOICE_GROUP_CLUSTERS = 5000  # the k-means of the voices' shared space that voice_groups cuts (session 19)


@dataclass
class SpeechConfig:
    """Every knob of a speech-space run; defaults follow the paper where it says anything."""

    learner: str = "speech2vec"
    grouping: str = "A"
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    precision: str = "bf16"  # bf16 autocast on CUDA; fp32 everywhere else
    max_frames: int = 120  # longer segments are cut (1.2 s of 10 ms frames)
    exclude_held_out: bool = True  # held-out speakers' segments are kept for evaluation only
    # --- shared training loop ---
    epochs: int = 10
    batch_size: int = 1024  # center segments (speech2vec) or segments (acoustic) per step
    checkpoint_every: int = 1000  # steps; a checkpoint is also written at the end of every epoch
    log_every: int = 50
    num_workers: int = 0  # >0: batches are cut on CPU in DataLoader workers instead of on the device
    data_on_device: bool = True  # keep all frames on the training device (fastest on a GPU)
    bucket_batches: int = 50  # length bucketing: sort by length inside groups of this many batches
    # --- speech2vec ---
    dim: int = 50  # dimension of the type space (both learners)
    s2v_hidden: int = 256
    s2v_window: int = 3
    s2v_mode: str = "skipgram"  # skipgram | cbow
    optimizer: str = "sgd"  # sgd (the paper) | adam
    lr: float = 1e-3
    momentum: float = 0.0
    grad_clip: float = 5.0
    # --- acoustic word embeddings (unit-skipgram step i) ---
    ac_encoder: str = "conv"  # conv | gru | mean (no parameters: the frames' mean; nothing is trained)
    ac_dim: int = 128
    ac_hidden: int = 256
    ac_epochs: int = 10
    ac_lr: float = 1e-3
    ac_temperature: float = 0.1
    # views: augmented views of each segment; labels: other tokens of the same word (A only);
    # pairs: views first, then `ac_pair_rounds` rounds of DTW-verified cross-speaker pairs
    # (core/speech/pair_mining.py); auto: labels for grouping A, pairs otherwise
    ac_positives: str = "auto"
    ac_pair_rounds: int = 2
    # pairs only — core.speech.voice_space: after the DTW rounds, one round on groups from the voices'
    # shared space (whitened, rotated together), cut at this many groups (0: off); that round trains
    # from the view-trained weights, so the DTW rounds only shape the space the groups come from
    voice_groups: int = 0
    aug_time_mask: float = 0.2  # largest masked fraction of frames
    aug_stretch: float = 0.2  # frame rate perturbed by a factor in [1-x, 1+x]
    aug_noise: float = 0.1  # std of additive Gaussian noise (features are CMVN-normalised)
    aug_crop: float = 0.1  # largest fraction cut from each end
    # --- clustering (step ii) ---
    clusters: int = 1000
    kmeans_iters: int = 25
    kmeans_backend: str = "auto"  # auto (faiss if installed, else torch) | faiss | torch
    # k-means configurations (B, VAD, F) only — core.speech.type_join: join the clusters into this
    # many types by sound and voice-free context (0: keep the clusters), and take the voices out of
    # the final skip-gram space (each type's voice shares regressed out of its vector)
    join_types: int = 0
    join_acoustic_weight: float = 0.5
    regress_voices: bool = False
    # --- pseudo-token skip-gram (step iii): word2vec's settings, the same as the text side's
    # (`text-space` defaults), so that the two spaces differ only in their input ---
    sg_window: int = 5
    sg_negatives: int = 10
    sg_epochs: int = 10
    sg_batch_size: int = 4096  # (center, context) pairs per step
    sg_subsample: float = 1e-4
    sg_min_count: int = 1
    # auto = gensim when installed, else torch (word2vec re-implemented; scripts/bench_skipgram.py:
    # seed-vs-seed Spearman of pairwise cosines 0.98 for both, torch vs gensim 0.96 on 120k KJV tokens)
    sg_backend: str = "auto"  # auto | gensim | torch

    def __post_init__(self):
        self.validate()

    def validate(self) -> None:
        """Raise WordbridgeError naming the first setting of a wrong type or out of range."""
        for f in dataclasses.fields(self):
            _check_type(f.name, getattr(self, f.name), type(f.default))
        choices = {"learner": LEARNERS, "grouping": GROUPINGS, "precision": ("bf16", "fp32"),
                   "s2v_mode": ("skipgram", "cbow"), "optimizer": ("sgd", "adam"),
                   "ac_encoder": ("conv", "gru", "mean"), "ac_positives": ("views", "labels", "pairs", "auto"),
                   "kmeans_backend": ("auto", "faiss", "torch"), "sg_backend": ("auto", "gensim", "torch")}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise WordbridgeError(f"speech config: {name} must be one of {', '.join(allowed)}, "
                                      f"not {getattr(self, name)!r}")
        positive = ["epochs", "batch_size", "checkpoint_every", "log_every", "dim", "s2v_hidden",
                    "s2v_window", "ac_dim", "ac_hidden", "clusters", "kmeans_iters", "sg_window",
                    "sg_negatives", "sg_batch_size", "max_frames", "bucket_batches"]
        for name in positive:
            if getattr(self, name) < 1:
                raise WordbridgeError(f"speech config: {name} must be at least 1, not {getattr(self, name)}")
        if not (self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")):
            raise WordbridgeError(f"speech config: device must be auto, cpu, cuda or cuda:N, not {self.device!r}")
        if self.ac_epochs < 0 or self.sg_epochs < 0 or self.num_workers < 0 or self.ac_pair_rounds < 0:
            raise WordbridgeError("speech config: epochs, ac_pair_rounds and num_workers cannot be negative")
        if not 0 <= self.voice_groups < VOICE_GROUP_CLUSTERS:
            raise WordbridgeError(f"speech config: voice_groups must be 0 (off) or fewer than "
                                  f"{VOICE_GROUP_CLUSTERS} (the shared space's k-means), not {self.voice_groups}")
        if not 0 <= self.join_types < self.clusters:
            raise WordbridgeError(f"speech config: join_types must be 0 (off) or fewer than clusters "
                                  f"({self.clusters}), not {self.join_types}")
        if not 0.0 <= self.join_acoustic_weight <= 1.0:
            raise WordbridgeError(f"speech config: join_acoustic_weight must be in [0, 1], not {self.join_acoustic_weight}")

    @property
    def uses_labels(self) -> bool:
        """True when segment types are the true labels (configuration A)."""
        return self.grouping == "A"

    def to_dict(self) -> dict:
        """Plain dict of every setting (JSON- and TOML-serialisable)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict, source: str = "speech config") -> "SpeechConfig":
        """Build from a dict; unknown keys and wrongly typed values are errors naming them."""
        if not isinstance(data, dict):
            raise WordbridgeError(f"{source}: must hold a table of settings (a JSON object), not {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        # sg_lr set the removed Adam skip-gram's rate; run folders written before still store it
        data = {k: v for k, v in data.items() if k != "sg_lr"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise WordbridgeError(f"{source}: unknown setting(s): {', '.join(unknown)}")
        try:
            return cls(**data)
        except WordbridgeError as exc:
            if source == "speech config":
                raise
            raise WordbridgeError(f"{source}: {exc}") from None

    def replace(self, **changes) -> "SpeechConfig":
        """A copy with some settings changed (None values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    def save(self, path: str | Path) -> None:
        """Write as JSON (atomically)."""
        from core.atomic import write_json

        write_json(path, self.to_dict())


def _check_type(name: str, value, kind: type) -> None:
    """A setting must have its default's type (an int is accepted for a float; a bool never for a number)."""
    ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if not ok:
        wanted = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}.get(kind, kind.__name__)
        raise WordbridgeError(f"speech config: {name} must be {wanted}, not {value!r}")


def load_config(path: str | Path) -> SpeechConfig:
    """Read a config from .json or .toml."""
    return SpeechConfig.from_dict(read_config_dict(path), source=str(path))


def read_config_dict(path: str | Path) -> dict:
    """The settings a .json or .toml file names, parsed but not yet checked."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputFileError(path, f"cannot read ({exc.strerror})") from None
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise InputFileError(path, f"not valid {'TOML' if path.suffix == '.toml' else 'JSON'}: {exc}",
                             line) from None
    return data


# Speech2Vec's sizes when `train-speech` runs on a CPU and the user named none of them: the paper's
# (s2v_hidden 256, batch_size 1024, epochs 10) took about 17 minutes for the 3,000-segment Mboshi dev
# store on a 2-core CPU (29 s a step) with the loss moving in the fourth decimal (docs/BENCHMARKS.md,
# session 10). Only the command line applies these (core/commands/speech.py, `--paper-settings` turns
# them off); experiment TOMLs, the app and the library keep the dataclass's defaults above.
CPU_SIZES: dict[str, int] = {"s2v_hidden": 64, "batch_size": 128, "epochs": 3}
# unit-skipgram's on a CPU, the same way: its acoustic encoder's defaults (10 epochs of 3 steps of
# 1,024 segments: 30 updates) took 9 min 17 s (load 5-6) and 7.8 min (load ~5) on that store, same-
# different AP 0.054; 3 epochs of batch 128 (72 updates) took 2.8 min (load 3-5), AP 0.071 (one run
# each, seed 0, docs/BENCHMARKS.md session 10). The pair rounds of configurations B/VAD/F use the same
# epochs and batch size. Its hidden size is kept (128 instead of 256 saved ~10 % of a step). The
# values under "paper" in config.json's "cpu_sized" are then the learner's defaults (its preset).
UNIT_SKIPGRAM_CPU_SIZES: dict[str, int] = {"ac_epochs": 3, "batch_size": 128}
CPU_SIZES_OF: dict[str, dict[str, int]] = {"speech2vec": CPU_SIZES, "unit-skipgram": UNIT_SKIPGRAM_CPU_SIZES}
# the defaults' wall time that the printed note names (docs/BENCHMARKS.md, session 10)
DEFAULT_CPU_TIME = {"speech2vec": "~17 min", "unit-skipgram": "~8-9 min"}

PRESETS: dict[str, dict] = {
    # Chung & Glass 2018 / Chung et al. 2018: the faithful Speech2Vec.
    "paper": dict(learner="speech2vec", dim=50, s2v_window=3, optimizer="sgd", lr=1e-3,
                  s2v_mode="skipgram"),
    # The learner built to produce a space that text can be aligned with.
    "unit-skipgram": dict(learner="unit-skipgram", dim=50, sg_window=5, sg_negatives=10,
                          ac_encoder="conv", ac_dim=128),
}


def preset(name: str, **overrides) -> SpeechConfig:
    """A named preset ("paper", "unit-skipgram") with optional overrides."""
    if name not in PRESETS:
        raise WordbridgeError(f"unknown speech preset {name!r} (choose {', '.join(PRESETS)})")
    return SpeechConfig(**{**PRESETS[name], **{k: v for k, v in overrides.items() if v is not None}})


def voice_free_settings(clusters: int) -> dict:
    """The settings that make configuration B align without word labels (issue 18, sessions 20–22,
    SYNTHETIC voices at 500k tokens: 47.0 % classification on an H100, docs/RESULTS.md session 22):
    the encoder's kept round on groups from the voices' shared space (voice_groups), the `clusters`
    joined into half as many types by sound and voice-free context (join_types), and the voices
    regressed out of the type space (regress_voices). Align with `AlignConfig.gw_start` as well."""
    if clusters < 2:
        raise WordbridgeError(f"voice-free word types need at least 2 clusters, not {clusters}")
    return {"voice_groups": 2000, "join_types": clusters // 2, "regress_voices": True}


def config_field_names() -> list[str]:
    """Names of all settings, in declaration order."""
    return [f.name for f in dataclasses.fields(SpeechConfig)]

