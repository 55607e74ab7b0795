"""Spoken word translation through a text space of the speech's own language (a pivot).

A direct map from a speech type space to a text space of another language failed on configuration B
(issue 18: 1.0 % EN speech → FR text P@1 on a space that classifies 47 % of English words right),
while the speech space aligns with its own language's text. So translate in two label-free steps:
each test segment → its top-1 word of the pivot text space (through the map the pivot's
classification evaluation learnt), then that word's text vector → the target text space through a
text-to-text map learnt without labels (the experiment's [align] method, no Gromov–Wasserstein start:
text spaces align from the robust start). Measured on session 22's CPU B space (SYNTHETIC voices,
500k tokens): 25.9 % P@1 against 10.9 % when the mapped speech vector itself is translated
(docs/runs/2026-12-07-s22-voice-groups/pivot.py). Nothing of the target language touches the speech
space, and the gold dictionary only scores.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from core.embeddings import Embeddings


def pivot_topk(speech_map, queries: np.ndarray, speech: Embeddings, pivot: Embeddings, text_map,
               target: Embeddings, k: int, knn: int, device: str = "auto") -> dict[str, np.ndarray]:
    """Top-k target rows of each query (raw speech vectors), by NN and by CSLS: each method picks the
    query's top-1 pivot word, then that word's top-k target words."""
    from core.pipeline.speech_eval import retrieve

    first = retrieve(speech_map, queries, speech, pivot, 1, knn, device)
    out = {}
    for method, idx in first.items():
        words = pivot.vectors[idx[:, 0]]
        out[method] = retrieve(text_map, words, pivot, target, k, knn, device)[method]
    return out


def text_to_text(pivot: Embeddings, target: Embeddings, align_cfg, progress=None):
    """The unsupervised map from the pivot text space to the target one (an AlignResult): the
    experiment's alignment settings without the Gromov–Wasserstein start."""
    from core.alignment import align

    return align(pivot, target, replace(align_cfg, gw_start=False), progress=progress)
