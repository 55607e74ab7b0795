"""A self-supervised front end trained on the GPU, probed for configuration B (issue 18, session 16).
SYNTHETIC speech: the kjv_500k_bvad corpus (first 500k KJV tokens, 24 espeak-ng voices, 4 held out).

Question: does a HuBERT-style model trained on the training voices' untranscribed audio give word
segments whose nearest neighbours cross voices (session 14: 74 % of a B segment's same-word
neighbours were the same voice), and k-means types with fewer types per word than B's 2.8?

1. Audio of the training voices (a random `--hours` of their utterances; held-out voices never used
   for training), HuBERT iteration-1 targets: 100 k-means units of 39-d MFCC (CMVN per file).
2. Variants, `--minutes` each, same model (core.selfsup.train.build_pretrain_model, larger than the
   CPU default) and same data order:
     plain  - HuBERT iteration 1 as core.selfsup trains it;
     speed  - the student hears each batch sped up or slowed down by r ~ U(0.85, 1.15) (linear
              interpolation: formants, pitch and duration all scale, as between voices of different
              vocal-tract length), the targets stay the unperturbed audio's units, resampled in time
              (the teacher-target idea of ContentVec, Qian et al. 2022, with speed instead of
              formant/pitch shifts).
3. Every one of the 500k word segments (the corpus's word times; labels only score) gets the mean of
   each layer's frames whose centre lies in it.
4. Per variant and layer: cross-speaker same-different AP (mean-pooled cosine) on a training-voice
   sample (the layer choice: fixed here before any run) and a held-out-voice sample; nearest-neighbour
   diagnostic (session 14's: share of same-word neighbours said by the same voice); global k-means
   (K 2,000 on training segments) types per top-50 word and purity.
5. The chosen variant x layer (highest training-voice AP) is exported as a session-15 B pack (int8,
   64-d projection, parts <= 12 MiB, meta.npz with its own global k-means types), for
   xvoice_merge.py (s15) on the CPU: held-out classification with the text, global and merged.

    python3 ssl_b_probe.py CORPUS_DIR OUT_DIR --hours 12 --minutes 3 --variants plain speed
"""
import argparse, collections, concurrent.futures as cf, json, sys, time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, ".")
torch.set_num_threads(16 if torch.cuda.is_available() else 2)
from core.corpus.readers import read_corpus
from core.features import FeatureConfig, extract_features
from core.selfsup.train import STRIDE, SelfSupConfig, build_pretrain_model, model_frames, wav2vec2_params
from core.speech.clustering import kmeans, nearest_centroid

T0 = time.time()
def log(m): print(f"[{time.time() - T0:6.0f} s] {m}", flush=True)

ap = argparse.ArgumentParser()
ap.add_argument("corpus"); ap.add_argument("out")
ap.add_argument("--hours", type=float, default=12.0)
ap.add_argument("--minutes", type=float, default=3.0)
ap.add_argument("--variants", nargs="+", default=["plain", "speed"])
ap.add_argument("--small", action="store_true", help="the CPU default model (a local smoke test)")
ap.add_argument("--max-utts", type=int, default=None, help="N random utterances only (a local smoke test)")
ap.add_argument("--batch", type=int, default=32)
ap.add_argument("--clusters", type=int, default=2000, help="global k-means K (B's)")
ap.add_argument("--given", help="measure a B run's segments.safetensors ('embedding', store order) instead of training")
args = ap.parse_args()
dev = "cuda" if torch.cuda.is_available() else "cpu"
out = Path(args.out); out.mkdir(parents=True, exist_ok=True)
torch.backends.cuda.matmul.allow_tf32 = True; torch.backends.cudnn.allow_tf32 = True
metrics = {"args": vars(args), "device": torch.cuda.get_device_name(0) if dev == "cuda" else "cpu", "variants": {}}
def save(): (out / "metrics.json").write_text(json.dumps(metrics, indent=1))

