"""An experiment from its config to a run folder: cached stages, then metrics.json and results.md.

Stages (core.pipeline.stages; a rerun skips finished ones, a killed one resumes in its folder):
    corpus                  synthesise the speech corpus (espeak-ng) or point at an existing one
    features-<reader>       feature store: textgrid (A*, A, B), vad or energy (VAD), chunks (F)
    text-<name>             one skip-gram text space per [[text]] entry
    speech-<learner>-<cfg>-s<seed>          a speech type space (A* shares A's)
    eval-<learner>-<cfg>-<text>-s<seed>     alignment (unsupervised; supervised for A*) + scores; a
                                            [[text]] with `pivot` translates through that text's
                                            evaluation and a text-to-text map (core.pipeline.pivot)
The report (metrics.json with every number, results.md with mean ± std tables) is rewritten at
the end of every run from the finished evaluation stages. Settings that only change speed
(device, worker counts) are not part of stage keys, so a run started on the CPU can be finished
on a GPU. See core.pipeline.speech_eval for what the scores mean.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from core.atomic import write_json, write_text
from core.errors import WordbridgeError
from core.pipeline.config import GROUPING_OF, LEARNER_PRESET, ExperimentConfig
from core.pipeline.stages import Stage, is_done, run_stage, stage_summary
from core.progress import Progress, ensure

STAGE_KINDS = ("corpus", "features", "text", "speech", "eval", "report")
FEATURE_CONFIG_KEYS = ("kind", "deltas", "cmvn", "n_mfcc", "n_mels", "win_ms", "hop_ms")


@dataclass
class Runtime:
    """How to run (never part of a stage key): device and worker counts."""

    device: str = "auto"
    synth_workers: int = 2
    feature_workers: int = 0


@dataclass
class Plan:
    """Every stage of an experiment, by kind, plus the evaluation stages' descriptions."""

    stages: dict[str, list[Stage]]
    evals: list[tuple[Stage, dict]]


def plan_experiment(cfg: ExperimentConfig, rt: Runtime) -> Plan:
    """Build the stage graph of `cfg` (nothing runs)."""
    corpus = _corpus_stage(cfg, rt)
    readers = sorted({cfg.reader_of(c) for c in cfg.configurations} | {"textgrid"})
    features = {r: _features_stage(cfg, rt, corpus, r) for r in readers}
    texts = {t.name: _text_stage(cfg, rt, t) for t in cfg.texts}
    speech, evals = {}, []
    for learner in cfg.learners:
        for conf in cfg.configurations:
            for seed in cfg.seeds_of(learner):
                grouping = GROUPING_OF[conf]
                key = (learner, grouping, seed)
                if key not in speech:
                    speech[key] = _speech_stage(cfg, rt, learner, grouping, seed, features[cfg.reader_of(conf)])
                done = {}
                # pivot texts are evaluated first: a translation through one needs its map
                for text in sorted(cfg.texts, key=lambda t: t.pivot is not None):
                    desc = {"learner": learner, "configuration": conf, "seed": seed, "text": text.name,
                            "task": text.task, "language": text.language}
                    pivot = (done[text.pivot], texts[text.pivot]) if text.pivot else None
                    done[text.name] = _eval_stage(cfg, rt, desc, text, speech[key], texts[text.name],
                                                  features[cfg.reader_of(conf)], features["textgrid"], pivot)
                    evals.append((done[text.name], desc))
    return Plan({"corpus": [corpus], "features": list(features.values()), "text": list(texts.values()),
                 "speech": list(speech.values()), "eval": [s for s, _ in evals]}, evals)


def run_experiment(cfg: ExperimentConfig, run_dir: str | Path, rt: Runtime | None = None,
                   kinds: tuple[str, ...] = STAGE_KINDS, progress: Progress | None = None) -> dict:
    """Run the stages of the selected `kinds` (and what they need) into `run_dir`; write the
    report when "report" is selected. Returns the metrics dict."""
    progress = ensure(progress)
    rt = rt or Runtime(device=cfg.device)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    plan = plan_experiment(cfg, rt)
    todo = ordered_stages(plan, kinds)
    eval_ids = {id(s) for s in plan.stages["eval"]}
    started = time.time()
    for n, stage in enumerate(todo, 1):
        progress.check()
        state = "up to date" if is_done(stage, run_dir) else "running"
        progress.log(f"[{n}/{len(todo)}] {stage.name} ({state})")
        run_stage(stage, run_dir, progress)
        if "report" in kinds and id(stage) in eval_ids and state == "running":
            write_report(cfg, plan, run_dir, time.time() - started)  # partial results survive a kill
    return write_report(cfg, plan, run_dir, time.time() - started) if "report" in kinds else \
        collect_metrics(cfg, plan, run_dir, time.time() - started)


