"""Pack a configuration-B run's segment embeddings + store metadata for CPU analysis (session 14).
    python3 export_b_segments.py runs/NAME OUT_DIR
Embeddings as int8 (unit rows x 127) in parts of <= 12 MiB (the device tool brings back files <= 16 MiB, 8 at most); session 15: parts instead of two halves (500k x 128 dims)."""
import glob, json, sys, numpy as np
from safetensors.numpy import load_file
sys.path.insert(0, ".")
from core.corpus.feature_store import FeatureStore
run_dir, out = sys.argv[1], sys.argv[2]
run = glob.glob(f"{run_dir}/stages/speech-unit-skipgram-B-s0-*/run")[0]
cfg = json.load(open(f"{run}/config.json"))
store = FeatureStore.open(cfg["store"])
seg = load_file(f"{run}/segments.safetensors")
e = seg["embedding"].astype(np.float32)
e /= np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-8)
DIMS = 64   # session 15: the top 64 directions of the uncentred second moment (they keep dot products best)
if e.shape[1] > DIMS:   # so 500k rows fit the 64 MiB that comes back
    val, vec = np.linalg.eigh(e.T @ e)
    keep = vec[:, np.argsort(-val)[:DIMS]]
    print("kept share of the squared norm", float(np.sort(val)[::-1][:DIMS].sum() / val.sum()))
    e = e @ keep
    e /= np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-8)
q = np.round(e * 127).astype(np.int8)
parts = max(1, -(-q.nbytes // (12 << 20))); bounds = np.linspace(0, len(q), parts + 1).astype(int)
for k in range(parts): np.save(f"{out}/emb_{k}.npy", q[bounds[k]:bounds[k + 1]])
labels = [l if l is not None else "" for l in store.labels]
vocab = sorted(set(labels)); vi = {w: i for i, w in enumerate(vocab)}
spks = sorted(set(store.speakers)); si = {s: i for i, s in enumerate(spks)}
np.savez_compressed(f"{out}/meta.npz", type_of=seg["type_of"].astype(np.int32),
                    word=np.array([vi[l] for l in labels], np.int32), vocab=np.array(vocab),
                    speaker=np.array([si[s] for s in store.speakers], np.int16), speakers=np.array(spks),
                    utt=np.asarray(store.utterance_ids, np.int64),
                    held_out=np.array(sorted(store.metadata.get("held_out_speakers", []))),
                    config=np.array(json.dumps(cfg)))
print("exported", q.shape, len(vocab), "words", len(spks), "speakers")
