"""The "people's voices" experiment: one front end, one choice of training speech, every test set.

    run_voices(VoicesConfig(...), run_dir) -> metrics

1. Vocabulary: a project's speech types (the demo's), plus the ten digit words.
2. Training clips: every vocabulary word said alone by `voices` synthetic voices; with
   `train_real`, the real training speakers' word segments (speechocean762 train, placed by forced
   alignment), minus `calib_speakers` speakers kept apart to calibrate the confidence. Each
   training clip also goes through `copies` simulated microphones.
3. The encoder (core.voices.recognizer) and its type prototypes (core.voices.prototypes: one per
   training source and the source-averaged centroid; a clip is as near a type as the nearest); tests:
   - speechocean762 test speakers (never trained on): words cut from their utterances, scored
     over the whole vocabulary, and the digits among the ten digit words;
   - synthetic voices no part of the project ever used, saying the 30 most frequent words alone
     (the demo's old check) and the 500 most frequent.
   Where the project maps its speech space to a text space, the words are also read through
   that map (type → its nearest mapped text word), as the app shows them.
4. Confidence: calibrated on the held-out calibration speakers, reported on the test speakers,
   with the share of out-of-vocabulary test words that get "no good match".
Every stage's frames are cached in the run folder, so a rerun resumes.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.atomic import write_json
from core.errors import WordbridgeError
from core.progress import Progress, ensure
from core.voices.evaluate import DIGITS, text_word_scores, word_scores

UNSEEN_VOICE_START = 500  # synthetic voice indices from here on are used by nothing else


@dataclass
class VoicesConfig:
    """Everything one run depends on."""

    project: str  # project whose speech vocabulary (and text map) is the target
    frontend: dict = field(default_factory=lambda: {"name": "speech-embedding"})
    voices: int = 12
    copies: int = 2
    train_real: bool = True
    real_segments: str = ""  # folder with segments_train.tsv / segments_test.tsv (forced alignment)
    real_audio: str = ""  # folder the segment tables' audio paths are relative to (if relative)
    calib_speakers: int = 15
    epochs: int = 10
    hidden: int = 256  # encoder width (128 trains ~4x faster on a CPU)
    real_repeat: int = 4  # each recorded clip this many times per epoch
    seed: int = 0
    device: str = "auto"
    workers: int = 0
    text_space: str = "text-en"
    max_vocabulary: int = 0  # 0 = the whole speech vocabulary (smaller: tests and smoke runs)
    frames_cache: str = ""  # folder for frame caches shared by runs ("" = RUN/frames)


def run_voices(cfg: VoicesConfig, run_dir: str | Path, stages=("train", "evaluate"),
               progress: Progress | None = None) -> dict:
    """Run the experiment into `run_dir` (config.json, frame caches, recognizer, metrics.json).

    "train" makes the training clips, trains the encoder, stores the recognizer and scores the
    synthetic tests; "evaluate" scores the real test and calibration speakers with the stored
    recognizer (so training can run on a GPU machine and evaluation where the recordings are)."""
    from core.frontends import make_frontend

    progress = ensure(progress)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    # the training config stays config.json; later stages (run elsewhere, with other caches) get their own
    write_json(run_dir / ("config.json" if "train" in stages else f"config_{'_'.join(stages)}.json"), asdict(cfg))
    started = time.time()
    frontend = make_frontend(cfg.frontend)
    device = "cuda" if cfg.device == "auto" and _cuda() else ("cpu" if cfg.device == "auto" else cfg.device)
    vocabulary, speech, type_text = _vocabulary(cfg)
    progress.log(f"vocabulary {len(vocabulary)} words; front end {frontend.describe()}; device {device}")
    metrics_file = run_dir / "metrics.json"
    metrics = json.loads(metrics_file.read_text()) if metrics_file.is_file() else {"tests": {}}
    metrics.update({"config": asdict(cfg), "vocabulary": len(vocabulary), "frontend": frontend.config(),
                    "frontend_provenance": frontend.provenance()})
    ctx = _Context(cfg, run_dir, frontend, device, vocabulary, speech, type_text, progress)
    if "train" in stages:
        metrics.update(_train_stage(ctx, metrics["tests"]))
    if "prototypes" in stages:
        metrics.update(_prototypes_stage(ctx, metrics["tests"]))
    if "evaluate" in stages and cfg.real_segments:
        metrics.update(_evaluate_stage(ctx, metrics["tests"]))
    metrics.setdefault("seconds", {})[",".join(stages)] = round(time.time() - started, 1)
    write_json(metrics_file, metrics)
    return metrics


@dataclass
class _Context:
    cfg: VoicesConfig
    run_dir: Path
    frontend: object
    device: str
    vocabulary: list
    speech: object
    type_text: list | None
    progress: Progress

    def frames(self, name: str, make, copies: int = 0):
        """The FrameSet `name`, from the frame cache or made now (clips from `make()`). The cache
        file's name carries a hash of everything its frames depend on, so runs can share a cache."""
        import hashlib

        from core.voices.frameset import FrameSet, featurize

        c = self.cfg
        if name in ("real_calib", "real_test"):  # every word of those speakers, whatever the training
            key = json.dumps([name, self.frontend.config(), copies, c.seed, c.real_segments, c.calib_speakers])
        else:
            key = json.dumps([name, self.frontend.config(), copies, c.seed, c.voices, c.max_vocabulary, c.project,
                              c.real_segments, c.calib_speakers], sort_keys=True)
        folder = Path(c.frames_cache) if c.frames_cache else self.run_dir / "frames"
        path = folder / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:10]}.safetensors"
        if path.is_file():
            return FrameSet.load(path)
        t = time.time()
        clips = make()
        frames = featurize(clips, self.frontend, copies=copies, seed=self.cfg.seed, device=self.device,
                           workers=self.cfg.workers, progress=self.progress)
        frames.save(path)
        self.progress.log(f"{name}: {len(clips)} clips ({clips.seconds / 3600:.2f} h), skipped {clips.skipped}, "
                          f"{len(frames)} rows, {time.time() - t:.0f} s")
        return frames