def ordered_stages(plan: Plan, kinds: tuple[str, ...]) -> list[Stage]:
    """Stages of the selected kinds in running order: corpus, features, text spaces, then seed by
    seed each speech space followed by its evaluations, so a run cut short has whole seeds done."""
    order = [s for kind in ("corpus", "features", "text") if kind in kinds for s in plan.stages[kind]]
    speech = sorted(plan.stages["speech"], key=lambda s: (s.settings["seed"], s.name))
    for sp in speech:
        if "speech" in kinds:
            order.append(sp)
        if "eval" in kinds:
            order += [e for e in plan.stages["eval"] if any(n is sp for n in e.needs)]
    return order


def write_report(cfg: ExperimentConfig, plan: Plan, run_dir: Path, seconds: float) -> dict:
    """Write metrics.json and results.md from the finished evaluation stages; return the metrics."""
    from core.pipeline.report import results_markdown

    metrics = collect_metrics(cfg, plan, run_dir, seconds)
    write_json(run_dir / "metrics.json", metrics)
    write_text(run_dir / "results.md", results_markdown(metrics))
    return metrics


def collect_metrics(cfg: ExperimentConfig, plan: Plan, run_dir: Path, seconds: float) -> dict:
    """Every finished stage's numbers, traceable to its folder, plus the config."""
    from core.pipeline.report import aggregate

    evals = []
    for stage, desc in plan.evals:
        if is_done(stage, run_dir):
            evals.append({**desc, "stage": stage.folder(run_dir).name, **stage_summary(stage, run_dir)})
    stages = {}
    for kind in ("corpus", "features", "text", "speech"):
        for stage in plan.stages[kind]:
            if is_done(stage, run_dir):
                record = json.loads((stage.folder(run_dir) / "stage.json").read_text(encoding="utf-8"))
                stages[stage.folder(run_dir).name] = {"seconds": record["seconds"], "summary": record["summary"]}
    return {"experiment": cfg.name, "config_file": cfg.source, "config": cfg.to_dict(),
            "date": time.strftime("%Y-%m-%d %H:%M:%S"), "synthetic_speech": True if "text" in cfg.corpus else None,
            "seconds_this_run": round(seconds, 1), "stages": stages, "evaluations": evals,
            "summary": aggregate(evals)}


# --- stages -------------------------------------------------------------------------------------

def _corpus_stage(cfg: ExperimentConfig, rt: Runtime) -> Stage:
    settings = {k: v for k, v in cfg.corpus.items() if k != "workers"}

    def run(folder: Path, progress: Progress) -> dict:
        if "path" in cfg.corpus:
            return {"path": cfg.corpus["path"], "synthetic": _corpus_is_synthetic(cfg.corpus["path"])}
        from core.synth.builder import build_corpus, synth_config

        meta = build_corpus(synth_config(settings), folder / "corpus", workers=rt.synth_workers, progress=progress)
        return {"path": str(folder / "corpus"), "synthetic": True, "made_by": meta["made_by"],
                "counts": meta["counts"], "held_out_speakers": meta["held_out_speakers"]}

    return Stage("corpus", settings, run)


def _corpus_is_synthetic(path: str) -> bool:
    from core.corpus.readers import corpus_metadata

    return bool(corpus_metadata(path).get("synthetic", False))


def _features_stage(cfg: ExperimentConfig, rt: Runtime, corpus: Stage, reader: str) -> Stage:
    f = cfg.features
    feat = {k: f[k] for k in FEATURE_CONFIG_KEYS if k in f}
    options = {}
    if reader in ("vad", "energy"):  # the [features] keys that reader takes (its signature)
        from core.corpus.readers import reader_options

        options = reader_options(reader, f)
    if reader == "chunks":
        options = {"chunk_seconds": f.get("chunk_seconds", 0.5)}
    settings = {"reader": reader, "features": feat, "options": options, "shard_files": f.get("shard_files", 200)}
    frontend = f.get("frontend")
    if frontend is not None:  # only in the key when set, so MFCC runs stay cached
        from core.frontends import spec_config

        # a word is the command line's spelling ("mfcc", "speech-embedding", "ssl:PATH"), else a table
        settings["frontend"] = spec_config(frontend) if isinstance(frontend, str) else dict(frontend)

    def run(folder: Path, progress: Progress) -> dict:
        from core.corpus.build import build_feature_store
        from core.features import FeatureConfig
        from core.frontends import make_frontend

        source = _corpus_path(corpus, folder.parent.parent)
        chosen = make_frontend(settings["frontend"]) if "frontend" in settings else None
        result = build_feature_store(source, folder / "store", reader, options, FeatureConfig(**feat),
                                     workers=rt.feature_workers, shard_files=settings["shard_files"],
                                     device=_torch_device(rt.device), progress=progress, frontend=chosen)
        return {"store": str(folder / "store"), "segments": result.n_segments,
                "read_report": result.read_report.to_dict()}

    return Stage(f"features-{reader}", settings, run, [corpus])


