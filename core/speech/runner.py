"""One speech-space run from a feature store to a type space, with its config, metrics and log.

The run is built in a hidden folder next to the run folder (`.<name>.partial`,
`core.run_folder.resumable_run_folder`) and renamed into place when it finishes: a killed or
cancelled run stays there, with its checkpoints, for the next run with the same settings to
continue ("resumed from step N"), and never mixes with a finished run under the run folder.

Stages (each resumable; a killed run rerun with the same settings continues where it stopped):
  speech2vec:     train Speech2Vec → encode every segment → types (labels or k-means) → type means
  unit-skipgram:  train acoustic embeddings → encode → types (labels or k-means) → skip-gram over
                  the pseudo-word token stream
Everything a stage needs from the previous one is on disk (`segments.safetensors`,
`grouping.json`), so with several processes (torchrun) rank 0 computes it and the others read it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, NamedTuple

import numpy as np
import torch

from core.atomic import load_safetensors, save_safetensors, write_json, write_text
from core.embeddings import Embeddings
from core.errors import InputFileError, WordbridgeError
from core.progress import Progress, ensure
from core.run_folder import partial_folder, resumable_run_folder
from core.speech import clustering, metrics
from core.speech.batching import load_frames
from core.speech.config import SpeechConfig
from core.vectors import unit_rows
from core.speech.training import (LoopSettings, barrier, checkpoint_finished, distributed_context,
                                  resolve_device, train)
from core.speech.type_space import SpeechTypeSpace, label_centroids, save_type_space

# settings that may change between a killed run and its resumption
RUNTIME_ONLY = ("device", "num_workers", "data_on_device", "checkpoint_every", "log_every")
SEGMENTS_FILE = "segments.safetensors"
GROUPING_FILE = "grouping.json"


class RunLog:
    """Timestamped lines in `log.txt`, rewritten atomically on every line; echoed to progress."""

    def __init__(self, path: Path, progress: Progress, enabled: bool = True):
        self.path, self.progress, self.enabled = path, progress, enabled
        self.lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []

    def __call__(self, message: str) -> None:
        self.progress.log(message)
        if self.enabled:
            self.lines.append(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}")
            write_text(self.path, "\n".join(self.lines) + "\n")


def check_run_dir(run_dir: Path, cfg: SpeechConfig, resume: bool) -> None:
    """A run folder may only be continued with the settings it was started with."""
    path = run_dir / "config.json"
    if not path.is_file():
        if resume:
            raise WordbridgeError(f"{run_dir}: nothing to resume (no config.json)")
        return
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(path, f"damaged run config, not JSON ({getattr(exc, 'msg', exc)}); "
                                   "use another --out folder or delete this one", getattr(exc, "lineno", None)) from None
    stored = data.get("speech", {}) if isinstance(data, dict) else None
    if not isinstance(stored, dict):
        raise InputFileError(path, "damaged run config: expected a JSON object with a 'speech' table")
    # read through from_dict so that settings retired since (sg_lr) do not count as a change
    old = SpeechConfig.from_dict(stored, str(path)).to_dict() if stored else {}
    new = cfg.to_dict()
    changed = sorted(k for k in set(old) | set(new) if k not in RUNTIME_ONLY and old.get(k) != new.get(k))
    if changed:
        unfinished = run_dir.name.startswith(".") and run_dir.name.endswith(".partial")
        raise WordbridgeError(f"{run_dir} holds {'an unfinished' if unfinished else 'a'} run with other settings "
                              f"({', '.join(changed)}); use another --out folder"
                              + (", or delete that folder to start over" if unfinished else ""))


def split_segments(store, exclude_held_out: bool) -> tuple[np.ndarray, np.ndarray]:
    """(training segments, held-out segments): held-out speakers' segments are kept for evaluation."""
    held = set((store.metadata or {}).get("held_out_speakers") or [])
    is_held = np.array([s in held for s in store.speakers], dtype=bool) if held else \
        np.zeros(store.n_segments, dtype=bool)
    if not exclude_held_out:
        return np.arange(store.n_segments), np.flatnonzero(is_held)
    return np.flatnonzero(~is_held), np.flatnonzero(is_held)


