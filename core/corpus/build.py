"""Build a feature store from a corpus: parallel, resumable, atomic.

1. Read the corpus once into a segment table; save it with the build settings under
   STORE/.build/ (a rerun with the same settings reuses it, so a VAD pass is never repeated).
2. Cut the audio files into shards of `shard_files` files. For each shard not yet done, load the
   audio and compute features (worker processes on the CPU; with CUDA the workers only decode and
   the GPU computes whole batches), then save the shard's frames (.npy) and, last, its record
   (.json). A killed build resumes at the first shard without a record.
3. Concatenate the shards into one memory-mapped features.npy, write the arrays and the segment
   table, and write header.json last. Then remove .build/.
A store inside a project (`project_root`, or an --out of the form <project>/corpora/<name>) holds no
absolute local path (issue 17): an ssl front end's checkpoint is copied into the project and named
relative to it (outside a project: by its file name; core.frontends.frontend_record); its settings
name the source relative to the project when inside it, else by its folder name plus a fingerprint
of its absolute path ("source_fingerprint", so a
rerun on this machine still finds the same build and a same-named folder elsewhere does not); the
segment table names each audio file relative to the source folder; the reports' examples are
rewritten the same way (core.project.paths.LocalPaths). The build's own .build/segments.jsonl
also names audio relative to the source (a resumed build joins them back onto it).
Features of a segment depend on the front end (`core.frontends`, recorded in the header):
- MFCC (the default, the paper's): the frames of its span within the features of its whole audio
  file, with CMVN over that file (see `core.features.span_features`);
- other front ends (speech-embedding, ssl): computed from the segment's own audio
  (`FrontEnd.segment_audio`: the span plus the front end's margin). Their windows are long (0.78 s
  for the speech embedding, the whole input for a transformer), so frames of a word sliced out of
  the whole file would mostly describe its neighbours; the app embeds single words said alone, and
  `core.speech.encode.ClipEncoder` computes a new clip the same way (trimmed, then its own audio).
With `standardise`, the front end's frames are standardised per dimension with statistics fitted,
after the corpus is read and before any features, on the whole audio of a fixed sample of up to
200 of its recordings (`core.corpus.standardise`); the settings record only that (so a rerun is a
no-op without refitting), .build/standardiser.json keeps the fitted statistics for a resumed
build, and the header records the standardised front end ("frontend") and the sample
("standardisation": the recordings, relative to the source).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from core import atomic
from core.atomic import atomic_file_set, atomic_path, finish_file_sets, is_temp_name, write_json
from core.audio import audio_warnings, load_audio
from core.corpus.feature_store import ARRAY_FILES, FORMAT, VERSION, FeatureStore
from core.corpus.readers import READERS, corpus_metadata, merge_metadata, read_corpus, reader_options
from core.corpus.report import ReadReport
from core.corpus.speakers import check_speaker_pattern
from core.errors import InputFileError, WordbridgeError
from core.features import FeatureConfig, extract_features, span_frames
from core.frontends import FrontEnd, frontend_record, make_frontend
from core.frontends.mfcc import MfccFrontEnd
from core.progress import Progress, ensure
from core.project.paths import LocalPaths, looks_absolute
from core.run_folder import run_folder_lock
from core.segments import SegmentTable

WORK_DIR = ".build"
GPU_BATCH_SAMPLES = 16000 * 1200  # 20 minutes of audio per GPU batch


@dataclass
class BuildResult:
    """What a build did: the store's path, the reader's and the feature stage's reports."""

    path: Path
    n_segments: int
    read_report: ReadReport
    build_report: ReadReport
    shards_total: int = 0
    shards_resumed: int = 0
    up_to_date: bool = False
    notes: list[str] = field(default_factory=list)


