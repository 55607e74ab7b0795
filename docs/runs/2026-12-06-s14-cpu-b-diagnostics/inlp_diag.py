"""Remove linear speaker information (INLP, Ravfogel et al. 2020) from demo B embeddings; does k-means stop splitting words by voice?"""
import glob, json, collections, sys, time, numpy as np, torch
from safetensors.numpy import load_file
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.linear_model import LogisticRegression
from core.corpus.feature_store import FeatureStore
from core.vectors import unit_rows
from core.speech.clustering import kmeans
torch.set_num_threads(2); T0 = time.time()
run = glob.glob("/tmp/b50k_s13/stages/speech-unit-skipgram-B-s0-*/run")[0]
cfg = json.load(open(f"{run}/config.json")); store = FeatureStore.open(cfg["store"])
seg = load_file(f"{run}/segments.safetensors"); emb = seg["embedding"].astype(np.float64)
labels = np.array(store.labels, dtype=object); spk = np.asarray(store.speakers)
held = set(store.metadata.get("held_out_speakers", [])); tr = np.flatnonzero([s not in held for s in spk])
L = labels[tr]; S = spk[tr]
def stats(name, t):
    splits = []
    for w, n in collections.Counter(L).most_common(50):
        c = collections.Counter(t[L == w]); splits.append(sum(1 for v in c.values() if v >= 0.1 * n))
    pur = sum(collections.Counter(L[t == c]).most_common(1)[0][1] for c in np.unique(t)) / len(t)
    print(f"[{time.time()-T0:5.0f}s] {name}: types/frequent word median {np.median(splits)} mean {np.mean(splits):.2f}, purity {pur:.3f}", flush=True)
def nn_share(name, X):
    E = torch.from_numpy(unit_rows(X.astype(np.float32))); nn = []
    for i in range(0, len(E), 4096):
        s = E[i:i+4096] @ E.T; idx = torch.arange(i, min(i+4096, len(E))); s[torch.arange(len(idx)), idx] = -9
        nn.append(s.topk(20, 1).indices.numpy())
    nn = np.concatenate(nn); W = L[nn] == L[:, None]; SS = S[nn] == S[:, None]
    print(f"  {name}: NN same word {W.mean():.3f}, of them same speaker {(W & SS).sum() / W.sum():.3f}", flush=True)
X = emb[tr] - emb[tr].mean(0)
rng = np.random.default_rng(0); half = rng.random(len(X)) < 0.5
for it in range(int(sys.argv[1]) if len(sys.argv) > 1 else 4):
    clf = LogisticRegression(max_iter=300).fit(X[half], S[half])
    acc = clf.score(X[~half], S[~half])
    print(f"iter {it}: speaker accuracy (held half) {acc:.3f}, dims left {np.linalg.matrix_rank(X)}", flush=True)
    if it in (0, 1, 2, 4, 6):
        nn_share(f"iter {it}", X)
        _, a = kmeans(unit_rows(X.astype(np.float32)), 1500, 25, 0, "torch"); stats(f"iter {it} k-means 1500", np.asarray(a))
    q, _ = np.linalg.qr(clf.coef_.T)  # basis of the classifier's row space
    X = X - (X @ q) @ q.T