def _text_stage(cfg: ExperimentConfig, rt: Runtime, text) -> Stage:
    max_tokens = text.max_tokens or cfg.text_training.get("max_tokens")
    settings = {"path": text.path, "chapters": text.chapters, "language": text.language,
                "training": {k: v for k, v in cfg.text_training.items() if k != "workers"}}
    if text.max_tokens:  # only in the key when set, so existing runs stay cached
        settings["max_tokens"] = text.max_tokens

    def run(folder: Path, progress: Progress) -> dict:
        from core.pipeline.text_space import read_sentences, train_text
        from core.vectors import save_vectors

        progress.set_stage(f"text {text.name}: reading")
        sentences = read_sentences(text.path, text.chapters, max_tokens, progress)
        training = dict(cfg.text_training)
        emb, backend = train_text(sentences, training, text.language, rt.device, progress)
        save_vectors(emb, folder / "vectors.vec")
        return {"vectors": str(folder / "vectors.vec"), "words": len(emb), "dim": emb.dim, "backend": backend,
                "tokens": int(sum(len(s) for s in sentences))}

    return Stage(f"text-{text.name}", settings, run)


def speech_config(cfg: ExperimentConfig, learner: str, grouping: str, seed: int, device: str):
    """The SpeechConfig of one speech stage."""
    from core.speech.config import preset

    return preset(LEARNER_PRESET[learner], **{**cfg.speech.get(learner, {}), "grouping": grouping,
                                             "seed": seed, "device": device})


def _speech_stage(cfg: ExperimentConfig, rt: Runtime, learner: str, grouping: str, seed: int,
                  features: Stage) -> Stage:
    from core.speech.runner import RUNTIME_ONLY

    settings = {k: v for k, v in speech_config(cfg, learner, grouping, seed, "auto").to_dict().items()
                if k not in RUNTIME_ONLY}

    def run(folder: Path, progress: Progress) -> dict:
        from core.corpus.feature_store import FeatureStore
        from core.speech.runner import train_speech_space

        store_path = _store_path(features, folder.parent.parent)
        scfg = speech_config(cfg, learner, grouping, seed, rt.device)
        m = train_speech_space(FeatureStore.open(store_path), scfg, folder / "run", progress, store_path=store_path)
        keep = ("types", "train_segments", "held_out_segments", "same_different", "purity_train",
                "purity_held_out", "held_out_type_accuracy", "timings", "encoder_steps")
        return {"run": str(folder / "run"), **{k: m[k] for k in keep if k in m},
                "final_loss": m["loss_history"][-1][2] if m.get("loss_history") else None}

    return Stage(f"speech-{learner}-{grouping}-s{seed}", settings, run, [features])


def _eval_stage(cfg: ExperimentConfig, rt: Runtime, desc: dict, text, speech: Stage, text_stage: Stage,
                features: Stage, words: Stage, pivot: tuple[Stage, Stage] | None = None) -> Stage:
    """The evaluation of one speech space against one text; `pivot` = (the pivot text's evaluation
    stage, its text stage) for a translation through it (core.pipeline.pivot)."""
    from core.alignment.base import AlignConfig

    supervised = desc["configuration"] == "A*"
    align = {"method": "supervised"} if supervised else {**cfg.align}
    align_cfg = AlignConfig(**align, seed=desc["seed"])
    settings = {**desc, "align": asdict(align_cfg), "evaluation": cfg.evaluation,
                "dictionary": text.dictionary, **({"pivot": text.pivot} if text.pivot else {})}
    needs = [speech, text_stage, features] + ([words] if words is not features else []) + list(pivot or [])

    def run(folder: Path, progress: Progress) -> dict:
        return evaluate_pair(folder, desc, text, align_cfg, speech, text_stage, features, words, cfg.evaluation,
                             rt.device, progress, pivot)

    name = f"eval-{desc['learner']}-{desc['configuration'].replace('*', 'star')}-{text.name}-s{desc['seed']}"
    return Stage(name, settings, run, needs)


