"""Build a synthetic multi-voice speech corpus: text → one WAV + one TextGrid per utterance.

Layout of CORPUS_DIR:
    corpus.json                 metadata (synthetic: true, voices, held-out speakers, counts, seed)
    segments.tsv                one row per utterance (paths, speaker, duration, words, text)
    spk000/spk000_B01C001V001.wav       16 kHz mono 16-bit PCM
    spk000/spk000_B01C001V001.TextGrid  Praat long format, IntervalTier "words"

Each text item is spoken by `repeats` different speakers, chosen round-robin from a seeded
starting point. With `isolated_words` = N the N most frequent words of the text are also spoken
alone, once by every training (not held-out) voice: a word said into a microphone on its own
sounds unlike the same word cut out of running speech, and a learner that never heard words
alone recognises them poorly (the demo: 41 % top-1 for isolated words of *training* voices).
Work runs in worker processes (espeak-ng is not thread-safe; one instance per process). Every
file is written atomically, and a rerun with the same settings skips utterances whose WAV and
TextGrid are already complete, so an interrupted build resumes where it stopped.
"""

from __future__ import annotations

import signal
from collections import Counter
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path

import numpy as np

from core.atomic import atomic_path, write_json, write_text
from core.audio import wav_bytes
from core.errors import InputFileError, WordbridgeError
from core.progress import Progress, ensure
from core.synth import voices as voices_mod
from core.synth.augment import AugmentConfig, apply_augmentation, draw_augmentation
from core.synth.text_source import TextItem, read_text_items
from core.text.tokenize import tokenize

CORPUS_JSON = "corpus.json"
SEGMENTS_TSV = "segments.tsv"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class SynthConfig:
    """Everything that decides what the corpus contains (workers only decide how fast)."""

    text_path: str
    language: str = "en"
    chapters: str = "all"
    max_tokens: int | None = None
    max_verses: int | None = None
    speakers: int = 24
    held_out_speakers: int = 4
    repeats: int = 1
    noise_snr: tuple[float, float] | None = None
    reverb_rt60: float = 0.0
    pad_s: float = 0.2
    seed: int = 0
    isolated_words: int = 0  # the N most frequent words, also spoken alone by every training voice

    def settings(self) -> dict:
        """The settings as stored in corpus.json (compared when resuming)."""
        d = asdict(self)
        d["text_path"] = str(Path(self.text_path).resolve())
        d["noise_snr"] = list(self.noise_snr) if self.noise_snr is not None else None
        return d


# Option names (of `wordbridge synthesize` and an experiment's [corpus]) that differ from the field's.
_OPTION_FIELDS = {"text": "text_path", "reverb": "reverb_rt60", "pad": "pad_s"}
SYNTH_OPTIONS = ("text", "language", "chapters", "max_tokens", "max_verses", "speakers", "held_out_speakers",
                 "repeats", "noise_snr", "reverb", "pad", "seed", "isolated_words")


def synth_config(options: dict) -> SynthConfig:
    """A SynthConfig from user options named as in SYNTH_OPTIONS (absent ones keep their defaults).

    `noise_snr` is text ("none", an SNR in dB, or "lo-hi"); `reverb` and `pad` are seconds.
    """
    from core.synth.augment import parse_snr_range

    unknown = sorted(set(options) - set(SYNTH_OPTIONS))
    if unknown:
        raise WordbridgeError(f"unknown synthesis option(s) {', '.join(unknown)}; "
                              f"choose from {', '.join(SYNTH_OPTIONS)}")
    fields = {_OPTION_FIELDS.get(k, k): v for k, v in options.items()}
    fields["noise_snr"] = parse_snr_range(str(fields.get("noise_snr", "none")))
    for name in ("reverb_rt60", "pad_s"):
        if name in fields:
            fields[name] = float(fields[name])
    return SynthConfig(**fields)


