import sys, numpy as np, json
sys.path.insert(0, "scripts")
import build_demo as bd
from core.project import Project
from core.classify import clip_embedder
from core.synth.synthesize import synthesize_utterance
p = Project.open(sys.argv[1]); emb = clip_embedder(p)
speech = p.space("speech-en"); en = p.space("text-en")
words = [w for w in speech.words if w in en.index][:30]
out = {}
for pad in (0.1, 0.3):
    ranks = []
    for i in range(3):
        v = bd.unseen_voice(i)
        for w in words:
            x, _ = synthesize_utterance(w, v, pad_s=pad)
            try:
                e = emb.encode_features(emb.clip_features(x, 16000))
            except Exception:
                ranks.append(10**6); continue
            e = e / np.linalg.norm(e)
            sims = emb.centroids @ e
            order = np.argsort(-sims)
            ranks.append(int(np.flatnonzero(order == speech.index[w])[0]))
    r = np.array(ranks)
    out[f"pad {pad}"] = {f"true type within top {k}": round(float((r < k).mean()), 3) for k in (1, 3, 5, 10)}
print(sys.argv[1], json.dumps(out))
