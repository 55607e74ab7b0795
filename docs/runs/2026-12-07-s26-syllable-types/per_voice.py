"""How pure are syllable-like stretches grouped within one voice?  (session 26; a diagnosis, labels only score)

Each training voice's stretch encodings (a finished run's segments.safetensors) clustered on their own by
spherical k-means (faiss, seed 0) into K clusters; the token-weighted word purity over all voices. If one
voice's stretches grouped purely, only linking voices would be left. SYNTHETIC speech.

    OMP_NUM_THREADS=2 PYTHONPATH=. python3 per_voice.py RUN_OUT_DIR K1,K2,... OUT.json
"""
import glob, json, sys
from pathlib import Path
import numpy as np, faiss
S23 = Path(__file__).resolve().parents[1] / "2026-12-07-s23-energy-vad"; sys.path.insert(0, str(S23))
from diag_groups import purity
from core.atomic import load_safetensors
from core.corpus.feature_store import FeatureStore
from core.pipeline import speech_eval as ev
from core.speech.runner import SEGMENTS_FILE, split_segments
out_dir = Path(sys.argv[1]); ks = [int(k) for k in sys.argv[2].split(",")]
run = Path(glob.glob(f"{out_dir}/stages/speech-*/run")[0])
store = FeatureStore.open(json.loads((run / "config.json").read_text())["store"])
train = np.asarray(split_segments(store, exclude_held_out=True)[0], np.int64)
words = FeatureStore.open(glob.glob(f"{out_dir}/stages/features-textgrid-*/store")[0])
labels = np.array([l or "<sil>" for l in ev.overlap_labels(store.table, train, words)], object)
enc = np.asarray(load_safetensors(run / SEGMENTS_FILE)["embedding"], np.float32)[train]
enc /= np.linalg.norm(enc, axis=1, keepdims=True).clip(1e-9)
spk = np.asarray(store.speakers)[train]
res = {}
for k in ks:
    tot = 0.0
    for s in np.unique(spk):
        m = spk == s; x = np.ascontiguousarray(enc[m])
        km = faiss.Kmeans(x.shape[1], k, niter=20, seed=0, spherical=True, verbose=False); km.train(x)
        lab = km.index.search(x, 1)[1][:, 0]
        tot += purity(lab, labels[m].tolist()) * m.sum()
    res[f"per_voice_k{k}"] = tot / len(train)
    print(k, res[f"per_voice_k{k}"], flush=True)
res["stretches_per_voice"] = len(train) / len(np.unique(spk))
print(json.dumps(res)); Path(sys.argv[3]).write_text(json.dumps(res, indent=1))
