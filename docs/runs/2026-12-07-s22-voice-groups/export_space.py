"""Pack a finished B experiment's speech type space, its English text space and the held-out voices'
(type, word) pairs into one small .npz, so the map search can be studied elsewhere (the GPU) without the
corpus (issue 18, session 22; SYNTHETIC; the words only score).

    PYTHONPATH=. .venv/bin/python $R/export_space.py RUN_OUT_DIR TEXT.vec OUT.npz
"""
import sys, glob, json
import numpy as np
from core.atomic import load_safetensors
from core.corpus.feature_store import FeatureStore
from core.vectors import load_vectors

out_dir, text, out = sys.argv[1:4]
run = glob.glob(f"{out_dir}/stages/speech-*/run")[0]
sp = load_vectors(f"{run}/types.vec", modality="speech")
en = load_vectors(text)
type_of = load_safetensors(f"{run}/segments.safetensors")["type_of"]
store = FeatureStore.open(json.load(open(f"{run}/config.json"))["store"])
labels = np.array(store.labels, dtype=object)
held = set(store.metadata.get("held_out_speakers", []))
hidx = np.flatnonzero([s in held for s in np.asarray(store.speakers)])
rows = hidx[[l in en.index for l in labels[hidx]]]
np.savez_compressed(out, sp_words=np.array(sp.words), sp_vectors=sp.vectors, sp_counts=sp.counts,
                    en_words=np.array(en.words), en_vectors=en.vectors, en_counts=en.counts,
                    held_type=type_of[rows], held_word=labels[rows].astype(str))
print(out, len(sp.words), len(en.words), len(rows))
