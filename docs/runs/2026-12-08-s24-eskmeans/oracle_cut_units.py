"""Does a finer, more consistent cut keep the text's shape?  (session 24; an oracle, not a method)

session 23's oracle_units.py (each energy segment of the training voices named by the unit a perfect
grouping would give it: `word`, `word#k` part, `w1+w2`; word2vec; the experiments' unsupervised map,
selflearn + GW starts; per-segment accuracy) with the energy reader's shortest and longest stretch as
arguments: min = max = 0.08 s cuts a speech run at every energy valley (syllable-like stretches).
Labels build the oracle and score it only. SYNTHETIC speech (espeak-ng voices, kjv_500k_bvad corpus).

    OMP_NUM_THREADS=2 PYTHONPATH=. python3 oracle_cut_units.py CORPUS_DIR TEXT_VEC MIN_S MAX_S OUT.json
"""
import importlib.util
import json
import sys
from collections import Counter
from functools import partial
from multiprocessing import Pool
from pathlib import Path

from core.discovery import term_discovery
from core.vectors import load_vectors

S23 = Path(__file__).resolve().parents[1] / "2026-12-07-s23-energy-vad" / "oracle_units.py"
spec = importlib.util.spec_from_file_location("oracle_units_s23", S23)
s23 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(s23)


def units_with_cut(min_s, max_s, row):
    # s23's utterance_units calls energy_segments() with its defaults; give it this cut instead
    s23.energy_segments = partial(term_discovery.energy_segments, min_s=min_s, max_s=max_s)
    return s23.utterance_units(row)


def main():
    corpus, text_vec, min_s, max_s, out = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), Path(sys.argv[5])
    rows = [line.rstrip("\n").split("\t") for line in open(corpus / "segments.tsv", encoding="utf-8")][1:]
    rows = [(str(corpus / r[3]), str(corpus / r[4])) for r in rows if r[2] == "0"]
    with Pool(2) as pool:
        data = pool.map(partial(units_with_cut, min_s, max_s), rows, chunksize=50)
    text = load_vectors(text_vec, language="en")
    result = {"min_s": min_s, "max_s": max_s, "utterances": len(data), "segments": sum(len(u) for u, _ in data)}
    result["unit_kinds"] = dict(Counter(("several" if "+" in t else "part" if "#" in t else "word")
                                        for u, _ in data for t in u))
    result["units"] = s23.score([list(zip(u, [[lab] for lab in labs])) for u, labs in data], text)
    print(result, flush=True)
    out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
