"""scripts/b_pack.py: the configuration-B pack reader, per-voice k-means and the cross-voice merge."""
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def b_pack():
    spec = importlib.util.spec_from_file_location("b_pack", ROOT / "scripts" / "b_pack.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["b_pack"] = module
    spec.loader.exec_module(module)
    return module


def write_pack(folder: Path, per_voice: int = 30):
    """Three voices (spk2 held out) saying "a" and "b"; one segment of spk0 has no type (-1)."""
    rng = np.random.default_rng(0)
    base = {"a": np.eye(8)[0], "b": np.eye(8)[1]}
    emb, word, speaker, types = [], [], [], []
    for s in range(3):
        for i in range(per_voice):
            w = "ab"[i % 2]
            emb.append(base[w] + 0.3 * np.eye(8)[2 + s] + 0.01 * rng.standard_normal(8))
            word.append(w), speaker.append(s), types.append(i % 2)
    types[0] = -1
    e = np.array(emb) / np.linalg.norm(emb, axis=1, keepdims=True)
    np.save(folder / "emb_0.npy", np.round(e[:50] * 127).astype(np.int8))
    np.save(folder / "emb_1.npy", np.round(e[50:] * 127).astype(np.int8))
    np.savez_compressed(folder / "meta.npz", type_of=np.array(types, np.int32),
                        word=np.array(["ab".index(w) for w in word], np.int32), vocab=np.array(["a", "b"]),
                        speaker=np.array(speaker, np.int16), speakers=np.array(["spk0", "spk1", "spk2"]),
                        utt=np.repeat(np.arange(18), 5), held_out=np.array(["spk2"]),
                        config=np.array(json.dumps({"speech": {"clusters": 2, "kmeans_iters": 5}})))


def test_load_pack_reads_parts_in_order_and_splits_held_out_voices(b_pack, tmp_path):
    write_pack(tmp_path)
    pack = b_pack.load_pack(str(tmp_path))
    assert pack.emb.shape == (90, 8)
    assert np.allclose(np.linalg.norm(pack.emb, axis=1), 1.0, atol=1e-5)
    assert pack.train.tolist() == list(range(1, 60))          # row 0 has no type
    assert pack.held.tolist() == list(range(60, 90))
    assert pack.train_speakers == [0, 1]
    assert pack.labels[:4].tolist() == ["a", "b", "a", "b"]
    assert pack.speech_config["clusters"] == 2


def test_load_pack_without_parts_names_the_folder(b_pack, tmp_path):
    write_pack(tmp_path)
    for part in tmp_path.glob("emb_*.npy"):
        part.unlink()
    with pytest.raises(FileNotFoundError, match="no emb_0.npy"):
        b_pack.load_pack(str(tmp_path))


def test_cluster_each_voice_keeps_voices_apart_and_caches(b_pack, tmp_path):
    write_pack(tmp_path)
    pack = b_pack.load_pack(str(tmp_path))
    cache = tmp_path / "vc.npz"
    vc = b_pack.cluster_each_voice(pack, kmult=1.0, cache=str(cache))
    assert cache.exists()
    assert sorted(set(vc.speaker.tolist())) == [0, 1]
    assert (vc.local[pack.train] >= 0).all() and (vc.local[pack.held] == -1).all()
    assert (vc.speaker[vc.local[pack.train]] == pack.speaker[pack.train]).all()   # a cluster holds one voice
    assert vc.size.sum() == len(pack.train)
    again = b_pack.cluster_each_voice(pack, kmult=99.0, cache=str(cache))      # read back, not recomputed
    assert np.array_equal(again.local, vc.local) and np.array_equal(again.speaker, vc.speaker)


def test_merge_joins_mutual_nearest_clusters_one_per_voice(b_pack):
    # voice 0: clusters 0 ("a"), 1 ("b"); voice 1: 2 ("b"), 3 ("a"); voice 0 also has 4, a second "a"
    cent = np.array([[1, 0, 0], [0, 1, 0], [0.1, 1, 0], [1, 0.1, 0], [1, 0, 0.2]], np.float32)
    cent /= np.linalg.norm(cent, axis=1, keepdims=True)
    vc = b_pack.VoiceClusters(cent, np.ones(5, int), np.array([0, 0, 1, 1, 0]), None)
    group = b_pack.merge_mutual_nearest(vc)
    assert group[0] == group[3] and group[1] == group[2]
    assert len({group[0], group[1], group[4]}) == 3          # never two clusters of one voice in a type
    S = np.zeros((5, 5))
    S[0, 2] = S[1, 3] = 1.0                                   # a given similarity overrides the centroids
    swapped = b_pack.merge_mutual_nearest(vc, pair_sim=lambda ia, ib: S[np.ix_(ia, ib)])
    assert swapped[0] == swapped[2] and swapped[1] == swapped[3] and swapped[0] != swapped[1]


def test_majority_word_counts_rows_only(b_pack):
    labels = np.array(["a", "a", "b", "b", "b"], dtype=object)
    group = np.array([0, 0, 0, 1, 1])
    assert b_pack.majority_word(labels, group, np.array([0, 1, 2, 3])) == {0: "a", 1: "b"}
    assert b_pack.majority_word(labels, group, np.array([2, 3])) == {0: "b", 1: "b"}


def test_voice_pair_blocks_cover_every_pair_of_voices(b_pack):
    cent = np.eye(4, dtype=np.float32)
    vc = b_pack.VoiceClusters(cent, np.ones(4, int), np.array([0, 0, 1, 2]), None)
    ordered = [(a, b, ia.tolist(), ib.tolist()) for a, b, ia, ib, _ in b_pack.voice_pair_blocks(vc)]
    assert [(a, b) for a, b, _, _ in ordered] == [(0, 1), (0, 2), (1, 0), (1, 2), (2, 0), (2, 1)]
    assert ordered[0][2:] == ([0, 1], [2])
    once = [(a, b) for a, b, *_ in b_pack.voice_pair_blocks(vc, both_orders=False)]
    assert once == [(0, 1), (0, 2), (1, 2)]
    doubled = next(b_pack.voice_pair_blocks(vc, centroids=2 * cent))[4]      # another space's centroids
    assert doubled.shape == (2, 1) and doubled.tolist() == [[0.0], [0.0]]


def test_inverse_purity_counts_tokens_in_their_words_largest_type(b_pack):
    words = np.array(["a", "a", "a", "b", "b", "c"], dtype=object)
    types = np.array([0, 0, 1, 1, 2, 2])
    # a: 2 of 3 in type 0; b: 1 of 2; c: 1 of 1
    assert b_pack.inverse_purity(types, words) == pytest.approx(4 / 6)
    assert b_pack.inverse_purity(np.zeros(6, np.int64), words) == 1.0


def test_procrustes_recovers_a_rotation_and_mutual_nearest_pairs(b_pack):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((40, 5))
    q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    b = a @ q.T                       # b R = a for R = q
    assert np.allclose(b @ b_pack.procrustes(a, b), a, atol=1e-8)
    i, j = b_pack.mutual_nearest(np.eye(3), np.eye(3)[[2, 0, 1]])
    assert i.tolist() == [0, 1, 2] and j.tolist() == [1, 2, 0]


def test_type_measures_on_a_pack(b_pack, tmp_path):
    write_pack(tmp_path)
    P = b_pack.load_pack(str(tmp_path))
    perfect = np.where(P.labels == "a", 0, 1)
    m = b_pack.type_measures(P, perfect)
    assert m == {"held_out_ceiling": 1.0, "purity": 1.0, "inverse_purity": 1.0}
    lumped = np.zeros(len(P.labels), np.int64)
    m = b_pack.type_measures(P, lumped)
    assert m["inverse_purity"] == 1.0 and m["purity"] == pytest.approx(0.5, abs=0.02) and m["held_out_ceiling"] == 0.5


def test_zca_whitening_and_rotate_onto(b_pack):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((500, 4)) @ np.diag([3.0, 1.0, 0.5, 2.0]) + 5.0
    mu, Z = b_pack.zca_whitening(x)
    assert np.allclose(np.cov((x - mu) @ Z, rowvar=False), np.eye(4), atol=1e-6)
    shared = [rng.standard_normal((30, 4))]
    from scipy.linalg import expm
    skew = rng.standard_normal((4, 4))
    q = expm(0.05 * (skew - skew.T))   # a small rotation: GPA starts from voices already roughly aligned
    R = b_pack.rotate_onto(shared[0] @ q.T, shared, rounds=3)   # a rotated copy of the shared voice
    assert np.allclose(shared[0] @ q.T @ R, shared[0], atol=1e-8)


def test_agglomerate_centroids_joins_the_nearest_directions_first(b_pack):
    # three tight bundles of directions, far apart: cut at 3 gives the bundles, at 1 everything
    base = np.eye(3)
    cent = np.vstack([base[i] + 0.01 * np.array(off) for i in range(3) for off in ([0, 0, 0], [1, 1, 1])])
    cuts = b_pack.agglomerate_centroids(cent * 5.0, [6, 3, 1])
    assert sorted(cuts) == [1, 3, 6]
    assert len(set(cuts[6])) == 6 and set(cuts[1]) == {0}
    assert cuts[3][0] == cuts[3][1] and cuts[3][2] == cuts[3][3] and cuts[3][4] == cuts[3][5]
    assert len({cuts[3][0], cuts[3][2], cuts[3][4]}) == 3