def build_corpus(config: SynthConfig, out_dir: str | Path, workers: int = 2,
                 progress: Progress | None = None) -> dict:
    """Synthesise the corpus described by `config` into `out_dir`; returns the summary that is
    also stored in corpus.json. Resumes a build with the same settings."""
    from core.synth.espeak import engine, loader_version

    progress = ensure(progress)
    out_dir = Path(out_dir)
    _check_config(config, workers)
    items = read_text_items(config.text_path, config.chapters, config.max_verses, config.max_tokens)
    _check_unique_ids(config.text_path, items)
    speakers = voices_mod.make_speakers(config.language, config.speakers, config.seed)
    held_out = voices_mod.held_out_speakers(speakers, config.held_out_speakers)
    isolated = isolated_word_items(items, config.isolated_words)
    jobs = plan_jobs(items, speakers, held_out, config)
    jobs += plan_isolated_jobs(isolated, speakers, held_out, config, first_index=len(jobs))
    _prepare_out_dir(out_dir, config)

    eng = engine()  # fails early (and clearly) if espeak cannot start
    made_by = f"espeak-ng {eng.version} via espeakng-loader {loader_version()}"
    metadata = {
        "format_version": FORMAT_VERSION,
        "synthetic": True,
        "made_by": made_by,
        "note": "synthetic speech (text-to-speech), not human recordings",
        "word_timings": "starts from espeak-ng WORD events mapped to tokens ([^\\W\\d_]+ of the "
                        "lower-cased text) by character position; ends at the pause before the next "
                        "word; tokens espeak speaks as one word share its span in proportion to "
                        "their character lengths; spoken digits are left unlabelled",
        "complete": False,
        "settings": config.settings(),
        "sample_rate": 16000,
        "layout": "one WAV (16 kHz mono PCM16) + one Praat TextGrid (tier 'words') per utterance, "
                  "in one folder per speaker; index in segments.tsv",
        "text_source": {"path": str(Path(config.text_path).resolve()),
                        "format": "verse TSV" if items[0].book is not None else "plain text lines",
                        "chapters": config.chapters, "items": len(items),
                        "tokens": sum(i.n_tokens for i in items)},
        "speakers": {s.speaker: s.to_dict() | {"held_out": s.speaker in held_out} for s in speakers},
        "held_out_speakers": held_out,
        "augmentation": AugmentConfig(config.noise_snr, config.reverb_rt60).to_dict(),
    }
    write_json(out_dir / CORPUS_JSON, metadata)

    progress.set_stage("synthesising")
    results = _run_jobs(jobs, out_dir, workers, progress)
    rows = [results[job["utterance"]] for job in jobs]
    _write_segments(out_dir / SEGMENTS_TSV, rows)
    counts = {
        "utterances": len(rows),
        "word_tokens": sum(r["n_words"] for r in rows),
        "audio_hours": round(sum(r["duration_s"] for r in rows) / 3600, 4),
        "made_now": sum(1 for r in rows if not r["skipped"]),
        "already_present": sum(1 for r in rows if r["skipped"]),
        "held_out_utterances": sum(1 for r in rows if r["held_out"]),
        "isolated_word_utterances": len(jobs) - sum(1 for job in jobs if not job["isolated"]),
    }
    metadata["complete"] = True
    metadata["counts"] = counts
    write_json(out_dir / CORPUS_JSON, metadata)
    return metadata


def plan_jobs(items: list[TextItem], speakers: list[voices_mod.VoiceSpec], held_out: list[str],
              config: SynthConfig) -> list[dict]:
    """One job per (text item, repeat): its speaker, file paths and augmentation parameters,
    all fixed by the seed."""
    offset = int(np.random.default_rng([config.seed, 7]).integers(len(speakers)))
    jobs: list[dict] = []
    for i, item in enumerate(items):
        for r in range(config.repeats):
            speaker = speakers[(offset + i * config.repeats + r) % len(speakers)]
            jobs.append(_job(item, speaker, held_out, config, [config.seed, i, r], len(jobs)))
    return jobs


def isolated_word_items(items: list[TextItem], n_words: int) -> list[TextItem]:
    """The `n_words` most frequent words of `items` (ties: first seen first), each as a one-word item."""
    counts = Counter(w for item in items for w in tokenize(item.text))
    return [TextItem(f"W{rank:05d}", word, 1) for rank, (word, _) in enumerate(counts.most_common(n_words))]


def plan_isolated_jobs(words: list[TextItem], speakers: list[voices_mod.VoiceSpec], held_out: list[str],
                       config: SynthConfig, first_index: int = 0) -> list[dict]:
    """One job per (isolated word, training voice); held-out voices say none, so test sets stay as they were."""
    training = [s for s in speakers if s.speaker not in held_out]
    jobs: list[dict] = []
    for i, item in enumerate(words):
        for r, speaker in enumerate(training):
            jobs.append(_job(item, speaker, held_out, config, [config.seed, 1_000_000 + i, r],
                             first_index + len(jobs), isolated=True))
    return jobs