def _train_frames(ctx: _Context):
    """The training FrameSet the config describes: synthetic voices (+ the real training speakers)."""
    from core.voices.frameset import FrameSet

    cfg = ctx.cfg
    parts = [ctx.frames("synthetic_train", lambda: _synthetic(ctx.vocabulary, range(cfg.voices), cfg, ctx.progress),
                        copies=cfg.copies)]
    if cfg.train_real:
        if not cfg.real_segments:
            raise WordbridgeError("training on real speech needs the real corpus's segment tables (real_segments)")
        real_train, _, _ = _real_tables(cfg)
        parts.append(ctx.frames("real_train", lambda: _clips(real_train, "so762", cfg, set(ctx.vocabulary)),
                                copies=cfg.copies))
    return FrameSet.concat(parts)


def _train_stage(ctx: _Context, tests: dict) -> dict:
    from core.voices.prototypes import stack
    from core.voices.recognizer import RecognizerSettings, encode_frameset, train_recognizer, type_centroids

    cfg = ctx.cfg
    train = _train_frames(ctx)
    settings = RecognizerSettings(epochs=cfg.epochs, hidden=cfg.hidden, real_repeat=cfg.real_repeat, seed=cfg.seed,
                                  device=ctx.device)
    model, loop = train_recognizer(train, settings, ctx.run_dir / "checkpoints", ctx.progress)
    ctx.progress.log(f"encoder trained: {loop.steps} steps, loss {loop.final_loss}, {loop.seconds:.0f} s")
    enc = encode_frameset(model, train, ctx.device)
    centroids, has_clips = type_centroids(enc, train.labels, train.sources, ctx.vocabulary)
    protos, made_from = _prototypes(ctx, enc, train)
    _save_recognizer(ctx.run_dir, model, centroids, ctx.vocabulary, ctx.frontend, protos, made_from)
    _synthetic_tests(ctx, model, stack(centroids, protos), tests)
    return {"types_with_clips": int(has_clips.sum()), "train_rows": len(train), "train_steps": loop.steps,
            "final_loss": loop.final_loss, "train_seconds": round(loop.seconds, 1),
            "train_sources": dict(Counter(train.sources))}