def build_feature_store(source: str | os.PathLike, out: str | os.PathLike, reader: str = "textgrid",
                        options: dict | None = None, config: FeatureConfig = FeatureConfig(),
                        workers: int = 0, shard_files: int = 200, device=None,
                        overwrite: bool = False, metadata: dict | None = None,
                        progress: Progress | None = None,
                        on_shard_done: Callable[[int], None] | None = None,
                        batch_in_main: bool | None = None, frontend: FrontEnd | None = None,
                        project_root: str | os.PathLike | None = None, standardise: bool = False) -> BuildResult:
    """Read `source` with `reader` and write a feature store to `out` (resuming an unfinished build).

    `options` go to the reader (tier, alignments, chunk_seconds, ...). `workers` > 0 uses that
    many processes. `device` None means CUDA when present. `metadata` is merged over the corpus's
    own corpus.json / metadata.json ("synthetic", "held_out_speakers"). `on_shard_done(k)` runs
    after shard k is saved (tests use it to simulate a crash). `batch_in_main` (default: on
    CUDA) makes workers only decode audio while this process computes features in large batches.
    `frontend` (default: MFCC with `config`) computes the frames; an MFCC front end's own
    FeatureConfig replaces `config`. The header records it under "frontend".
    `project_root`: the store is part of that project, so what it records is portable (see the
    module's docstring); found by itself when `out` is `<project>/corpora/<name>`.
    `standardise`: the store's front end is `frontend` standardised with statistics of this corpus
    (see the module's docstring; `core.frontends.standardised`).
    """
    progress = ensure(progress)
    source, out = Path(source).resolve(), Path(out)
    if shard_files < 1:
        raise WordbridgeError(f"shard size must be at least 1 file, got {shard_files}")
    if workers < 0:
        raise WordbridgeError(f"workers must be 0 or more, got {workers}")
    if standardise and frontend is None:
        frontend = MfccFrontEnd(config)
    if isinstance(frontend, MfccFrontEnd) and not standardise:
        config, frontend = frontend.features, None
    settings = {"source": str(source), "reader": reader,
                "options": reader_options(reader, options or {}) if reader in READERS else {},
                "feature_config": config.to_dict() if frontend is None else None, "shard_files": int(shard_files)}
    check_speaker_pattern(source, settings["options"].get("speaker_pattern"))  # before any work: one line
    if frontend is not None:  # MFCC stores keep the settings they always had (reruns stay no-ops)
        settings["frontend"] = frontend.config()
    if standardise:
        from core.corpus.standardise import MAX_RECORDINGS, SEED

        settings["standardise"] = {"max_recordings": MAX_RECORDINGS, "seed": SEED}
    if frontend is not None:  # load its weights now: a missing model fails before the corpus is read
        frontend.frames(np.zeros(1600, np.float32), device="cpu")
    frontend = frontend if frontend is not None else MfccFrontEnd(config)
    settings = json.loads(json.dumps(settings, default=str))
    legacy = settings  # what a store recorded before issue 17 (still accepted as the same build)
    if project_root is None:
        project_root = project_of_store(out)
    local = None if project_root is None else corpus_paths(project_root, source, options)
    if local is not None:
        settings = portable_settings(settings, local)
    if "frontend" in settings:  # an ssl checkpoint: copied into the project, or named by its file name
        settings = {**settings, "frontend": frontend_record(settings["frontend"], project_root, near=(out,))}
    # one build per store folder at a time; under that lock whatever an earlier, killed build left
    # in the folder (a store-sized temporary features file, a set half renamed) is finished or removed
    with run_folder_lock(out):
        _clean_leftovers(out)
        result = _build_locked(source, out, reader, options, settings, overwrite, workers, shard_files, device,
                               batch_in_main, frontend, metadata, progress, on_shard_done, local, legacy)
    if local is not None:  # the reports name files as the store does (the app shows them, the runs table keeps them)
        result.read_report = ReadReport.from_dict(local.value(result.read_report.to_dict()))
        result.build_report = ReadReport.from_dict(local.value(result.build_report.to_dict()))
    return result


PATH_OPTIONS = ("alignments", "csv_path", "lexicon", "transcript", "audio_folder")


