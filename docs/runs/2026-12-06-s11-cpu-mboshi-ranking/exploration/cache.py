import sys, json, time
sys.path.insert(0, "/work/main")
import numpy as np, torch
torch.set_num_threads(2)
from core.project.project import Project
from core.corpus.feature_store import FeatureStore
from core.corpus.project_corpora import corpus_folder
from core.classify import clip_embedder, ClipClassifier
proj = sys.argv[1]; out = sys.argv[2]
p = Project.open(proj)
embed = clip_embedder(p)
t = time.time()
res = {}
for split in ("train", "dev"):
    st = FeatureStore.open(corpus_folder(p, f"mboshi-{split}"))
    enc = np.stack([embed.encode_features(st.features(i)) for i in range(st.n_segments)])
    tb = st.table
    res[split] = enc
    json.dump({"label": list(tb.label), "speaker": list(tb.speaker), "utterance": list(tb.utterance),
               "position": [int(x) for x in tb.position]}, open(f"{out}/{split}_table.json", "w"))
    print(split, enc.shape, time.time() - t, flush=True)
np.savez(f"{out}/enc.npz", **res, centroids=embed.centroids, type_vectors=embed.type_vectors)