def _prototypes(ctx: _Context, enc, train) -> tuple[np.ndarray, dict]:
    """Per-source type prototypes (core.voices.prototypes) and a record of what made them (the
    source-averaged centroid is scored with them)."""
    from core.voices.prototypes import type_prototypes

    protos, names = type_prototypes(enc, train.labels, train.sources, ctx.vocabulary)
    cfg = ctx.cfg
    return protos, {"names": names, "voices": cfg.voices, "copies": cfg.copies, "train_real": cfg.train_real,
                    "rows": len(train), "sources": dict(Counter(train.sources))}


def _synthetic_tests(ctx: _Context, model, protos, tests: dict) -> None:
    """Unseen synthetic voices: the 500 most frequent words, and the 30 most frequent (the old check)."""
    from core.voices.recognizer import encode_frameset

    cfg = ctx.cfg
    # baseline for synthetic tests: the speech corpus's most frequent word (its vocabulary is by frequency)
    counts = {w: len(ctx.speech.words) - i for i, w in enumerate(ctx.speech.words)}
    unseen = ctx.frames("synthetic_unseen", lambda: _synthetic(
        _frequent(ctx.speech, min(500, cfg.max_vocabulary or 500)), range(UNSEEN_VOICE_START, UNSEEN_VOICE_START + 4), cfg, ctx.progress))
    tests["synthetic_unseen"] = _scores(ctx, encode_frameset(model, unseen, ctx.device), unseen.labels, protos, counts)
    top30 = set(_frequent(ctx.speech, 30))
    rows = [i for i, w in enumerate(unseen.labels) if w in top30]
    tests["synthetic_unseen"]["top30_words"] = word_scores(
        encode_frameset(model, unseen.subset(rows), ctx.device), [unseen.labels[i] for i in rows], protos,
        ctx.vocabulary, counts)


def _prototypes_stage(ctx: _Context, tests: dict) -> dict:
    """Recompute a stored recogniser's type prototypes from the training frames this config
    describes (e.g. a CPU's cached subset of the voices a GPU run trained on), store them, and
    score the synthetic tests again. The encoder is not touched."""
    from core.atomic import load_safetensors, save_safetensors
    from core.voices.prototypes import stack
    from core.voices.recognizer import encode_frameset

    model, _ = load_recognizer(ctx.run_dir)
    train = _train_frames(ctx)
    protos, made_from = _prototypes(ctx, encode_frameset(model, train, ctx.device), train)
    weights = load_safetensors(ctx.run_dir / "recognizer.safetensors")
    weights["assign_prototypes"] = protos = protos.astype(np.float16)  # stored and scored as the app reads them
    save_safetensors(ctx.run_dir / "recognizer.safetensors", weights)
    meta = json.loads((ctx.run_dir / "recognizer.json").read_text())
    meta["prototypes"] = made_from
    write_json(ctx.run_dir / "recognizer.json", meta)
    _synthetic_tests(ctx, model, stack(weights["assign_centroids"], protos), tests)
    return {"prototypes": made_from}


def _evaluate_stage(ctx: _Context, tests: dict) -> dict:
    from core.voices.recognizer import encode_frameset

    model, centroids = load_recognizer(ctx.run_dir)
    train, calib, test = _real_tables(ctx.cfg)
    if test is None:
        raise WordbridgeError(f"{ctx.cfg.real_segments}: no segments_test.tsv to evaluate on")
    counts = Counter(train.label)  # baseline: always the real training speakers' most frequent word
    sets = {"real_calib": ctx.frames("real_calib", lambda: _clips(calib, "so762", ctx.cfg, None)),
            "real_test": ctx.frames("real_test", lambda: _clips(test, "so762", ctx.cfg, None))}
    encoded = {name: encode_frameset(model, fs, ctx.device) for name, fs in sets.items()}
    tests["so762_test"] = _scores(ctx, encoded["real_test"], sets["real_test"].labels, centroids, counts)
    confidence = _confidence(encoded, sets, centroids, ctx.vocabulary)
    _save_calibration(ctx.run_dir, confidence["calibration"])
    return {"confidence": confidence}