def project_of_store(out: str | os.PathLike) -> Path | None:
    """The project folder when `out` is `<project>/corpora/<name>` (that project's wordbridge.json exists)."""
    out = Path(out).absolute()
    if out.parent.name == "corpora" and (out.parent.parent / "wordbridge.json").is_file():
        return out.parent.parent
    return None


def corpus_paths(project_root, source, options: dict | None) -> LocalPaths:
    """How paths of a corpus build are written into a project: the source folder and any reader
    option naming an absolute folder or file (alignments, labels CSV, lexicon)."""
    named = [v for k, v in (options or {}).items() if k in PATH_OPTIONS and looks_absolute(str(v or ""))]
    return LocalPaths(project_root, [Path(source).resolve(), *named])


def portable_settings(settings: dict, local: LocalPaths) -> dict:
    """Build settings as a project store records them: no absolute path, plus the fingerprint of the
    outside folders (the comparison that decides "resume / up to date" still tells them apart). The
    front end's record is left to `core.frontends.frontend_record` (an ssl checkpoint is copied
    into the project and named relative to it)."""
    out = {key: (value if key == "frontend" else local.value(value)) for key, value in settings.items()}
    if local.fingerprint:
        out["source_fingerprint"] = local.fingerprint
    return out


STORE_FILES = ARRAY_FILES + ("segments.jsonl", "header.json")  # replaced as a set, header.json last


def _clean_leftovers(out: Path) -> None:
    """Complete a store whose writer died between two renames; delete the temporary files of the
    store's files that killed builds left (the caller holds the store's lock: nobody writes them)."""
    if not out.is_dir():
        return
    finish_file_sets(out, STORE_FILES)
    for entry in out.iterdir():
        if is_temp_name(entry.name) and any(entry.name.startswith(f".{name}.") for name in STORE_FILES):
            with contextlib.suppress(OSError):
                entry.unlink()


