"""How close are VAD / energy segments to the synthetic corpus's true words? (session 23; training voices only)

150 files of kjv_500k_bvad's corpus (seeded sample): session 22's VAD reader (webrtcvad, aggressiveness 2,
then pauses; read_vad's defaults) and the energy reader (read_energy's defaults) against the TextGrid words:
boundary precision / recall / F (30-ms tolerance), share of segments matching a word at both ends, and how
many words have their midpoint inside each segment. SYNTHETIC speech (espeak-ng).

    PYTHONPATH=. python3 segment_boundaries.py      (reads /tmp/b500k_cpu's corpus stage)
"""
import sys, random, json
from pathlib import Path
import numpy as np
from core.audio import load_audio
from core.corpus.textgrid import read_textgrid_words
from core.corpus.unsegmented import webrtc_speech_regions, pause_split, _loud_level
from core.discovery.term_discovery import energy_segments

root = Path(sorted(Path('/tmp/b500k_cpu/stages').glob('corpus-*'))[0]) / 'corpus'
rows = [l.rstrip('\n').split('\t') for l in open(root / 'segments.tsv')][1:]
rows = [r for r in rows if r[2] == '0']
random.seed(0); rows = random.sample(rows, 150)
TOL = 0.03
def score(segs, words):
    wb = sorted({round(b, 3) for w in words for b in w[1:3]})
    sb = sorted({round(b, 3) for s in segs for b in s})
    hit_p = sum(any(abs(b - x) <= TOL for x in wb) for b in sb)
    hit_r = sum(any(abs(b - x) <= TOL for x in sb) for b in wb)
    exact = sum(any(abs(s[0]-w[1]) <= TOL and abs(s[1]-w[2]) <= TOL for w in words) for s in segs)
    # words per segment (words whose midpoint lies inside)
    wps = [sum(s[0] <= (w[1]+w[2])/2 < s[1] for w in words) for s in segs]
    return hit_p, len(sb), hit_r, len(wb), exact, len(segs), wps
tot = {}
for r in rows:
    wav = root / r[3]; tg = root / r[4]
    x, sr = load_audio(wav)
    words = [(l, a, b) for a, b, l in read_textgrid_words(tg, len(x)/sr, 'words')]
    ref = _loud_level(x, sr)
    vad = []
    for (r0, r1) in webrtc_speech_regions(x, sr, 2, 0.3):
        vad += [((r0+a)/sr, (r0+b)/sr) for a, b in pause_split(x[r0:r1], sr, 0.1, 0.1, 0.1, 1.0, ref)]
    segsets = {'vad': vad, 'energy': energy_segments(x)}
    for name, segs in segsets.items():
        res = score(segs, words)
        t = tot.setdefault(name, [0, 0, 0, 0, 0, 0, []])
        for i in range(6): t[i] += res[i]
        t[6] += res[6]
for name, t in tot.items():
    p, r = t[0]/t[1], t[2]/t[3]
    wps = np.array(t[6])
    print(name, f"bP {p:.3f} bR {r:.3f} bF {2*p*r/(p+r):.3f} exact-word segs {t[4]/t[5]:.3f} n {t[5]} words/seg mean {wps.mean():.2f} frac0 {np.mean(wps==0):.2f} frac1 {np.mean(wps==1):.2f} frac2+ {np.mean(wps>=2):.2f}")
