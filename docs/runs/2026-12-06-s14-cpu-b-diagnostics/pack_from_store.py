"""A pack (export_b_segments.py's format) from a feature store: mean-pooled frames, global k-means K types."""
import json, sys, numpy as np, torch
from core.corpus.feature_store import FeatureStore
from core.speech.clustering import kmeans
torch.set_num_threads(2)
store_path, out, K, ref_pack = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
st = FeatureStore.open(store_path)
e = np.stack([st.features(i).mean(0) for i in range(len(st))]).astype(np.float32)
e /= np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-8)
ref = np.load(f"{ref_pack}/meta.npz")
held = set(ref["held_out"].tolist()); spk = np.asarray(st.speakers)
tr = np.flatnonzero([s not in held for s in spk])
c, a = kmeans(e[tr], K, 25, 0, "torch"); c = np.asarray(c)
c = c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-8)
t = np.argmax(e @ c.T, 1).astype(np.int32); t[tr] = np.asarray(a)
q = np.round(e * 127).astype(np.int8); h = len(q) // 2
np.save(f"{out}/emb_a.npy", q[:h]); np.save(f"{out}/emb_b.npy", q[h:])
labels = [l if l is not None else "" for l in st.labels]; vocab = sorted(set(labels)); vi = {w: i for i, w in enumerate(vocab)}
spks = sorted(set(spk.tolist())); si = {s: i for i, s in enumerate(spks)}
cfg = json.loads(str(ref["config"]))
np.savez_compressed(f"{out}/meta.npz", type_of=t, word=np.array([vi[l] for l in labels], np.int32), vocab=np.array(vocab),
                    speaker=np.array([si[s] for s in spk], np.int16), speakers=np.array(spks),
                    utt=np.asarray(st.utterance_ids, np.int64),
                    held_out=ref["held_out"], config=np.array(json.dumps(cfg)))
print("pack", q.shape, "train", len(tr))
