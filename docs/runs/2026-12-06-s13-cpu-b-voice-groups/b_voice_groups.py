"""Configuration B with voice groups as "languages" (issue 18, session 13): cluster each voice
group's training segments on their own, build one skip-gram space per group, align every group's
space to the pivot group's (the largest) with the project's unsupervised selflearn aligner, merge
the clusters that are mutual CSLS nearest neighbours after the map into one type, then skip-gram
over the merged stream, selflearn to the text space and score held-out classification.

    WORDBRIDGE_DATA=/work/shared/data OMP_NUM_THREADS=1 PYTHONPATH=. nice -n 10 .venv/bin/python \
        docs/runs/2026-12-06-s13-cpu-b-voice-groups/b_voice_groups.py /tmp/b50k_s13 --groups speaker \
        --word-reference --json docs/runs/2026-12-06-s13-cpu-b-voice-groups/b_voice_groups_speaker.json \
        > docs/runs/2026-12-06-s13-cpu-b-voice-groups/b_voice_groups_speaker.txt

(/tmp/b50k_s13: `main.py experiment docs/runs/2026-12-06-s13-cpu-b-voice-groups/b50k_s13.toml --out
/tmp/b50k_s13 --device cpu`.) Secondary: `--groups kmeans2 --word-reference` (two groups from
k-means over the training speakers' mean embeddings) → b_voice_groups_kmeans2.*. Post hoc, added
after those were scored: `--match acoustic` merges mutual cosine-nearest centroids of a group and
the pivot instead of the skip-gram map's MNN (`--groups speaker --match acoustic --size-curve` →
posthoc_speaker_acoustic.*, `--groups kmeans2 --match acoustic` → posthoc_kmeans2_acoustic.*);
`--size-curve` aligns the word spaces of two disjoint N-token halves of the training stream,
N = 5k, 10k, 20k.

Reads a B run of `main.py experiment` (its stage folder's segment embeddings, k-means types and
types.vec, the store's speakers/labels/utterances, the en_same text space). Speaker ids of the
recordings form the groups; word labels only score, except in --word-reference, a diagnostic that
builds per-group *word* spaces to see whether spaces of one group's corpus size align at all.
The protocol is fixed in config.json beside this script. SYNTHETIC speech (espeak-ng).
"""
import argparse
import collections
import glob
import json
import time

import numpy as np
import torch
from safetensors.numpy import load_file

from core.alignment import AlignConfig, align
from core.corpus.feature_store import FeatureStore
from core.retrieval import topk_csls
from core.speech.clustering import group_by_kmeans, kmeans, nearest_centroid
from core.speech.pseudo_skipgram import token_stream, train_skipgram
from core.vectors import load_vectors, unit_rows

torch.set_num_threads(1)
K_TOTAL = 1500
T0 = time.time()


def log(msg):
    print(f"[{time.time() - T0:7.1f} s] {msg}", flush=True)


def align_cfg():
    return AlignConfig(method="selflearn", device="cpu", init_vocab=2000, selflearn_vocab=5000, seed=0)


def ranked(types, n_types, rows):
    """Types renumbered in frequency order over `rows` (as the pipeline keeps them): (rank, counts in order)."""
    counts = np.bincount(types[rows][types[rows] >= 0], minlength=n_types)
    order = np.argsort(-counts, kind="stable")
    rank = np.empty(n_types, dtype=np.int64)
    rank[order] = np.arange(n_types)
    return rank, counts[order]


def skipgram_space(types, n_types, rows, utt, sp, seed=0):
    """Skip-gram (the run's settings) over the `types` of `rows`; row r of the space = type order[r]."""
    rank, counts = ranked(types, n_types, rows)
    ranked_type = np.where(types >= 0, rank[np.maximum(types, 0)], -1)
    tokens, sentences = token_stream(ranked_type, utt, rows)
    space = train_skipgram(tokens, sentences, [f"#{i}" for i in range(n_types)], counts, dim=sp["dim"],
                           window=sp["sg_window"], negatives=sp["sg_negatives"], subsample=sp["sg_subsample"],
                           epochs=sp["sg_epochs"], seed=seed, backend="gensim")
    return space, rank


