"""How far is configuration B's pseudo-word space from the text space? Clusters per frequent word,
and a supervised Procrustes map fitted on the clusters' majority words (an A*-like bound for B).

    PYTHONPATH=. .venv/bin/python docs/runs/2026-11-25-s4-cpu-b-pseudo-pairs/b_supervised_bound.py [EXPERIMENT_RUN]
"""
import glob, sys
import numpy as np
from safetensors.numpy import load_file
from core.corpus.feature_store import FeatureStore
from core.vectors import load_vectors, unit_rows
RUN = sys.argv[1] if len(sys.argv) > 1 else '/tmp/b50k_pairs'
run = glob.glob(f'{RUN}/stages/speech-unit-skipgram-B-s0-*/run')[0]
store = FeatureStore.open('/tmp/bexp/run/stages/features-textgrid-8d492a639580/store')
seg = load_file(f'{run}/segments.safetensors'); type_of = seg['type_of']
labels = np.array(store.labels, dtype=object)
held = set(store.metadata.get('held_out_speakers', []))
train = np.array([s not in held for s in store.speakers]) & (type_of >= 0)
types = load_vectors(f'{run}/types.vec')
text = load_vectors(glob.glob(f'{RUN}/stages/text-en_same-*/*.vec')[0])
import collections
maj = {}
for t in np.unique(type_of[train]):
    c = collections.Counter(labels[train & (type_of == t)]); maj[t] = c.most_common(1)[0][0]
wc = collections.Counter(labels[train])
splits = []
for w, n in wc.most_common(50):
    c = collections.Counter(type_of[train & (labels == w)])
    splits.append(sum(1 for v in c.values() if v >= 0.1 * n))
print("top-50 words: clusters holding >=10% of a word's tokens: median", np.median(splits), "mean", np.mean(splits))
names = [f"#{t}" if f"#{t}" in types.index else None for t in maj]
pairs = [(types.index[f"#{t}"], text.index[w]) for t, w in maj.items() if f"#{t}" in types.index and w in text.index]
print(len(pairs), "clusters with a majority word in the text space")
x = unit_rows(types.vectors); y = unit_rows(text.vectors)
x -= x.mean(0); y -= y.mean(0); x = unit_rows(x); y = unit_rows(y)
a = np.array([p[0] for p in pairs]); b = np.array([p[1] for p in pairs])
rng = np.random.default_rng(0); perm = rng.permutation(len(a)); tr, te = perm[: len(a) // 2], perm[len(a) // 2:]
u, _, vt = np.linalg.svd(x[a[tr]].T @ y[b[tr]]); W = u @ vt
for name, idx in (("fit half", tr), ("held-out half", te)):
    nn = np.argmax((x[a[idx]] @ W) @ y.T, 1)
    print(f"supervised Procrustes on majority words, {name}: type-level P@1 {np.mean(nn == b[idx]):.3f}")