def train_speech_space(store, cfg: SpeechConfig, run_dir: str | Path, progress: Progress | None = None,
                       resume: bool = False, store_path: str | None = None, text_vectors: Embeddings | None = None,
                       stop_after_steps: int | None = None, run_notes: dict | None = None) -> dict:
    """Train the configured learner on `store`, write the run folder, return the metrics.

    `text_vectors` is used only to measure isomorphism after training, never for training.
    `stop_after_steps` stops the first training stage early with a checkpoint (tests, time limits).
    `run_notes` are written into config.json beside the settings (e.g. the command line's
    "cpu_sized": which settings it chose for the CPU instead of the paper's).
    """
    progress = ensure(progress)
    run_dir = Path(run_dir)
    ctx = distributed_context(cfg.device)
    if not ctx.is_main:  # rank 0 holds the lock and makes the partial folder before the first barrier
        return _train_locked(store, cfg, partial_folder(run_dir), progress, resume, store_path, text_vectors,
                             stop_after_steps, ctx, run_notes or {}, run_dir)
    # one process trains into a run folder at a time: a second run (another train-speech, the app)
    # pointed at the same folder is refused before it reads or writes anything there
    with resumable_run_folder(run_dir, check=lambda folder: check_run_dir(folder, cfg, resume)) as run:
        result = _train_locked(store, cfg, run.path, progress, resume, store_path, text_vectors,
                               stop_after_steps, ctx, run_notes or {}, run_dir)
        if "stopped_at_step" not in result:
            run.commit()
        return result


def _train_locked(store, cfg, run_dir, progress, resume, store_path, text_vectors, stop_after_steps, ctx,
                  run_notes, out) -> dict:
    """Train into `run_dir` (the partial folder that becomes `out` when the run finishes)."""
    device = resolve_device(cfg.device, ctx.local_rank)
    if ctx.is_main:
        write_json(run_dir / "config.json", {"speech": cfg.to_dict(), "store": store_path,
                                             "synthetic": bool((store.metadata or {}).get("synthetic", False)),
                                             "world_size": ctx.world, **run_notes})
    barrier(ctx)
    log = RunLog(run_dir / "log.txt", progress, enabled=ctx.is_main)
    log(f"{cfg.learner} / configuration {cfg.grouping} on {store.n_segments} segments, device {device}, "
        f"{ctx.world} process(es)")
    if run_notes.get("cpu_sized"):
        whose = "the paper's" if cfg.learner == "speech2vec" else "its defaults"
        log(f"CPU-sized by the command line ({whose} in brackets): " + ", ".join(
            f"{k} {v['used']} ({v['paper']})" for k, v in run_notes["cpu_sized"].items()))
    torch.manual_seed(cfg.seed)
    frames = load_frames(store, cfg.max_frames, progress)
    if cfg.data_on_device and cfg.num_workers == 0:
        frames = frames.to(device)
    train_idx, held_idx = split_segments(store, cfg.exclude_held_out)
    label_ids = clustering.label_ids(store.labels)
    timings: dict = {}

    encoder, loop = _train_encoder(cfg, store, frames, train_idx, label_ids, run_dir, progress, ctx,
                                   stop_after_steps, log)
    timings["encoder_s"] = round(loop.seconds, 3)
    if not loop.finished:
        log(f"stopped after step {loop.steps} (checkpoint written)")
        return {"stopped_at_step": loop.steps}
    if ctx.is_main and not (run_dir / GROUPING_FILE).is_file():
        t = time.time()
        _encode_and_group(cfg, store, frames, encoder, train_idx, device, run_dir, progress, log)
        timings["encode_group_s"] = round(time.time() - t, 3)
    barrier(ctx)
    seg_emb, type_of, names, counts, centroids, prototypes = _read_grouping(run_dir)

    sg_loop = None
    if cfg.learner == "speech2vec":
        vectors = clustering.type_means(seg_emb, type_of, train_idx, len(names))
        type_space = Embeddings(names, vectors, counts, modality="speech")
    else:
        type_space, sg_loop = _train_skipgram(cfg, store, type_of, train_idx, names, counts, run_dir,
                                              progress, ctx, log)
        if cfg.regress_voices and not cfg.uses_labels:
            from core.speech.type_join import voice_free_space

            type_space = voice_free_space(type_space, type_of, train_idx, np.asarray(store.speakers))
            log("voices regressed out of the type space")
        timings["skipgram_s"] = round(sg_loop.seconds, 3) if sg_loop else None
    barrier(ctx)  # every rank has read the partial folder before rank 0 renames it into place
    if not ctx.is_main:
        return {}
    if centroids is None:
        centroids = label_centroids(seg_emb, type_of, train_idx, len(names))
    save_type_space(run_dir, SpeechTypeSpace(type_space, encoder.cpu(), unit_rows(centroids), {
        "learner": cfg.learner, "grouping": cfg.grouping, "max_frames": cfg.max_frames,
        "feat_dim": int(store.dim), "synthetic": bool((store.metadata or {}).get("synthetic", False))},
        prototypes))
    result = _metrics(cfg, store, seg_emb, type_of, names, centroids, train_idx, held_idx, label_ids,
                      type_space, text_vectors)
    result.update({"loss_history": loop.history, "encoder_steps": loop.steps,
                   "encoder_samples_per_s": round(loop.samples / loop.seconds, 1) if loop.seconds else None,
                   "skipgram_history": sg_loop.history if sg_loop else None, "timings": timings,
                   "synthetic": bool((store.metadata or {}).get("synthetic", False))})
    write_json(run_dir / "metrics.json", result)
    log(f"done: {len(names)} types; metrics in {out / 'metrics.json'}")
    return result


