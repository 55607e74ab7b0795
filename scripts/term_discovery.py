"""Spoken-term discovery on Mboshi dev scored with the ZeroSpeech 2017 track 2 measures
(core.discovery.zrc_eval) against the corpus's own "silver" word times, with trivial and
gold-boundary reference points (issue 18 item 2).

    nice -n 10 .venv/bin/python scripts/term_discovery.py --out docs/runs/2026-12-06-s9-cpu-mboshi-zrc
    nice -n 10 .venv/bin/python scripts/term_discovery.py --centre-by voice_cluster --out OUT   # no speaker ids
    nice -n 10 .venv/bin/python scripts/term_discovery.py --frame-norm voice_cluster --centre-by voice_cluster --out OUT

Systems (word labels are read only to build the reference and for the gold-label sanity row):
  utterance_one_word        every utterance (whole file) one fragment, each its own cluster
  reference_units_as_words  every reference unit (letter) one fragment (cf. JSALT's "phones as words")
  gold_words_gold_labels    the reference words grouped by their labels (must score 1 / NED 0)
  gold_words_random_labels  the reference words, random cluster labels (K clusters)
  gold_words_kmeans         the reference words, k-means on the front end's speaker-centred mean frames (K)
  energy_kmeans_all         ours: energy-valley segments, the same k-means (K), every segment
  energy_kmeans_confident   ours: only the segments closest to their centroid (--keep share),
                            in clusters that keep >= 2 members
  energy_dtw_graph          ours: the same segments, each linked to its 5 nearest segments of other
                            utterances, the cheapest 25 % of those pairs by DTW on the front end's
                            frames kept, connected components (<= 50 members) as clusters
K = segments // --segments-per-cluster. "Speaker-centred" is per --centre-by group: speaker (the
corpus's ids, session 9), voice_cluster (found without labels: k-means on each dev recording's mean
+ std of raw MFCC frames, k in 2..4 by silhouette, `core.features_normalise.voice_clusters`) or
corpus (one group: the mean of all segments removed). --frame-norm (default none) first normalises
the front end's frames of the segments (gold and ours) per group of the same kinds: mean and
variance over all those segments' frames of the group (`core.features_normalise.group_normalise`);
the mean-pooled embeddings and the DTW graph then use the normalised frames.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.discovery.segments_io import cached_frames, table_frames  # noqa: E402
from core.discovery.term_discovery import (clusters_from_labels, energy_segments,  # noqa: E402
                                           kmeans_clusters, speaker_centred)
from core.discovery.zrc_eval import evaluate, reference_from_table  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--cache", default=str(ROOT / "build" / "discovery"))
    p.add_argument("--frontend", default="speech-embedding")
    p.add_argument("--segments-per-cluster", type=int, default=4)
    p.add_argument("--keep", type=float, default=0.3, help="confident system: share of segments kept (default 0.3)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--centre-by", default="speaker", choices=("speaker", "voice_cluster", "corpus"),
                   help="groups whose mean embedding is removed before clustering (default speaker)")
    p.add_argument("--frame-norm", default="none", choices=("none", "speaker", "voice_cluster", "corpus"),
                   help="groups over which segment frames are mean/variance normalised (default none)")
    args = p.parse_args(argv)

    from core.audio import load_audio
    from core.corpus.readers import read_corpus
    from core.frontends import make_frontend

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(vars(args) | {
        "segmentation": "core.discovery.term_discovery.energy_segments defaults (silence 35 dB below max, "
                        "pauses >= 0.1 s, split runs > 0.5 s at energy valleys >= 1 dB, parts >= 0.15 s)",
        "reference": "Mboshi dev words.tsv times (silver forced alignment), letters spread evenly as units"},
        indent=2) + "\n")
    t0 = time.time()
    table, report = read_corpus(Path(args.data) / "speech" / "mboshi", "mboshi", split="dev")
    reference = reference_from_table(table)
    fe = make_frontend({"name": args.frontend})
    metrics = {"systems": {}, "reference": None}
    rng = np.random.default_rng(args.seed)

    def score(name, clusters, **extra):
        t = time.time()
        m = evaluate(clusters, reference)
        metrics["reference"] = m.pop("reference")
        m = {key: (None if isinstance(v, float) and v != v else v) for key, v in m.items()}  # NaN → null
        m.update(extra)
        m["eval_s"] = round(time.time() - t, 1)
        metrics["systems"][name] = m
        print(name, json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()}), flush=True)
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")

    # per utterance: audio, speaker, duration, our segments
    utts, spans, speakers, durations = [], [], {}, {}
    by_audio = table.indices_by_audio()
    seg_cache = Path(args.cache) / "mboshi_dev_energy_segments.json"
    if seg_cache.is_file():
        saved = json.loads(seg_cache.read_text())
    else:
        saved = {}
        for audio, rows in by_audio.items():
            x, _ = load_audio(audio, 16000)
            saved[table.utterance[rows[0]]] = {"audio": audio, "duration": len(x) / 16000,
                                               "spans": energy_segments(x)}
        seg_cache.parent.mkdir(parents=True, exist_ok=True)
        seg_cache.write_text(json.dumps(saved))
    for audio, rows in by_audio.items():
        u = table.utterance[rows[0]]
        speakers[u] = table.speaker[rows[0]]
        durations[u] = saved[u]["duration"]
        for s, e in saved[u]["spans"]:
            utts.append(u)
            spans.append((s, e))
    print(f"{len(table)} reference words in {len(by_audio)} utterances; {len(spans)} energy segments "
          f"({time.time() - t0:.0f} s)", flush=True)

    # groups of utterances: whose mean embedding is removed ("speaker-centred"); for frame normalisation
    group_of = {"speaker": dict(speakers), "corpus": {u: "all" for u in speakers}}  # utterance -> group
    if "voice_cluster" in (args.centre_by, args.frame_norm):
        from core.features import FeatureConfig, extract_features
        from core.features_normalise import voice_clusters

        audios = sorted(by_audio)
        raw = cached_frames(Path(args.cache), f"mboshi_dev_recordings{len(audios)}_rawmfcc",
                            lambda: extract_features([load_audio(a, 16000)[0] for a in audios],
                                                     FeatureConfig(cmvn=False), device="cpu"))
        voice, info = voice_clusters(raw, ks=(2, 3, 4), seed=args.seed)
        cluster_of_audio = {a: f"c{c}" for a, c in zip(audios, voice)}
        group_of["voice_cluster"] = {table.utterance[rows[0]]: cluster_of_audio[a] for a, rows in by_audio.items()}
        metrics["voice_clusters"] = {"k": info["k"], "silhouette": {str(k): v for k, v in info["silhouette"].items()},
                                     "sizes": np.bincount(voice).tolist()}
        print("voice clusters", json.dumps(metrics["voice_clusters"]), flush=True)
    centre_of = group_of[args.centre_by]

    def frame_norm(frames, utterances):
        if args.frame_norm == "none":
            return frames
        from core.features_normalise import group_normalise

        return group_normalise(frames, [group_of[args.frame_norm][u] for u in utterances])

    # trivial systems
    score("utterance_one_word", [[(u, 0.0, durations[u])] for u in durations])
    score("reference_units_as_words", [[(u, s, e)] for u, units in reference.units.items() for s, e, _ in units])
    gold_utts = list(table.utterance)
    gold_spans = list(zip(table.start.tolist(), table.end.tolist()))
    gold_ids = np.unique(np.asarray(table.label, dtype=object).astype(str), return_inverse=True)[1]
    score("gold_words_gold_labels", clusters_from_labels(gold_utts, gold_spans, gold_ids))
    k_gold = max(2, len(table) // args.segments_per_cluster)
    score("gold_words_random_labels", clusters_from_labels(gold_utts, gold_spans, rng.integers(0, k_gold, len(table))),
          k=k_gold)

    # gold words + clustering
    gold_frames = cached_frames(Path(args.cache), f"mboshi_dev_gold_{args.frontend}", lambda: table_frames(table, fe))
    gold_frames = frame_norm(gold_frames, gold_utts)
    gold_emb = speaker_centred(np.stack([f.mean(0) for f in gold_frames]), [centre_of[u] for u in gold_utts])
    labels, _ = kmeans_clusters(gold_emb, k_gold, seed=args.seed)
    score("gold_words_kmeans", clusters_from_labels(gold_utts, gold_spans, labels), k=k_gold)

    # ours
    from core.segments import SegmentTable

    seg_table = SegmentTable([saved[u]["audio"] for u in utts], [s for s, _ in spans], [e for _, e in spans],
                             [None] * len(utts), [speakers[u] for u in utts], utts, np.zeros(len(utts), int))
    seg_frames = cached_frames(Path(args.cache), f"mboshi_dev_energy_{args.frontend}", lambda: table_frames(seg_table, fe))
    seg_frames = frame_norm(seg_frames, utts)
    ok = np.array([len(f) > 0 for f in seg_frames])
    seg_emb = speaker_centred(np.stack([f.mean(0) if len(f) else np.ones(fe.dim) for f in seg_frames]),
                              [centre_of[u] for u in utts])
    k = max(2, int(ok.sum()) // args.segments_per_cluster)
    labels, dist = kmeans_clusters(seg_emb, k, seed=args.seed)
    score("energy_kmeans_all", clusters_from_labels(utts, spans, labels, keep=ok), k=k)
    keep = ok & (dist <= np.quantile(dist[ok], args.keep))
    sizes = np.bincount(labels[keep], minlength=k)
    keep &= sizes[labels] >= 2
    score("energy_kmeans_confident", clusters_from_labels(utts, spans, labels, keep=keep), k=k,
          kept_share=float(keep.sum() / ok.sum()))
    # ours, DTW-verified nearest-neighbour graph (connected components)
    from core.discovery.term_discovery import dtw_graph_clusters

    good = np.flatnonzero(ok)
    groups, info = dtw_graph_clusters(seg_emb[good], [seg_frames[i] for i in good], [utts[i] for i in good])
    labels = np.full(len(utts), -1)
    labels[good] = groups
    score("energy_dtw_graph", clusters_from_labels(utts, spans, labels, keep=labels >= 0), **info)
    metrics["time_s"] = round(time.time() - t0, 1)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
