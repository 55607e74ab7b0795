""""Refine with my pairs": semi-supervised alignment seeded by the user's confirmed pairs.

The user's decisions (`project.confirmed_pairs()`, status "confirmed" or "corrected") become the
seed dictionary of `core.alignment.pipeline.align(method="semisupervised")`, run from two starts:
the user's pairs alone, and the user's pairs plus the pairs the current map induces (those that do
not contradict a user pair). The map with the higher criterion replaces the project's mapping. A
handful of pairs alone under-determine a rotation (8 pairs in the 16-d test fixture), so starting
from them alone can undo a map that was mostly right (fixture: 24 of 24 words right before, 12 after
on one CPU); starting from the current map as well keeps what it had right, while the pairs-alone
start still wins when the current map is mostly wrong (on a tie the start with the current map is
kept). The model-selection criterion (mean CSLS cosine) is measured the same way before and after,
in each mapping's own aligned space, so the two numbers can be compared.
`align_project` makes the project's first speech → text mapping without any pairs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.errors import WordbridgeError
from core.progress import Progress, ensure

USED_STATUSES = ("confirmed", "corrected")
START_PAIRS_ONLY = "your pairs"
START_WITH_CURRENT = "your pairs + the current map's pairs"


@dataclass
class RefineResult:
    """What a refinement did: criterion before/after, pairs used, pairs skipped (not in a space)."""

    mapping_id: str
    criterion_before: float
    criterion_after: float
    n_pairs: int
    skipped: list[str] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    start: str = ""  # which start gave the kept map (START_PAIRS_ONLY or START_WITH_CURRENT)


def aligned_unit_spaces(project, mapping_id: str):
    """Both spaces of a stored mapping, mapped into its aligned space, as unit-row CPU tensors."""
    import torch

    from core.classify import aligned_space_maps
    from core.retrieval import as_unit_tensor

    entry = project.mapping_entry(mapping_id)
    map_source, map_target = aligned_space_maps(project.mapping(mapping_id))
    x = as_unit_tensor(map_source(project.space(entry.source).vectors), torch.device("cpu"))
    y = as_unit_tensor(map_target(project.space(entry.target).vectors), torch.device("cpu"))
    return x, y


def aligned_criterion(project, mapping_id: str, n_words: int = 10000, knn: int = 10) -> float:
    """The criterion of a stored mapping: mean cosine of CSLS translations of the top source words."""
    import torch

    from core.alignment.criterion import mean_csls_cosine

    x, y = aligned_unit_spaces(project, mapping_id)
    n = min(n_words, len(x), len(y))
    return mean_csls_cosine(x, y, torch.eye(x.shape[1]), n_words=n, knn=knn, backend="torch")


def store_alignment_mapping(project, mapping_id: str, source: str, target: str, mapping, method: str,
                            metrics: dict | None = None):
    """Save a core.alignment Mapping (W + preprocessing) as a project mapping that `aligned_space_maps` replays."""
    arrays = mapping.preprocessing_arrays()
    src_dim, tgt_dim = project.space_entry(source).dim, project.space_entry(target).dim
    if mapping.W.shape != (tgt_dim, src_dim):
        raise WordbridgeError(f"cannot store mapping {mapping_id!r}: spaces were reduced with PCA "
                              f"(W {mapping.W.shape}, spaces {src_dim}/{tgt_dim} dimensions)")
    return project.add_mapping(mapping_id, source, target, mapping.W, method, metrics=metrics or {},
                               extra_arrays=arrays, metadata={"src_steps": mapping.src.steps,
                                                              "tgt_steps": mapping.tgt.steps},
                               replace=True)


def seed_rows(project, mapping_id: str) -> tuple[np.ndarray, list[str]]:
    """The confirmed/corrected pairs as (source row, target row); pairs not in both spaces are listed."""
    entry = project.mapping_entry(mapping_id)
    src, tgt = project.space(entry.source), project.space(entry.target)
    tgt_language = project.space_entry(entry.target).language
    rows, skipped = [], []
    for pair in project.confirmed_pairs():
        if pair.status not in USED_STATUSES or (pair.language and pair.language != tgt_language):
            continue
        ref = str(pair.speech_ref)
        if ref in src and pair.text_word in tgt:
            rows.append((src.index[ref], tgt.index[pair.text_word]))
        else:
            skipped.append(f"{ref} → {pair.text_word}")
    return np.array(sorted(set(rows)), dtype=np.int64).reshape(-1, 2), skipped


def refine_with_pairs(project, mapping_id: str | None = None, config=None,
                      progress: Progress | None = None) -> RefineResult:
    """Run semi-supervised alignment seeded with the user's pairs and replace the mapping."""
    from core.alignment.base import AlignConfig
    from core.alignment.pipeline import align
    from core.projection import default_mapping

    progress = ensure(progress)
    mapping_id = mapping_id or default_mapping(project)
    if mapping_id is None:
        raise WordbridgeError("this project has no mapping to refine (run alignment first)")
    entry = project.mapping_entry(mapping_id)
    seeds, skipped = seed_rows(project, mapping_id)
    if len(seeds) == 0:
        raise WordbridgeError("no confirmed pairs to refine with: confirm or correct some pairs first")
    progress.set_stage("criterion before")
    before = aligned_criterion(project, mapping_id)
    progress.check()
    cfg = config or AlignConfig(method="semisupervised", device="cpu")
    starts = {START_PAIRS_ONLY: seeds, START_WITH_CURRENT: with_current_pairs(project, mapping_id, seeds)}
    results = {}
    for name, start_pairs in starts.items():
        progress.set_stage(f"refining from {name}")
        results[name] = align(project.space(entry.source), project.space(entry.target), cfg,
                              seed_pairs=start_pairs, progress=progress)
        progress.check()
    # Both runs share one preprocessing, so their criteria compare. When both reach the same optimum
    # (criteria within the config's restart_agreement, selflearn's test for it) the start that kept
    # the current map wins: which of two equal maps is kept must not depend on a CPU's last bits.
    gain = results[START_PAIRS_ONLY].criterion - results[START_WITH_CURRENT].criterion
    start = START_PAIRS_ONLY if gain > cfg.restart_agreement else START_WITH_CURRENT
    result = results[start]
    progress.log(f"kept the map started from {start} (criterion {result.criterion:.4f}; the other start: "
                 + ", ".join(f"{r.criterion:.4f}" for n, r in results.items() if n != start) + ")")
    store_alignment_mapping(project, mapping_id, entry.source, entry.target, result.mapping,
                            f"semisupervised ({len(seeds)} user pairs, started from {start})",
                            metrics={"criterion": float(result.criterion), "user_pairs": int(len(seeds))})
    after = aligned_criterion(project, mapping_id)
    return RefineResult(mapping_id, before, after, int(len(seeds)), skipped, list(result.criterion_history),
                        start)