def _job(item: TextItem, speaker: voices_mod.VoiceSpec, held_out: list[str], config: SynthConfig,
         key: list[int], index: int, isolated: bool = False) -> dict:
    """One utterance to make; `key` seeds its augmentation and noise (stable across reruns)."""
    utterance = f"{speaker.speaker}_{item.item_id}"
    return {
        "utterance": utterance, "index": index, "text": item.text,
        "item_id": item.item_id, "book": item.book, "chapter": item.chapter,
        "verse": item.verse, "speaker": speaker.speaker, "voice": asdict(speaker),
        "held_out": speaker.speaker in held_out, "isolated": isolated,
        "wav": f"{speaker.speaker}/{utterance}.wav",
        "textgrid": f"{speaker.speaker}/{utterance}.TextGrid",
        "augment": draw_augmentation(AugmentConfig(config.noise_snr, config.reverb_rt60),
                                     np.random.default_rng(key + [1])),
        "noise_seed": key + [2], "pad_s": config.pad_s,
    }


def make_utterance(job: dict, out_dir: str) -> dict:
    """Synthesise one job's WAV and TextGrid (skipped when both are already complete); returns
    its row for segments.tsv. Runs inside worker processes."""
    import soundfile as sf

    from core.synth.synthesize import SAMPLE_RATE, synthesize_utterance
    from core.synth.textgrid import read_words, textgrid_text
    from core.text.tokenize import tokenize

    wav_path = Path(out_dir) / job["wav"]
    grid_path = Path(out_dir) / job["textgrid"]
    words = tokenize(job["text"])
    row = {k: job[k] for k in ("utterance", "speaker", "held_out", "wav", "textgrid", "item_id",
                               "book", "chapter", "verse", "text")}
    row |= {"n_words": len(words), "augment": job["augment"]}
    duration = _complete_duration(wav_path, grid_path, words, read_words)
    if duration is not None:
        return row | {"duration_s": duration, "skipped": True}
    voice = voices_mod.VoiceSpec(**job["voice"])
    audio, timings = synthesize_utterance(job["text"], voice, pad_s=job["pad_s"])
    if job["augment"]:
        audio = apply_augmentation(audio, SAMPLE_RATE, job["augment"], np.random.default_rng(job["noise_seed"]))
    duration = audio.size / SAMPLE_RATE
    with atomic_path(wav_path, expected_bytes=wav_bytes(audio.size)) as tmp:
        sf.write(tmp, audio, SAMPLE_RATE, subtype="PCM_16", format="WAV")
    write_text(grid_path, textgrid_text(timings, duration))
    return row | {"duration_s": duration, "skipped": False}


def _complete_duration(wav_path: Path, grid_path: Path, words: list[str], read_words) -> float | None:
    """Duration of an existing utterance whose WAV is readable and whose TextGrid holds exactly
    the expected words; None when it must be (re)made."""
    if not (wav_path.is_file() and grid_path.is_file()):
        return None
    import soundfile as sf

    try:
        info = sf.info(str(wav_path))
    except (RuntimeError, OSError, sf.LibsndfileError):
        return None
    if info.samplerate != 16000 or info.channels != 1 or info.frames == 0:
        return None
    if read_words(grid_path) != words:
        return None
    return info.frames / info.samplerate


def _worker_init() -> None:
    # Ctrl-C goes to the parent, which stops the pool; workers must not die half-way on it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _worker_run(args: tuple[dict, str]) -> dict:
    job, out_dir = args
    return make_utterance(job, out_dir)


