"""The map search on packed B spaces (export_space.py), on the GPU (issue 18, session 22; SYNTHETIC; the
words only score): for each space, one selflearn alignment per GW start setting (entropy × source words ×
target words; restarts=1, so one robust run follows; AlignConfig defaults otherwise, as the experiment's
evaluation), recording the GW run's criterion, the kept run's criterion and the kept map's held-out CSLS
top-1 classification (all held-out segments whose word the text space has).

    python3 $R/gw_grid_gpu.py OUT.json PACK.npz [PACK.npz ...]
"""
import json, os, sys, time
import numpy as np, torch
sys.path.insert(0, ".")
from core.alignment.base import AlignConfig
from core.alignment.pipeline import align
from core.embeddings import Embeddings

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"  # the CPU only for a smoke test (SMOKE=1)
GRID = [(eps, ns, nt) for ns, nt in ((1000, 2000), (700, 2000), (1000, 3000), (500, 1500))
        for eps in (0.0025, 0.005, 0.01, 0.02)]
if os.environ.get("SMOKE"):
    GRID = [(0.01, 100, 200)]


def csls_top1(src, tgt, k=10):
    s = torch.nn.functional.normalize(torch.as_tensor(src, device=DEVICE), dim=1)
    t = torch.nn.functional.normalize(torch.as_tensor(tgt, device=DEVICE), dim=1)
    sim = s @ t.T
    r_s = sim.topk(k, dim=1).values.mean(1)
    r_t = sim.topk(k, dim=0).values.mean(0)
    return (2 * sim - r_s[:, None] - r_t[None, :]).argmax(1).cpu().numpy()


out, packs = sys.argv[1], sys.argv[2:]
rows = []
for pack in packs:
    z = np.load(pack)
    sp = Embeddings(words=list(z["sp_words"]), vectors=z["sp_vectors"], counts=z["sp_counts"], modality="speech")
    en = Embeddings(words=list(z["en_words"]), vectors=z["en_vectors"], counts=z["en_counts"])
    words = np.array(en.words, dtype=object)
    for eps, ns, nt in GRID:
        t = time.time()
        res = align(sp, en, AlignConfig(method="selflearn", restarts=1, device=DEVICE, seed=0, gw_start=True,
                                        gw_epsilons=(eps,), gw_source_words=ns, gw_target_words=nt))
        crit = [r["criterion"] for r in res.restarts]
        top = csls_top1(res.mapping.map_source(sp.vectors), res.mapping.map_target(en.vectors))
        rec = {"pack": pack.split("/")[-1], "epsilon": eps, "source_words": ns, "target_words": nt,
               "gw_criterion": round(crit[0], 4), "kept": int(np.argmax(crit)), "kept_criterion": round(max(crit), 4),
               "classification": round(float(np.mean(words[top[z["held_type"]]] == z["held_word"])) * 100, 2),
               "seconds": round(time.time() - t, 1)}
        print(rec, flush=True)
        rows.append(rec)
        json.dump({"rows": rows}, open(out, "w"), indent=1)
