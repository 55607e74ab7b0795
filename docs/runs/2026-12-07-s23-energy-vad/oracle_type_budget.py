"""Do 1,000 types suffice for energy-segment units?  (session 23; an oracle, not a method)

The product's VAD run had 2,000 k-means clusters joined into 1,000 types, as B. The units oracle
(oracle_units.py: each energy segment → the word it holds, `word#k` for a part, `w1+w2` for several)
needed 11,542 types. Here only the N most frequent units (or, for the words stream, words: B's analogue)
keep their own type; every other token becomes one `<rare>` type (harsher than a real grouping, which
absorbs a rare unit into a near one). word2vec + selflearn with GW starts onto the English text space,
scored per segment as the evaluation scores. SYNTHETIC speech (espeak-ng, kjv_500k_bvad corpus).

    OMP_NUM_THREADS=2 PYTHONPATH=. python3 oracle_type_budget.py CORPUS_DIR TEXT_VEC OUT.json N [N ...]
"""

import json
import sys
from collections import Counter
from multiprocessing import Pool
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from oracle_units import score, utterance_units  # noqa: E402

from core.audio import load_audio  # noqa: E402
from core.corpus.textgrid import read_textgrid_words  # noqa: E402
from core.vectors import load_vectors  # noqa: E402


def utterance_words(row):
    wav, tg = row
    x, sr = load_audio(wav)
    return [w for _, _, w in read_textgrid_words(Path(tg), len(x) / sr, "words", lowercase=True) or []]


def budgeted(stream, n):
    """stream: per utterance [(token, [labels])]; tokens outside the n most frequent → <rare>."""
    keep = {t for t, _ in Counter(t for utt in stream for t, _ in utt).most_common(n)}
    return [[(t if t in keep else "<rare>", labs) for t, labs in utt] for utt in stream]


def main():
    corpus, text_vec, out = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
    budgets = [int(n) for n in sys.argv[4:]]
    rows = [line.rstrip("\n").split("\t") for line in open(corpus / "segments.tsv", encoding="utf-8")][1:]
    rows = [(str(corpus / r[3]), str(corpus / r[4])) for r in rows if r[2] == "0"]
    with Pool(2) as pool:
        units = pool.map(utterance_units, rows, chunksize=50)
        words = pool.map(utterance_words, rows, chunksize=50)
    text = load_vectors(text_vec, language="en")
    streams = {"units": [list(zip(u, [[lab] for lab in labs])) for u, labs in units],
               "words": [[(w, [w]) for w in utt] for utt in words]}
    result = {}
    for name, stream in streams.items():
        counts = Counter(t for utt in stream for t, _ in utt)
        total = sum(counts.values())
        for n in budgets:
            covered = sum(c for _, c in counts.most_common(n)) / total
            result[f"{name}_top{n}"] = dict(score(budgeted(stream, n), text), token_share_kept=covered)
            print(name, n, result[f"{name}_top{n}"], flush=True)
            out.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