def _run_jobs(jobs: list[dict], out_dir: Path, workers: int, progress: Progress) -> dict[str, dict]:
    """Run all jobs (in `workers` processes, or in this one when workers == 1), reporting progress
    and stopping when cancelled. Returns {utterance id: row}."""
    # Dispatch sorted by speaker so that consecutive jobs in a worker reuse the loaded voice.
    ordered = sorted(jobs, key=lambda j: (j["speaker"], j["index"]))
    results: dict[str, dict] = {}
    totals = {"words": 0, "seconds": 0.0}

    def record(row: dict) -> None:
        results[row["utterance"]] = row
        totals["words"] += row["n_words"]
        totals["seconds"] += row["duration_s"]
        progress.update(len(results), len(ordered), words=totals["words"],
                        audio_h=round(totals["seconds"] / 3600, 3))

    if workers == 1 or len(ordered) <= 1:
        for job in ordered:
            progress.check()
            record(make_utterance(job, str(out_dir)))
        return results

    import multiprocessing

    # spawn, not fork: the caller may be a GUI thread, and each worker needs its own espeak.
    context = multiprocessing.get_context("spawn")
    n_workers = min(workers, len(ordered))
    chunk = max(1, min(32, len(ordered) // (n_workers * 8)))
    pool = context.Pool(n_workers, initializer=_worker_init)
    try:
        for row in pool.imap_unordered(_worker_run, [(j, str(out_dir)) for j in ordered], chunksize=chunk):
            record(row)
            progress.check()
    except BaseException:
        pool.terminate()
        pool.join()
        raise
    pool.close()
    pool.join()
    return results


def _prepare_out_dir(out_dir: Path, config: SynthConfig) -> None:
    """Create `out_dir`, or check that it holds a corpus built with the same settings (resume);
    remove temporary files left by a killed run."""
    meta_path = out_dir / CORPUS_JSON
    if out_dir.exists() and not out_dir.is_dir():
        raise WordbridgeError(f"{out_dir}: exists and is not a folder")
    if meta_path.is_file():
        import json

        try:
            old = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise InputFileError(meta_path, f"cannot read the existing corpus metadata ({exc})") from exc
        old_settings = old.get("settings", {})
        new_settings = config.settings()
        # a setting added after the corpus was built counts as its default there
        defaults = {f.name: f.default for f in fields(SynthConfig) if f.default is not MISSING}
        changed = [k for k in new_settings if old_settings.get(k, defaults.get(k)) != new_settings[k]]
        if changed:
            detail = ", ".join(f"{k}: {old_settings.get(k)!r} -> {new_settings[k]!r}" for k in changed)
            raise WordbridgeError(f"{out_dir}: holds a corpus built with other settings ({detail}); "
                                  "use the same settings to resume, or another --out")
    elif out_dir.is_dir() and any(out_dir.iterdir()):
        raise WordbridgeError(f"{out_dir}: folder is not empty and holds no {CORPUS_JSON}; "
                              "choose a new or empty folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    for stray in out_dir.glob("spk*/.*.tmp"):
        stray.unlink(missing_ok=True)


def _check_config(config: SynthConfig, workers: int) -> None:
    if workers < 1:
        raise WordbridgeError(f"--workers must be at least 1, got {workers}")
    if config.seed < 0:
        raise WordbridgeError(f"--seed must be >= 0, got {config.seed}")
    if config.speakers < 1:
        raise WordbridgeError(f"--speakers must be at least 1, got {config.speakers}")
    if not 1 <= config.repeats <= config.speakers:
        raise WordbridgeError(f"--repeats must be between 1 and --speakers ({config.speakers}), "
                              f"got {config.repeats}")
    if config.reverb_rt60 < 0 or config.reverb_rt60 > 3:
        raise WordbridgeError(f"--reverb is a reverberation time in seconds (0-3), got {config.reverb_rt60}")
    if not 0 <= config.pad_s <= 5:
        raise WordbridgeError(f"--pad must be between 0 and 5 seconds, got {config.pad_s}")
    if config.max_tokens is not None and config.max_tokens < 1:
        raise WordbridgeError(f"--max-tokens must be at least 1, got {config.max_tokens}")
    if config.max_verses is not None and config.max_verses < 1:
        raise WordbridgeError(f"--max-verses must be at least 1, got {config.max_verses}")
    if config.isolated_words < 0:
        raise WordbridgeError(f"--isolated-words must be 0 or more, got {config.isolated_words}")
    voices_mod.accents_for(config.language)  # unknown language → error listing the available ones


def _check_unique_ids(path: str, items: list[TextItem]) -> None:
    seen: dict[str, int] = {}
    for item in items:
        if item.item_id in seen:
            raise InputFileError(path, f"verse {item.item_id} appears twice (first on line "
                                       f"{seen[item.item_id]})", line=item.line)
        seen[item.item_id] = item.line


SEGMENT_COLUMNS = ("utterance", "speaker", "held_out", "wav", "textgrid", "duration_s", "n_words",
                   "item_id", "book", "chapter", "verse", "snr_db", "reverb_rt60", "text")


def _write_segments(path: Path, rows: list[dict]) -> None:
    """segments.tsv: a header and one row per utterance, in text order."""
    lines = ["\t".join(SEGMENT_COLUMNS)]
    for row in rows:
        values = dict(row)
        values["held_out"] = int(row["held_out"])
        values["duration_s"] = f"{row['duration_s']:.4f}"
        values["snr_db"] = row["augment"].get("snr_db", "")
        values["reverb_rt60"] = row["augment"].get("reverb_rt60", "")
        values["text"] = " ".join(str(row["text"]).split())  # no tabs or newlines inside a field
        lines.append("\t".join("" if values.get(c) is None else str(values[c]) for c in SEGMENT_COLUMNS))
    write_text(path, "\n".join(lines) + "\n")
