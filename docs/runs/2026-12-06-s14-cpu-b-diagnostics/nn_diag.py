"""Diagnostic: are a word's tokens one blob across voices, or one blob per voice? (demo B embeddings)"""
import glob, json, collections, numpy as np, torch
from safetensors.numpy import load_file
from core.corpus.feature_store import FeatureStore
from core.vectors import unit_rows
torch.set_num_threads(2)
run = glob.glob("/tmp/b50k_s13/stages/speech-unit-skipgram-B-s0-*/run")[0]
cfg = json.load(open(f"{run}/config.json")); store = FeatureStore.open(cfg["store"])
seg = load_file(f"{run}/segments.safetensors"); emb = unit_rows(seg["embedding"]); typ = seg["type_of"]
labels = np.array(store.labels, dtype=object); spk = np.asarray(store.speakers); utt = np.asarray(store.utterance_ids)
held = set(store.metadata.get("held_out_speakers", [])); tr = np.flatnonzero([s not in held for s in spk])
print("dim", emb.shape, "train", len(tr))
E = torch.from_numpy(emb[tr]); L = labels[tr]; S = spk[tr]; U = utt[tr]
k = 20; res = []
for i in range(0, len(tr), 4096):
    sim = E[i:i+4096] @ E.T
    idx = torch.arange(i, min(i+4096, len(tr)))
    sim[torch.arange(len(idx)), idx] = -9
    res.append(sim.topk(k, 1).indices.numpy())
nn = np.concatenate(res)
same_w = L[nn] == L[:, None]; same_s = S[nn] == S[:, None]
print(f"of {k} NN: same word {same_w.mean():.3f}; same word & same speaker {(same_w&same_s).mean():.3f}; same word other speaker {(same_w&~same_s).mean():.3f}; other word same speaker {(~same_w&same_s).mean():.3f}")
nspk = len(set(S)); print("speakers", nspk, "chance same speaker", 1/nspk)
# among same-word pairs in the whole set, share that are same speaker: chance baseline for same_w&same_s / same_w
print("share of same-word NN that are same speaker", (same_w&same_s).sum()/same_w.sum())
# per frequent word: same-word neighbours' speaker share
for w, n in collections.Counter(L).most_common(8):
    r = L == w
    sw = same_w[r]; ss = same_s[r]
    print(w, n, f"same-word NN {sw.mean():.2f}, of them same speaker {(sw&ss).sum()/max(1,sw.sum()):.2f}")