# --- 1. corpus, audio, targets ---------------------------------------------------------------
table, _ = read_corpus(args.corpus, "textgrid")
held = set(json.load(open(Path(args.corpus) / "corpus.json"))["held_out_speakers"])
utts = list(dict.fromkeys(table.utterance))
if args.max_utts:
    utts = [utts[k] for k in sorted(np.random.default_rng(0).choice(len(utts), args.max_utts, replace=False))]
keep = set(utts)
rows = np.array([i for i, u in enumerate(table.utterance) if u in keep])
ui = {u: k for k, u in enumerate(utts)}
seg_utt = np.array([ui[table.utterance[i]] for i in rows]); start = table.start[rows]; end = table.end[rows]
labels = np.array([table.label[i] or "" for i in rows], dtype=object)
spk = np.array([table.speaker[i] for i in rows], dtype=object)
is_held = np.array([s in held for s in spk])
audio_of = {}
for i in rows:
    audio_of.setdefault(table.utterance[i], table.audio[i])
utt_spk = {table.utterance[i]: table.speaker[i] for i in rows}
log(f"{len(rows)} segments, {len(utts)} utterances, held out {sorted(held)}")

def load(u):
    import soundfile as sf
    x, sr = sf.read(audio_of[u], dtype="int16")
    assert sr == 16000 and x.ndim == 1, (audio_of[u], sr, x.shape)
    return x
if not args.given:   # --given measures stored embeddings: no audio, no targets
    with cf.ThreadPoolExecutor(16) as pool:
        signals = list(pool.map(load, utts))
    hours_all = sum(len(s) for s in signals) / 16000 / 3600
    log(f"read {hours_all:.1f} h of audio")

    rng = np.random.default_rng(0)
    train_u = [k for k in rng.permutation(len(utts)) if utt_spk[utts[k]] not in held]
    pick, secs = [], 0.0
    for k in train_u:
        if secs >= args.hours * 3600: break
        pick.append(int(k)); secs += len(signals[k]) / 16000
    cfg = SelfSupConfig() if args.small else SelfSupConfig(
        embed_dim=384, layers=6, heads=6, ff_dim=1536, final_dim=256,
        convs=[[256, 10, 5]] + [[256, 3, 2]] * 4 + [[256, 2, 2]] * 2, batch=args.batch, crop_seconds=4.0,
        lr=5e-4, warmup_steps=300)
    tsig = [signals[k] for k in pick]
    feats = extract_features([s.astype(np.float32) / 32767 for s in tsig], FeatureConfig(deltas=True), device=dev)
    fr = [f[np.minimum(2 * np.arange(model_frames(len(s), cfg.convs)) + 1, len(f) - 1)] for s, f in zip(tsig, feats)]
    from sklearn.cluster import MiniBatchKMeans
    every = np.concatenate(fr)
    km = MiniBatchKMeans(n_clusters=cfg.clusters, batch_size=10_000, n_init=3, random_state=0, max_iter=100).fit(
        every[rng.choice(len(every), size=min(cfg.kmeans_frames, len(every)), replace=False)])
    targets = [km.predict(f).astype(np.int64) for f in fr]
    del feats, fr, every
    metrics["training_audio"] = {"utterances": len(pick), "hours": round(secs / 3600, 2), "speakers": len({utt_spk[utts[k]] for k in pick}),
                                 "all_hours": round(hours_all, 2)}
    log(f"targets: {len(pick)} training utterances, {secs / 3600:.1f} h, {cfg.clusters} MFCC units")


