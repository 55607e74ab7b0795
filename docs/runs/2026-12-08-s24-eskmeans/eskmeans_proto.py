"""Does ES-KMeans-style joining make energy segments word-sized? (session 24; training voices only)

Embedded segmental k-means (Kamper, Livescu & Goldwater 2017, implemented from the paper): landmarks are
the energy reader's cuts (read_energy's defaults); a candidate word is 1..MAX_JOIN consecutive energy
segments of one file (no gap over MAX_GAP s, at most MAX_DUR s); its embedding is its 13 MFCCs (per-file
CMVN) resampled to 10 frames, each speaker's mean removed, unit length. Start: every landmark kept with
probability 1/2; then alternately k-means centroids of the chosen segments and, per file, the segmentation
that minimises the sum of (frames x squared distance to the nearest centroid) (dynamic programming).
Scored against the TextGrid words exactly as session 23's segment_boundaries.py (30-ms tolerance), plus
word purity of the clusters (each segment's most-overlapping word). Labels only score. SYNTHETIC speech.

    OMP_NUM_THREADS=2 PYTHONPATH=. python3 eskmeans_proto.py N_FILES K OUT.json [PENALTY]   (reads /tmp/b500k_cpu's corpus)
"""
import json, random, sys, time
from pathlib import Path
import numpy as np
from core.audio import load_audio
from core.corpus.textgrid import read_textgrid_words
from core.discovery.term_discovery import energy_segments
from core.features import FeatureConfig, extract_features

N_FILES, K, OUT = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
PENALTY = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0  # cost per segment (DPDP-style duration penalty, in frame units)
MAX_JOIN, MAX_GAP, MAX_DUR, ITERS, TOL, D = 3, 0.25, 1.2, 8, 0.03, 10
root = Path(sorted(Path('/tmp/b500k_cpu/stages').glob('corpus-*'))[0]) / 'corpus'
rows = [l.rstrip('\n').split('\t') for l in open(root / 'segments.tsv')][1:]
rows = [r for r in rows if r[2] == '0']
random.seed(1); rows = random.sample(rows, N_FILES)
t0 = time.time()
files = []
for r in rows:
    x, sr = load_audio(root / r[3])
    words = [(a, b, l) for a, b, l in read_textgrid_words(root / r[4], len(x) / sr, 'words')]
    files.append(dict(x=x, spk=r[1], words=words, segs=energy_segments(x)))
feats = extract_features([f['x'] for f in files], FeatureConfig(), device='cpu')
print(f'loaded {len(files)} files, {sum(len(f["segs"]) for f in files)} energy segments, {time.time()-t0:.0f} s', flush=True)

def embed(F, a, b):
    fa, fb = int(round(a * 100)), max(int(round(b * 100)), int(round(a * 100)) + 2)
    seg = F[fa:min(fb, len(F))]
    t = np.linspace(0, len(seg) - 1, D)
    i0 = np.floor(t).astype(int); i1 = np.minimum(i0 + 1, len(seg) - 1); w = (t - i0)[:, None]
    return ((1 - w) * seg[i0] + w * seg[i1]).reshape(-1)

# candidates: (file, first segment, n segments, start, end)
cand, emb = [], []
for fi, f in enumerate(files):
    s = f['segs']
    for i in range(len(s)):
        for L in range(1, MAX_JOIN + 1):
            j = i + L - 1
            if j >= len(s) or s[j][1] - s[i][0] > MAX_DUR and L > 1:
                break
            if L > 1 and s[j][0] - s[j - 1][1] > MAX_GAP:
                break
            cand.append((fi, i, L, s[i][0], s[j][1])); emb.append(embed(feats[fi], s[i][0], s[j][1]))
cand = np.array([c[:3] for c in cand]), np.array([c[3:] for c in cand])
emb = np.asarray(emb, np.float32)
spk = np.array([files[c]['spk'] for c in cand[0][:, 0]])  # speaker centring over all candidates of a speaker
for s_ in np.unique(spk):
    emb[spk == s_] -= emb[spk == s_].mean(0)
emb /= np.linalg.norm(emb, axis=1, keepdims=True) + 1e-9
frames = np.maximum(1, np.round((cand[1][:, 1] - cand[1][:, 0]) * 100))
print(f'{len(emb)} candidates', flush=True)
index = {(int(a), int(b), int(c)): k for k, (a, b, c) in enumerate(cand[0])}