def evaluate_pair(folder: Path, desc: dict, text, align_cfg, speech: Stage, text_stage: Stage, features: Stage,
                  words: Stage, evaluation: dict, device: str, progress: Progress,
                  pivot: tuple[Stage, Stage] | None = None) -> dict:
    """Align one speech space with one text space and score its held-out test segments (through the
    pivot text's map and a text-to-text map when `pivot` is given)."""
    from core.alignment import align
    from core.corpus.feature_store import FeatureStore
    from core.pipeline import speech_eval as ev
    from core.vectors import load_vectors

    root = folder.parent.parent
    run_dir = Path(stage_summary(speech, root)["run"])
    store = FeatureStore.open(_store_path(features, root))
    rows = ev.test_segments(store, evaluation.get("max_test_segments", 20000), desc["seed"])
    if words is features:
        truth = [store.labels[i] for i in rows]
    else:
        truth = ev.overlap_labels(store.table, rows, FeatureStore.open(_store_path(words, root)))
    queries, speech_space, info = ev.segment_vectors(run_dir, rows)
    text_space = load_vectors(stage_summary(text_stage, root)["vectors"], language=text.language)
    gold = ev.gold_dictionary(text.dictionary) if text.task == "translation" else None
    seed_pairs, seed_info = None, {}
    if align_cfg.method == "supervised" and pivot is None:
        test_words = {w for w in truth if w}
        seed_pairs = ev.supervised_seed_pairs(speech_space, text_space, text.task, gold, test_words)
        seed_info = {"seed_pairs": int(len(seed_pairs))}
        if len(seed_pairs) < 2:
            raise WordbridgeError(f"A* ({desc['learner']}, text {text.name}): only {len(seed_pairs)} seed "
                                  "pairs of training words found in both spaces; supervised Procrustes needs 2+")
    align_cfg.device = device if device in ("auto", "cpu", "cuda") else "auto"
    knn = int(evaluation.get("csls_knn", 10))
    ks = tuple(evaluation.get("topk", [1, 5]))
    if pivot is not None:
        from core.alignment.mapping import Mapping
        from core.pipeline.pivot import pivot_topk, text_to_text

        pivot_eval, pivot_text = pivot
        pivot_space = load_vectors(stage_summary(pivot_text, root)["vectors"])
        result = text_to_text(pivot_space, text_space, align_cfg, progress)
        result.mapping.save(folder / "mapping.safetensors")  # pivot text → this text
        speech_map = Mapping.load(stage_summary(pivot_eval, root)["mapping"])
        top = pivot_topk(speech_map, queries, speech_space, pivot_space, result.mapping, text_space, max(ks), knn,
                         align_cfg.device)
        seed_info = {"pivot": text.pivot}
    else:
        result = align(speech_space, text_space, align_cfg, seed_pairs=seed_pairs, progress=progress)
        result.mapping.save(folder / "mapping.safetensors")
        top = ev.retrieve(result.mapping, queries, speech_space, text_space, max(ks), knn, align_cfg.device)
    if text.task == "classification":
        scores = ev.classification_scores(top, truth, text_space)
    else:
        scores = ev.translation_scores(top, truth, text_space, gold, ks)
    if text.task == "classification":
        # Isomorphism of the two spaces over shared words (issue 3's measure); evaluation only.
        from core.speech.metrics import isomorphism
        scores["isomorphism"] = isomorphism(speech_space, text_space)
    summary = {"scores": scores, "alignment": {k: v for k, v in result.summary().items()
                                               if k in ("method", "method_used", "criterion", "fallback_used",
                                                        "induced_pairs", "timings_s", "device")},
               "speech_types": len(speech_space), "text_words": len(text_space), **seed_info,
               "speech_run": str(run_dir), "mapping": str(folder / "mapping.safetensors")}
    write_json(folder / "scores.json", summary)
    write_text(folder / "align_log.txt", "\n".join(result.log) + "\n")
    return summary


# --- helpers ------------------------------------------------------------------------------------

def _corpus_path(corpus: Stage, root: Path) -> str:
    return stage_summary(corpus, root)["path"]


def _store_path(features: Stage, root: Path) -> str:
    return stage_summary(features, root)["store"]


def _torch_device(device: str):
    return None if device == "auto" else device

