"""Which prototype set serves unseen synthetic voices without hurting people? Chosen on CALIBRATION
sets only: real calibration speakers (15 train speakers held out) and synthetic voices 600-603
(not the test voices 500-503, not the training voices 0-11)."""
import json, sys, time
from dataclasses import replace
from pathlib import Path
import numpy as np
sys.path.insert(0, ".")
from core.voices import experiment as ex
from core.voices.experiment import VoicesConfig, load_recognizer, _Context, _vocabulary, _frequent
from core.voices.recognizer import encode_frameset, type_centroids
from core.voices.prototypes import type_prototypes, stack
from core.voices.evaluate import word_scores, text_word_scores
from core.frontends import make_frontend
from core.progress import ensure

run = Path("runs/voices-gpu-se-real")
base = VoicesConfig(**{k: v for k, v in json.loads((run / "config_prototypes.json").read_text()).items()})
fe = make_frontend(base.frontend)
vocab, speech, type_text = _vocabulary(base)
prog = ensure(None)
ctx3 = _Context(base, run, fe, "cpu", vocab, speech, type_text, prog)
model, stored = load_recognizer(run)
t = time.time()
train = ex._train_frames(ctx3)
print("train frames", len(train), set(train.sources), time.time() - t, flush=True)
ev = replace(base, voices=12, copies=2, frames_cache="runs/voices-frames-cpu")
ctxe = _Context(ev, run, fe, "cpu", vocab, speech, type_text, prog)
_, calib, _ = ex._real_tables(ev)
real_calib = ctxe.frames("real_calib", lambda: ex._clips(calib, "so762", ev, None))
syn_cfg = replace(base, frames_cache="/tmp/protocache")
ctxs = _Context(syn_cfg, run, fe, "cpu", vocab, speech, type_text, prog)
words500 = _frequent(speech, 500)
syn_cal = ctxs.frames("synthetic_calib600", lambda: ex._synthetic(words500, range(600, 604), syn_cfg, prog))
unseen = ctx3.frames("synthetic_unseen", lambda: ex._synthetic(words500, range(500, 504), base, prog))
print("sets", len(real_calib), len(syn_cal), len(unseen), time.time() - t, flush=True)
enc_tr = encode_frameset(model, train)
enc_rc = encode_frameset(model, real_calib)
enc_sc = encode_frameset(model, syn_cal)
enc_un = encode_frameset(model, unseen)
cent = np.asarray(stored[0] if stored.ndim == 3 else stored, np.float32)
counts = {w: len(speech.words) - i for i, w in enumerate(speech.words)}
top30 = set(_frequent(speech, 30))

def score(protos):
    out = {}
    inside = [i for i, w in enumerate(real_calib.labels) if w in set(vocab)]
    out["real_calib_text"] = text_word_scores(enc_rc[inside], [real_calib.labels[i] for i in inside], protos, type_text)
    r30 = [i for i, w in enumerate(syn_cal.labels) if w in top30]
    out["syn_calib_top30"] = word_scores(enc_sc[r30], [syn_cal.labels[i] for i in r30], protos, vocab, counts)["top1"]
    out["syn_calib_500"] = word_scores(enc_sc, syn_cal.labels, protos, vocab, counts)["top1"]
    u30 = [i for i, w in enumerate(unseen.labels) if w in top30]
    out["TEST_unseen_top30"] = word_scores(enc_un[u30], [unseen.labels[i] for i in u30], protos, vocab, counts)["top1"]
    return out

src = list(train.sources)
per_source, _ = type_prototypes(enc_tr, train.labels, src, vocab)
voice_src = [s if s != "synthetic" else f"syn:{sp}" for s, sp in zip(src, train.speakers)]
per_voice, names = type_prototypes(enc_tr, train.labels, voice_src, vocab)
print("voice sources", names[:6], len(names))
variants = {
    "centroid": cent,
    "centroid+per_source (current)": stack(cent, per_source),
    "centroid+per_source+per_synthetic_voice": np.concatenate([stack(cent, per_source), per_voice[[i for i, n in enumerate(names) if n.startswith("syn:")]]]),
}
for name, p in variants.items():
    s = score(p)
    print(name, json.dumps({k: (v if not isinstance(v, dict) else {kk: v[kk] for kk in ("top1", "top10")}) for k, v in s.items()}), flush=True)