def _loop_settings(cfg: SpeechConfig, name: str, epochs: int, optimizer: str, lr: float,
                   stop_after_steps: int | None) -> LoopSettings:
    return LoopSettings(epochs=epochs, optimizer=optimizer, lr=lr, momentum=cfg.momentum,
                        grad_clip=cfg.grad_clip if name == "speech2vec" else 0.0, device=cfg.device,
                        precision=cfg.precision, seed=cfg.seed, checkpoint_every=cfg.checkpoint_every,
                        log_every=cfg.log_every, num_workers=cfg.num_workers,
                        stop_after_steps=stop_after_steps, name=name)


def _train_encoder(cfg, store, frames, train_idx, label_ids, run_dir, progress, ctx, stop_after_steps, log):
    if cfg.learner == "speech2vec":
        from core.speech.speech2vec import Speech2Vec, Speech2VecTask

        model = Speech2Vec(store.dim, cfg.dim, cfg.s2v_hidden, cfg.s2v_mode)
        task = Speech2VecTask(model, frames, train_idx, np.asarray(store.utterance_ids), cfg.s2v_window,
                              cfg.batch_size, cfg.bucket_batches, cfg.seed)
        log(f"speech2vec: {len(task.train_idx)} centers, {task.n_pairs} pairs per epoch")
        settings = _loop_settings(cfg, "speech2vec", cfg.epochs, cfg.optimizer, cfg.lr, stop_after_steps)
    else:
        from core.speech.acoustic import AugmentSettings, ContrastiveAWE, ContrastiveTask

        if cfg.ac_encoder == "mean":  # nothing to train: the types come from the front end's pooled frames
            from core.speech.training import TrainResult

            log("acoustic encoder 'mean': each segment's mean frame, no training")
            return ContrastiveAWE(store.dim, "mean", cfg.ac_hidden, store.dim, cfg.ac_temperature), \
                TrainResult(0, 0, True)
        positives = cfg.ac_positives if cfg.ac_positives != "auto" else ("labels" if cfg.uses_labels else "pairs")
        use_labels = positives == "labels"
        model = ContrastiveAWE(store.dim, cfg.ac_encoder, cfg.ac_hidden, cfg.ac_dim, cfg.ac_temperature)
        aug = AugmentSettings(cfg.aug_time_mask, cfg.aug_stretch, cfg.aug_noise, cfg.aug_crop, cfg.max_frames)
        task = ContrastiveTask(model, frames, train_idx, aug, cfg.batch_size, cfg.bucket_batches, cfg.seed,
                               labels=label_ids if use_labels else None)
        log(f"acoustic embeddings: {len(task.train_idx)} segments, positives from "
            f"{'other tokens of the same label' if use_labels else 'augmented views'}")
        settings = _loop_settings(cfg, "acoustic", cfg.ac_epochs, "adam", cfg.ac_lr, stop_after_steps)
    result = train(task, settings, run_dir / "checkpoints" / settings.name, progress, ctx, log)
    if result.final_loss is not None:
        log(f"{settings.name} trained: step {result.steps}, loss {result.final_loss:.4f}")
    if cfg.learner == "speech2vec" or positives != "pairs" or not result.finished:
        return model, result
    return model, _train_on_mined_pairs(cfg, store, frames, model, task, train_idx, run_dir, progress, ctx,
                                        stop_after_steps, log, result)


