"""Join configuration B's voice-split speech types by sound *and* context; take the voices out of
the type space. No word labels: speaker ids are the only metadata used.

Why (issue 18, docs/RESULTS.md session 21): k-means over word segments of many voices cuts a
frequent word into several word × voice clusters. Their skip-gram vectors differ mostly by voice
(each utterance has one voice, so a cluster's contexts are that voice's clusters), and the
unsupervised criterion then prefers a wrong map. Two label-free steps fix the inventory:

* `regress_out_voices`: each type's share of each training voice, regressed out of its skip-gram
  vector (least squares with an intercept). What is left is where the type occurs, not who said
  it. On 1,000 frequent types, same-word type pairs: AP 0.04 before, 0.29 after.
* `join_types`: average-linkage agglomeration of the types on the mean of two cosines — of their
  acoustic centroids and of their voice-regressed skip-gram vectors (AP 0.46 and 0.29 alone, 0.63
  together) — cut at a number of types. 2,000 k-means types → 1,000: purity / inverse purity
  0.80 / 0.44 → 0.77 / 0.74 on the session-20 GPU encoder.

The joined types' skip-gram space, voice-regressed again, aligns with the text space when the map
starts from Gromov–Wasserstein (`AlignConfig.gw_start`).
"""

from __future__ import annotations

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from core.vectors import unit_rows

# prototypes kept per joined type (the k-means clusters it joined, most frequent first): at 2,000 → 1,000
# types a few types join dozens of clusters; the cap bounds the stored array (P × types × dim)
MAX_PROTOTYPES = 32


def voice_shares(type_rows: np.ndarray, speakers: np.ndarray, n_types: int) -> np.ndarray:
    """[n_types, n_voices]: the share of each type's training tokens said by each voice.
    `type_rows` and `speakers` give the type row and the speaker id of every training token."""
    voices, voice = np.unique(np.asarray(speakers), return_inverse=True)
    shares = np.zeros((n_types, len(voices)))
    np.add.at(shares, (np.asarray(type_rows), voice), 1.0)
    return shares / np.maximum(shares.sum(1, keepdims=True), 1.0)


def regress_out_voices(vectors: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """`vectors` minus their least-squares fit on the voice shares (and an intercept), float32."""
    design = np.hstack([shares, np.ones((len(shares), 1))])
    coef, *_ = np.linalg.lstsq(design, vectors.astype(np.float64), rcond=None)
    return (vectors - design @ coef).astype(np.float32)


def voice_free_vectors(vectors: np.ndarray, type_of: np.ndarray, members: np.ndarray,
                       speakers: np.ndarray) -> np.ndarray:
    """Type vectors (rows = types) with each type's voice shares over the training segments `members`
    regressed out (`type_of`, `speakers`: every segment's; segments without a type are skipped)."""
    members = members[type_of[members] >= 0]
    return regress_out_voices(vectors, voice_shares(type_of[members], np.asarray(speakers)[members], len(vectors)))


def voice_free_space(space, type_of: np.ndarray, members: np.ndarray, speakers: np.ndarray):
    """The type space `space` (core.embeddings.Embeddings) with its voices regressed out (`voice_free_vectors`)."""
    from core.embeddings import Embeddings

    return Embeddings(space.words, voice_free_vectors(space.vectors, type_of, members, speakers), space.counts,
                      modality="speech")


def join_types(acoustic: np.ndarray, context: np.ndarray, n_out: int, acoustic_weight: float = 0.5) -> np.ndarray:
    """Group of each type [n] (0..n_out-1) by average linkage on 1 − (w·cos(acoustic) + (1 − w)·cos(context)).

    `acoustic`: the types' acoustic centroids; `context`: their voice-regressed skip-gram vectors.
    The weight 0.5 is the plain mean of the two cosines (0.3 and 0.7 rank same-word pairs a little
    worse, session 21)."""
    n = len(acoustic)
    if len(context) != n:
        raise ValueError(f"{n} acoustic centroids but {len(context)} context vectors")
    if not 1 <= n_out <= n:
        raise ValueError(f"cannot join {n} types into {n_out}")
    if not 0.0 <= acoustic_weight <= 1.0:
        raise ValueError(f"acoustic_weight must be in [0, 1] (got {acoustic_weight})")
    a, c = unit_rows(acoustic, np.float64), unit_rows(context, np.float64)
    dist = np.clip(1.0 - (acoustic_weight * (a @ a.T) + (1.0 - acoustic_weight) * (c @ c.T)), 0.0, None)
    np.fill_diagonal(dist, 0.0)
    dist = (dist + dist.T) / 2  # exact symmetry for squareform
    group = fcluster(linkage(squareform(dist, checks=False), "average"), n_out, "maxclust") - 1
    return np.unique(group, return_inverse=True)[1]


def join_grouping(grouping, embeddings: np.ndarray, members: np.ndarray, speakers: np.ndarray,
                  context_vectors: np.ndarray, n_out: int, acoustic_weight: float = 0.5):
    """A k-means `grouping` (core.speech.clustering.Grouping, types in frequency order) joined into
    `n_out` types: `context_vectors` are the skip-gram vectors of its types (rows = type rows),
    `embeddings` the segments' encodings, `members` the training segments, `speakers` every
    segment's speaker. Every segment keeps its cluster's joined type; the joined types are again in
    frequency order (over `members`); their centroids are the unit means of their training
    encodings, and their prototypes the centroids of the clusters they joined (what places a new
    clip: its nearest cluster's type)."""
    from core.speech.clustering import Grouping, frequency_order
    from core.speech.type_space import label_centroids

    members = members[grouping.type_of[members] >= 0]
    n = len(grouping.names)
    context = voice_free_vectors(context_vectors, grouping.type_of, members, speakers)
    group = join_types(label_centroids(embeddings, grouping.type_of, members, n), context, n_out, acoustic_weight)
    joined = np.where(grouping.type_of >= 0, group[np.maximum(grouping.type_of, 0)], -1)
    type_of, counts, order = frequency_order(joined, members, int(group.max()) + 1)
    centroids = label_centroids(embeddings, type_of, members, len(counts))
    rank = np.full(int(group.max()) + 1, -1, dtype=np.int64)
    rank[order] = np.arange(len(order))
    prototypes = (cluster_prototypes(grouping.centroids, rank[group]) if grouping.centroids is not None else None)
    return Grouping(type_of, [f"#{i}" for i in range(len(counts))], counts, centroids, prototypes)


def cluster_prototypes(cluster_centroids: np.ndarray, type_of_cluster: np.ndarray,
                       max_per_type: int = MAX_PROTOTYPES) -> np.ndarray:
    """[P, n_types, d] float32: each joined type's k-means cluster centroids as its prototypes (P = the
    most clusters of one type, at most `max_per_type`: a type with more keeps its first clusters, the
    most frequent; zero rows where a type has fewer). Placing a segment by its nearest prototype is
    placing it by its nearest cluster: session 21 measured that held-out ceiling at 0.710 against
    0.670 for one mean centroid per joined type (docs/runs/2026-12-07-s21-map-search)."""
    type_of_cluster = np.asarray(type_of_cluster)
    n_types = int(type_of_cluster.max()) + 1
    members = [np.flatnonzero(type_of_cluster == t)[:max_per_type] for t in range(n_types)]
    out = np.zeros((max(len(m) for m in members), n_types, cluster_centroids.shape[1]), dtype=np.float32)
    for t, rows in enumerate(members):
        out[:len(rows), t] = unit_rows(cluster_centroids[rows])
    return out
