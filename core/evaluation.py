"""Word-translation evaluation: P@1/5/10 with NN and CSLS retrieval, coverage, dictionary export.

Protocol (MUSE, VecMap): pairs with a word outside either space are dropped; coverage is the
fraction of the dictionary's distinct source words that remain. Each remaining source word is
translated among *all* target words; it counts as correct at k when any of its gold translations
is among the k best. CSLS penalties are computed over the full spaces (r_S over every mapped
source word), not only the test words. P@k are in percent.
"""

from __future__ import annotations

import os
from collections import defaultdict

import numpy as np
import torch

from core.dictionary import dictionary_to_indices, save_dictionary
from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.retrieval import csls_penalties, resolve_backend, resolve_device, topk_cosine, topk_csls

KS = (1, 5, 10)


def precision_at_k(x_mapped, y, gold: np.ndarray, *, ks=KS, methods=("nn", "csls"), knn: int = 10,
                   backend: str = "auto", device="auto", progress=None) -> dict:
    """P@k (%) of aligned spaces: `x_mapped` (source rows after W), `y`, gold rows [n, 2].

    Returns {"nn": {"p@1": ..}, "csls": {...}, "n_words": distinct source words evaluated}.
    """
    if len(gold) == 0:
        raise WordbridgeError("no dictionary pair has both words in the two spaces: nothing to evaluate")
    dev = resolve_device(device)
    if resolve_backend(backend, dev) == "faiss":
        dev = torch.device("cpu")
    golds: dict[int, set[int]] = defaultdict(set)
    for s, t in np.asarray(gold):
        golds[int(s)].add(int(t))
    queries = np.array(sorted(golds), dtype=np.int64)
    kmax = min(max(ks), len(y))
    x_t = torch.as_tensor(np.asarray(x_mapped) if not isinstance(x_mapped, torch.Tensor) else x_mapped).to(dev)
    y_t = torch.as_tensor(np.asarray(y) if not isinstance(y, torch.Tensor) else y).to(dev)
    q = x_t[torch.from_numpy(queries).to(dev)]
    out = {"n_words": int(len(queries))}
    for method in methods:
        if method == "nn":
            _, idx = topk_cosine(q, y_t, kmax, backend=backend, device=dev, progress=progress)
        elif method == "csls":
            r_src, r_tgt = csls_penalties(x_t, y_t, knn, backend=backend, device=dev, progress=progress)
            sel = torch.from_numpy(queries).to(r_src.device)
            _, idx = topk_csls(q, y_t, kmax, knn, backend=backend, device=dev, penalties=(r_src[sel], r_tgt),
                               progress=progress)
        else:
            raise WordbridgeError(f"unknown retrieval method {method!r}; choose nn or csls")
        idx = idx.cpu().numpy()
        hits = np.array([[bool(golds[s] & set(row[:k].tolist())) for k in ks] for s, row in zip(queries, idx)])
        out[method] = {f"p@{k}": float(100.0 * hits[:, j].mean()) for j, k in enumerate(ks)}
    return out


def evaluate_mapping(src: Embeddings, tgt: Embeddings, mapping, pairs: list[tuple[str, str]], **kwargs) -> dict:
    """Evaluate a `Mapping` on a word-pair dictionary: P@k for NN and CSLS, coverage and counts."""
    gold, stats = dictionary_to_indices(pairs, src, tgt)
    if len(gold) == 0:
        raise WordbridgeError(
            f"the evaluation dictionary has no pair with both words in the spaces "
            f"(0 of {stats['pairs_total']} pairs, 0 of {stats['src_words_total']} source words found)")
    x = mapping.map_source(src.vectors)
    y = mapping.map_target(tgt.vectors)
    if x.shape[1] != y.shape[1]:
        raise WordbridgeError(f"the mapping gives {x.shape[1]}-d source vectors but {y.shape[1]}-d target "
                              "vectors: it was learned on spaces of other dimensions")
    result = precision_at_k(x, y, gold, **kwargs)
    result.update(stats)
    return result


def check_mapping_fits(src: Embeddings, tgt: Embeddings, mapping) -> None:
    """A clear error when a mapping was learned for spaces of other dimensions."""
    want_src = mapping.src.pca_components.shape[1] if mapping.src.pca_components is not None else mapping.W.shape[1]
    want_tgt = mapping.tgt.pca_components.shape[1] if mapping.tgt.pca_components is not None else mapping.W.shape[0]
    if src.dim != want_src or tgt.dim != want_tgt:
        raise WordbridgeError(f"the mapping expects a {want_src}-d source and a {want_tgt}-d target space, "
                              f"but got {src.dim}-d and {tgt.dim}-d")


def export_induced_dictionary(pairs: np.ndarray, scores: np.ndarray, src: Embeddings, tgt: Embeddings,
                              path: str | os.PathLike) -> None:
    """Write induced (src row, tgt row) pairs as "source target score" lines (MUSE format + score)."""
    words = [(src.words[int(i)], tgt.words[int(j)]) for i, j in pairs]
    save_dictionary(words, path, scores=np.asarray(scores, dtype=np.float64))


def format_metrics(metrics: dict) -> str:
    """A short human-readable table of P@k for NN and CSLS plus coverage."""
    lines = []
    for method in ("nn", "csls"):
        if method in metrics:
            lines.append(f"{method.upper():5s} " + "  ".join(f"{k.upper()} {v:5.1f}" for k, v in metrics[method].items()))
    if "coverage" in metrics:
        lines.append(f"coverage {100 * metrics['coverage']:.1f}% ({metrics['src_words_found']} of "
                     f"{metrics['src_words_total']} source words, {metrics['pairs_found']} of "
                     f"{metrics['pairs_total']} pairs)")
    return "\n".join(lines)