def _build_locked(source, out, reader, options, settings, overwrite, workers, shard_files, device, batch_in_main,
                  frontend, metadata, progress, on_shard_done, local=None, legacy=None) -> BuildResult:
    import torch

    work = out / WORK_DIR
    done = _finished_store(out, settings, overwrite, legacy, source, local)
    if done is not None:
        return done
    table, read_report = _plan(source, out, work, reader, options or {}, settings, overwrite, progress, legacy, local)
    groups = table.indices_by_audio()
    files = list(groups)
    shards = [files[i:i + shard_files] for i in range(0, len(files), shard_files)]
    device = torch.device(device) if device is not None else (
        torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu"))
    standardisation = None
    if settings.get("standardise"):
        frontend, standardisation = _standardised(work, groups, frontend, source, device, progress)
    if batch_in_main is None:
        batch_in_main = device.type == "cuda"
    resumed = sum(1 for k in range(len(shards)) if (work / f"shard_{k:05d}.json").is_file())
    progress.set_stage("features")
    pool = _pool(workers) if workers > 0 and resumed < len(shards) else None
    try:
        files_done = sum(len(s) for k, s in enumerate(shards) if (work / f"shard_{k:05d}.json").is_file())
        for k, shard in enumerate(shards):
            if (work / f"shard_{k:05d}.json").is_file():
                continue
            files_done = _build_shard(k, shard, groups, table, frontend, device, batch_in_main, pool,
                                      work, progress, files_done, len(files), local)
            if on_shard_done is not None:
                on_shard_done(k)
    finally:
        if pool is not None:
            pool.terminate()
    meta = merge_metadata(corpus_metadata(source, reader, options or {}), metadata or {})
    result = _finalize(out, work, table, shards, frontend, settings, read_report, meta, progress, source, local,
                       standardisation)
    result.shards_total, result.shards_resumed = len(shards), resumed
    return result


def _standardised(work: Path, groups: dict, inner: FrontEnd, source: Path, device, progress: Progress):
    """(the standardised front end, the header's "standardisation" entry): fitted on a fixed sample
    of the corpus's recordings (`core.corpus.standardise`), or as an interrupted build fitted it."""
    from core.corpus.standardise import MAX_RECORDINGS, SEED, fit_on_recordings, sample_recordings
    from core.frontends.standardised import StandardisedFrontEnd

    saved = work / "standardiser.json"
    if saved.is_file():
        fit = json.loads(saved.read_text(encoding="utf-8"))
        front = StandardisedFrontEnd(inner, fit["mean"], fit["std"], fit["fitted_on"])
        return front, fit["standardisation"]
    relative = {_relative_name(a, _audio_base(source)): a for a in groups}  # names as .build/segments.jsonl has them
    sample = sample_recordings(relative, MAX_RECORDINGS, SEED)
    front = fit_on_recordings(inner, [relative[r] for r in sample], progress, device=device)
    standardisation = {"seed": SEED, "max_recordings": MAX_RECORDINGS, "recordings": sample}
    write_json(saved, {"mean": front.config()["mean"], "std": front.config()["std"],
                       "fitted_on": front.fitted_on, "standardisation": standardisation})
    return front, standardisation


def _finished_store(out: Path, settings: dict, overwrite: bool, legacy: dict | None = None,
                    source: Path | None = None, local: LocalPaths | None = None) -> BuildResult | None:
    header_file = out / "header.json"
    if not header_file.is_file():
        return None
    if overwrite:  # the old store stays usable until the new one replaces it as a whole (_finalize)
        return None
    store = FeatureStore.open(out)
    recorded = store.header.get("build_settings")
    if recorded != settings and recorded != legacy:
        raise WordbridgeError(f"{out}: a feature store built with other settings is already there "
                              f"(use --overwrite to replace it, or choose another --out)")
    if recorded != settings and local is not None:  # a project store written before issue 17: rewrite it portably
        _make_portable(store, settings, source, local)
        store = FeatureStore.open(out)
    return BuildResult(out, store.n_segments, ReadReport.from_dict(store.header.get("read_report", {})),
                       ReadReport.from_dict(store.header.get("build_report", {})), up_to_date=True,
                       notes=["the store is already built with these settings; nothing to do"])


def _make_portable(store: FeatureStore, settings: dict, source: Path, local: LocalPaths) -> None:
    """Rewrite an older project store's header and segment table without absolute paths (the
    table first: killed in between, the header still says "other settings" and the next run redoes it)."""
    header = dict(store.header)
    header = {key: (value if key == "frontend" else local.value(value)) for key, value in header.items()}
    if settings.get("standardise") and isinstance(header.get("frontend"), dict):  # the fitted statistics stay
        header["frontend"] = {**header["frontend"], "inner": settings.get("frontend")}
    else:
        header["frontend"] = settings.get("frontend", header.get("frontend"))
    header["build_settings"] = settings
    header["metadata"] = {**header.get("metadata", {}), "source": settings["source"]}
    _stored_audio(store.table, source, local).save(store.path / "segments.jsonl")
    write_json(store.path / "header.json", header)


def _audio_base(source: Path) -> Path:
    """The folder audio paths are stored relative to: the source folder (its folder for a CSV)."""
    return source if source.is_dir() else source.parent


def _with_audio(table: SegmentTable, audio: list[str]) -> SegmentTable:
    return SegmentTable(audio, table.start, table.end, table.label, table.speaker, table.utterance, table.position)


def _relative_audio(table: SegmentTable, source: Path) -> SegmentTable:
    """The build's own table: audio relative to the source (lossless: `_joined_audio` undoes it)."""
    base = _audio_base(source)
    return _with_audio(table, [_relative_name(a, base) for a in table.audio])


def _relative_name(audio: str, base: Path) -> str:
    """An audio path relative to `base` (as it is when relative already, or on another drive)."""
    try:
        return Path(os.path.relpath(audio, base)).as_posix() if os.path.isabs(audio) else audio
    except ValueError:  # another drive (Windows)
        return audio


def _joined_audio(table: SegmentTable, source: Path) -> SegmentTable:
    """Audio paths of the build's table back onto the source (absolute ones, from older builds, stay)."""
    base = _audio_base(source)
    return _with_audio(table, [os.path.normpath(os.path.join(base, a)) for a in table.audio])


def _stored_audio(table: SegmentTable, source: Path, local: LocalPaths | None) -> SegmentTable:
    """The store's table: as read (no project), or in a project each audio file relative to the
    source folder (one outside it by its name, `LocalPaths`)."""
    if local is None:
        return table
    base = _audio_base(source).resolve()

    def stored(a: str) -> str:
        path = Path(os.path.normpath(os.path.join(base, a)))
        return path.relative_to(base).as_posix() if path.is_relative_to(base) else local.text(str(path))
    return _with_audio(table, [stored(a) for a in table.audio])


def _plan(source, out, work, reader, options, settings, overwrite, progress, legacy=None, local=None):
    plan_file = work / "plan.json"
    if plan_file.is_file():
        plan = json.loads(plan_file.read_text(encoding="utf-8"))
        if plan.get("settings") in (settings, legacy):
            table = _joined_audio(SegmentTable.load(work / "segments.jsonl"), source)
            return table, ReadReport.from_dict(plan["read_report"])
        if not overwrite:
            raise WordbridgeError(f"{out}: an unfinished build with other settings is there "
                                  f"(use --overwrite to start again, or choose another --out)")
        shutil.rmtree(work)
    table, report = read_corpus(source, reader, progress=progress, **options)
    if len(table) == 0:
        reasons = "; ".join(f"{n} × {r}" for r, n in report.skipped.items()) or "no audio files found"
        raise WordbridgeError(f"{source}: no segments found with the {reader} reader ({reasons})")
    work.mkdir(parents=True, exist_ok=True)
    _relative_audio(table, source).save(work / "segments.jsonl")
    write_json(plan_file, {"settings": settings,
                           "read_report": report.to_dict() if local is None else local.value(report.to_dict())})
    return table, report


def _build_shard(k, shard, groups, table, frontend, device, batch_in_main, pool, work, progress,
                 files_done, n_files, local: LocalPaths | None = None) -> int:
    own = not isinstance(frontend, MfccFrontEnd)
    config = frontend.features if not own else None
    tasks = [(f, frontend.config() if own else config.to_dict(), not batch_in_main,
              [(table.start[i], table.end[i]) for i in groups[f]] if own else None) for f in shard]
    results = pool.imap(_file_task, tasks, chunksize=1) if pool is not None else map(_file_task, tasks)
    report = ReadReport(reader="features")
    kept: list[int] = []
    arrays: list[np.ndarray] = []
    pending: list[tuple[str, np.ndarray]] = []  # CUDA path: decoded audio waiting for a batch

    def flush():
        if own and frontend.segment_mode == "slice":  # e.g. standardised MFCC: its own slicing rule, file by file
            for f, s in pending:
                _keep_frames(f, frontend.segment_frames(s, [(table.start[i], table.end[i]) for i in groups[f]],
                                                        device=device), groups[f], table, kept, arrays, report)
        elif own:  # every pending segment's own audio in one batch
            pieces = [frontend.segment_audio(s, [(table.start[i], table.end[i]) for i in groups[f]])
                      for f, s in pending]
            flat = [p for ps in pieces for p in ps if p is not None]
            computed = iter(frontend.batch_frames(flat, device=device) if flat else [])
            for (f, _), ps in zip(pending, pieces):
                frames = [next(computed) if p is not None else np.zeros((0, frontend.dim), np.float32) for p in ps]
                _keep_frames(f, frames, groups[f], table, kept, arrays, report)
        else:
            feats = extract_features([s for _, s in pending], config, device=device)
            for (f, _), utt in zip(pending, feats):
                _keep_spans(f, utt, groups[f], table, config, kept, arrays, report)
        pending.clear()

    for f, (status, payload, warnings) in zip(shard, results):
        progress.check()
        report.files_seen += 1
        for w in warnings:
            report.warn(f"{w} audio")
        if status == "error":
            report.skip(payload[0], payload[1], count=len(groups[f]))  # counted in segments
        elif status == "features" and own:
            _keep_frames(f, payload, groups[f], table, kept, arrays, report)
        elif status == "features":
            _keep_spans(f, payload, groups[f], table, config, kept, arrays, report)
        else:
            pending.append((f, payload))
            if sum(len(s) for _, s in pending) >= GPU_BATCH_SAMPLES:
                flush()
        files_done += 1
        progress.update(files_done, n_files, shard=k)
    if pending:
        flush()
    report.files_used = len({table.audio[i] for i in kept})
    report.segments = len(kept)
    frames = np.concatenate(arrays) if arrays else np.zeros((0, frontend.dim), np.float16)
    # a shard is small next to the features file, but a disk that cannot hold it is one line too
    with atomic_path(work / f"shard_{k:05d}.npy", expected_bytes=_npy_bytes(frames.shape, np.float16)) as tmp:
        with open(tmp, "wb") as fh:
            np.save(fh, frames.astype(np.float16, copy=False), allow_pickle=False)
    write_json(work / f"shard_{k:05d}.json", {"kept": kept, "lengths": [len(a) for a in arrays],
                                              "report": report.to_dict() if local is None else
                                              local.value(report.to_dict())})
    return files_done


def _keep_spans(f, utterance, indices, table, config, kept, arrays, report) -> None:
    _keep_frames(f, [utterance[span_frames(table.start[i], table.end[i], len(utterance), config)] for i in indices],
                 indices, table, kept, arrays, report)


def _keep_frames(f, segment_frames, indices, table, kept, arrays, report) -> None:
    for i, frames in zip(indices, segment_frames):
        if len(frames) == 0:
            report.skip("segment outside its audio", f"{f} {table.start[i]:.2f}-{table.end[i]:.2f} s")
            continue
        kept.append(int(i))
        arrays.append(frames.astype(np.float16))


def _file_task(task):
    """Worker: decode one file, and (CPU path) compute its features. Returns (status, payload, warnings)."""
    path, config_dict, compute, spans = task
    try:
        samples, _ = load_audio(path)
    except InputFileError as exc:
        return "error", (getattr(exc, "reason", "unreadable audio"), str(exc)), []
    warnings = audio_warnings(samples)
    if "silent" in warnings:
        return "error", ("silent audio", f"{path}: all samples below -80 dBFS"), []
    if not compute:
        return "audio", samples, warnings
    if spans is not None:  # an own-audio front end: this file's segments, each from its own audio
        return "features", _frontend(json.dumps(config_dict, sort_keys=True)).segment_frames(
            samples, spans, device="cpu"), warnings
    config = FeatureConfig.from_dict(config_dict)
    return "features", extract_features([samples], config, device="cpu")[0], warnings


@lru_cache(maxsize=2)
def _frontend(config_json: str) -> FrontEnd:
    """One front end per process and config (an ssl checkpoint is read once, not once per file)."""
    return make_frontend(json.loads(config_json))


def _pool(workers: int):
    import multiprocessing

    return multiprocessing.get_context("spawn").Pool(workers, initializer=_init_worker)


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)


