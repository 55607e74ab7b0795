#!/usr/bin/env python
"""Per-clip time of `ClipClassifier.classify_clip` on a project, with a digest of the ranked lists.

Clips are Mboshi dev word segments (every `--step`-th word of words.tsv whose utterance is in the
dev split, cut from the decoded audio before timing; clips the encoder finds no speech in are
skipped). The project is opened read-only. `--root` imports `core` from another code tree, so the
code of two commits can be timed on the same clips one after the other, e.g.

    git archive 19dcf24 core | tar -x -C /tmp/wb_before
    for r in 1 2 3; do
      .venv/bin/python scripts/bench_clip_ranking.py --project P --root /tmp/wb_before \
          --label before
      .venv/bin/python scripts/bench_clip_ranking.py --project P --label after
    done

OMP_WAIT_POLICY is PASSIVE, as in the app (--omp-wait-policy). Prints one JSON line: median / p95
ms of the whole call and of its two parts (the encoder's candidate vectors: features, encoder,
nearest types; then the word lists of the candidates, merged), of the first part the nearest-type
search alone (centroids, exemplars, votes),
and `lists_sha1`, a digest of every clip's ranked words and scores (rounded to 6 places), equal
when two code trees give the same lists.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--project", required=True, help="a project with a speech encoder and a mapping")
    p.add_argument("--source", default=str(ROOT.parent / "shared" / "data" / "speech" / "mboshi"),
                   help="the Mboshi corpus folder (utterances.tsv, words.tsv, audio/)")
    p.add_argument("--clips", type=int, default=50, help="clips timed (default: %(default)s)")
    p.add_argument("--step", type=int, default=12, help="every STEP-th dev word (default: %(default)s)")
    p.add_argument("--warmup", type=int, default=3, help="untimed clips first (default: %(default)s)")
    p.add_argument("--root", default=str(ROOT), help="code tree to import core from (default: this one)")
    p.add_argument("--label", default="", help="a name printed with the figures")
    p.add_argument("--search-ab", default=None, metavar="OLD_ROOT",
                   help="also time the exemplar search of OLD_ROOT's core/speech/exemplars.py (similarities, "
                   "then votes) against this tree's, alternating in this process on the clips' encodings (20 "
                   "rounds each), and check that both give the same arrays")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default: %(default)s)")
    p.add_argument("--omp-wait-policy", default="PASSIVE", choices=("PASSIVE", "ACTIVE", "unset"),
                   help="OMP_WAIT_POLICY before torch loads (default: %(default)s, as in the app; unset: "
                   "the environment's)")
    args = p.parse_args(argv)
    sys.path.insert(0, str(Path(args.root).resolve()))
    if args.omp_wait_policy != "unset":  # the app sets PASSIVE (app/__init__.py) unless the user set one
        os.environ["OMP_WAIT_POLICY"] = args.omp_wait_policy
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    from core.audio import load_audio
    from core.classify import ClipClassifier, clip_embedder, type_candidates
    from core.errors import WordbridgeError
    from core.project import Project

    import core

    assert Path(core.__file__).resolve().parent.parent == Path(args.root).resolve(), core.__file__
    src = Path(args.source)
    with open(src / "utterances.tsv", encoding="utf-8") as fh:
        split = {r["utterance"]: r["split"] for r in csv.DictReader(fh, delimiter="\t")}
    with open(src / "words.tsv", encoding="utf-8") as fh:
        words = [r for r in csv.DictReader(fh, delimiter="\t") if split.get(r["utterance"]) == "dev"]
    project = Project.open(args.project, read_only=True)
    embed = clip_embedder(project)
    classifier = ClipClassifier.load(project, embed=embed)
    m = type_candidates(embed)
    clips, audio = [], {}
    for row in words[::args.step]:
        if len(clips) == args.clips + args.warmup:
            break
        utt = row["utterance"]
        if utt not in audio:
            audio[utt] = load_audio(src / "audio" / f"{utt}.opus")[0]
        x = audio[utt][int(float(row["start_s"]) * 16000):int(float(row["end_s"]) * 16000)]
        try:
            embed.clip_features(x, 16000)
        except WordbridgeError:
            continue
        clips.append(x)
    total, cand, lists, search = [], [], [], []
    digest = hashlib.sha1()
    for n, x in enumerate(clips):
        t0 = time.perf_counter()
        result = classifier.classify_clip(x, 16000, 10, "csls")
        t1 = time.perf_counter()
        embed.candidates(x, 16000, m)  # the first part alone, timed apart
        t2 = time.perf_counter()
        classifier.classify_vectors(result.vectors, 10, "csls")  # the second part alone
        t3 = time.perf_counter()
        encoding = embed.encode_features(embed.clip_features(x, 16000))
        t4 = time.perf_counter()
        embed.nearest_types(encoding, max(m, 2))  # of the first part, the exemplar search alone
        t5 = time.perf_counter()
        for sid in sorted(result.by_space):
            digest.update(repr([(c.word, round(c.score, 6)) for c in result.by_space[sid]]).encode())
        digest.update(repr([(c.word, round(c.score, 6)) for c in result.speech_types]).encode())
        if n >= args.warmup:
            total.append(t1 - t0)
            cand.append(t2 - t1)
            lists.append(t3 - t2)
            search.append(t5 - t4)

    def ms(v, q):
        return round(1000 * float(np.percentile(v, q)), 2)

    search_ab = _search_ab(args.search_ab, embed, clips[args.warmup:], ms) if args.search_ab else None

    print(json.dumps({"label": args.label, "clips": len(total), "type_candidates": m,
                      "classify_clip_ms": {"median": ms(total, 50), "p95": ms(total, 95)},
                      "candidates_ms": {"median": ms(cand, 50), "p95": ms(cand, 95)},
                      "nearest_types_ms": {"median": ms(search, 50), "p95": ms(search, 95)},
                      "word_lists_ms": {"median": ms(lists, 50), "p95": ms(lists, 95)},
                      **({"search_ab": search_ab} if search_ab else {}),
                      "lists_sha1": digest.hexdigest()[:12], "load_avg": round(os.getloadavg()[0], 2),
                      "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
                      "torch_threads": torch.get_num_threads()}), flush=True)
    return 0


def _search_ab(old_root: str, embed, clips, ms) -> dict:
    """Median ms of the old exemplar search (two products: `similarities`, then `votes`) and of this
    tree's (`scores`, one product), alternating call by call on the clips' encodings."""
    import importlib.util
    import time

    import numpy as np

    spec = importlib.util.spec_from_file_location("old_exemplars", Path(old_root) / "core/speech/exemplars.py")
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    stored = embed.exemplars  # both indexes built from the same arrays (each normalises its rows)
    k, tau = embed.type_votes["k"], embed.type_votes["tau"]
    old_index = old.ExemplarIndex(stored.exemplars, stored.types, stored.n_types)
    new_index = type(stored)(stored.exemplars, stored.types, stored.n_types)
    queries = [embed.encode_features(embed.clip_features(x, 16000)) for x in clips]
    queries = [(q / np.linalg.norm(q))[None].astype(np.float32) for q in queries]
    before, after = [], []
    for _ in range(20):
        for q in queries:
            t0 = time.perf_counter()
            s1, v1 = old_index.similarities(q), old_index.votes(q, k, tau)
            t1 = time.perf_counter()
            s2, (v2,) = new_index.scores(q, [(k, tau)])
            t2 = time.perf_counter()
            if not (np.array_equal(s1, s2) and np.array_equal(v1, v2)):
                raise SystemExit("the two exemplar searches differ")
            before.append(t1 - t0)
            after.append(t2 - t1)
    return {"calls": len(before), "before_ms": ms(before, 50), "after_ms": ms(after, 50), "same_arrays": True}


if __name__ == "__main__":
    raise SystemExit(main())