def with_current_pairs(project, mapping_id: str, seeds: np.ndarray, knn: int = 10) -> np.ndarray:
    """`seeds` plus the pairs the stored mapping induces now (CSLS nearest neighbours in both
    directions), less every induced pair that shares its speech or its text row with a seed."""
    from core.alignment.selflearn import induce_both_directions

    x, y = aligned_unit_spaces(project, mapping_id)
    _, induced = induce_both_directions(x, y, 1.0, min(knn, len(x), len(y)), None)
    induced = induced.cpu().numpy()
    free = ~np.isin(induced[:, 0], seeds[:, 0]) & ~np.isin(induced[:, 1], seeds[:, 1])
    return np.unique(np.vstack([seeds, induced[free]]), axis=0)


def default_align_method() -> str:
    """`auto` (the paper's adversarial pipeline, sized for a GPU) when CUDA is there, else `selflearn`:
    the adversarial defaults (3 restarts × 5 epochs × 1M samples) take hours on a CPU."""
    import torch

    return "auto" if torch.cuda.is_available() else "selflearn"


def align_project(project, method: str | None = None, progress=None) -> dict:
    """Align the project's speech space with its primary text space and store the mapping.

    `method` None picks `default_align_method()` and says so in the progress log."""
    from core.alignment.base import AlignConfig
    from core.alignment.pipeline import align
    from core.progress import ensure

    if method is None:
        method = default_align_method()
        ensure(progress).log(f"alignment method: {method} ({'GPU' if method == 'auto' else 'no GPU: robust self-learning'})")

    spaces = project.manifest.spaces
    speech = next((s for s in spaces if s.kind == "speech"), None)
    texts = [s for s in spaces if s.kind == "text"]
    if speech is None or not texts:
        raise WordbridgeError("aligning needs a speech space and a text space in the project")
    text = next((t for t in texts if t.language == speech.language), texts[0])
    result = align(project.space(speech.id), project.space(text.id), AlignConfig(method=method), progress=progress)
    mapping_id = f"{speech.id}__{text.id}"
    store_alignment_mapping(project, mapping_id, speech.id, text.id, result.mapping, result.method_used,
                            metrics={"criterion": float(result.criterion)})
    return {"mapping": mapping_id, "criterion": float(result.criterion), "method_used": result.method_used}