def _scores(ctx: _Context, enc, labels, centroids, counts) -> dict:
    """Every score of one test set: whole vocabulary, digits, and through the text map."""
    result = {"all": word_scores(enc, labels, centroids, ctx.vocabulary, counts)}
    digit_rows = np.array([ctx.vocabulary.index(d) for d in DIGITS if d in ctx.vocabulary])
    result["digits"] = word_scores(enc, labels, centroids, ctx.vocabulary, counts, allowed=digit_rows)
    if ctx.type_text is not None:
        vocab = set(ctx.vocabulary)
        inside = [i for i, w in enumerate(labels) if w in vocab]
        result["text_words"] = text_word_scores(enc[inside], [labels[i] for i in inside], centroids, ctx.type_text)
    return result


def _cuda() -> bool:
    import torch

    return torch.cuda.is_available()


def _vocabulary(cfg: VoicesConfig):
    """(vocabulary, speech Embeddings, type → mapped text word or None) from the project."""
    from core.project import Project

    project = Project.open(cfg.project, read_only=True)  # never upgrade or touch the target project
    speech_id = next((s.id for s in project.manifest.spaces if s.kind == "speech"), None)
    if speech_id is None:
        raise WordbridgeError(f"{cfg.project}: the project has no speech space")
    speech = project.space(speech_id)
    words = list(speech.words)
    if cfg.max_vocabulary:
        words = words[:cfg.max_vocabulary]
    vocabulary = words + [d for d in DIGITS if d not in words]
    by_word = mapped_text_words(project, speech_id, cfg.text_space)
    type_text = None if by_word is None else [by_word.get(w) for w in vocabulary]
    return vocabulary, speech, type_text


def mapped_text_words(project, speech_id: str, text_id: str) -> dict[str, str] | None:
    """Each speech type's nearest text word (NN) through the project's speech → text map, or None
    when the project has no such map: how the app reads a speech type as a word."""
    from core.classify import aligned_space_maps

    mapping = next((m for m in project.manifest.mappings if m.source == speech_id and m.target == text_id), None)
    if mapping is None:
        return None
    speech, text = project.space(speech_id), project.space(text_id)
    map_source, map_target = aligned_space_maps(project.mapping(mapping.id))
    nearest = np.argmax(map_source(speech.vectors) @ map_target(text.vectors).T, axis=1)
    return {w: text.words[j] for w, j in zip(speech.words, nearest)}


def _frequent(speech, n: int) -> list[str]:
    """The n most frequent speech types (the speech space's order is by frequency)."""
    return list(speech.words[:n])


_SYNTHESISED: dict = {}  # runs in one process (one front end after another) synthesise once


def _synthetic(words, indices, cfg: VoicesConfig, progress):
    from core.synth.voices import voice_for_speaker
    from core.voices.clips import synthetic_word_clips

    key = (tuple(words), tuple(indices), cfg.seed)
    if key not in _SYNTHESISED:
        voices = [voice_for_speaker("en", i, cfg.seed) for i in indices]
        _SYNTHESISED.clear()  # keep one set: they are large
        _SYNTHESISED[key] = synthetic_word_clips(list(words), voices, workers=cfg.workers, progress=progress)
    return _SYNTHESISED[key]


def _real_tables(cfg: VoicesConfig):
    """(train, calibration, test) segment tables; calibration = `calib_speakers` train speakers."""
    from core.segments import SegmentTable

    folder = Path(cfg.real_segments)
    train = SegmentTable.load(folder / "segments_train.tsv")
    # the test table is needed to evaluate, not to train (the GPU half may travel without it)
    test = SegmentTable.load(folder / "segments_test.tsv") if (folder / "segments_test.tsv").is_file() else None
    if test is not None and set(train.speaker) & set(test.speaker):
        raise WordbridgeError("real training and test segments share speakers")
    return (*split_calibration(train, cfg.calib_speakers, cfg.seed), test)


def split_calibration(train, n_speakers: int, seed: int):
    """(training, calibration) parts of a real training segment table: the calibration part is
    `n_speakers` of its speakers drawn with `seed` (the speakers `run_voices` holds out of training)."""
    speakers = sorted({s for s in train.speaker if s})
    calib = set(np.random.default_rng(seed).permutation(speakers)[:n_speakers].tolist())
    is_calib = np.array([s in calib for s in train.speaker])
    return train.subset(np.flatnonzero(~is_calib)), train.subset(np.flatnonzero(is_calib))


