"""Offline: does per-speaker centering of B's acoustic embeddings separate words better?"""
import glob, json, sys
import numpy as np
from safetensors.numpy import load_file
from core.corpus.feature_store import FeatureStore
from core.speech.clustering import label_ids, kmeans, nearest_centroid
from core.speech.metrics import same_different_ap, cluster_purity
from core.vectors import unit_rows
run = sys.argv[1]
stage = glob.glob(f"{run}/stages/speech-unit-skipgram-{sys.argv[2]}-s0-*/run")[0]
store_dir = glob.glob(f"{run}/stages/features-textgrid-*/store")[0] if glob.glob(f"{run}/stages/features-textgrid-*/store") else None
st = json.load(open(glob.glob(f"{run}/stages/features-textgrid-*/stage.json")[0]))
store = FeatureStore.open(st["summary"]["store"] if "summary" in st and "store" in st["summary"] else store_dir)
emb = load_file(f"{stage}/segments.safetensors")["embedding"].astype(np.float32)
labels = label_ids(store.labels)
spk = np.array(store.speakers)
held = set(store.metadata.get("held_out_speakers", []) if hasattr(store, "metadata") else store.header["metadata"].get("held_out_speakers", []))
is_held = np.array([s in held for s in spk])
print("segments", len(emb), "held-out", is_held.sum())
def centred(e):
    e = unit_rows(e).copy()
    for s in np.unique(spk):
        m = spk == s
        e[m] -= e[m].mean(0)
    return e
for name, e in [("raw", emb), ("per-speaker centred", centred(emb))]:
    ap = same_different_ap(e[is_held], labels[is_held])["ap"]
    train = np.flatnonzero(~is_held)
    c, _ = kmeans(unit_rows(e[train]), 1500, 15, 0, "auto", "cpu")
    assign = nearest_centroid(unit_rows(e), unit_rows(c))
    print(f"{name:22s} held-out same-different AP {ap:.3f}  purity train {cluster_purity(assign[train], labels[train]):.3f}  held-out {cluster_purity(assign[is_held], labels[is_held]):.3f}")
