"""Shared pieces of the alignment methods: settings, result, run log, Procrustes, PCA, seeding.

Convention used everywhere: the mapping W is a d × d matrix that sends a source column vector x to
W·x in the target space; with words in rows this is ``X @ W.T``. All internal work happens on
preprocessed spaces (see `core.alignment.mapping`) whose rows have unit length.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from core.errors import WordbridgeError

METHODS = ("auto", "adversarial", "selflearn", "supervised", "semisupervised")


@dataclass
class AlignConfig:
    """Every knob of the alignment methods; defaults follow MUSE (paper) and VecMap (robust)."""

    method: str = "auto"
    seed: int = 0
    device: str = "auto"
    backend: str = "auto"            # retrieval backend: auto | torch | faiss
    normalize: str = "unit,center,unit"
    reduce_dim: bool = True          # PCA the larger space down to the smaller dimension
    csls_knn: int = 10
    criterion_words: int = 10_000    # model selection: top source words translated
    # model selection ignores words seen fewer times than this when the spaces carry counts
    # (small speech vocabularies: the 10k window otherwise reaches the rarest, noisiest words)
    criterion_min_count: int = 5
    restarts: int | None = None      # None → 3 for adversarial, selflearn and auto, 1 otherwise
    # selflearn stops restarting once two runs reach the same optimum (criteria this close): more
    # starts then rarely find another, and each restart costs minutes on a CPU. 0 runs them all.
    restart_agreement: float = 1e-3
    # Procrustes refinement (MUSE)
    n_refinement: int = 5
    refine_max_rank: int = 15_000
    # adversarial (MUSE defaults)
    adv_epochs: int = 5
    adv_epoch_size: int = 1_000_000
    adv_batch_size: int = 32
    dis_most_frequent: int = 75_000
    dis_layers: int = 2
    dis_hidden_dim: int = 2048
    dis_input_dropout: float = 0.1
    dis_steps: int = 5
    dis_smooth: float = 0.1
    dis_lr: float = 0.1
    map_lr: float = 0.1
    map_beta: float = 0.001
    lr_decay: float = 0.98
    lr_shrink: float = 0.5
    min_lr: float = 1e-6
    health_check_every: int = 500    # iterations between NaN/divergence checks
    # robust start + stochastic self-learning (Artetxe et al. 2018)
    init_vocab: int = 4_000
    selflearn_vocab: int = 20_000
    keep_prob_start: float = 0.1
    keep_prob_factor: float = 2.0
    stall_iterations: int = 3        # VecMap uses 50; fewer keeps CPU runs within minutes
    stall_threshold: float = 1e-6
    max_selflearn_iterations: int = 60
    # restart r of selflearn starts from the robust start over this fraction of the `init_vocab`
    # top words (cycling); from the second cycle on, a seeded random half of that start's pairs
    start_vocab_fractions: tuple = (1.0, 0.5, 0.75)
    # selflearn: more runs, first, each from an entropic Gromov-Wasserstein start (core.alignment.gromov)
    # between the top gw_source_words source words and the top n target words, one per (n in
    # gw_target_words, entropy in gw_epsilons); the criterion picks among all runs. 3,000 target words
    # as well as 2,000: on the CPU-sized encoder's B space only the 3,000-word starts found the map
    # (criterion 0.623 → 44 % vs ≤ 0.597 → ≤ 11 %; docs/RESULTS.md session 22, where the caveat is said)
    gw_start: bool = False
    gw_source_words: int = 1_000
    gw_target_words: tuple = (2_000, 3_000)
    gw_epsilons: tuple = (0.005, 0.01)
    # optional final step for every method alike (AAAI-2018 framework, core.alignment.multistep):
    # whitening, orthogonal mapping, source re-weighting by S^multistep_reweight, de-whitening
    multistep: bool = False
    multistep_reweight: float = 0.5
    # supervised / semi-supervised
    supervised_refinement: int = 0
    semi_iterations: int = 10
    # auto: adversarial is judged collapsed below this absolute criterion, or when it does not beat
    # the criterion of the robust start's first Procrustes step by `collapse_margin`
    collapse_threshold: float = 0.0
    collapse_margin: float = 0.0

    def n_restarts(self, method: str) -> int:
        """Restarts for `method`: the explicit setting or the method's default."""
        if self.restarts is not None:
            return max(1, int(self.restarts))
        return 3 if method in ("adversarial", "auto", "selflearn") else 1

    def _gw_targets(self) -> tuple:
        # one number (a config written before session 22) or several
        return (self.gw_target_words,) if isinstance(self.gw_target_words, int) else tuple(self.gw_target_words)

    def gw_starts(self) -> list[tuple[float, int]]:
        """The Gromov–Wasserstein starts selflearn runs with `gw_start`: (entropy, target words) pairs,
        every entropy for the first target size, then for the next."""
        return [(float(e), int(m)) for m in self._gw_targets() for e in self.gw_epsilons]

    def validate(self) -> None:
        """Reject settings that make no sense, with a one-line message."""
        if self.method not in METHODS:
            raise WordbridgeError(f"unknown alignment method {self.method!r}; choose one of {', '.join(METHODS)}")
        positive = ["csls_knn", "criterion_words", "adv_batch_size", "dis_most_frequent", "dis_hidden_dim",
                    "dis_steps", "refine_max_rank", "init_vocab", "selflearn_vocab", "adv_epoch_size", "gw_source_words"]
        for name in positive:
            if getattr(self, name) < 1:
                raise WordbridgeError(f"{name} must be at least 1 (got {getattr(self, name)})")
        if self.restart_agreement < 0:
            raise WordbridgeError(f"restart_agreement must be 0 or more (got {self.restart_agreement})")
        if not self.start_vocab_fractions or not all(0 < f <= 1 for f in self.start_vocab_fractions):
            raise WordbridgeError(f"start_vocab_fractions must be fractions in (0, 1] "
                                  f"(got {self.start_vocab_fractions})")
        if not self.gw_epsilons or not all(isinstance(e, (int, float)) and e > 0 for e in self.gw_epsilons):
            raise WordbridgeError(f"gw_epsilons must be entropies above 0 (got {self.gw_epsilons})")
        targets = self._gw_targets()
        if not targets or not all(isinstance(m, int) and m >= 1 for m in targets):
            raise WordbridgeError(f"gw_target_words must be word counts of at least 1 (got {self.gw_target_words})")
        if self.multistep_reweight < 0:
            raise WordbridgeError(f"multistep_reweight must be at least 0 (got {self.multistep_reweight})")
        if not 0 < self.keep_prob_start <= 1:
            raise WordbridgeError(f"keep_prob_start must be in (0, 1] (got {self.keep_prob_start})")

    def to_dict(self) -> dict:
        """Plain dict for config.json."""
        return asdict(self)


