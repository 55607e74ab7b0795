"""Which grouping keeps a word's voices together? demo B embeddings (SYNTHETIC, 8 train voices)."""
import glob, json, collections, sys, time, numpy as np, torch
import igraph as ig, leidenalg as la
from safetensors.numpy import load_file
from core.corpus.feature_store import FeatureStore
from core.vectors import unit_rows
from core.speech.clustering import kmeans
torch.set_num_threads(2)
T0 = time.time()
run = glob.glob("/tmp/b50k_s13/stages/speech-unit-skipgram-B-s0-*/run")[0]
cfg = json.load(open(f"{run}/config.json")); store = FeatureStore.open(cfg["store"])
seg = load_file(f"{run}/segments.safetensors"); emb = unit_rows(seg["embedding"]); typ = seg["type_of"]
labels = np.array(store.labels, dtype=object); spk = np.asarray(store.speakers)
held = set(store.metadata.get("held_out_speakers", [])); tr = np.flatnonzero([s not in held for s in spk])
L = labels[tr]; S = spk[tr]

def stats(name, t):
    splits = []
    for w, n in collections.Counter(L).most_common(50):
        c = collections.Counter(t[L == w]); splits.append(sum(1 for v in c.values() if v >= 0.1 * n))
    pur = sum(collections.Counter(L[t == c]).most_common(1)[0][1] for c in np.unique(t)) / len(t)
    # inverse purity: share of a word's tokens in its biggest cluster
    inv = sum(collections.Counter(t[L == w]).most_common(1)[0][1] for w in np.unique(L)) / len(t)
    print(f"[{time.time()-T0:6.0f}s] {name}: {len(np.unique(t))} clusters, types/frequent word median {np.median(splits)} mean {np.mean(splits):.2f}, purity {pur:.3f}, inverse purity {inv:.3f}", flush=True)

def knn(E, k):
    E = torch.from_numpy(E); out_i, out_s = [], []
    for i in range(0, len(E), 4096):
        sim = E[i:i+4096] @ E.T; idx = torch.arange(i, min(i+4096, len(E)))
        sim[torch.arange(len(idx)), idx] = -9
        v, j = sim.topk(k, 1); out_i.append(j.numpy()); out_s.append(v.numpy())
    return np.concatenate(out_i), np.concatenate(out_s)

def leiden(nn, sim, res, seed=0):
    n = len(nn); src = np.repeat(np.arange(n), nn.shape[1])
    g = ig.Graph(n=n, edges=list(zip(src.tolist(), nn.ravel().tolist())), directed=False)
    g.es["weight"] = np.maximum(sim.ravel(), 0).tolist()
    g.simplify(combine_edges="max")
    p = la.find_partition(g, la.RBConfigurationVertexPartition, weights="weight", resolution_parameter=res, seed=seed)
    return np.array(p.membership)

E = emb[tr]
stats("run k-means K1500", typ[tr])
nn, sim = knn(E, 15)
for res in [float(x) for x in sys.argv[1:]] or [0.5, 1.0, 2.0]:
    stats(f"leiden kNN15 res {res}", leiden(nn, sim, res))
# speaker-wise Procrustes to a pivot via self-learning on per-speaker k-means centroids
spks = sorted(set(S)); piv = max(spks, key=lambda s: (S == s).sum())
def centroids(X, k):
    c, a = kmeans(X.astype(np.float32), k, 25, 0, "torch"); return unit_rows(np.asarray(c))
Cp = centroids(E[S == piv], 200)
E2 = E.copy()
for s in spks:
    if s == piv: continue
    X = E[S == s]; C = centroids(X, 200); W = np.eye(E.shape[1], dtype=np.float32)
    for it in range(10):
        m = (C @ W) @ Cp.T; f = m.argmax(1); b = m.argmax(0); pairs = [(i, j) for i, j in enumerate(f) if b[j] == i]
        a_ = np.array([p[0] for p in pairs]); b_ = np.array([p[1] for p in pairs])
        u, _, vt = np.linalg.svd(C[a_].T @ Cp[b_]); W = (u @ vt).astype(np.float32)
    E2[S == s] = unit_rows(X @ W)
    print(f"  {s}: {len(pairs)} centroid MNN pairs, |W-I| {np.linalg.norm(W-np.eye(len(W))):.2f}", flush=True)
_, a2 = kmeans(E2.astype(np.float32), 1500, 25, 0, "torch"); stats("speaker Procrustes + k-means K1500", np.asarray(a2))
nn2, sim2 = knn(E2, 15); stats("speaker Procrustes + leiden res 1", leiden(nn2, sim2, 1.0))
nn3, _ = knn(E2, 20); S3 = S[nn3] == S[:, None]; W3 = L[nn3] == L[:, None]
print("after Procrustes: same-word NN", W3.mean(), "of them same speaker", (W3 & S3).sum() / W3.sum())
