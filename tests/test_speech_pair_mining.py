"""Cross-speaker pairs verified by DTW (configuration B's positives): the pieces, and that they find
same-word pairs on the toy corpus (SYNTHETIC frames) without reading a label."""

import numpy as np
import torch

from core.speech import pair_mining
from core.speech.batching import SegmentFrames, load_frames
from core.speech.toy_corpus import make_toy_corpus

torch.set_num_threads(1)


def frames_of(segments: list[np.ndarray]) -> SegmentFrames:
    lengths = np.array([len(s) for s in segments])
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return SegmentFrames(torch.from_numpy(np.concatenate(segments).astype(np.float32)),
                         torch.from_numpy(offsets), torch.from_numpy(lengths), lengths)


def test_dtw_cost_is_zero_for_a_copy_and_lower_for_a_slower_copy_than_for_another_sequence():
    rng = np.random.default_rng(0)
    word = rng.normal(size=(12, 6))
    slower = np.repeat(word, 2, axis=0)                  # the same word, said twice as slowly
    other = rng.normal(size=(12, 6))
    frames = frames_of([word, word.copy(), slower, other])
    cost = pair_mining.dtw_costs(frames, np.array([0, 0, 0]), np.array([1, 2, 3]))
    assert abs(cost[0]) < 1e-6
    assert abs(cost[1]) < 1e-6  # every frame of the slow copy aligns with its own original frame
    assert cost[2] > 0.2        # another word: no alignment is free


def test_neighbours_are_always_of_another_speaker_and_listed_once():
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(60, 8)).astype(np.float32)
    speakers = np.repeat(np.array(["s1", "s2", "s3"]), 20)
    a, b = pair_mining.cross_speaker_neighbours(emb, speakers, k=3)
    assert len(a) > 0 and (a < b).all()
    assert (speakers[a] != speakers[b]).all()
    assert len(set(zip(a.tolist(), b.tolist()))) == len(a)


def test_pair_groups_join_chains_and_drop_groups_that_grow_too_large():
    a, b = np.array([0, 1, 5, 6, 7, 8]), np.array([1, 2, 6, 7, 8, 9])
    groups = pair_mining.pair_groups(11, a, b, max_group=4)
    assert groups[0] == groups[1] == groups[2] >= 0          # 0-1-2: one group of 3
    assert (groups[5:10] == -1).all()                         # 5-6-7-8-9: 5 members > 4, dropped
    assert groups[3] == groups[4] == groups[10] == -1          # in no pair


def test_mined_groups_are_mostly_one_word_on_the_toy_corpus():
    store = make_toy_corpus(n_types=8, n_utterances=40, words_per_utterance=6, mean_frames=20)
    frames = load_frames(store, max_frames=60)
    speakers = np.asarray(store.speakers)
    train_idx = np.arange(store.n_segments)
    # a crude embedding that ignores the word: mean frame, so candidates are found by DTW, not by it
    emb = np.stack([frames.frames[o:o + n].mean(0).numpy() for o, n in zip(frames.offsets.tolist(),
                                                                          frames.lengths_np.tolist())])
    labels, summary = pair_mining.mine_pair_groups(emb, pair_mining.speaker_normalised(frames, speakers),
                                                   train_idx, speakers, store.n_segments)
    assert summary["kept"] > 0 and summary["grouped_segments"] >= 2
    truth = np.array(store.labels)

    def same_word_share(words):
        """Share of member pairs within the groups that are the same word."""
        same = total = 0
        for g in np.unique(labels[labels >= 0]):
            w = words[labels == g]
            same += (w[:, None] == w[None, :]).sum() - len(w)
            total += len(w) * (len(w) - 1)
        return same / total

    shuffled = np.random.default_rng(0).permutation(truth)  # the same groups with random words
    assert same_word_share(truth) > 0.5 > 0.3 > same_word_share(shuffled)  # measured 0.67 and 0.13


def test_segments_without_a_speaker_pair_across_recordings():
    from core.speech.pair_mining import pairing_groups

    groups, missing = pairing_groups(["a", None, "a", None], [0, 1, 2, 1])
    assert missing == 2
    assert groups[0] == groups[2] and groups[1] == groups[3] and groups[0] != groups[1]
    assert pairing_groups([None, None], [0, 1])[0][0] != pairing_groups([None, None], [0, 1])[0][1]


def test_configuration_b_trains_on_a_store_without_speaker_ids(tmp_path):
    """A flat folder read by the vad reader has no speaker ids: training used to die in np.unique
    over None; now pairs are mined across recordings and the log says so."""
    from core.speech.config import SpeechConfig
    from core.speech.runner import train_speech_space

    store = make_toy_corpus(n_types=6, n_utterances=24, words_per_utterance=5, mean_frames=16, held_out_speakers=0)
    store.speakers = [None] * store.n_segments
    cfg = SpeechConfig(learner="unit-skipgram", grouping="B", clusters=6, ac_epochs=1, sg_epochs=1, ac_hidden=16,
                       ac_dim=16, batch_size=32, ac_pair_rounds=1, device="cpu", kmeans_backend="torch")
    metrics = train_speech_space(store, cfg, tmp_path / "run")
    log = (tmp_path / "run" / "log.txt").read_text()
    assert "have no speaker id: their pairs are mined across recordings" in log and "pair round 1:" in log
    assert metrics["types"] <= 6


def test_pair_and_voice_group_rounds_each_train_and_resume(tmp_path):
    """One DTW pair round, then the voice-groups round (which restarts from the view-trained weights):
    each round logs its groups and leaves its own finished checkpoint, and a rerun only reloads them."""
    from core.speech.config import SpeechConfig
    from core.speech.runner import train_speech_space
    from core.speech.training import checkpoint_finished

    store = make_toy_corpus(n_types=6, n_utterances=24, words_per_utterance=5, mean_frames=16, held_out_speakers=0)
    cfg = SpeechConfig(learner="unit-skipgram", grouping="B", clusters=6, ac_epochs=1, sg_epochs=1, ac_hidden=16,
                       ac_dim=16, batch_size=32, ac_pair_rounds=1, voice_groups=4, device="cpu",
                       kmeans_backend="torch")
    train_speech_space(store, cfg, tmp_path / "run")
    log = (tmp_path / "run" / "log.txt").read_text()
    assert "pair round 1:" in log and "voice-groups round:" in log
    checkpoints = tmp_path / "run" / "checkpoints"
    assert all(checkpoint_finished(checkpoints / name) for name in ("acoustic-pairs-1", "acoustic-voice-groups"))
    train_speech_space(store, cfg, tmp_path / "run")
    rerun = (tmp_path / "run" / "log.txt").read_text()[len(log):]
    assert "acoustic-voice-groups trained: step" in rerun  # the rounds were reached, their weights reloaded
    assert "pair round 1:" not in rerun and "voice-groups round:" not in rerun  # and nothing was mined again
