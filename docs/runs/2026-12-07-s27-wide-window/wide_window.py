"""Does a window wider than the stretch tell the same syllable in different words apart?  (session 27; a
diagnosis with an ORACLE row)

Session 26 left one hypothesis for configuration VAD unmeasured: every-valley stretches group impurely because
one stretch's audio cannot tell "ba" in "Babylon" from "ba" in "Abraham"; an encoding of the stretch WITH its
surroundings might. Here each training stretch of session 24's CPU stand-in run (every-valley cut, session 22's
B encoder, which was trained on whole word segments, so a widened stretch is nearer its training inputs) is
encoded again with W frames (10 ms each) of the previous and the next stretch of its utterance around it (audio
only; the silent gap between stretches is not in the store and is skipped). W = 0 re-encodes the stretch alone
and must reproduce the run's stored encodings (checked: mean cosine printed). Then, at K groups:
  - learnt: spherical k-means (faiss, seed 0) of the encodings — word purity, speaker purity, and purity by
    the previous / next stretch's word (do widened stretches group by their neighbours instead?);
  - ORACLE (session 26's token_noise): groups of the perfect units' mean encodings, each stretch placed by its
    own encoding — the share placed with its unit and the word purity.
With SCORE=1 the learnt k-means stream also gets word2vec, the experiments' unsupervised map and per-stretch
accuracy on the training voices (session 23's oracle scoring). Labels only score and build the ORACLE row.
SYNTHETIC speech (espeak-ng).

    OMP_NUM_THREADS=2 PYTHONPATH=. python3 wide_window.py RUN_OUT_DIR W K OUT.json
"""
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

RUNS = Path(__file__).resolve().parents[1]
for folder in ("2026-12-07-s23-energy-vad", "2026-12-07-s25-context", "2026-12-07-s26-syllable-types"):
    sys.path.insert(0, str(RUNS / folder))
from boundary_probe import learnt_types  # noqa: E402
from diag_groups import purity  # noqa: E402
from oracle_merge_noise import oracle_units  # noqa: E402
from token_noise import group_centroids, placed, score_groups  # noqa: E402

from core.atomic import load_safetensors, read_safetensors_metadata  # noqa: E402
from core.speech.runner import SEGMENTS_FILE  # noqa: E402
from core.speech.type_space import ENCODER_FILE, build_model  # noqa: E402


def widened_frames(store, i: int, w: int, max_frames: int) -> np.ndarray:
    """Row i's frames (cut at max_frames, as the run encoded them) with up to w frames of the previous and
    the next stretch of the same utterance on either side."""
    off, ln, utt = store.offsets, store.lengths, store.utterance_ids
    mid = store.frames[off[i]:off[i] + min(int(ln[i]), max_frames)]
    parts = [mid]
    if w and i > 0 and utt[i - 1] == utt[i]:
        end = int(off[i - 1] + ln[i - 1])
        parts.insert(0, store.frames[max(int(off[i - 1]), end - w):end])
    if w and i + 1 < len(ln) and utt[i + 1] == utt[i]:
        parts.append(store.frames[off[i + 1]:off[i + 1] + min(w, int(ln[i + 1]))])
    return np.concatenate(parts).astype(np.float32)


def encode_rows(model, store, rows: np.ndarray, w: int, max_frames: int, batch: int = 2048) -> np.ndarray:
    """Unit-length encodings of the widened stretches, batched by length."""
    lengths = np.array([min(int(store.lengths[i]), max_frames) for i in rows]) + 2 * w
    order = np.argsort(lengths, kind="stable")
    out = np.zeros((len(rows), model.dim), np.float32)
    with torch.inference_mode():
        for a in range(0, len(rows), batch):
            idx = order[a:a + batch]
            seqs = [widened_frames(store, int(rows[j]), w, max_frames) for j in idx]
            lens = torch.tensor([len(s) for s in seqs])
            x = torch.zeros(len(seqs), int(lens.max()), seqs[0].shape[1])
            for k, s in enumerate(seqs):
                x[k, :len(s)] = torch.from_numpy(s)
            out[idx] = model.encode(x, lens).numpy()
    return out / np.linalg.norm(out, axis=1, keepdims=True).clip(1e-9)


def spherical_kmeans(enc: np.ndarray, k: int) -> np.ndarray:
    """Each row's cluster (faiss spherical k-means, seed 0)."""
    import faiss

    x = np.ascontiguousarray(enc, np.float32)
    km = faiss.Kmeans(x.shape[1], k, niter=20, seed=0, spherical=True, verbose=False)
    km.train(x)
    return km.index.search(x, 1)[1][:, 0]


def neighbour_purities(groups: np.ndarray, labels: list, utt: np.ndarray) -> dict:
    """Purity of the groups by the word of the previous / next stretch of the utterance ("<edge>" at its ends)
    and by both: whether a widened window groups stretches by their neighbours instead of their own word."""
    same = utt[1:] == utt[:-1]
    prev = ["<edge>"] + [lab if s else "<edge>" for lab, s in zip(labels[:-1], same)]
    nxt = [lab if s else "<edge>" for lab, s in zip(labels[1:], same)] + ["<edge>"]
    return {"purity_prev_word": purity(groups, prev), "purity_next_word": purity(groups, nxt),
            "purity_prev_word_next_word": purity(groups, list(zip(prev, nxt)))}


def main():
    out_dir, w, k, out_json = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    t0 = time.time()
    torch.manual_seed(0)
    run, store, words, train, _ = learnt_types(out_dir)
    max_frames = int(json.loads((run / "config.json").read_text())["speech"]["max_frames"])
    arch = json.loads(read_safetensors_metadata(run / ENCODER_FILE)["architecture"])
    model = build_model(arch)
    model.load_state_dict(load_safetensors(run / ENCODER_FILE, torch=True))
    model.eval()
    enc = encode_rows(model, store, train, w, max_frames)
    stored = np.asarray(load_safetensors(run / SEGMENTS_FILE)["embedding"], np.float32)
    stored = stored[train] if len(stored) != len(train) else stored
    stored /= np.linalg.norm(stored, axis=1, keepdims=True).clip(1e-9)
    units, labels = oracle_units(store.table, train, words)
    speakers = np.asarray(store.speakers)[train].tolist()
    result = {"run": str(run), "w_frames": w, "k": k, "stretches": len(train),
              "mean_cosine_to_stored_encoding": float(np.mean(np.sum(enc * stored, axis=1))),
              "encode_seconds": round(time.time() - t0)}
    print(result, flush=True)
    learnt = spherical_kmeans(enc, k)
    utt = np.asarray(store.utterance_ids)[train]
    result["learnt_kmeans"] = {"purity_word": purity(learnt, labels), "purity_speaker": purity(learnt, speakers),
                               **neighbour_purities(learnt, labels, utt)}
    by_unit, centroids = group_centroids(units, enc.astype(np.float64), k)
    own = placed(enc, centroids.astype(np.float32))
    result["oracle_placement"] = {"by_unit_purity_word": purity(by_unit, labels),
                                  "by_own_encoding_purity_word": purity(own, labels),
                                  "same_group_as_unit": float(np.mean(own == by_unit))}
    print(result, flush=True)
    if os.environ.get("SCORE") == "1":
        result["learnt_kmeans"]["units"] = score_groups(learnt, labels, utt, out_dir)
    result["seconds"] = round(time.time() - t0)
    print(json.dumps(result, indent=1), flush=True)
    out_json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
