"""Run a configuration-B experiment whose pair round trains on given groups instead of mined ones
(issue 18, session 19; GPU). SYNTHETIC speech.

The runner's pair round normally mines DTW-verified cross-speaker pairs with the encoder so far
(core/speech/pair_mining.py). This driver swaps that one function for the groups make_groups.py
took from the previous encoder's voice-normalised space, after checking that the store holds the
same segments in the same order (count, training rows, the speaker of every segment); everything
else — acoustic training, the pair round's training, k-means, skip-gram — is the product's code.

    python3 run_with_groups.py CONFIG.toml GROUPS.npz OUT_DIR [more `experiment` arguments]
"""
import sys, time
import numpy as np
sys.path.insert(0, ".")
from core.speech import pair_mining

T0 = time.time()


def given_groups(seg_emb, dtw_frames, train_idx, speakers, n_segments):
    """Stands in for pair_mining.mine_pair_groups: the given groups, once the order checks out."""
    if n_segments != len(want_group):
        raise SystemExit(f"store has {n_segments} segments, the groups {len(want_group)}")
    if not np.array_equal(np.char.replace(np.asarray(speakers, str), "speaker:", ""), want_speaker.astype(str)):
        raise SystemExit("the store's segments are not in the groups' order (speakers differ)")
    grouped = want_group >= 0
    outside = np.setdiff1d(np.flatnonzero(grouped), train_idx)
    if len(outside):
        raise SystemExit(f"{len(outside)} grouped segments are not training segments")
    print(f"[{time.time() - T0:.0f} s] given groups: {len(np.unique(want_group[grouped]))} groups over "
          f"{int(grouped.sum())} segments (order checked)", flush=True)
    return want_group.copy(), {"candidates": 0, "kept": 0, "groups": int(len(np.unique(want_group[grouped]))),
                               "grouped_segments": int(grouped.sum())}


if __name__ == "__main__":   # synthesis workers are spawned and re-import this file
    config, groups_path, out, *rest = sys.argv[1:]
    z = np.load(groups_path)
    want_group, want_speaker = z["group"].astype(np.int64), z["speakers"][z["speaker"]]
    pair_mining.mine_pair_groups = given_groups
    from main import main
    code = main(["experiment", config, "--out", out, "--stages", "speech", *rest])
    print(f"[{time.time() - T0:.0f} s] experiment finished, exit code {code}", flush=True)
    sys.exit(code)
