"""The GW start's entropy on one B speech space (issue 18, session 21; SYNTHETIC; labels only score):
the type space of the product run in /tmp/s21/b500k_joined (cpu_joined_s21), aligned to English with one
GW-started selflearn run (restarts=1, so a robust run follows) per (epsilon, source words, target words).
The log was made while the setting was one number, gw_epsilon=eps (commit 77d894d: no Sinkhorn warm start);
this file now passes gw_epsilons=(eps,), which the current code takes.
"""
import sys, glob, json, time, numpy as np, torch
sys.path.insert(0, "scripts")
from b_pack import s13_tools
from core.alignment.base import AlignConfig
from core.alignment.pipeline import align
from core.vectors import load_vectors, unit_rows
from core.atomic import load_safetensors
from core.corpus.feature_store import FeatureStore
torch.set_num_threads(2)
bvg = s13_tools()
run = glob.glob("/tmp/s21/b500k_joined/stages/speech-*/run")[0]
sp = load_vectors(f"{run}/types.vec", modality="speech")
en = load_vectors("/tmp/b500k_cpu/stages/text-en_same-ce656c882a48/vectors.vec")
seg = load_safetensors(f"{run}/segments.safetensors")
cfg = json.load(open(f"{run}/config.json")); store = FeatureStore.open(cfg["store"])
labels = np.array(store.labels, dtype=object); speakers = np.asarray(store.speakers)
held = set(store.metadata.get("held_out_speakers", [])); hidx = np.flatnonzero([s in held for s in speakers])
type_of = seg["type_of"]
rows = np.array([i for i, l in enumerate(labels[hidx]) if l in en.index])
W = np.array(en.words, dtype=object)
for eps, ns, nt in [(0.005, 1000, 2000), (0.02, 1000, 2000), (0.01, 500, 1000), (0.01, 1000, 1000), (0.01, 1000, 3000), (0.01, 700, 2000)]:
    t = time.time()
    res = align(sp, en, AlignConfig(method="selflearn", restarts=1, device="cpu", init_vocab=2000, selflearn_vocab=5000, seed=0,
                                    gw_start=True, gw_epsilons=(eps,), gw_source_words=ns, gw_target_words=nt))
    r0 = res.restarts[0]
    # the GW run alone: its criterion; accuracy of the kept map
    top = bvg.csls_top1(res.mapping.map_source(sp.vectors), res.mapping.map_target(en.vectors))
    print(eps, ns, nt, "gw run criterion", round(r0["criterion"], 4), "kept", res.restarts.index(max(res.restarts, key=lambda r: r["criterion"])),
          "acc", round(float(np.mean(W[top[type_of[hidx][rows]]] == labels[hidx][rows])), 4), round(time.time() - t), "s", flush=True)
