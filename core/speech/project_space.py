"""A trained speech type space in a project: which configurations a store allows, training one for a
project, and storing it (space + encoder) so alignment and the clip classifier can use it.

Training runs live in `<project>/speech-runs/<space id>/` (the run folder of
`core.speech.runner.train_speech_space`: checkpoints, config.json, metrics.json, log.txt), next to
the feature stores in `<project>/corpora/` (core.corpus.project_corpora). A cancelled run is
continued by training again with the same settings: the runner resumes from its last checkpoint.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.progress import Progress, ensure

SPEECH_RUNS_DIR = "speech-runs"
# Which corpus reader cut the segments of each k-means configuration (the paper's B, VAD, F).
SEGMENTATION_OF = {"B": ("textgrid", "librispeech", "clips"), "VAD": ("vad", "energy"), "F": ("chunks",)}
DEFAULT_SYNTHETIC_NOTE = "synthetic speech (its corpus says so in corpus.json)"


def allowed_configurations(header: dict) -> dict[str, str | None]:
    """Configuration → None when a feature store (its header.json) allows it, else the reason why not.

    A needs word labels; B, VAD and F are k-means over segments cut by word alignments, by the
    VAD reader and by equal-length chunks: each only names segments its reader made.
    """
    reader = (header.get("metadata") or {}).get("reader") or (header.get("build_settings") or {}).get("reader")
    labelled = int(header.get("n_labelled", 0) or 0)
    out: dict[str, str | None] = {"A": None if labelled > 0 else
                                  f"configuration A needs word labels, but this store has none "
                                  f"(its segments come from the {reader or 'unknown'} reader); "
                                  f"use {_configuration_for_reader(reader) or 'B, VAD or F'}"}
    for grouping, readers in SEGMENTATION_OF.items():
        out[grouping] = None if reader is None or reader in readers else (
            f"configuration {grouping} is for segments made by the {' / '.join(readers)} reader; "
            f"this store was made by the {reader} reader")
    return out


def _configuration_for_reader(reader: str | None) -> str | None:
    return next((g for g, readers in SEGMENTATION_OF.items() if reader in readers), None)


def check_configuration(header: dict, grouping: str) -> None:
    """Raise WordbridgeError when the store cannot be trained in configuration `grouping`."""
    allowed = allowed_configurations(header)
    if grouping not in allowed:
        raise WordbridgeError(f"unknown configuration {grouping!r} (choose {', '.join(allowed)})")
    if allowed[grouping] is not None:
        raise WordbridgeError(allowed[grouping])


def speech_run_folder(project, space_id: str) -> Path:
    """`<project>/speech-runs/<space_id>` (the id is checked as a space id)."""
    from core.project.project import check_id

    return Path(project.root) / SPEECH_RUNS_DIR / check_id(space_id, "space")


def store_speech_space(project, type_space, feature_config, space_id: str, language: str = "",
                       provenance: dict | None = None, synthetic: bool | None = None,
                       synthetic_note: str = "", replace: bool = False, exemplars: dict | None = None) -> dict:
    """Put a trained `SpeechTypeSpace` into `project`: space `space_id` and encoder `<space_id>-encoder`.

    `synthetic` None takes the flag from the type space (its feature store's metadata). Replacing a
    speech space removes the mappings, cached projections and encoders made for the old one (they
    no longer fit); what was removed is returned with the entries: {"space", "encoder", "removed"}.
    `exemplars`: the choice of `core.speech.exemplars.for_training_run` (type exemplars, the number
    of merged types, votes), stored in the encoder with it; None or one without a calibration: the
    encoder has centroids only, as before.
    """
    from core.speech.encode import pack_type_space

    synthetic = bool(type_space.info.get("synthetic", False)) if synthetic is None else synthetic
    if synthetic and not synthetic_note and not project.manifest.synthetic_speech_note:
        synthetic_note = DEFAULT_SYNTHETIC_NOTE
    existing = {s.id: s for s in project.manifest.spaces}
    removed: list[str] = []
    if space_id in existing:
        if not replace:
            raise WordbridgeError(f"this project already has a space {space_id!r}; choose another name "
                                  "or replace it")
        if existing[space_id].kind != "speech":
            raise WordbridgeError(f"space {space_id!r} is a text space; a speech space cannot replace it")
        removed = _remove_dependents(project, space_id)
    emb = type_space.embeddings
    speech = Embeddings(emb.words, emb.vectors, emb.counts, language or emb.language, "speech")
    info = {k: v for k, v in type_space.info.items() if isinstance(v, (str, int, float, bool))}
    space = project.add_space(space_id, speech, kind="speech", language=language or None, synthetic=synthetic,
                              synthetic_note=synthetic_note, provenance={**info, **(provenance or {})},
                              replace=replace)
    weights, config = pack_type_space(type_space, feature_config, note=synthetic_note if synthetic else "")
    if exemplars and exemplars.get("calibration"):
        from core.speech.exemplars import attach

        weights, config = attach(weights, config, exemplars.get("exemplars"), exemplars.get("types"),
                                 exemplars["type_candidates"], note="training segments (calibrated on the types of "
                                 "held-out training utterances when the space was trained)",
                                 votes=exemplars.get("votes"), max_per_type=exemplars.get("max_per_type"))
    encoder = project.set_encoder(f"{space_id}-encoder", weights, config,
                                  provenance={**(provenance or {}), "space": space_id, "synthetic": synthetic})
    return {"space": space, "encoder": encoder, "removed": removed}


def _remove_dependents(project, space_id: str) -> list[str]:
    """Remove what only fits the old speech space `space_id`: its projections, mappings and encoders
    (an encoder that names no space belongs to the project's only speech space); returns their names."""
    m = project.manifest
    mappings = [g.id for g in m.mappings if space_id in (g.source, g.target)]
    projections = [p.id for p in m.projections if space_id in p.spaces or p.mapping in mappings]
    only_speech = [s.id for s in m.spaces if s.kind == "speech"] == [space_id]
    encoders = [e.id for e in m.encoders if e.id != f"{space_id}-encoder"  # that one is replaced in place
                and (e.provenance.get("space") == space_id or ("space" not in e.provenance and only_speech))]
    for pid in projections:
        project.remove("projection", pid)
    for mid in mappings:
        project.remove("mapping", mid)
    for eid in encoders:
        project.remove("encoder", eid)
    return ([f"projection {p}" for p in projections] + [f"mapping {g}" for g in mappings]
            + [f"encoder {e}" for e in encoders])


def train_project_speech_space(project, store_path: str | Path, cfg, space_id: str, language: str = "",
                               replace: bool = False, start_over: bool = False,
                               progress: Progress | None = None) -> dict:
    """Train a speech space on a feature store and store it in `project` (space + encoder).

    The run folder is `<project>/speech-runs/<space_id>/` (an unfinished run is in
    `speech-runs/.<space_id>.partial/` until it finishes); an unfinished run with the same
    settings is continued from its checkpoint, one with other settings is an error unless
    `start_over` (which deletes it first). Returns the runner's metrics plus "space", "run_dir"
    and "removed" (mappings/projections of a replaced space).
    """
    from core.corpus.feature_store import FeatureStore
    from core.run_folder import current_run_folder, partial_folder
    from core.speech.runner import check_run_dir, train_speech_space
    from core.speech.type_space import load_type_space

    progress = ensure(progress)
    if not str(store_path or "").strip():
        raise WordbridgeError("choose a feature store (build a speech corpus first)")
    store = FeatureStore.open(store_path)
    check_configuration(store.header, cfg.grouping)
    if space_id in {s.id for s in project.manifest.spaces} and not replace:
        raise WordbridgeError(f"this project already has a space {space_id!r}; choose another name or replace it")
    run_dir = speech_run_folder(project, space_id)
    if start_over:
        for folder in (partial_folder(run_dir), run_dir):  # the unfinished run and the finished one
            if folder.exists():
                shutil.rmtree(folder)
    try:
        check_run_dir(current_run_folder(run_dir), cfg, resume=False)
    except WordbridgeError:
        raise WordbridgeError(f"{run_dir} holds an earlier run of {space_id!r} with other settings: start "
                              "over (deletes it), train with its settings to continue it, or choose another "
                              "space name") from None
    provenance = {"store": str(Path(store_path).resolve()), "run": str(run_dir),
                  "learner": cfg.learner, "configuration": cfg.grouping, "seed": cfg.seed,
                  # the voice-free settings (core.speech.config.voice_free_settings): Align then starts
                  # from Gromov–Wasserstein by default
                  "voice_free": bool(cfg.join_types and cfg.regress_voices and not cfg.uses_labels)}
    settings = {"speech": cfg.to_dict(), "store": provenance["store"], "space": space_id}
    with project.recorded_run("train-speech", settings, run_dir=run_dir) as run:
        metrics = train_speech_space(store, cfg, run_dir, progress, store_path=provenance["store"])
        type_space = load_type_space(run_dir)
        progress.set_stage("choosing type exemplars")
        chosen = type_exemplars(run_dir, store, cfg, len(type_space.embeddings))
        progress.set_stage("adding the space to the project")
        meta = store.metadata or {}
        stored = store_speech_space(project, type_space, store.config, space_id, language,
                                    provenance=provenance, synthetic=bool(meta.get("synthetic", False)),
                                    synthetic_note=str(meta.get("made_by") or meta.get("note") or ""),
                                    replace=replace, exemplars=chosen)
        summary = exemplar_summary(chosen)
        metrics = {**metrics, "type_exemplars": summary}
        run.metrics = {k: v for k, v in metrics.items() if isinstance(v, (int, float, str, bool)) or v is None}
    return {**metrics, "space": space_id, "run_dir": str(run_dir), "removed": stored["removed"]}


EXEMPLARS_FILE = "type_exemplars.json"  # in the run folder: the calibration behind the stored choice


def type_exemplars(run_dir: Path, store, cfg, n_types: int) -> dict:
    """The type exemplars of a just-trained space (`core.speech.exemplars.for_training_run`: chosen on
    the types of held-out training utterances, no map needed), with the calibration written to
    `<run>/type_exemplars.json`. A run folder without segment encodings gives none (why says so)."""
    from core.atomic import write_json
    from core.errors import InputFileError
    from core.speech import exemplars

    try:
        chosen = exemplars.for_training_run(run_dir, store, cfg.learner, cfg.grouping, n_types,
                                            cfg.exclude_held_out)
    except InputFileError as exc:
        chosen = {"stored": False, "why": str(exc)}
    write_json(Path(run_dir) / EXEMPLARS_FILE, exemplar_summary(chosen, full=True))
    return chosen


def exemplar_summary(chosen: dict, full: bool = False) -> dict:
    """What a speech space's training reports of its type exemplars (no arrays): stored or why not,
    how many and their size, the chosen variant and its type accuracy on held-out utterances beside
    the centroids'; `full` adds every variant's scores."""
    out = {k: chosen[k] for k in ("stored", "why", "n", "of", "megabytes", "max_per_type", "type_candidates",
                                  "votes") if k in chosen}
    cal = chosen.get("calibration")
    if cal:
        best = cal["chosen"]
        out.update({"variant": best["variant"], "measure": cal["measure"], "held_out_segments": cal["segments"],
                    "nearest_type_right": best["top1"], "type_in_10_nearest": best.get("top10"),
                    "centroids_nearest_type_right": cal["variants"]["centroids"][1]["top1"]})
        if full:
            out["variants"] = {name: {str(m): v for m, v in scores.items()} for name, scores in cal["variants"].items()}
    return out