class RunLog:
    """Collects log lines of a run (kept in the result) and forwards them to a Progress."""

    def __init__(self, progress=None):
        self.lines: list[str] = []
        self.progress = progress
        self.started = time.perf_counter()

    def __call__(self, message: str) -> None:
        stamp = f"[{time.perf_counter() - self.started:7.1f}s] "
        self.lines.append(stamp + message)
        if self.progress is not None:
            self.progress.log(message)

    def warn(self, message: str) -> None:
        """Log a warning line (prefixed 'warning:')."""
        self(f"warning: {message}")

    def check(self) -> None:
        """Raise Cancelled if the user asked to stop."""
        if self.progress is not None:
            self.progress.check()

    def update(self, done, total=None, **metrics) -> None:
        if self.progress is not None:
            self.progress.update(done, total, **metrics)

    def stage(self, name: str) -> None:
        if self.progress is not None:
            self.progress.set_stage(name)


def clip_to_vocab(name: str, value: int, vocab: int, log: RunLog) -> int:
    """`value` clipped to `vocab`, with a warning when it had to be clipped (MUSE asserts instead)."""
    if value > vocab:
        log.warn(f"{name}={value} is larger than the vocabulary ({vocab} words); clipped to {vocab}")
        return vocab
    return value


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, numpy and torch; return a CPU generator for explicit sampling."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    gen = torch.Generator()
    gen.manual_seed(seed)
    return gen


def procrustes(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Orthogonal W minimising ||x Wᵀ − y||: W = U Vᵀ from the SVD of yᵀx (rows are pairs)."""
    m = (y.double().T @ x.double())
    u, _, vt = torch.linalg.svd(m)
    return (u @ vt).to(torch.float32)


def random_orthogonal(d: int, gen: torch.Generator) -> torch.Tensor:
    """A random d × d orthogonal matrix (QR of a Gaussian, signs fixed to be Haar-distributed)."""
    a = torch.randn(d, d, generator=gen, dtype=torch.float64)
    q, r = torch.linalg.qr(a)
    return (q * torch.sign(torch.diagonal(r))).to(torch.float32)


@dataclass
class AlignmentResult:
    """What an alignment run produced. `mapping` holds W and the preprocessing to reuse it."""

    mapping: "object"                       # core.alignment.mapping.Mapping
    dictionary: np.ndarray                  # [n, 2] int64 (src row, tgt row): induced translations
    dictionary_scores: np.ndarray           # [n] float32 CSLS scores
    criterion: float
    method: str                             # what was asked for
    method_used: str                        # what produced the mapping
    fallback: bool = False
    fallback_reason: str = ""
    criterion_history: list[dict] = field(default_factory=list)
    restarts: list[dict] = field(default_factory=list)
    # auto only: each method it weighed → {"mapping", "criterion", "seconds"} (the chosen one included)
    candidates: dict = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    timings: dict = field(default_factory=dict)
    device: str = "cpu"
    seed: int = 0

    def summary(self) -> dict:
        """JSON-friendly summary (no arrays) for metrics.json."""
        return {
            "method": self.method, "method_used": self.method_used, "criterion": self.criterion,
            "fallback_used": self.fallback, "fallback_reason": self.fallback_reason,
            "restarts": self.restarts, "criterion_history": self.criterion_history,
            "timings_s": self.timings, "device": self.device, "seed": self.seed,
            "induced_pairs": int(len(self.dictionary)),
            "candidates": {name: {"criterion": c["criterion"], "seconds": c["seconds"]}
                           for name, c in self.candidates.items()},
        }
