"""Benchmark the speech learners: one epoch's time, throughput and peak GPU memory.

Needs only torch + numpy (no faiss, gensim or safetensors; no checkpoints are written).
Data: a feature store folder (--store) or random MFCC-like frames of realistic word lengths
(30-60 frames per segment, 10 words per utterance; synthetic, speed only).

    .venv/bin/python scripts/bench_speech.py --segments 500000 --device cuda          # the H100 target
    .venv/bin/python scripts/bench_speech.py --segments 4000 --device cpu --batch-size 256 --hidden 64

Prints one JSON object (and writes it to --out when given). Target: one Speech2Vec epoch over
500k segments ≤ 60 s on one H100.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from core.atomic import write_json  # noqa: E402
from core.speech.batching import load_frames  # noqa: E402
from core.speech.toy_corpus import random_frames_store  # noqa: E402
from core.speech.training import LoopSettings, resolve_device, train  # noqa: E402


def _peak_reset(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)


def _peak(device) -> float | None:
    if device.type != "cuda":
        return None
    torch.cuda.synchronize(device)
    return round(torch.cuda.max_memory_allocated(device) / 2 ** 30, 3)


def _timed_epoch(task, settings: LoopSettings, device, warmup_steps: int) -> dict:
    """Warm up (cuDNN plans, allocator) on a few batches, then time one full epoch."""
    with tempfile.TemporaryDirectory() as tmp:
        warm = LoopSettings(**{**settings.__dict__, "stop_after_steps": warmup_steps, "log_every": 10 ** 9})
        train(task, warm, Path(tmp) / "warm")
    _peak_reset(device)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        result = train(task, settings, Path(tmp) / "run")
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - started
    return {"epoch_s": round(seconds, 3), "steps": result.steps, "samples": result.samples,
            "samples_per_s": round(result.samples / seconds, 1), "peak_gpu_gib": _peak(device),
            "final_loss": result.final_loss}


def bench_speech2vec(store, frames, args, device) -> dict:
    from core.speech.speech2vec import Speech2Vec, Speech2VecTask

    model = Speech2Vec(store.dim, args.dim, args.hidden, args.mode)
    task = Speech2VecTask(model, frames, np.arange(store.n_segments), np.asarray(store.utterance_ids),
                          args.window, args.batch_size, 50, 0)
    settings = LoopSettings(epochs=1, optimizer="sgd", lr=1e-3, grad_clip=5.0, device=str(device),
                            precision=args.precision, checkpoints=False, log_every=10 ** 9, name="speech2vec")
    out = _timed_epoch(task, settings, device, args.warmup)
    out["pairs_per_epoch"] = task.n_pairs
    out["pairs_per_s"] = round(task.n_pairs / out["epoch_s"], 1)
    return out


def bench_acoustic(store, frames, args, device) -> dict:
    from core.speech.acoustic import AugmentSettings, ContrastiveAWE, ContrastiveTask

    model = ContrastiveAWE(store.dim, args.ac_encoder, args.hidden, 128)
    task = ContrastiveTask(model, frames, np.arange(store.n_segments), AugmentSettings(max_frames=args.max_frames),
                           args.batch_size, 50, 0)
    settings = LoopSettings(epochs=1, optimizer="adam", lr=1e-3, device=str(device), precision=args.precision,
                            checkpoints=False, log_every=10 ** 9, name="acoustic")
    return _timed_epoch(task, settings, device, args.warmup)


def bench_skipgram(store, args, device) -> dict:
    """One epoch of the torch word2vec skip-gram over Zipf-distributed pseudo-word tokens.

    One token per segment, the store's utterances as sentences, SpeechConfig's skip-gram
    settings; samples are tokens. A short untimed run on the first tokens warms up first.
    """
    from core.progress import Progress
    from core.speech.config import SpeechConfig
    from core.speech.pseudo_skipgram import train_skipgram

    rng = np.random.default_rng(0)
    k = min(args.clusters, store.n_segments)
    tokens = np.minimum(rng.zipf(1.3, store.n_segments) - 1, k - 1)  # Zipf-like pseudo-word frequencies
    sentences = np.asarray(store.utterance_ids)
    counts = np.bincount(tokens, minlength=k)
    names = [f"#{i}" for i in range(k)]
    cfg = SpeechConfig()
    seen: dict = {}

    def listen(stage, done, total, metrics):
        if "message" in metrics:
            seen["trainer_log"] = metrics["message"]
        if "loss" in metrics:
            seen["final_loss"] = metrics["loss"]

    def epoch(n: int) -> None:
        train_skipgram(tokens[:n], sentences[:n], names, counts, args.dim, cfg.sg_window, cfg.sg_negatives,
                       cfg.sg_subsample, epochs=1, seed=0, backend="torch", device=str(device),
                       batch_size=args.sg_batch_size, progress=Progress(listen))

    epoch(min(len(tokens), 20_000))
    _peak_reset(device)
    started = time.perf_counter()
    epoch(len(tokens))
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - started
    return {"epoch_s": round(seconds, 3), "samples": len(tokens), "samples_are": f"tokens before sub-sampling at {cfg.sg_subsample}",
            "samples_per_s": round(len(tokens) / seconds, 1), "peak_gpu_gib": _peak(device),
            "final_loss": seen.get("final_loss"), "types": k, "trainer_log": seen.get("trainer_log")}


def toy_isomorphism(args) -> dict:
    """Both learners on the synthetic toy corpus; isomorphism with a skip-gram over its transcripts.

    The reference "text" space is skip-gram over the true word labels of the same toy utterances
    (evaluation only; the speech side never sees it). Synthetic data: a sanity check, not a result.
    """
    from core.speech.config import preset
    from core.speech.runner import train_speech_space
    from core.speech.toy_corpus import make_toy_corpus
    from core.text.skipgram import train_text_space

    store = make_toy_corpus(n_types=60, n_utterances=args.toy_utterances, words_per_utterance=8, topics=6, n_speakers=6,
                            mean_frames=30, seed=args.seed)
    utterances = np.asarray(store.utterance_ids)
    cuts = np.flatnonzero(np.diff(utterances)) + 1
    transcripts = [list(words) for words in np.split(np.asarray(store.labels, dtype=object), cuts)]
    sg = preset("unit-skipgram")  # the speech side's skip-gram settings: the spaces differ in input only
    text = train_text_space(transcripts, dim=args.dim, window=sg.sg_window, negative=sg.sg_negatives,
                            sample=sg.sg_subsample, epochs=sg.sg_epochs, min_count=1, seed=args.seed, workers=1,
                            device="cpu")
    out = {}
    common = dict(device=args.device, batch_size=256, log_every=10, seed=args.seed, s2v_hidden=args.hidden,
                  ac_hidden=args.hidden)
    runs = {"speech2vec-A": preset("paper", grouping="A", epochs=args.toy_epochs, optimizer="adam", lr=1e-3,
                                   **common),
            "speech2vec-A-sgd": preset("paper", grouping="A", epochs=args.toy_epochs, **common),
            "unit-skipgram-A": preset("unit-skipgram", grouping="A", ac_epochs=args.toy_epochs, sg_epochs=10,
                                      **common),
            "unit-skipgram-B": preset("unit-skipgram", grouping="B", clusters=60, ac_epochs=args.toy_epochs,
                                      sg_epochs=10, **common)}
    for name, cfg in runs.items():
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            m = train_speech_space(store, cfg, tmp, text_vectors=text)
            out[name] = {"isomorphism": m.get("isomorphism"), "same_different_ap": m["same_different"]["ap"],
                         "purity_held_out": m.get("purity_held_out"),
                         "held_out_type_accuracy": m.get("held_out_type_accuracy"),
                         "seconds": round(time.perf_counter() - t, 1)}
        print(f"{name}: {out[name]}", file=sys.stderr)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", default=None, help="feature store folder (default: random frames)")
    p.add_argument("--segments", type=int, default=500_000, help="random segments when no --store")
    p.add_argument("--learners", default="speech2vec,acoustic,skipgram", help="comma-separated")
    p.add_argument("--device", default="auto")
    p.add_argument("--precision", default="bf16", choices=("bf16", "fp32"))
    p.add_argument("--batch-size", type=int, default=1024, help="center segments per step")
    p.add_argument("--sg-batch-size", type=int, default=4096,
                   help="skip-gram pairs per step at most (the trainer lowers it for busy rows)")
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--dim", type=int, default=50)
    p.add_argument("--window", type=int, default=3)
    p.add_argument("--mode", default="skipgram", choices=("skipgram", "cbow"))
    p.add_argument("--ac-encoder", default="conv", choices=("conv", "gru"))
    p.add_argument("--clusters", type=int, default=5000)
    p.add_argument("--max-frames", type=int, default=120)
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    p.add_argument("--out", default=None, help="also write the JSON here")
    p.add_argument("--toy-isomorphism", action="store_true",
                   help="instead: both learners on the synthetic toy corpus, isomorphism with its transcripts")
    p.add_argument("--toy-epochs", type=int, default=10)
    p.add_argument("--toy-utterances", type=int, default=3000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    if args.toy_isomorphism:
        report = {"data": "toy corpus (synthetic)", "device": str(device), "toy": toy_isomorphism(args)}
        print(json.dumps(report, indent=2))
        if args.out:
            write_json(args.out, report)
        return 0
    t = time.perf_counter()
    if args.store:
        from core.corpus.feature_store import FeatureStore

        store = FeatureStore.open(args.store)
    else:
        store = random_frames_store(args.segments)
    frames = load_frames(store, args.max_frames).to(device)
    report = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or "cpu",
              "torch": torch.__version__, "threads": torch.get_num_threads(), "segments": store.n_segments,
              "frames": int(frames.lengths_np.sum()), "data": args.store or "random frames (synthetic)",
              "load_s": round(time.perf_counter() - t, 2), "settings": vars(args)}
    benches = {"speech2vec": lambda: bench_speech2vec(store, frames, args, device),
               "acoustic": lambda: bench_acoustic(store, frames, args, device),
               "skipgram": lambda: bench_skipgram(store, args, device)}
    for name in args.learners.split(","):
        try:
            report[name] = benches[name]()
        except RuntimeError as exc:  # e.g. a kernel without bf16 support: say so, then measure fp32
            if args.precision != "bf16":
                raise
            first_line = str(exc).splitlines()[0]
            args.precision = "fp32"
            report[name] = {"bf16_error": first_line, **benches[name](), "precision": "fp32"}
            args.precision = "bf16"
        print(f"{name}: {report[name]}", file=sys.stderr)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        write_json(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