# --- 2. training ---------------------------------------------------------------------------------
def batch_of(brng):
    pick_b = brng.choice(len(tsig), size=min(cfg.batch, len(tsig)), replace=False)
    length = min(int(cfg.crop_seconds * 16000), min(len(tsig[i]) for i in pick_b))
    n = model_frames(length, cfg.convs)
    waves, labs = [], []
    for i in pick_b:
        first = int(brng.integers(0, (len(tsig[i]) - length) // STRIDE + 1))
        waves.append(tsig[i][first * STRIDE:first * STRIDE + length].astype(np.float32) / 32767)
        y = targets[i][first:first + n]
        labs.append(np.pad(y, (0, n - len(y)), mode="edge"))
    return np.stack(waves), np.stack(labs)


def normalise(w):
    return (w - w.mean(1, keepdim=True)) / w.std(1, keepdim=True).clamp_min(1e-5)


def train(variant):
    torch.manual_seed(0)
    brng = np.random.default_rng(1)           # the same crops for every variant
    prng = np.random.default_rng(2)
    model = build_pretrain_model(cfg).to(dev).train()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.01)
    budget = args.minutes * 60; t0 = time.time(); step = 0; losses, accs = [], []
    while time.time() - t0 < budget:
        el = time.time() - t0
        lr = cfg.lr * min(1.0, (step + 1) / cfg.warmup_steps) * max(0.05, 1 - el / budget)
        for g in opt.param_groups: g["lr"] = lr
        w, y = batch_of(brng)
        w = torch.from_numpy(w).to(dev); y = torch.from_numpy(y).to(dev)
        if variant == "speed":
            r = float(prng.uniform(0.85, 1.15))
            L2 = int(w.shape[1] / r)
            w = F.interpolate(w[:, None, :], size=L2, mode="linear", align_corners=False)[:, 0]
            n2 = model_frames(L2, cfg.convs)
            idx = torch.clamp(torch.round((torch.arange(n2, device=dev) + 0.5) * r - 0.5).long(), 0, y.shape[1] - 1)
            y = y[:, idx]
        with torch.autocast(dev, dtype=torch.bfloat16, enabled=dev == "cuda"):
            logit_m, _, penalty = model(normalise(w), y)
        if logit_m is None or logit_m.shape[0] == 0:
            continue
        loss = F.cross_entropy(logit_m.float(), torch.zeros(logit_m.shape[0], dtype=torch.long, device=dev)) + 10.0 * penalty.float()
        opt.zero_grad(set_to_none=True); loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0); opt.step(); step += 1
        losses.append(float(loss.detach())); accs.append(float((logit_m.argmax(-1) == 0).float().mean()))
        if step % 500 == 0:
            log(f"{variant}: step {step}, loss {np.mean(losses[-100:]):.3f}, masked acc {np.mean(accs[-100:]):.3f}")
    rec = {"steps": step, "train_s": round(time.time() - t0, 1), "loss_first100": round(float(np.mean(losses[:100])), 3),
           "loss_last100": round(float(np.mean(losses[-100:])), 3), "masked_acc_last100": round(float(np.mean(accs[-100:])), 3),
           "parameters": sum(p.numel() for p in model.wav2vec2.parameters()), "model": wav2vec2_params(cfg)}
    log(f"{variant}: {rec['steps']} steps, loss {rec['loss_first100']} -> {rec['loss_last100']}, acc {rec['masked_acc_last100']}")
    return model.wav2vec2.eval(), rec


# --- 3. mean-pooled segment vectors for every layer ----------------------------------------------
seg_of_utt = collections.defaultdict(list)
for j, u in enumerate(seg_utt): seg_of_utt[u].append(j)
centre = lambda t: (t * STRIDE + 200) / 16000   # a model frame's centre (400-sample receptive field)

