"""ZeroSpeech 2017 track 2 measures of spoken-term discovery, written from the papers:
Ludusan, Versteegh, Jansen, Gravier, Cao, Johnson & Dupoux, "Bridging the gap between speech
technology and natural language processing: an evaluation toolbox for term discovery systems"
(LREC 2014), and Dunbar, Cao, Benjumea, Karadayi, Bernard, Besacier, Anguera & Dupoux, "The Zero
Resource Speech Challenge 2017" (ASRU 2017).

A system's output is a set of *clusters*, each a list of *fragments* (utterance, start, end) in
seconds. The reference is a list of word intervals per utterance and, inside them, phone-like
units. Every fragment is first *transcribed*: the units it covers, a unit counting when the
fragment overlaps it by at least 30 ms or at least half its duration (the challenge's rule), so
all measures are computed on the unit grid:

- NED: mean, over all pairs of fragments in the same cluster (pooled over clusters), of the
  Levenshtein distance of their unit strings divided by the longer length (pairs with an empty
  transcription are left out and counted).
- coverage: share of the reference's units covered by at least one fragment.
- boundary P/R/F: a fragment's onset is the start of its first unit and its offset the end of its
  last unit; an onset is right when it is the onset of a reference word, an offset when it is a
  word's offset; each (utterance, time) is counted once (a time that is both an onset and an
  offset counts once among the reference's and the system's boundaries).
- token P/R/F: a fragment hits the reference word it overlaps most when its units are exactly
  that word's units; precision = distinct words hit / fragments, recall = words hit / words.
- type P/R/F: the unit strings of the fragments (types found) against the unit strings of the
  reference words; a type is right when some fragment of that type hits a word token.

Grouping and matching (the challenge's optional measures) are not computed.

The Mboshi corpus ships word times only ("silver" forced alignment), no phone times:
`pseudo_units` spreads each word's letters evenly over its interval and uses them as units. On such
a grid a boundary is right when it falls within about half a letter (~40 ms) of a word edge,
comparable to the phone-snapping of the challenge but not the same; our NED is over letters
(the Mboshi spelling is close to the phonology), not phonemes.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

import numpy as np

from core.errors import WordbridgeError

MIN_OVERLAP_S = 0.03
MIN_OVERLAP_SHARE = 0.5


@dataclass
class Reference:
    """Words and units per utterance: {utt: [(start, end, label), ...]} each, sorted by time."""

    words: dict
    units: dict

    def __post_init__(self):
        for kind, table in (("word", self.words), ("unit", self.units)):
            for utt, items in table.items():
                items = sorted(items, key=lambda x: (x[0], x[1]))
                for k, (start, end, label) in enumerate(items):
                    if not (math.isfinite(start) and math.isfinite(end)) or start < 0:
                        raise WordbridgeError(f"reference {kind} {label!r} in {utt}: bad times {start}, {end}")
                    if end <= start:
                        raise WordbridgeError(f"reference {kind} {label!r} in {utt}: ends ({end}) "
                                              f"before it starts ({start})")
                    if k and start < items[k - 1][1] - 1e-9:
                        raise WordbridgeError(f"reference {kind}s overlap in {utt}: {items[k - 1]} and "
                                              f"{(start, end, label)}")
                table[utt] = items
        missing = sorted(set(self.words) - set(self.units))
        if missing:
            raise WordbridgeError(f"utterance {missing[0]} has words but no units")
        self._starts = {u: np.array([x[0] for x in v]) for u, v in self.units.items()}
        self._ends = {u: np.array([x[1] for x in v]) for u, v in self.units.items()}
        # every word's unit span [i, j): the units it covers by the same rule as a fragment
        self.word_spans = {u: [self.span(u, s, e) for s, e, _ in ws] for u, ws in self.words.items()}
        for u, ws in self.words.items():
            for (s, e, label), (i, j) in zip(ws, self.word_spans[u]):
                if i == j:
                    raise WordbridgeError(f"reference word {label!r} in {u} ({s}-{e}) covers no unit")

    def span(self, utt: str, start: float, end: float) -> tuple[int, int]:
        """Units [i, j) of `utt` that the interval covers (overlap >= 30 ms or >= half the unit)."""
        s, e = self._starts[utt], self._ends[utt]
        overlap = np.minimum(e, end) - np.maximum(s, start)
        inside = (overlap > 0) & ((overlap >= MIN_OVERLAP_S - 1e-9) | (overlap >= MIN_OVERLAP_SHARE * (e - s) - 1e-9))
        idx = np.flatnonzero(inside)
        return (int(idx[0]), int(idx[-1]) + 1) if len(idx) else (0, 0)

    def string(self, utt: str, span: tuple[int, int]) -> tuple:
        """The unit labels of a span."""
        return tuple(x[2] for x in self.units[utt][span[0]:span[1]])


def pseudo_units(words: dict) -> dict:
    """Units for a reference that has word times only: each word's letters (Unicode NFC
    characters, an accented vowel is one letter) spread evenly over its interval."""
    units = {}
    for utt, ws in words.items():
        out = []
        for start, end, label in ws:
            letters = list(unicodedata.normalize("NFC", label))
            if not letters:
                raise WordbridgeError(f"reference word in {utt} at {start} has an empty label")
            edges = np.linspace(start, end, len(letters) + 1)
            out += [(float(edges[k]), float(edges[k + 1]), c) for k, c in enumerate(letters)]
        units[utt] = out
    return units


def reference_from_table(table) -> Reference:
    """A Reference from a labelled SegmentTable (utterance → its words), with `pseudo_units`."""
    words: dict = {}
    for i in range(len(table)):
        words.setdefault(table.utterance[i], []).append((float(table.start[i]), float(table.end[i]),
                                                         str(table.label[i])))
    return Reference(words, pseudo_units(words))


def levenshtein(a, b) -> int:
    """Edit distance between two sequences (insert, delete, substitute: cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def _f(p: float, r: float) -> float:
    if not (np.isfinite(p) and np.isfinite(r)):
        return float("nan")
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def check_clusters(clusters, reference: Reference) -> None:
    """A WordbridgeError naming the first malformed cluster or fragment."""
    if not isinstance(clusters, (list, tuple)):
        raise WordbridgeError(f"clusters must be a list of lists of fragments, got {type(clusters).__name__}")
    for c, cluster in enumerate(clusters):
        if not isinstance(cluster, (list, tuple)):
            raise WordbridgeError(f"cluster {c} must be a list of fragments, got {type(cluster).__name__}")
        for fragment in cluster:
            if not isinstance(fragment, (list, tuple)) or len(fragment) != 3:
                raise WordbridgeError(f"cluster {c}: a fragment must be (utterance, start, end), got {fragment!r}")
            utt, start, end = fragment
            if utt not in reference.units:
                raise WordbridgeError(f"cluster {c}: utterance {utt!r} is not in the reference")
            if not (math.isfinite(start) and math.isfinite(end)) or start < 0:
                raise WordbridgeError(f"cluster {c}: fragment {fragment!r} has bad times")
            if end <= start:
                raise WordbridgeError(f"cluster {c}: fragment {fragment!r} ends before it starts")


def evaluate(clusters, reference: Reference) -> dict:
    """All measures of the module docstring for `clusters` (list of lists of (utt, start, end))."""
    check_clusters(clusters, reference)
    n_fragments = sum(len(c) for c in clusters)
    # transcribe every fragment
    spans = [[(utt, reference.span(utt, s, e), s, e) for utt, s, e in cluster] for cluster in clusters]
    # --- coverage
    covered = {u: np.zeros(len(v), bool) for u, v in reference.units.items()}
    for cluster in spans:
        for utt, (i, j), _, _ in cluster:
            covered[utt][i:j] = True
    n_units = sum(len(v) for v in reference.units.values())
    coverage = _ratio(sum(int(c.sum()) for c in covered.values()), n_units)
    # --- boundaries
    gold_on = {(u, reference.units[u][i][0]) for u, ws in reference.word_spans.items() for i, _ in ws}
    gold_off = {(u, reference.units[u][j - 1][1]) for u, ws in reference.word_spans.items() for _, j in ws}
    disc_on, disc_off = set(), set()
    for cluster in spans:
        for utt, (i, j), _, _ in cluster:
            if j > i:
                disc_on.add((utt, reference.units[utt][i][0]))
                disc_off.add((utt, reference.units[utt][j - 1][1]))
    n_gold_b = len(gold_on | gold_off)
    n_disc_b = len(disc_on | disc_off)
    right_b = len((disc_on & gold_on) | (disc_off & gold_off))
    bp, br = _ratio(right_b, n_disc_b), _ratio(right_b, n_gold_b)
    # --- tokens and types
    words_hit, types_found, types_hit = set(), set(), set()
    for cluster in spans:
        for utt, (i, j), s, e in cluster:
            if j <= i:
                continue
            string = reference.string(utt, (i, j))
            types_found.add(string)
            ws = reference.words.get(utt, [])
            if not ws:
                continue
            starts = np.array([w[0] for w in ws])
            ends = np.array([w[1] for w in ws])
            overlap = np.minimum(ends, e) - np.maximum(starts, s)
            k = int(np.argmax(overlap))
            if overlap[k] <= 0:
                continue
            if reference.word_spans[utt][k] == (i, j):
                words_hit.add((utt, k))
                types_hit.add(string)
    n_words = sum(len(v) for v in reference.words.values())
    gold_types = {reference.string(u, sp) for u, sps in reference.word_spans.items() for sp in sps}
    tp, tr = _ratio(len(words_hit), n_fragments), _ratio(len(words_hit), n_words)
    yp, yr = _ratio(len(types_hit), len(types_found)), _ratio(len(types_hit), len(gold_types))
    # --- NED over same-cluster pairs (identical strings: 0; others weighted by their counts)
    ned_sum, ned_pairs, skipped = 0.0, 0, 0
    cache: dict = {}
    for cluster in spans:
        counts: dict = {}
        empty = 0
        for utt, sp, _, _ in cluster:
            if sp[1] > sp[0]:
                st = reference.string(utt, sp)
                counts[st] = counts.get(st, 0) + 1
            else:
                empty += 1
        n = sum(counts.values())
        skipped += empty * n + empty * (empty - 1) // 2
        ned_pairs += n * (n - 1) // 2
        keys = list(counts)
        for x in range(len(keys)):
            for y in range(x + 1, len(keys)):
                a, b = keys[x], keys[y]
                key = (a, b) if a < b else (b, a)
                if key not in cache:
                    cache[key] = levenshtein(a, b) / max(len(a), len(b))
                ned_sum += counts[a] * counts[b] * cache[key]
    return {
        "fragments": n_fragments, "clusters": len(clusters),
        "ned": _ratio(ned_sum, ned_pairs), "ned_pairs": ned_pairs, "ned_pairs_left_out_empty": skipped,
        "coverage": coverage,
        "boundary_precision": bp, "boundary_recall": br, "boundary_f": _f(bp, br),
        "token_precision": tp, "token_recall": tr, "token_f": _f(tp, tr),
        "type_precision": yp, "type_recall": yr, "type_f": _f(yp, yr),
        "reference": {"utterances": len(reference.words), "words": n_words, "word_types": len(gold_types),
                      "units": n_units},
    }
