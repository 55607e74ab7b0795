"""Is the unsupervised map's failure a search failure or a model-selection failure?  (session 24; labels score only)

For a finished run (one speech stage, English text stage `text-en_same-*`): the map fitted WITH labels
(orthogonal Procrustes on (type, its majority word) pairs, as diag_groups.py) scored by the unsupervised
model-selection criterion the aligner keeps its best run by (mean CSLS cosine of the frequent words'
translations), then refined without labels (Procrustes refinement steps, the aligner's own) from that start:
if the labelled map scores a higher criterion than the unsupervised run kept, the search missed it; if lower,
the criterion would not have chosen it. Held-out classification (CSLS) of each, as diag_groups.py.

    PYTHONPATH=. python3 diag_criterion.py RUN_OUT_DIR OUT.json
"""
import importlib.util
import json
import sys
from pathlib import Path

import core.alignment as ca
from core.alignment import AlignConfig
from core.pipeline import speech_eval as ev

S23 = Path(__file__).resolve().parents[1] / "2026-12-07-s23-energy-vad" / "diag_groups.py"
spec = importlib.util.spec_from_file_location("diag_groups_s23", S23)
dg = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dg)


def run_diag_groups(out_dir: Path, groups_json: Path) -> dict:
    """Session 23's diag_groups.py run unchanged on `out_dir` (its result written to `groups_json`), keeping
    what its labelled fit and evaluation were given: src / tgt spaces, labelled pairs, test queries, truth."""
    seen = {}
    real_align, real_retrieve, real_scores = ca.align, ev.retrieve, ev.classification_scores

    def keep_align(src, tgt, cfg, seed_pairs=None, **kw):
        seen.update(src=src, tgt=tgt, pairs=seed_pairs)
        return real_align(src, tgt, cfg, seed_pairs=seed_pairs, **kw)

    def keep_retrieve(mapping, queries, src, tgt, k, knn, *a, **kw):
        seen["queries"] = queries
        return real_retrieve(mapping, queries, src, tgt, k, knn, *a, **kw)

    def keep_scores(top, truth, tgt, *a, **kw):
        seen["truth"] = truth
        return real_scores(top, truth, tgt, *a, **kw)

    ca.align, ev.retrieve, ev.classification_scores = keep_align, keep_retrieve, keep_scores
    argv = sys.argv
    try:
        sys.argv = [argv[0], str(out_dir), str(groups_json)]
        dg.main()
    finally:
        ca.align, ev.retrieve, ev.classification_scores = real_align, real_retrieve, real_scores
        sys.argv = argv
    return seen


def main():
    out_dir, out_json = Path(sys.argv[1]), Path(sys.argv[2])
    seen = run_diag_groups(out_dir, out_json.with_suffix(".groups.json"))
    result = {"diag_groups": json.loads(out_json.with_suffix(".groups.json").read_text())}
    metrics = json.loads((out_dir / "metrics.json").read_text())
    result["unsupervised_criterion"] = [e.get("criterion") for e in _find(metrics, "criterion")]
    for name, cfg in {"labelled map": AlignConfig(method="supervised"),
                      "labelled map, refined without labels": AlignConfig(method="supervised",
                                                                          supervised_refinement=5)}.items():
        fit = ca.align(seen["src"], seen["tgt"], cfg, seed_pairs=seen["pairs"])
        top = ev.retrieve(fit.mapping, seen["queries"], seen["src"], seen["tgt"], 1, 10)
        result[name] = {"criterion": float(fit.criterion), **ev.classification_scores(top, seen["truth"], seen["tgt"])}
    print(json.dumps({k: v for k, v in result.items() if k != "diag_groups"}, indent=1))
    out_json.write_text(json.dumps(result, indent=1))


def _find(tree, key):
    """Every dict in a JSON tree that has `key`."""
    if isinstance(tree, dict):
        if key in tree:
            yield tree
        for v in tree.values():
            yield from _find(v, key)
    elif isinstance(tree, list):
        for v in tree:
            yield from _find(v, key)


if __name__ == "__main__":
    main()