def _npy_bytes(shape, dtype) -> int:
    """Size of a .npy file of that shape (a header of at most 128 bytes for these arrays)."""
    return 128 + int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize


def check_free_space(out: Path, needed: int) -> None:
    """Refuse, in one line, a store that the disk holding `out` has no room for."""
    out.mkdir(parents=True, exist_ok=True)
    atomic.check_free_space(out, needed, "the feature store", "free some space or choose another --out")


def _reserve(path: Path) -> None:
    """Allocate every block of `path` (posix_fallocate) before it is written through a memory map:
    a disk that fills up then fails here with ENOSPC instead of killing the process with SIGBUS."""
    with open(path, "r+b") as fh:
        size = os.fstat(fh.fileno()).st_size
        try:
            os.posix_fallocate(fh.fileno(), 0, size)
        except OSError as exc:
            if exc.errno in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                return  # a file system without it: the free-space check before is all we have
            raise


def _finalize(out, work, table, shards, frontend, settings, read_report, meta, progress, source=None,
              local: LocalPaths | None = None, standardisation: dict | None = None) -> BuildResult:
    from numpy.lib.format import open_memmap

    progress.set_stage("writing store")
    kept: list[int] = []
    lengths: list[int] = []
    build_report = ReadReport(reader="features")
    for k in range(len(shards)):
        record = json.loads((work / f"shard_{k:05d}.json").read_text(encoding="utf-8"))
        kept += record["kept"]
        lengths += record["lengths"]
        build_report.merge(ReadReport.from_dict(record["report"]))
    if not kept:
        raise WordbridgeError(f"{settings['source']}: no segment could be turned into features "
                              f"({'; '.join(f'{n} × {r}' for r, n in build_report.skipped.items())})")
    lengths_np = np.asarray(lengths, dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths_np)[:-1]]).astype(np.int64)
    total = int(lengths_np.sum())
    kept_table = table.subset(kept)
    stored_table = _stored_audio(kept_table, source, local)
    arrays = {"offsets.npy": offsets, "lengths.npy": lengths_np,
              "utterance_ids.npy": kept_table.utterance_ids(), "positions.npy": kept_table.position}
    feature_bytes = _npy_bytes((total, frontend.dim), np.float16)
    check_free_space(out, feature_bytes + sum(_npy_bytes((len(a),), np.int64) for a in arrays.values())
                     + 256 * len(kept))  # segments.jsonl: about 100-200 bytes a segment
    labels = [label for label in kept_table.label if label is not None]
    recorded = settings.get("frontend", frontend.config())  # an ssl checkpoint: `frontend_record`
    if standardisation is not None:  # the fitted statistics around the inner front end's record
        recorded = {**frontend.config(), "inner": recorded}
    header = {
        "format": FORMAT, "version": VERSION,
        "feature_config": frontend.features.to_dict() if isinstance(frontend, MfccFrontEnd) else None,
        "frontend": recorded,
        "n_segments": len(kept), "dim": frontend.dim, "n_frames": total,
        "n_utterances": int(kept_table.utterance_ids().max()) + 1,
        "n_labelled": len(labels), "n_word_types": len(set(labels)),
        "segment_hours": round(float(total) / frontend.frame_rate / 3600.0, 4),
        "synthetic": bool(meta.get("synthetic", False)),
        "metadata": {**meta, "source": settings["source"], "reader": settings["reader"],
                     "held_out_speakers": list(meta.get("held_out_speakers", []))},
        "build_settings": settings,
        "read_report": read_report.to_dict(), "build_report": build_report.to_dict(),
    }
    if standardisation is not None:
        header["standardisation"] = standardisation
    if local is not None:  # a project's store: no absolute local path (the front end's record is one already)
        header = {key: (value if key == "frontend" else local.value(value)) for key, value in header.items()}
    # every file of the store is written under a temporary name first and they replace an older
    # store together (header.json last): a full disk at any of them leaves the older store whole
    with atomic_file_set([out / name for name in STORE_FILES]) as temps:
        tmp = dict(zip(STORE_FILES, temps))
        target = open_memmap(tmp["features.npy"], mode="w+", dtype=np.float16, shape=(total, frontend.dim))
        _reserve(tmp["features.npy"])  # blocks now, or ENOSPC now: never SIGBUS in the memory map
        row = 0
        for k in range(len(shards)):
            progress.check()
            part = np.load(work / f"shard_{k:05d}.npy", mmap_mode="r", allow_pickle=False)
            target[row:row + len(part)] = part
            row += len(part)
            progress.update(k + 1, len(shards))
        target.flush()
        del target
        for name, array in arrays.items():
            with open(tmp[name], "wb") as fh:
                np.save(fh, np.ascontiguousarray(array, dtype=np.int64), allow_pickle=False)
        stored_table.save(tmp["segments.jsonl"])
        tmp["header.json"].write_text(json.dumps(header, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    shutil.rmtree(work, ignore_errors=True)
    return BuildResult(out, len(kept), read_report, build_report)
