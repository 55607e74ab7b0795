import sys, json, time
sys.path.insert(0, "/work/main")
import numpy as np
from collections import Counter, defaultdict
from core.project.project import Project
from core.classify import ClipClassifier
D = "/work/main/runs/s11-ranking"
Z = np.load(f"{D}/enc.npz")
tab = {s: json.load(open(f"{D}/{s}_table.json")) for s in ("train", "dev")}
utts = {}
for line in list(open("/work/shared/data/speech/mboshi/utterances.tsv", encoding="utf-8"))[1:]:
    f = line.rstrip("\n").split("\t")
    if len(f) >= 5: utts[f[0]] = f[3].split()
p = Project.open("/work/main/runs/mboshi-s9/project")
c = ClipClassifier.load(p)
link = c.links["text-mbo"]
types = c.speech.emb.words; tindex = c.speech.emb.index; twords = c.texts["text-mbo"].emb.words
CS = 2 * link.a @ link.b.T - link.r_a[:, None] - link.r_b[None, :]   # [types, words] CSLS
KW = 30
topw = np.argsort(-CS, axis=1)[:, :KW]; topw_s = np.take_along_axis(CS, topw, 1)
def unit(x): return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
def truth(split):
    t = tab[split]; return [utts[u][p_] for u, p_ in zip(t["utterance"], t["position"])]
np.save(f"{D}/topw.npy", topw); np.save(f"{D}/topw_s.npy", topw_s)
json.dump({"types": types, "twords": twords, "truth_train": truth("train"), "truth_dev": truth("dev")}, open(f"{D}/names.json", "w"))
# check stored centroids == label means
enc = unit(Z["train"]); lab = tab["train"]["label"]
rows = np.array([tindex.get(l, -1) for l in lab]); print("unlabeled", (rows < 0).sum())
S = np.zeros((len(types), enc.shape[1])); np.add.at(S, rows[rows >= 0], enc[rows >= 0])
print("centroid match", np.abs(unit(S) - Z["centroids"]).max())
