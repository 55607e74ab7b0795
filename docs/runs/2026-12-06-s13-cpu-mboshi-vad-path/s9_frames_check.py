"""Added after scoring kmeans_on_frontend.py (not in config_frontend_kmeans.json): session 9's cached
speech-embedding frames (build/discovery/mboshi_dev_energy_speech-embedding.npz) against the
unstandardised store's frames, and session 9's exact recipe on its own frames, k-means seeds 0, 1, 2.
Run from the repository root: OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python THIS_FILE"""
import json, sys
from pathlib import Path
import numpy as np
sys.path.insert(0, "docs/runs/2026-12-06-s13-cpu-mboshi-vad-path")
import score_vad_path as svp
from core.corpus.feature_store import FeatureStore
from core.discovery.segments_io import cached_frames
from core.discovery.term_discovery import speaker_centred, kmeans_clusters, clusters_from_labels
from core.discovery.zrc_eval import evaluate, reference_from_table
from core.corpus.readers import read_corpus
table, _ = read_corpus(Path("/work/shared/data/speech/mboshi"), "mboshi", split="dev")
ref = reference_from_table(table)
saved = json.loads(Path("build/discovery/mboshi_dev_energy_segments.json").read_text())
by_audio = table.indices_by_audio()
utts, spans, spk = [], [], []
for audio, rows in by_audio.items():
    u = table.utterance[rows[0]]
    for s, e in saved[u]["spans"]:
        utts.append(u); spans.append((s, e)); spk.append(table.speaker[rows[0]])
fr = cached_frames(Path("build/discovery"), "mboshi_dev_energy_speech-embedding", None)
print(len(fr), len(utts))
st = FeatureStore.open("/tmp/s13vad/store_energy_se_raw")
t = st.table
idx = {(Path(a).stem, float(s), float(e)): i for i, (a, s, e) in enumerate(zip(t.audio, t.start, t.end))}
d = []; lens = []
for f, u, (s, e) in zip(fr, utts, spans):
    g = np.asarray(st.features(idx[(u, float(s), float(e))]))
    lens.append((len(f), len(g)))
    if len(f) == len(g): d.append(np.abs(f - g).max())
lens = np.array(lens)
print("same length", (lens[:, 0] == lens[:, 1]).mean(), "mean len s9/store", lens.mean(0), "max abs diff where same len", np.max(d) if d else None, np.median(d))
st_spk = [st.speakers[idx[(u, float(s), float(e))]] for u, (s, e) in zip(utts, spans)]
print("speakers equal", st_spk == spk)
emb = speaker_centred(np.stack([f.mean(0) for f in fr]), spk)
lab, _ = kmeans_clusters(emb, 781, seed=0)
print("s9 frames, s9 recipe, NED", evaluate(clusters_from_labels(utts, spans, lab), ref)["ned"])
for seed in (1, 2):
    lab, _ = kmeans_clusters(emb, 781, seed=seed)
    print(f"s9 frames, s9 recipe, seed {seed}, NED", evaluate(clusters_from_labels(utts, spans, lab), ref)["ned"])