def csls_top1(x, y):
    _, top = topk_csls(torch.from_numpy(unit_rows(np.asarray(x, np.float32))),
                       torch.from_numpy(unit_rows(np.asarray(y, np.float32))), 1, 10, device="cpu")
    return top[:, 0].numpy()


def mutual_pairs(fwd, bwd):
    return [(i, int(j)) for i, j in enumerate(fwd) if bwd[j] == i]


def aligned_mnn(src, tgt):
    """selflearn src → tgt, then CSLS mutual nearest neighbours (rows of src, rows of tgt)."""
    res = align(src, tgt, align_cfg())
    x, y = res.mapping.map_source(src.vectors), res.mapping.map_target(tgt.vectors)
    return mutual_pairs(csls_top1(x, y), csls_top1(y, x)), float(res.criterion)


def majority(labels, types, rows):
    out = {}
    for t, w in zip(types[rows].tolist(), labels[rows].tolist()):
        out.setdefault(t, collections.Counter())[w] += 1
    return {t: c.most_common(1)[0][0] for t, c in out.items()}


def split_and_purity(labels, types, rows):
    """Median types holding ≥ 10 % of each top-50 word's tokens among `rows`; purity over `rows`."""
    splits = []
    for w, n in collections.Counter(labels[rows]).most_common(50):
        c = collections.Counter(types[rows][labels[rows] == w])
        splits.append(sum(1 for v in c.values() if v >= 0.1 * n))
    purity = sum(collections.Counter(labels[rows][types[rows] == t]).most_common(1)[0][1]
                 for t in np.unique(types[rows])) / len(rows)
    return float(np.median(splits)), float(np.mean(splits)), float(purity)


def agreement(pairs, maj_a, maj_b, rng):
    """Share of pairs whose majority words agree; chance (b side permuted, 100 draws)."""
    if not pairs:
        return 0.0, 0.0
    a = np.array([maj_a[i] for i, _ in pairs], dtype=object)
    b = np.array([maj_b[j] for _, j in pairs], dtype=object)
    chance = np.mean([np.mean(a == b[rng.permutation(len(b))]) for _ in range(100)])
    return float(np.mean(a == b)), float(chance)


