"""Fast sweep of the speaker adversary on configuration B's first (view-only) stage, SYNTHETIC speech:
train the acoustic encoder for `--epochs` epochs on augmented views with a gradient-reversal
speaker classifier of weight W (0 = none), then score the embeddings: held-out same-different
AP, a fresh linear speaker probe (b_probe.speaker_probe), the adversary's own accuracy over the
last 20 batches, and k-means (K 1,500) clusters per frequent word / speaker share / purity.
Word labels only score; speakers of the training voices train the adversary.

    PYTHONPATH=.:docs/runs/2026-11-25-s5-cpu-b-speaker-adversary .venv/bin/python \
        docs/runs/2026-11-25-s5-cpu-b-speaker-adversary/adv_sweep.py STORE --weights 0,1,5 [--classifier-lr-factor F]
        [--same-speaker-batches] [--out JSON]
"""
import argparse, collections, json, time
import numpy as np
import torch
from core.corpus.feature_store import FeatureStore
from core.speech.acoustic import AugmentSettings, ContrastiveAWE, ContrastiveTask, SpeakerAdversarialAWE
from core.speech.batching import load_frames
from core.speech.clustering import kmeans, label_ids, nearest_centroid
from core.speech.metrics import cluster_purity, same_different_ap
from core.speech.runner import speaker_codes, split_segments
from core.speech.speech2vec import embed_segments
from core.speech.training import LoopSettings, train
from core.vectors import unit_rows
from b_probe import explained_share, speaker_probe


def main():
    p = argparse.ArgumentParser()
    p.add_argument("store")
    p.add_argument("--weights", default="0,1,5")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--clusters", type=int, default=1500)
    p.add_argument("--classifier-lr-factor", type=float, default=1.0,
                   help="the speaker classifier's Adam learning rate relative to the encoder's")
    p.add_argument("--same-speaker-batches", action="store_true",
                   help="every batch from one training speaker (in-batch negatives share the voice)")
    p.add_argument("--out", default="")
    args = p.parse_args()
    torch.set_num_threads(2)
    store = FeatureStore.open(args.store)
    frames = load_frames(store, 80, None)
    train_idx, held_idx = split_segments(store, True)
    labels, spk = label_ids(store.labels), np.asarray(store.speakers)
    codes, names = speaker_codes(store.speakers, train_idx)
    rows = []
    # the classifier's learning rate relative to the encoder's (core's default is 10; the first
    # sweep, adv_sweep_viewonly.json, ran before that existed, i.e. with factor 1)
    SpeakerAdversarialAWE.CLASSIFIER_LR_FACTOR = args.classifier_lr_factor
    for w in [float(x) for x in args.weights.split(",")]:
        t0 = time.time()
        torch.manual_seed(0)
        awe = ContrastiveAWE(store.dim, "conv", 128, 64, 0.1)
        model = SpeakerAdversarialAWE(awe, len(names), w) if w > 0 else awe
        accs = []
        if w > 0:
            hook = model.register_forward_hook(lambda m, i, o: accs.append(float(m.last_accuracy)))
        task = ContrastiveTask(model, frames, train_idx, AugmentSettings(0.2, 0.2, 0.1, 0.1, 80), 256, 50, 0,
                               speakers=codes if w > 0 else None,
                               batch_groups=codes if args.same_speaker_batches else None)
        res = train(task, LoopSettings(epochs=args.epochs, optimizer="adam", lr=1e-3, device="cpu", seed=0,
                                       checkpoints=False, name=f"w{w}"), "/tmp/unused-checkpoints")
        awe.eval()
        emb = embed_segments(awe.encode, frames, batch_size=4096, device=torch.device("cpu"))
        e = unit_rows(emb)
        c, _ = kmeans(e[train_idx], args.clusters, 15, 0, "auto", "cpu")
        type_of = nearest_centroid(e, unit_rows(c))
        lab = np.array(store.labels, dtype=object)
        words30 = [x for x, _ in collections.Counter(lab[train_idx]).most_common(30)]
        share = [explained_share(type_of, train_idx[lab[train_idx] == x], spk) for x in words30]
        splits = []
        for x, n in collections.Counter(lab[train_idx]).most_common(50):
            cnt = collections.Counter(type_of[train_idx[lab[train_idx] == x]].tolist())
            splits.append(sum(1 for v in cnt.values() if v >= 0.1 * n))
        row = {"weight": w, "classifier_lr_factor": args.classifier_lr_factor,
               "same_speaker_batches": args.same_speaker_batches, "final_loss": res.final_loss,
               "adversary_acc_last20": float(np.mean(accs[-20:])) if accs else None,
               "held_out_ap": same_different_ap(e[held_idx], labels[held_idx])["ap"],
               "speaker_probe_acc": speaker_probe(emb[train_idx], codes[train_idx]),
               "purity_train": cluster_purity(type_of[train_idx], labels[train_idx]),
               "purity_held_out": cluster_purity(type_of[held_idx], labels[held_idx]),
               "speaker_share_median": float(np.median(share)),
               "clusters_per_word_median": float(np.median(splits)), "minutes": round((time.time() - t0) / 60, 2)}
        print(json.dumps(row), flush=True)
        rows.append(row)
    if args.out:
        json.dump({"store": args.store, "args": vars(args), "rows": rows}, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
