"""Offline probe: what splits a frequent word's tokens over several of configuration B's clusters?
Share of each word's cluster entropy explained by the speaker (and, for comparison, by shuffled
speakers and by the token's duration tercile), over the 30 most frequent words of run 4
(/tmp/b50k_pairs). SYNTHETIC speech.

    PYTHONPATH=. .venv/bin/python docs/runs/2026-11-25-s4-cpu-b-pseudo-pairs/b_split_by_speaker.py
"""
import glob, json, collections
import numpy as np
from safetensors.numpy import load_file
from core.corpus.feature_store import FeatureStore
run = glob.glob('/tmp/b50k_pairs/stages/speech-unit-skipgram-B-s0-*/run')[0]
cfg = json.load(open(f"{run}/config.json")); store = FeatureStore.open(cfg["store"])
seg = load_file(f"{run}/segments.safetensors"); type_of = seg["type_of"]
labels = np.array(store.labels, dtype=object); spk = np.asarray(store.speakers)
held = set(store.metadata.get("held_out_speakers", []))
tr = np.flatnonzero(np.array([s not in held for s in spk]) & (type_of >= 0))
def nmi_share(word, attr):
    rows = tr[labels[tr] == word]
    c = type_of[rows]; a = attr[rows]
    # share of the word's cluster entropy explained by the attribute: 1 - H(C|A)/H(C)
    def H(x):
        p = np.array(list(collections.Counter(x.tolist()).values())) / len(x); return -(p * np.log(p)).sum()
    hc = H(c)
    if hc == 0: return 1.0
    hca = sum((a == v).mean() * H(c[a == v]) for v in np.unique(a))
    return 1 - hca / hc
words = [w for w, _ in collections.Counter(labels[tr]).most_common(30)]
sp = np.array([nmi_share(w, spk) for w in words])
print(f"top-30 words: share of cluster entropy explained by the speaker: median {np.median(sp):.2f} (mean {sp.mean():.2f})")
shuffled = np.random.default_rng(0).permutation(spk)
sh = np.array([nmi_share(w, shuffled) for w in words])
print(f"  same with shuffled speakers (chance level): median {np.median(sh):.2f}")
lengths = np.asarray(store.lengths)
terc = np.zeros(len(lengths), dtype=np.int64)
for w in words:
    rows = np.flatnonzero(labels == w)
    q = np.quantile(lengths[rows], [1 / 3, 2 / 3]); terc[rows] = np.digitize(lengths[rows], q)
du = np.array([nmi_share(w, terc) for w in words])
print(f"  explained by the duration tercile (within the word): median {np.median(du):.2f}")
