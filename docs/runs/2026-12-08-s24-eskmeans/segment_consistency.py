"""Are finer energy cuts more consistent across voices, and do they cluster more purely? (session 24)

For N training-voice files of the kjv_500k_bvad corpus and several segmentations (TextGrid words as the
control; the energy reader's defaults; the energy reader cutting at every valley), per segmentation:
- cut consistency: for each word type with >= 5 tokens, the share of its tokens cut into its most common
  number of segments (a segment belongs to the word holding its midpoint);
- oracle units: each segment named by its word and its place in it (`word#k/n`, `w1+w2` when it holds
  several words' midpoints... here simply the labels of all words it overlaps by half);
- acoustic purity: the segments' 13 MFCCs (per-file CMVN) resampled to 10 frames, each speaker's mean
  removed, unit length, k-means with K = segments / 20; purity of the clusters on the oracle units and
  on the most-overlapping word.
Labels only score. SYNTHETIC speech (espeak-ng).

    OMP_NUM_THREADS=2 PYTHONPATH=. python3 segment_consistency.py N_FILES OUT.json
"""
import json, random, sys
from collections import Counter, defaultdict
from pathlib import Path
import numpy as np
from core.audio import load_audio
from core.corpus.textgrid import read_textgrid_words
from core.discovery.term_discovery import energy_segments
from core.features import FeatureConfig, extract_features
from core.speech.clustering import kmeans

N_FILES, OUT = int(sys.argv[1]), sys.argv[2]
SEGMENTERS = {
    'words (TextGrid)': None,
    'energy defaults (min 0.15, max 0.5 s)': dict(),
    'energy every valley (min 0.08, max 0.08 s)': dict(min_s=0.08, max_s=0.08),
    'energy every valley (min 0.12, max 0.12 s)': dict(min_s=0.12, max_s=0.12),
}
root = Path(sorted(Path('/tmp/b500k_cpu/stages').glob('corpus-*'))[0]) / 'corpus'
rows = [l.rstrip('\n').split('\t') for l in open(root / 'segments.tsv')][1:]
rows = [r for r in rows if r[2] == '0']
random.seed(1); rows = random.sample(rows, N_FILES)
files = []
for r in rows:
    x, sr = load_audio(root / r[3])
    files.append(dict(x=x, spk=r[1], words=[(a, b, l.lower()) for a, b, l in read_textgrid_words(root / r[4], len(x) / sr, 'words')]))
feats = extract_features([f['x'] for f in files], FeatureConfig(), device='cpu')

def embed(F, a, b, D=10):
    fa = int(round(a * 100)); fb = max(int(round(b * 100)), fa + 2)
    seg = F[fa:min(fb, len(F))]
    t = np.linspace(0, len(seg) - 1, D); i0 = np.floor(t).astype(int); i1 = np.minimum(i0 + 1, len(seg) - 1)
    w = (t - i0)[:, None]
    return ((1 - w) * seg[i0] + w * seg[i1]).reshape(-1)

def purity(lab, names):
    tot = 0
    for c in np.unique(lab):
        tot += Counter(names[i] for i in np.flatnonzero(lab == c)).most_common(1)[0][1]
    return tot / len(lab)

res = {}
for name, opts in SEGMENTERS.items():
    emb, spk, units, word_of = [], [], [], []
    cuts = defaultdict(list)
    for fi, f in enumerate(files):
        words = f['words']
        segs = [(a, b) for a, b, _ in words] if opts is None else energy_segments(f['x'], **opts)
        mids = [next((k for k, (a, b, _) in enumerate(words) if a <= (s0 + s1) / 2 < b), None) for s0, s1 in segs]
        count = Counter(m for m in mids if m is not None)
        for k, (a, b, w) in enumerate(words):
            cuts[w].append(count.get(k, 0))
        seen = Counter()
        for (s0, s1), m in zip(segs, mids):
            held = [w for a, b, w in words if min(s1, b) - max(s0, a) > 0.5 * (b - a)]
            if len(held) >= 2:
                unit = '+'.join(held)
            elif m is not None:
                unit = f'{words[m][2]}#{seen[m]}/{count[m]}'; seen[m] += 1
            else:
                unit = '<between>'
            ov = [max(0, min(s1, b) - max(s0, a)) for a, b, _ in words]
            word_of.append(words[int(np.argmax(ov))][2] if ov and max(ov) > 0 else '<none>')
            units.append(unit); spk.append(f['spk']); emb.append(embed(feats[fi], s0, s1))
    emb = np.asarray(emb, np.float32); spk = np.array(spk)
    for s in np.unique(spk):
        emb[spk == s] -= emb[spk == s].mean(0)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True) + 1e-9
    k = max(2, len(emb) // 20)
    _, lab = kmeans(emb, k, iters=20, seed=0, backend='torch')
    lab = np.asarray(lab)
    consist = [Counter(v).most_common(1)[0][1] / len(v) for w, v in cuts.items() if len(v) >= 5]
    tok = sum(len(v) for w, v in cuts.items() if len(v) >= 5)
    cons_tok = sum(Counter(v).most_common(1)[0][1] for w, v in cuts.items() if len(v) >= 5) / tok
    res[name] = dict(segments=len(emb), k=k, unit_types=len(set(units)), cut_consistency=cons_tok,
                     unit_purity=purity(lab, units), word_purity=purity(lab, word_of),
                     speaker_purity=purity(lab, list(spk)))
    print(name, {a: round(b, 3) if isinstance(b, float) else b for a, b in res[name].items()}, flush=True)
json.dump(dict(n_files=N_FILES, results=res), open(OUT, 'w'), indent=1)