def _clips(table, source: str, cfg: VoicesConfig, labels):
    from core.voices.clips import segment_clips

    return segment_clips(table, source, labels=labels, audio_root=cfg.real_audio or None)


def _confidence(encoded, sets, centroids, vocabulary) -> dict:
    """Fit the calibration on the calibration speakers; report it on the test speakers."""
    from core.voices.confidence import best_and_margin, fit_calibration, reliability
    from core.voices.prototypes import type_similarities

    index = {w: i for i, w in enumerate(vocabulary)}
    out = {}
    for name in ("real_calib", "real_test"):
        labels = sets[name].labels
        sims = type_similarities(encoded[name], centroids)
        best, margin = best_and_margin(sims)
        truth = np.array([index.get(w, -1) for w in labels])
        right = np.argmax(sims, axis=1) == truth
        if name == "real_calib":
            inside = truth >= 0
            cal = fit_calibration(best[inside], margin[inside], right[inside], "speechocean762 calibration speakers")
            out["calibration"] = cal.to_dict()
            continue
        inside = truth >= 0
        prob = cal.probability(best, margin)
        out["test"] = {"reliability_in_vocabulary": reliability(prob[inside], right[inside]),
                       "no_match_in_vocabulary": round(float(cal.no_match(best[inside]).mean()), 4),
                       "no_match_out_of_vocabulary": round(float(cal.no_match(best[~inside]).mean()), 4)
                       if (~inside).any() else None,
                       "top1_when_confident": round(float(right[inside & (prob >= 0.5)].mean()), 4)
                       if (inside & (prob >= 0.5)).any() else None,
                       "share_confident": round(float((prob[inside] >= 0.5).mean()), 4)}
    return out


def _save_recognizer(run_dir: Path, model, centroids, vocabulary, frontend, prototypes=None,
                     prototypes_from: dict | None = None) -> None:
    """recognizer.safetensors (encoder.* + centroids [+ prototypes]) and recognizer.json
    (architecture, words, front end, what the prototypes were computed from)."""
    from core.atomic import save_safetensors

    weights = {"encoder." + k: v.detach().cpu().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    weights["assign_centroids"] = np.ascontiguousarray(centroids, dtype=np.float32)
    if prototypes is not None:  # float16: half the size, cosines move by ~1e-3
        weights["assign_prototypes"] = np.ascontiguousarray(prototypes, dtype=np.float16)
    save_safetensors(run_dir / "recognizer.safetensors", weights)
    meta = {"architecture": model.architecture(), "vocabulary": vocabulary, "frontend": frontend.config(),
            "calibration": None}
    if prototypes_from is not None:
        meta["prototypes"] = prototypes_from
    write_json(run_dir / "recognizer.json", meta)


def _save_calibration(run_dir: Path, calibration: dict) -> None:
    meta = json.loads((run_dir / "recognizer.json").read_text())
    meta["calibration"] = calibration
    write_json(run_dir / "recognizer.json", meta)


def load_recognizer(run_dir: str | Path):
    """(model on the CPU, prototypes [P, V, dim] or centroids [V, dim]) of a run folder's stored recognizer."""
    import torch

    from core.atomic import load_safetensors
    from core.speech.type_space import build_model

    run_dir = Path(run_dir)
    if not (run_dir / "recognizer.safetensors").is_file():
        raise WordbridgeError(f"{run_dir}: no trained recognizer (run the train stage first)")
    weights = load_safetensors(run_dir / "recognizer.safetensors")
    meta = json.loads((run_dir / "recognizer.json").read_text())
    model = build_model(meta["architecture"])
    model.load_state_dict({k[len("encoder."):]: torch.from_numpy(v) for k, v in weights.items()
                           if k.startswith("encoder.")})
    from core.voices.prototypes import stack

    # centroids + per-source prototypes where the run has them (core.voices.prototypes)
    return model.eval(), stack(weights["assign_centroids"], weights.get("assign_prototypes"))