def supervised_bound(space, maj_of_row, text):
    """s4 b_supervised_bound.py: Procrustes on half the rows' majority words; P@1 fit half / other half."""
    pairs = [(r, text.index[w]) for r, w in maj_of_row.items() if w in text.index]
    x = unit_rows(space.vectors.astype(np.float32)); y = unit_rows(text.vectors.astype(np.float32))
    x -= x.mean(0); y -= y.mean(0); x = unit_rows(x); y = unit_rows(y)
    a = np.array([p[0] for p in pairs]); b = np.array([p[1] for p in pairs])
    perm = np.random.default_rng(0).permutation(len(a)); tr, te = perm[: len(a) // 2], perm[len(a) // 2:]
    u, _, vt = np.linalg.svd(x[a[tr]].T @ y[b[tr]]); w = u @ vt
    return [float(np.mean(np.argmax((x[a[i]] @ w) @ y.T, 1) == b[i])) for i in (tr, te)]


def word_space_bound(a, b, min_count=3):
    """Procrustes between two word spaces fitted on half their shared words seen >= min_count times in
    both; word-level P@1 (nearest among all of b's words) on the fit half / the other half."""
    (sa, ida), (sb, idb) = a, b
    rb = {int(w): r for r, w in enumerate(idb)}
    pairs = [(r, rb[int(w)]) for r, w in enumerate(ida) if int(w) in rb
             and sa.counts[r] >= min_count and sb.counts[rb[int(w)]] >= min_count]
    x = unit_rows(sa.vectors.copy()); y = unit_rows(sb.vectors.copy())
    x -= x.mean(0); y -= y.mean(0); x = unit_rows(x); y = unit_rows(y)
    i = np.array([p[0] for p in pairs]); j = np.array([p[1] for p in pairs])
    perm = np.random.default_rng(0).permutation(len(i)); tr, te = perm[: len(i) // 2], perm[len(i) // 2:]
    u, _, vt = np.linalg.svd(x[i[tr]].T @ y[j[tr]]); w = u @ vt
    return [float(np.mean(np.argmax((x[i[h]] @ w) @ y.T, 1) == j[h])) for h in (tr, te)]


def classify(types, n_types, train_rows, held_rows, utt, sp, text, labels):
    """Skip-gram over the training stream of `types`, selflearn to text, held-out type → CSLS word."""
    space, rank = skipgram_space(types, n_types, train_rows, utt, sp)
    res = align(space, text, align_cfg())
    top = csls_top1(res.mapping.map_source(space.vectors), res.mapping.map_target(text.vectors))
    rows = held_rows[np.array([labels[i] in text.index for i in held_rows])]
    predicted = np.array(text.words, dtype=object)[top[rank[types[rows]]]]
    maj = majority(labels, types, train_rows)
    bound = supervised_bound(space, {int(rank[t]): w for t, w in maj.items()}, text)
    return {"criterion": float(res.criterion), "accuracy": float(np.mean(predicted == labels[rows])),
            "segments": int(len(rows)), "supervised_bound_fit_other": bound}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run", nargs="?", default="/tmp/b50k_s13")
    ap.add_argument("--groups", choices=("speaker", "kmeans2"), default="speaker")
    ap.add_argument("--word-reference", action="store_true")
    ap.add_argument("--skip-before", action="store_true", help="skip the unmerged classification")
    ap.add_argument("--json", default=None)
    ap.add_argument("--match", choices=("skipgram", "acoustic"), default="skipgram",
                    help="post hoc: acoustic = merge the clusters that are mutual cosine nearest centroids instead")
    ap.add_argument("--size-curve", action="store_true",
                    help="post hoc diagnostic: selflearn between word spaces of two disjoint N-token halves")
    args = ap.parse_args()
    out = {"run": args.run, "groups": args.groups, "match": args.match}

    run = glob.glob(f"{args.run}/stages/speech-unit-skipgram-B-s0-*/run")[0]
    cfg = json.load(open(f"{run}/config.json"))
    sp = cfg["speech"]
    store = FeatureStore.open(cfg["store"])
    seg = load_file(f"{run}/segments.safetensors")
    emb, base_type = unit_rows(seg["embedding"]), seg["type_of"]
    labels = np.array(store.labels, dtype=object)
    speakers = np.asarray(store.speakers)
    utt = np.asarray(store.utterance_ids)
    held = set(store.metadata.get("held_out_speakers", []))
    is_held = np.array([s in held for s in speakers])
    train_idx, held_idx = np.flatnonzero(~is_held), np.flatnonzero(is_held)
    text = load_vectors(glob.glob(f"{args.run}/stages/text-en_same-*/*.vec")[0])
    log(f"{len(train_idx)} training / {len(held_idx)} held-out segments, held-out speakers {sorted(held)}")

    # baseline: the run's own global k-means
    med, mean, pur = split_and_purity(labels, base_type, train_idx[base_type[train_idx] >= 0])
    base_space = load_vectors(f"{run}/types.vec")
    bmaj = majority(labels, base_type, train_idx[base_type[train_idx] >= 0])
    bbound = supervised_bound(base_space, {base_space.index[f"#{t}"]: w for t, w in bmaj.items()
                                           if f"#{t}" in base_space.index}, text)
    scores = glob.glob(f"{args.run}/stages/eval-*B*/**/scores.json", recursive=True) or \
        glob.glob(f"{args.run}/stages/*/**/scores.json", recursive=True)
    out["baseline"] = {"types": int(base_type.max()) + 1, "clusters_per_word_median": med, "clusters_per_word_mean": mean,
                       "train_purity": pur, "supervised_bound_fit_other": bbound,
                       "scores_files": scores, "scores": [json.load(open(s)) for s in scores]}
    log(f"baseline (run's k-means, K {int(base_type.max()) + 1}): clusters/word median {med} mean {mean:.2f}, "
        f"train purity {pur:.3f}, supervised bound {bbound[0]:.3f} / {bbound[1]:.3f}")

    # voice groups
    train_spk = sorted(set(speakers[train_idx].tolist()))
    if args.groups == "speaker":
        group_of_spk = {s: i for i, s in enumerate(train_spk)}
    else:
        means = unit_rows(np.stack([emb[train_idx[speakers[train_idx] == s]].mean(0) for s in train_spk]))
        _, assign = kmeans(means.astype(np.float32), 2, 25, 0, "torch")
        group_of_spk = {s: int(g) for s, g in zip(train_spk, assign)}
    n_groups = max(group_of_spk.values()) + 1
    group_rows = [train_idx[np.array([group_of_spk[s] == g for s in speakers[train_idx]])] for g in range(n_groups)]
    sizes = [len(r) for r in group_rows]
    pivot = int(np.argmax(sizes))
    out["group_speakers"] = {g: [s for s in train_spk if group_of_spk[s] == g] for g in range(n_groups)}
    out["group_sizes"], out["pivot"] = sizes, pivot
    log(f"{n_groups} groups, sizes {sizes}, pivot {pivot}: {out['group_speakers']}")

    # per-group k-means: global cluster id = offset + local id
    cluster = np.full(len(labels), -1, dtype=np.int64)
    centroids, offsets, ks = [], [], []
    for g, rows in enumerate(group_rows):
        k = int(round(K_TOTAL * len(rows) / len(train_idx)))
        grouping = group_by_kmeans(emb, rows, k, sp.get("kmeans_iters", 25), 0, "auto", "cpu")
        offsets.append(sum(len(c) for c in centroids))
        cluster[rows] = grouping.type_of[rows] + offsets[-1]
        centroids.append(grouping.centroids)
        ks.append(len(grouping.names))
    all_cent = np.concatenate(centroids)
    n_clusters = len(all_cent)
    group_of_cluster = np.repeat(np.arange(n_groups), ks)
    cluster[held_idx] = nearest_centroid(emb[held_idx], all_cent)
    out["clusters_per_group"] = ks
    maj = majority(labels, cluster, train_idx)
    med, mean, pur = split_and_purity(labels, cluster, train_idx)
    out["before"] = {"types": n_clusters, "clusters_per_word_median": med, "clusters_per_word_mean": mean, "train_purity": pur}
    log(f"before merging: {n_clusters} clusters ({ks}), clusters/word median {med} mean {mean:.2f}, train purity {pur:.3f}")

    # per-group skip-gram spaces, each aligned to the pivot's
    rng = np.random.default_rng(0)
    spaces = []
    for g, rows in enumerate(group_rows):
        local = np.where(group_of_cluster[np.maximum(cluster, 0)] == g, cluster - offsets[g], -1)
        space, rank = skipgram_space(local, ks[g], rows, utt, sp)
        order = np.argsort(rank)  # row r of the space = local cluster order[r]
        spaces.append((space, order))
    merged_of = np.arange(n_clusters)
    pair_stats = []
    pmaj = {j: maj[offsets[pivot] + j] for j in range(ks[pivot])}
    pivot_words = set(pmaj.values())
    for g in range(n_groups):
        if g == pivot:
            continue
        t = time.time()
        rows_pairs, crit = aligned_mnn(spaces[g][0], spaces[pivot][0])
        pairs = [(int(spaces[g][1][a]), int(spaces[pivot][1][b])) for a, b in rows_pairs]  # local cluster ids
        gmaj = {i: maj[offsets[g] + i] for i in range(ks[g])}
        agree, chance = agreement(pairs, gmaj, pmaj, rng)
        ceiling = float(np.mean([gmaj[i] in pivot_words for i in range(ks[g])]))
        c_g, c_p = centroids[g], centroids[pivot]
        sim = c_g @ c_p.T
        ac_pairs = mutual_pairs(sim.argmax(1), sim.argmax(0))
        ac_agree, ac_chance = agreement(ac_pairs, gmaj, pmaj, rng)
        for a, b in (pairs if args.match == "skipgram" else ac_pairs):
            merged_of[offsets[g] + a] = offsets[pivot] + b
        st = {"group": g, "pivot": pivot, "clusters": ks[g], "selflearn_criterion": crit, "mnn_pairs": len(pairs),
              "majority_agree": agree, "chance": chance, "ceiling": ceiling,
              "acoustic_mnn_pairs": len(ac_pairs), "acoustic_majority_agree": ac_agree, "acoustic_chance": ac_chance,
              "seconds": round(time.time() - t, 1)}
        pair_stats.append(st)
        log(f"group {g} → pivot {pivot}: criterion {crit:.3f}, {len(pairs)} MNN pairs of {ks[g]} clusters, majority words "
            f"agree {agree:.3f} (chance {chance:.3f}, ceiling {ceiling:.3f}); acoustic centroid MNN {len(ac_pairs)} pairs, "
            f"agree {ac_agree:.3f} (chance {ac_chance:.3f})")
    out["group_pairs"] = pair_stats

    _, merged_ids = np.unique(merged_of, return_inverse=True)
    n_types = int(merged_ids.max()) + 1
    merged = np.where(cluster >= 0, merged_ids[np.maximum(cluster, 0)], -1)
    med, mean, pur = split_and_purity(labels, merged, train_idx)
    out["after"] = {"types": n_types, "clusters_per_word_median": med, "clusters_per_word_mean": mean, "train_purity": pur}
    log(f"after merging: {n_clusters} clusters → {n_types} types, types/word median {med} mean {mean:.2f}, train purity {pur:.3f}")

    # the merged stream against the text space (and the unmerged one)
    t = time.time()
    res = classify(merged, n_types, train_idx, held_idx, utt, sp, text, labels)
    out["after"]["classification"] = res
    out["after"]["seconds_classify"] = round(time.time() - t, 1)
    log(f"after merging: selflearn criterion {res['criterion']:.3f}, held-out classification (CSLS) "
        f"{100 * res['accuracy']:.2f} % of {res['segments']}, supervised bound {res['supervised_bound_fit_other']}")
    if not args.skip_before:
        res = classify(cluster, n_clusters, train_idx, held_idx, utt, sp, text, labels)
        out["before"]["classification"] = res
        log(f"before merging: selflearn criterion {res['criterion']:.3f}, held-out classification (CSLS) "
            f"{100 * res['accuracy']:.2f} % of {res['segments']}, supervised bound {res['supervised_bound_fit_other']}")

    if args.word_reference:  # diagnostic: the same alignment on per-group WORD spaces (labels build them)
        vocab = {w: i for i, w in enumerate(sorted({w for w in labels[train_idx] if w is not None}))}
        word = np.array([vocab.get(w, -1) if w is not None else -1 for w in labels], dtype=np.int64)
        wspaces = []
        for g, rows in enumerate(group_rows):
            space, rank = skipgram_space(word, len(vocab), rows, utt, sp)
            present = np.bincount(word[rows][word[rows] >= 0], minlength=len(vocab)) > 0
            keep_rows = np.sort(rank[np.flatnonzero(present)])
            sub = type(space)([space.words[r] for r in keep_rows], space.vectors[keep_rows],
                              np.asarray(space.counts)[keep_rows], modality="speech")
            wspaces.append((sub, np.argsort(rank)[keep_rows]))
        # sanity (added after the first scoring): the pivot's word space against itself retrained with seed 1
        space, rank = skipgram_space(word, len(vocab), group_rows[pivot], utt, sp, seed=1)
        keep_rows = np.sort(rank[np.flatnonzero(np.bincount(word[group_rows[pivot]][word[group_rows[pivot]] >= 0],
                                                            minlength=len(vocab)) > 0)])
        wspaces.append((type(space)([space.words[r] for r in keep_rows], space.vectors[keep_rows],
                                    np.asarray(space.counts)[keep_rows], modality="speech"), np.argsort(rank)[keep_rows]))
        ref = []
        for g in [g for g in range(n_groups) if g != pivot] + [n_groups]:
            rows_pairs, crit = aligned_mnn(wspaces[g][0], wspaces[pivot][0])
            same = float(np.mean([wspaces[g][1][a] == wspaces[pivot][1][b] for a, b in rows_pairs])) if rows_pairs else 0.0
            # supervised isomorphism bound (added after the first scoring): Procrustes on half the shared words
            bound = word_space_bound(wspaces[g], wspaces[pivot])
            name = f"group {g}" if g < n_groups else "pivot, skip-gram seed 1 (sanity)"
            ref.append({"group": name, "words": len(wspaces[g][0].words), "criterion": crit, "mnn_pairs": len(rows_pairs),
                        "same_word": same, "supervised_bound_fit_other": bound})
            log(f"word-space reference {name} → pivot: {len(wspaces[g][0].words)} words, criterion {crit:.3f}, "
                f"{len(rows_pairs)} MNN pairs, same word {same:.3f}; supervised Procrustes P@1 fit / other half "
                f"{bound[0]:.3f} / {bound[1]:.3f}")
        out["word_reference"] = ref

    if args.size_curve:  # post hoc: word spaces (labels build them) of two disjoint utterance sets of N tokens
        vocab = {w: i for i, w in enumerate(sorted({w for w in labels[train_idx] if w is not None}))}
        word = np.array([vocab.get(w, -1) if w is not None else -1 for w in labels], dtype=np.int64)
        utts = np.unique(utt[train_idx])
        np.random.default_rng(0).shuffle(utts)
        pos = {u: i for i, u in enumerate(utts)}
        order = train_idx[np.argsort([pos[u] for u in utt[train_idx]], kind="stable")]  # shuffled utterances, whole
        curve = []
        for n in (5000, 10000, 20000):
            a_rows, b_rows = np.sort(order[:n]), np.sort(order[n:2 * n])
            halves = []
            for rows in (a_rows, b_rows):
                space, rank = skipgram_space(word, len(vocab), rows, utt, sp)
                present = np.bincount(word[rows][word[rows] >= 0], minlength=len(vocab)) > 0
                keep_rows = np.sort(rank[np.flatnonzero(present)])
                halves.append((type(space)([space.words[r] for r in keep_rows], space.vectors[keep_rows],
                                           np.asarray(space.counts)[keep_rows], modality="speech"),
                               np.argsort(rank)[keep_rows]))
            rows_pairs, crit = aligned_mnn(halves[0][0], halves[1][0])
            same = float(np.mean([halves[0][1][a] == halves[1][1][b] for a, b in rows_pairs])) if rows_pairs else 0.0
            bound = word_space_bound(halves[0], halves[1])
            curve.append({"tokens_each": n, "criterion": crit, "mnn_pairs": len(rows_pairs), "same_word": same,
                          "supervised_bound_fit_other": bound})
            log(f"size curve: two disjoint {n}-token word spaces: criterion {crit:.3f}, {len(rows_pairs)} MNN pairs, "
                f"same word {same:.3f}; supervised Procrustes P@1 fit / other half {bound[0]:.3f} / {bound[1]:.3f}")
        out["size_curve"] = curve

    out["seconds"] = round(time.time() - T0, 1)
    log("done")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2, default=str)


if __name__ == "__main__":
    main()
