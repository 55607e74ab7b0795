"""Does per-speaker vocal-tract-length normalisation (frequency warp chosen by matching each speaker's
mean log-mel spectrum to the others', no labels) raise cross-speaker same-different AP? SYNTHETIC
held-out voices (scripts/same_different.py's set: 200 frequent KJV words x 6 voices)."""
import json, sys, time, numpy as np, torch, torchaudio
from pathlib import Path
from core.discovery.same_different import same_different
from core.discovery.segments_io import SYNTHETIC_VOICE_START, frequent_words
from core.synth.voices import voice_for_speaker
from core.voices.clips import synthetic_word_clips
torch.set_num_threads(2); T0 = time.time()
words = frequent_words(Path("/work/shared/data/text/en_KJV1611.tsv.xz"), 200)
voices = [voice_for_speaker("en", SYNTHETIC_VOICE_START + i, 0) for i in range(6)]
clips = synthetic_word_clips(words, voices)
print("clips", len(clips.samples), f"{time.time()-T0:.0f} s", flush=True)
spec = torchaudio.transforms.Spectrogram(n_fft=400, hop_length=160, win_length=400, power=2.0)
fb = torchaudio.functional.melscale_fbanks(201, 0.0, 8000.0, 40, 16000)  # (201, 40)
dct = torchaudio.functional.create_dct(13, 40, "ortho")  # (40, 13)
freqs = torch.linspace(0, 8000, 201)
S = [spec(torch.as_tensor(np.asarray(x, np.float32))) for x in clips.samples]  # (201, T)
def warp(P, a):
    """P(f) -> P(a f) by linear interpolation (a > 1 compresses: shorter vocal tract to longer)."""
    if a == 1.0: return P
    src = (freqs * a).clamp(max=8000) / 8000 * 200
    i0 = src.floor().long().clamp(max=199); w = (src - i0).unsqueeze(1)
    return P[i0] * (1 - w) + P[i0 + 1] * w
def logmel(P): return torch.log(fb.T @ P + 1e-6)  # (40, T)
def mfcc(P):
    m = (dct.T @ logmel(P)).T  # (T, 13)
    return ((m - m.mean(0)) / (m.std(0) + 1e-5)).numpy()
spk = np.array(clips.speakers); names = sorted(set(spk))
def mean_spec(idx, a):
    L = torch.cat([logmel(warp(S[i], a)) for i in idx], 1)
    e = L.mean(0); L = L[:, e > e.quantile(0.3)]
    return L.mean(1)
grid = [round(x, 3) for x in np.arange(0.80, 1.201, 0.025)]
alpha = {s: 1.0 for s in names}
for it in range(3):
    ref = torch.stack([mean_spec(np.flatnonzero(spk == s), alpha[s]) for s in names]).mean(0)
    for s in names:
        idx = np.flatnonzero(spk == s)
        alpha[s] = min(grid, key=lambda a: float(((mean_spec(idx, a) - ref) ** 2).sum()))
    print("iteration", it, alpha, f"{time.time()-T0:.0f} s", flush=True)
out = {}
for name, al in (("mfcc (own, alpha 1)", {s: 1.0 for s in names}), ("mfcc + per-speaker VTLN", alpha)):
    frames = [mfcc(warp(S[i], al[spk[i]])) for i in range(len(S))]
    r = same_different(frames, list(clips.labels), list(clips.speakers), methods=["dtw"])
    out[name] = r; print(name, json.dumps(r), flush=True)
json.dump({"alpha": alpha, "results": out}, open(sys.argv[1] if len(sys.argv) > 1 else "/tmp/s14/vtln_sd.json", "w"), indent=2)
# ORACLE diagnostic (labels choose the warps): the most per-speaker warping could give
best = {s: 1.0 for s in names}
cache = {}
def ap_for(al):
    frames = [cache.setdefault((i, al[spk[i]]), mfcc(warp(S[i], al[spk[i]]))) for i in range(len(S))]
    return same_different(frames, list(clips.labels), list(clips.speakers), methods=["dtw"])["ap_dtw"]
cur = ap_for(best)
for s in names[1:]:
    for a in (0.85, 0.9, 0.95, 1.05, 1.1, 1.15):
        trial = dict(best); trial[s] = a; v = ap_for(trial)
        if v > cur: cur, best = v, trial
    print("oracle", s, best[s], round(cur, 4), f"{time.time()-T0:.0f} s", flush=True)