class TrainingRound(NamedTuple):
    """One round of group-trained encoder training after the view-trained one."""

    checkpoint: str  # its checkpoint folder (a killed run resumes inside it)
    title: str  # how the log and the progress bar name it
    seed: int  # data seed of its batches
    find_groups: Callable  # training segments' embeddings -> (group of each segment, summary dict)
    start_weights: dict | None  # weights it starts from; None: the encoder as the last round left it


def _train_on_mined_pairs(cfg, store, frames, model, task, train_idx, run_dir, progress, ctx, stop_after_steps,
                          log, result):
    """`cfg.ac_pair_rounds` rounds: mine DTW-verified cross-speaker pairs with the encoder so far,
    then train it further with group-mates as positives (core/speech/pair_mining.py); then, with
    `cfg.voice_groups`, one round on groups from the voices' shared space (core/speech/voice_space).
    Each round has its own checkpoint folder, so a killed run resumes inside the round it was in."""
    from core.speech import pair_mining
    from core.speech.acoustic import ContrastiveTask
    from core.speech.voice_space import VoiceGroupSettings, voice_groups

    speakers, missing = pair_mining.pairing_groups(store.speakers, store.utterance_ids)
    if missing:
        log(f"{missing} of {store.n_segments} segments have no speaker id: their pairs are mined across "
            "recordings and their frames normalised per recording")
    dtw_frames = pair_mining.speaker_normalised(frames, speakers)

    def dtw_pairs(seg_emb):
        return pair_mining.mine_pair_groups(seg_emb, dtw_frames, train_idx, speakers, store.n_segments)

    rounds = [TrainingRound(f"acoustic-pairs-{n}", f"pair round {n}", cfg.seed + n, dtw_pairs, None)
              for n in range(1, cfg.ac_pair_rounds + 1)]
    if cfg.voice_groups:
        # the DTW rounds only make the space the groups come from: the encoder that is kept trains
        # from the view-trained weights on the groups alone (session 20's recipe, RESULTS session 22)
        view_weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
        voice_settings = VoiceGroupSettings.of(cfg, resolve_device(cfg.device))
        rounds.append(TrainingRound("acoustic-voice-groups", "voice-groups round", cfg.seed + 1,
                                    lambda seg_emb: voice_groups(seg_emb, train_idx, speakers, store.n_segments,
                                                                 voice_settings),
                                    view_weights))
    seconds, samples, steps, history = result.seconds, result.samples, result.steps, list(result.history)
    for round_ in rounds:
        settings = _loop_settings(cfg, round_.checkpoint, cfg.ac_epochs, "adam", cfg.ac_lr, stop_after_steps)
        ckpt_dir = run_dir / "checkpoints" / settings.name
        pseudo = None  # a round finished before a resume only reloads its weights: no need to mine again
        if not checkpoint_finished(ckpt_dir):
            progress.set_stage(f"{round_.title}: finding groups")
            pseudo, summary = round_.find_groups(_embed_training(model, frames, train_idx))
            log(f"{round_.title}: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in summary.items()))
            if summary["grouped_segments"] < 2:
                log(f"{round_.title}: too few grouped segments to train on; the encoder stays as it is")
                break
            if round_.start_weights is not None:
                model.load_state_dict(round_.start_weights)
        pair_task = ContrastiveTask(model, frames, train_idx, task.aug, cfg.batch_size, cfg.bucket_batches,
                                    round_.seed, labels=pseudo)
        result = train(pair_task, settings, ckpt_dir, progress, ctx, log)
        # one loss curve: each round's steps continue after the previous rounds'
        history += [[step + steps, epoch, loss] for step, epoch, loss in result.history]
        seconds, samples, steps = seconds + result.seconds, samples + result.samples, steps + result.steps
        if not result.finished:
            break
        if result.final_loss is not None:
            log(f"{settings.name} trained: step {result.steps}, loss {result.final_loss:.4f}")
    result.seconds, result.samples, result.steps, result.history = seconds, samples, steps, history
    return result


def _embed_training(model, frames, train_idx) -> np.ndarray:
    from core.speech.speech2vec import embed_segments

    model.eval()
    seg_emb = embed_segments(model.encode, frames, train_idx, batch_size=4096, device=next(model.parameters()).device)
    model.train()
    return seg_emb


def _encode_and_group(cfg, store, frames, encoder, train_idx, device, run_dir, progress, log):
    from core.speech.speech2vec import embed_segments

    progress.set_stage("encoding segments")
    encoder.eval()
    use_bf16 = cfg.precision == "bf16" and device.type == "cuda"
    seg_emb = embed_segments(encoder.encode, frames, batch_size=4096, device=device,
                             autocast_dtype=torch.bfloat16 if use_bf16 else None)
    if cfg.uses_labels:
        grouping = clustering.group_by_labels(store.labels, train_idx)
        log(f"configuration A: {len(grouping.names)} word types from labels")
    else:
        progress.set_stage("k-means")
        k = min(cfg.clusters, len(train_idx))
        if k < cfg.clusters:
            log(f"k-means: K {cfg.clusters} lowered to {k}, the number of training segments")
        grouping = clustering.group_by_kmeans(seg_emb, train_idx, k, cfg.kmeans_iters, cfg.seed,
                                              cfg.kmeans_backend, device, progress)
        log(f"k-means: {len(grouping.names)} non-empty clusters of {k}")
        if cfg.join_types and cfg.learner == "unit-skipgram":
            grouping = _join_types(cfg, store, seg_emb, grouping, train_idx, run_dir, progress, log)
    tensors = {"embedding": torch.from_numpy(seg_emb), "type_of": torch.from_numpy(grouping.type_of)}
    if grouping.centroids is not None:
        tensors["centroids"] = torch.from_numpy(np.ascontiguousarray(grouping.centroids))
    if grouping.prototypes is not None:
        tensors["prototypes"] = torch.from_numpy(np.ascontiguousarray(grouping.prototypes, dtype=np.float32))
    save_safetensors(run_dir / SEGMENTS_FILE, tensors)
    write_json(run_dir / GROUPING_FILE, {"names": grouping.names, "counts": grouping.counts.tolist()})


def _join_types(cfg, store, seg_emb, grouping, train_idx, run_dir, progress, log):
    """The k-means clusters joined into `cfg.join_types` types by sound and voice-free context
    (core.speech.type_join); the context is a skip-gram space over the clusters' own stream."""
    from core.speech.type_join import join_grouping

    if cfg.join_types >= len(grouping.names):  # a small store: k-means found fewer clusters than that
        log(f"types not joined: k-means found {len(grouping.names)} clusters, not more than join_types {cfg.join_types}")
        return grouping
    progress.set_stage("joining types")
    space, _ = _train_skipgram(cfg, store, grouping.type_of, train_idx, grouping.names, grouping.counts, run_dir,
                               progress, None, log)
    joined = join_grouping(grouping, seg_emb, train_idx, np.asarray(store.speakers), space.vectors,
                           cfg.join_types, cfg.join_acoustic_weight)
    log(f"types joined by sound and context: {len(grouping.names)} clusters → {len(joined.names)} types")
    return joined


def _read_grouping(run_dir: Path):
    tensors = load_safetensors(run_dir / SEGMENTS_FILE, torch=True)
    info = json.loads((run_dir / GROUPING_FILE).read_text(encoding="utf-8"))
    centroids = tensors["centroids"].numpy() if "centroids" in tensors else None
    prototypes = tensors["prototypes"].numpy() if "prototypes" in tensors else None
    return (tensors["embedding"].numpy(), tensors["type_of"].numpy(), info["names"],
            np.asarray(info["counts"], dtype=np.int64), centroids, prototypes)


def _train_skipgram(cfg, store, type_of, train_idx, names, counts, run_dir, progress, ctx, log):
    from core.speech import pseudo_skipgram as psg

    tokens, sentences = psg.token_stream(type_of, np.asarray(store.utterance_ids), train_idx)
    log(f"skip-gram over {len(tokens)} pseudo-word tokens, {len(names)} types")
    backend = cfg.sg_backend
    if backend == "auto":
        import importlib.util

        backend = "gensim" if importlib.util.find_spec("gensim") is not None else "torch"
    log(f"skip-gram backend: {backend}")
    emb = psg.train_skipgram(tokens, sentences, names, counts, cfg.dim, cfg.sg_window, cfg.sg_negatives,
                             cfg.sg_subsample, cfg.sg_epochs, cfg.seed, backend=backend, device=cfg.device,
                             batch_size=cfg.sg_batch_size, progress=progress)
    return emb, None


def _metrics(cfg, store, seg_emb, type_of, names, centroids, train_idx, held_idx, label_ids, type_space,
             text_vectors) -> dict:
    out: dict = {"learner": cfg.learner, "grouping": cfg.grouping, "segments": int(store.n_segments),
                 "train_segments": int(len(train_idx)), "held_out_segments": int(len(held_idx)),
                 "types": len(names)}
    labelled = label_ids >= 0
    if labelled.sum() >= 2:
        eval_idx, where = (held_idx, "held_out") if labelled[held_idx].sum() >= 2 else (train_idx, "train")
        sd = metrics.same_different_ap(seg_emb[eval_idx], label_ids[eval_idx], seed=cfg.seed)
        out["same_different"] = {**sd, "segments_from": where}
        if not cfg.uses_labels:
            out["purity_train"] = metrics.cluster_purity(type_of[train_idx], label_ids[train_idx])
            if len(held_idx):
                out["purity_held_out"] = metrics.cluster_purity(type_of[held_idx], label_ids[held_idx])
        elif len(held_idx):
            # spoken word classification inside the speech space: nearest type centroid vs label
            sims = unit_rows(seg_emb[held_idx]) @ unit_rows(centroids).T
            guess = np.array(names, dtype=object)[sims.argmax(1)]
            truth = [store.labels[i] for i in held_idx]
            ok = [g == t for g, t in zip(guess, truth) if t]
            out["held_out_type_accuracy"] = float(np.mean(ok)) if ok else None
    if text_vectors is not None:
        words = None if cfg.uses_labels else metrics.majority_words(type_of, store.labels, len(names))
        out["isomorphism"] = metrics.isomorphism(type_space, text_vectors, words)
    return out