@torch.inference_mode()
def pooled(w2v):
    order = sorted(range(len(utts)), key=lambda k: len(signals[k]))
    outv = None; b = []
    def flush(b):
        nonlocal outv
        L = max(len(signals[k]) for k in b)
        w = torch.zeros(len(b), L, device=dev)
        lens = torch.tensor([len(signals[k]) for k in b], device=dev)
        for r_, k in enumerate(b):
            x = torch.from_numpy(signals[k].astype(np.float32) / 32767).to(dev)
            w[r_, :len(x)] = (x - x.mean()) / x.std().clamp_min(1e-5)
        with torch.autocast(dev, dtype=torch.bfloat16, enabled=dev == "cuda"):
            layers, flen = w2v.extract_features(w, lens)
        H = torch.stack([h.float() for h in layers])             # [layers, B, T, D]
        cs = torch.cat([torch.zeros_like(H[:, :, :1]), H.cumsum(2)], 2)
        if outv is None:
            outv = torch.zeros(H.shape[0], len(seg_utt), H.shape[-1], dtype=torch.float16, device=dev)
        for r_, k in enumerate(b):
            js = seg_of_utt[k]
            if not js: continue
            n = int(flen[r_]) if flen is not None else H.shape[2]
            lo = np.clip(np.ceil((start[js] * 16000 - 200) / STRIDE), 0, n - 1).astype(int)
            hi = np.clip(np.ceil((end[js] * 16000 - 200) / STRIDE), 0, n).astype(int); hi = np.maximum(hi, lo + 1)
            lo_t = torch.from_numpy(lo).to(dev); hi_t = torch.from_numpy(hi).to(dev)
            v = (cs[:, r_, hi_t] - cs[:, r_, lo_t]) / (hi_t - lo_t)[None, :, None]
            outv[:, torch.as_tensor(js, device=dev)] = v.half()
    for k in order:
        if b and max(len(signals[q]) for q in b + [k]) * (len(b) + 1) > 16000 * 600:
            flush(b); b = []
        b.append(k)
    if b: flush(b)
    return outv


# --- 4. measures ----------------------------------------------------------------------------------
def ap_sample(pool_rows, per, words, seed):
    r = np.random.default_rng(seed); chosen = []
    for w in words:
        for s in sorted(set(spk[pool_rows])):
            c = pool_rows[(labels[pool_rows] == w) & (spk[pool_rows] == s)]
            if len(c): chosen += list(r.choice(c, size=min(per, len(c)), replace=False))
    return np.array(sorted(chosen))

def cross_ap(E, ix):
    X = F.normalize(E[ix].float(), dim=1); S = X @ X.T
    sp_ = np.unique(spk[ix], return_inverse=True)[1]; lab = np.unique(labels[ix], return_inverse=True)[1]
    spt = torch.from_numpy(sp_).to(dev); lt = torch.from_numpy(lab).to(dev)
    iu = torch.triu_indices(len(ix), len(ix), 1, device=dev)
    m = spt[iu[0]] != spt[iu[1]]
    s = S[iu[0], iu[1]][m]; same = (lt[iu[0]] == lt[iu[1]])[m]
    o = torch.argsort(s, descending=True); same = same[o].float()
    hits = same.cumsum(0); prec = hits / torch.arange(1, len(same) + 1, device=dev)
    return float((prec * same).sum() / same.sum()), float(same.mean())

def nn_diag(E, tr, nq=20000, k=20):
    r = np.random.default_rng(3); q = r.choice(len(tr), size=min(nq, len(tr)), replace=False)
    X = F.normalize(E[tr].float(), dim=1); L = labels[tr]; S_ = spk[tr]
    res = []
    for a in range(0, len(q), 2048):
        qi = torch.as_tensor(q[a:a + 2048], device=dev)
        sim = X[qi] @ X.T; sim[torch.arange(len(qi), device=dev), qi] = -9
        res.append(sim.topk(k, 1).indices.cpu().numpy())
    nn = np.concatenate(res)
    sw = L[nn] == L[q][:, None]; ss = S_[nn] == S_[q][:, None]
    return {"nn_same_word": float(sw.mean()), "same_word_nn_same_voice": float((sw & ss).sum() / max(1, sw.sum())),
            "chance_same_voice": 1 / len(set(S_))}

def split_and_purity(types, rows_):       # as session 13's b_voice_groups.split_and_purity
    splits = []
    for w, n in collections.Counter(labels[rows_]).most_common(50):
        c = collections.Counter(types[rows_][labels[rows_] == w])
        splits.append(sum(1 for v in c.values() if v >= 0.1 * n))
    pur = sum(collections.Counter(labels[rows_][types[rows_] == t]).most_common(1)[0][1] for t in np.unique(types[rows_])) / len(rows_)
    return float(np.median(splits)), float(np.mean(splits)), float(pur)