def segment(cost):
    """per file, the chosen candidate rows minimising the summed cost"""
    chosen = []
    for fi, f in enumerate(files):
        n = len(f['segs']); best = np.full(n + 1, np.inf); best[0] = 0; back = [None] * (n + 1)
        for j in range(1, n + 1):
            for L in range(1, MAX_JOIN + 1):
                k = index.get((fi, j - L, L))
                if k is not None and best[j - L] + cost[k] < best[j]:
                    best[j], back[j] = best[j - L] + cost[k], k
        j, out = n, []
        while j > 0:
            out.append(back[j]); j -= cand[0][back[j], 2]
        chosen += out[::-1]
    return np.array(chosen)

def nearest(centroids):
    sq = (centroids ** 2).sum(1)
    d, lab = np.empty(len(emb)), np.empty(len(emb), int)
    for a in range(0, len(emb), 50000):
        dist = 1 + sq[None, :] - 2 * emb[a:a + 50000] @ centroids.T
        lab[a:a + 50000] = dist.argmin(1); d[a:a + 50000] = dist.min(1)
    return np.maximum(d, 0), lab

def score(chosen, labels):
    hp = nb = hr = nw = ex = 0; wps = []; word_of = []
    per_file = {}
    for k in chosen:
        per_file.setdefault(int(cand[0][k, 0]), []).append(k)
    for fi, ks in per_file.items():
        words = files[fi]['words']; segs = [tuple(cand[1][k]) for k in ks]
        wb = sorted({round(b, 3) for w in words for b in w[:2]}); sb = sorted({round(b, 3) for s in segs for b in s})
        hp += sum(any(abs(b - x) <= TOL for x in wb) for b in sb); nb += len(sb)
        hr += sum(any(abs(b - x) <= TOL for x in sb) for b in wb); nw += len(wb)
        ex += sum(any(abs(s[0] - w[0]) <= TOL and abs(s[1] - w[1]) <= TOL for w in words) for s in segs)
        for s in segs:
            wps.append(sum(s[0] <= (w[0] + w[1]) / 2 < s[1] for w in words))
            ov = [max(0, min(s[1], w[1]) - max(s[0], w[0])) for w in words]
            word_of.append(words[int(np.argmax(ov))][2] if ov and max(ov) > 0 else '<none>')
    p, r = hp / nb, hr / nw; wps = np.array(wps)
    lab = labels[np.concatenate([per_file[fi] for fi in per_file])]
    pur = 0
    for c in np.unique(lab):
        _, n = np.unique(np.array(word_of)[lab == c], return_counts=True); pur += n.max()
    return dict(bP=p, bR=r, bF=2 * p * r / (p + r), exact_word=ex / len(wps), n=len(wps), words_per_seg=wps.mean(),
                frac1=float(np.mean(wps == 1)), frac2=float(np.mean(wps >= 2)), purity=pur / len(wps))

rng = np.random.default_rng(0)
single = np.flatnonzero(cand[0][:, 2] == 1)
res = {}
# baseline: energy segments as they are, k-means K
from core.speech.clustering import kmeans
c0, l0 = kmeans(emb[single], K, iters=20, seed=0, backend='torch')
res['energy'] = score(single, nearest(np.asarray(c0))[1]); print('energy', res['energy'], flush=True)
chosen = segment(rng.random(len(emb)) * frames)  # random start
for it in range(ITERS):
    c, _ = kmeans(emb[chosen], K, iters=10, seed=it, backend='torch')
    d, lab = nearest(np.asarray(c, np.float64))
    chosen = segment(frames * d + PENALTY)
    res[f'iter{it}'] = score(chosen, lab); res[f'iter{it}']['objective'] = float((frames * d + PENALTY)[chosen].sum())
    print(it, {k: round(v, 3) for k, v in res[f'iter{it}'].items()}, f'{time.time()-t0:.0f} s', flush=True)
json.dump(dict(n_files=N_FILES, K=K, penalty=PENALTY, max_join=MAX_JOIN, max_gap=MAX_GAP, max_dur=MAX_DUR, results=res),
          open(OUT, 'w'), indent=1)
