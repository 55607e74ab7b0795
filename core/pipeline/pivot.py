"""Spoken word translation through a text space of the speech's own language (a pivot).

A direct map from a speech type space to a text space of another language failed on configuration B
(issue 18: 1.0 % EN speech → FR text P@1 on a space that classifies 47 % of English words right),
while the speech space aligns with its own language's text. So translate in two label-free steps:
each test segment → its top words of the pivot text space (through the map the pivot's
classification evaluation learnt), then those words' text vectors → the target text space through a
text-to-text map learnt without labels (the experiment's [align] method, no Gromov–Wasserstein
start: text spaces align from the robust start), every pair ranked by the mean of both scores
(core.retrieval.rank_pivot_pairs). Measured on session 22's CPU B space (SYNTHETIC voices,
500k tokens): 25.9 % P@1 against 10.9 % when the mapped speech vector itself is translated
(docs/runs/2026-12-07-s22-voice-groups/pivot.py; that decoding took only the top-1 English word).
Nothing of the target language touches the speech space, and the gold dictionary only scores.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from core.embeddings import Embeddings
from core.retrieval import rank_pivot_pairs


def pivot_topk(speech_map, queries: np.ndarray, speech: Embeddings, pivot: Embeddings, text_map,
               target: Embeddings, k: int, knn: int, device: str = "auto") -> dict[str, np.ndarray]:
    """Top-k target rows of each query (raw speech vectors), by NN and by CSLS: each method takes the
    query's k top pivot words and each of those words' k top target words, and ranks every pair by
    the mean of both scores (core.retrieval.rank_pivot_pairs, as the app's classifier does)."""
    from core.pipeline.speech_eval import retrieve_scored

    first = retrieve_scored(speech_map, queries, speech, pivot, k, knn, device)
    out = {}
    for method, (via_scores, via_rows) in first.items():
        rows = np.unique(via_rows)
        link_scores, link_rows = retrieve_scored(text_map, pivot.vectors[rows], pivot, target, k, knn, device)[method]
        translations = {int(r): list(zip(link_rows[i].tolist(), link_scores[i].tolist())) for i, r in enumerate(rows)}
        top = np.full((len(queries), min(k, len(target))), -1, dtype=np.int64)
        for n in range(len(queries)):
            pairs = rank_pivot_pairs(list(zip(via_rows[n].tolist(), via_scores[n].tolist())), translations, k)
            top[n, :len(pairs)] = [t for t, *_ in pairs]
        out[method] = top
    return out


def text_to_text(pivot: Embeddings, target: Embeddings, align_cfg, progress=None):
    """The unsupervised map from the pivot text space to the target one (an AlignResult): the
    experiment's alignment settings without the Gromov–Wasserstein start."""
    from core.alignment import align

    return align(pivot, target, replace(align_cfg, gw_start=False), progress=progress)