tr = np.flatnonzero(~is_held & (labels != "")); ho = np.flatnonzero(is_held & (labels != ""))
top = [w for w, _ in collections.Counter(labels[tr]).most_common(300)]
s_tr = ap_sample(tr, 1, top, 0); s_ho = ap_sample(ho, 5, top, 1)
metrics["ap_samples"] = {"train_voices": len(s_tr), "held_out_voices": len(s_ho), "words": len(top)}

best = (-1, None, None, None)
for variant in (["given"] if args.given else args.variants):
    if args.given:                            # the same measures for a B run's own segment embeddings
        from safetensors.numpy import load_file
        V = torch.from_numpy(load_file(args.given)["embedding"][rows]).to(dev)[None].half(); rec = {"given": args.given}
    else:
        w2v, rec = train(variant)
        V = pooled(w2v); del w2v; torch.cuda.empty_cache() if dev == "cuda" else None
    log(f"{variant}: pooled {tuple(V.shape)}")
    rec["layers"] = []
    for l in range(V.shape[0]):
        E = V[l]
        a_tr, ch_tr = cross_ap(E, s_tr); a_ho, ch_ho = cross_ap(E, s_ho)
        lr_ = {"layer": l + 1, "ap_train_voices": a_tr, "ap_held_out_voices": a_ho, "chance_train": ch_tr, "chance_held": ch_ho}
        lr_.update(nn_diag(E, tr))
        x = F.normalize(E[tr].float(), dim=1).cpu().numpy()
        c, a = kmeans(x, min(args.clusters, len(tr) // 4), 25, 0, "torch", device=dev)
        types = np.full(len(labels), -1); types[tr] = np.asarray(a)
        med, mean, pur = split_and_purity(types, tr)
        lr_.update({"kmeans_types_per_top50_word_median": med, "mean": mean, "purity": pur})
        rec["layers"].append(lr_); log(f"{variant} {lr_}")
        if a_tr > best[0]:
            types_all = types.copy()
            types_all[ho] = nearest_centroid(F.normalize(E[ho].float(), dim=1).cpu().numpy(), c)
            best = (a_tr, variant, l, (E.float().cpu().numpy(), types_all))
        metrics["variants"][variant] = rec; save()
    del V

# --- 5. the pack of the chosen variant x layer ----------------------------------------------------
a_tr, variant, l, (e, types_all) = best
metrics["chosen"] = {"variant": variant, "layer": l + 1, "ap_train_voices": a_tr}
e /= np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-8)
val, vec = np.linalg.eigh(e.T @ e); keep = vec[:, np.argsort(-val)[:64]]
metrics["chosen"]["kept_share_of_squared_norm"] = float(np.sort(val)[::-1][:64].sum() / val.sum())
e = e @ keep; e /= np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-8)
q = np.round(e * 127).astype(np.int8)
parts = max(1, -(-q.nbytes // (12 << 20))); bounds = np.linspace(0, len(q), parts + 1).astype(int)
for k in range(parts): np.save(out / f"emb_{k}.npy", q[bounds[k]:bounds[k + 1]])
vocab = sorted(set(labels)); vi = {w: i for i, w in enumerate(vocab)}
spks = sorted(set(spk)); si = {s: i for i, s in enumerate(spks)}
speech_cfg = json.load(open(Path(__file__).with_name("b_speech_config.json")))
speech_cfg["clusters"] = int(min(args.clusters, len(tr) // 4))
np.savez_compressed(out / "meta.npz", type_of=types_all.astype(np.int32), word=np.array([vi[w] for w in labels], np.int32),
                    vocab=np.array(vocab), speaker=np.array([si[s] for s in spk], np.int16), speakers=np.array(spks),
                    utt=seg_utt.astype(np.int64), held_out=np.array(sorted(held)),
                    config=np.array(json.dumps({"speech": speech_cfg, "frontend": f"ssl {variant} layer {l + 1}"})))
save(); log(f"chosen {variant} layer {l + 1} (train-voice AP {a_tr:.3f}); pack {q.shape} in {parts} parts")
