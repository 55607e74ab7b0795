"""Readers for recorded (human) speech corpora: transcribed folders, speechocean762, Mboshi.

(a) `read_transcribed`: a folder of audio files with a TSV transcript (a header row names the
columns; one utterance per row) and no word times: the words are placed by forced alignment
(core.corpus.forced_align, PocketSphinx US-English model). (b) `read_speechocean762`: that
reader with the speechocean762 layout (train.tsv / test.tsv, audio/<utt>.opus, lexicon.txt); its
test speakers are declared held out (`speechocean762_metadata`). (c) `read_mboshi`: the
Mboshi–French corpus with the word times it ships (words.tsv; "silver" times from the authors'
own forced alignment, not hand-checked).

Skips are counted in *words* (a malformed row counts 1): for these readers the report's
`segments + n_skipped` is the number of transcript words seen, `files_seen` the utterances and
`files_used` those with at least one word placed. Labels never contain whitespace.
"""

from __future__ import annotations

import os
from pathlib import Path

from core.audio import audio_duration
from core.corpus.forced_align import (AlignJob, AlignStats, align_files, load_lexicon,
                                      normalise_words)
from core.corpus.report import AUDIO_EXTENSIONS, ReadReport
from core.errors import InputFileError, WordbridgeError
from core.progress import Progress, ensure
from core.segments import Segment, SegmentTable

TIME_TOLERANCE = 0.05  # seconds a given word time may reach past its audio
SPLITS_SO762 = ("train", "test", "all")
SPLITS_MBOSHI = ("train", "dev", "all")
MALFORMED = "malformed transcript row"
DUPLICATE = "duplicate utterance"
MISSING_AUDIO = "missing audio"
BAD_LABEL = "label with whitespace or empty"


def read_transcribed(source: str | os.PathLike, transcript: str = "transcript.tsv",
                     text_column: str = "text", speaker_column: str = "speaker",
                     utterance_column: str = "utterance", audio_folder: str = "audio",
                     audio_extension: str = "", lexicon: str | None = None, align_workers: int = 0,
                     progress: Progress | None = None,
                     stats: AlignStats | None = None) -> tuple[SegmentTable, ReadReport]:
    """Word segments placed by forced alignment of a TSV transcript to its audio files.

    `transcript` (relative to `source` or absolute) has a header row naming its columns; the
    audio of utterance U is `source/audio_folder/U + audio_extension` (empty extension: the first
    of .wav .flac .ogg .opus ... that exists). `lexicon` (optional, ARPAbet, relative to
    `source` or absolute) gives pronunciations for words the aligner's dictionary lacks.
    `align_workers` > 0 aligns in that many processes. Labels are lower-case.
    """
    root = Path(source)
    report = ReadReport(reader="transcribed")
    rows = parse_transcript(_inside(root, transcript), report, text_column, speaker_column,
                            utterance_column)
    audio_dir = _inside(root, audio_folder)
    lex = load_lexicon(_inside(root, lexicon)) if lexicon else None
    table = align_rows(rows, audio_dir, audio_extension, lex, align_workers, report, progress, stats)
    return table, report


def read_speechocean762(source: str | os.PathLike, split: str = "all", align_workers: int = 0,
                        progress: Progress | None = None,
                        stats: AlignStats | None = None) -> tuple[SegmentTable, ReadReport]:
    """speechocean762 (train.tsv / test.tsv, audio/<utt>.opus, lexicon.txt) by forced alignment.

    `split`: train, test or all. The test speakers are held out (`speechocean762_metadata`)
    whichever split is read, so a store of `all` never trains on them.
    """
    if split not in SPLITS_SO762:
        raise WordbridgeError(f"speechocean762 split must be one of {', '.join(SPLITS_SO762)}, got {split!r}")
    root = Path(source)
    report = ReadReport(reader="speechocean762")
    rows: list[dict] = []
    seen: set[str] = set()
    for name in (["train", "test"] if split == "all" else [split]):
        rows += parse_transcript(root / f"{name}.tsv", report, seen=seen)
    lexicon = root / "lexicon.txt"
    lex = load_lexicon(lexicon) if lexicon.is_file() else None
    table = align_rows(rows, root / "audio", ".opus", lex, align_workers, report, progress, stats)
    return table, report


def speechocean762_metadata(source: str | os.PathLike, **_options) -> dict:
    """Held-out speakers (the corpus's test speakers) and how the word times were made."""
    test = Path(source) / "test.tsv"
    held = set()
    if test.is_file():
        scratch = ReadReport()
        held = {r["speaker"] for r in parse_transcript(test, scratch) if r["speaker"]}
    return {"held_out_speakers": sorted(held), "synthetic": False,
            "word_times": "forced alignment (pocketsphinx en-us model), not hand-checked"}


def transcribed_metadata(source: str | os.PathLike, **_options) -> dict:
    """How the transcribed reader's word times were made."""
    return {"word_times": "forced alignment (pocketsphinx en-us model), not hand-checked"}


def mboshi_metadata(source: str | os.PathLike, **_options) -> dict:
    """Mboshi's word times are the corpus's own "silver" forced alignment."""
    return {"synthetic": False,
            "word_times": "silver: the corpus authors' forced alignment (Godard et al. 2018), not gold"}


def parse_transcript(path: Path, report: ReadReport, text_column: str = "text",
                     speaker_column: str = "speaker", utterance_column: str = "utterance",
                     seen: set[str] | None = None) -> list[dict]:
    """Rows {utterance, speaker, words} of a TSV transcript with a header row.

    A missing file or a header without the utterance / text column raises InputFileError; a
    row with the wrong number of fields, undecodable bytes or an unusable utterance id is
    counted under "malformed transcript row", a repeated utterance under "duplicate utterance",
    a row with no words under "empty transcript".
    """
    if not path.is_file():
        raise InputFileError(path, "transcript not found")
    seen = seen if seen is not None else set()
    with open(path, "rb") as fh:
        lines = fh.read().split(b"\n")
    header = [h.strip() for h in (_decode(lines[0]) or "").lstrip("\ufeff").split("\t")]
    for column in (utterance_column, text_column):
        if column not in header:
            raise InputFileError(path, f"no column {column!r} in the header row (columns: "
                                       f"{', '.join(h for h in header if h) or 'none'})", 1)
    iu, it = header.index(utterance_column), header.index(text_column)
    isp = header.index(speaker_column) if speaker_column in header else None
    rows = []
    for line_no, raw in enumerate(lines[1:], 2):
        line = _decode(raw)
        if line is None:
            report.files_seen += 1
            report.skip(MALFORMED, f"{path}:{line_no}: not UTF-8 text")
            continue
        line = line.rstrip("\r")
        if not line.strip():
            continue
        report.files_seen += 1
        fields = line.split("\t")
        if len(fields) != len(header):
            report.skip(MALFORMED, f"{path}:{line_no}: {len(fields)} fields, the header has {len(header)}")
            continue
        utt = fields[iu].strip()
        if not utt or "/" in utt or "\\" in utt or utt.startswith(".") or any(c.isspace() for c in utt):
            report.skip(MALFORMED, f"{path}:{line_no}: unusable utterance id {utt!r}")
            continue
        words = normalise_words(fields[it])
        if not words:
            report.skip("empty transcript", f"{path}:{line_no}: {utt} has no words")
            continue
        if utt in seen:
            report.skip(DUPLICATE, f"{path}:{line_no}: {utt} again", count=len(words))
            continue
        seen.add(utt)
        speaker = fields[isp].strip() if isp is not None else ""
        rows.append({"utterance": utt, "speaker": speaker or None, "words": words,
                     "where": f"{path}:{line_no}"})
    return rows


def align_rows(rows: list[dict], audio_dir: Path, extension: str, lexicon, workers: int,
               report: ReadReport, progress: Progress | None,
               stats: AlignStats | None = None) -> SegmentTable:
    """Force-align each row's words to its audio file; skips counted in words in `report`."""
    jobs, by_key = [], {}
    for row in rows:
        audio = _audio_file(audio_dir, row["utterance"], extension)
        if audio is None:
            wanted = audio_dir / (row["utterance"] + (extension or ".*"))
            report.skip(MISSING_AUDIO, f"{wanted}: file not found", count=len(row["words"]))
            continue
        jobs.append(AlignJob(row["utterance"], str(audio), row["words"]))
        by_key[row["utterance"]] = row
    segments: list[Segment] = []
    for result, job in zip(align_files(jobs, lexicon, workers, progress, stats), jobs):
        row = by_key[job.key]
        if result.reason is not None:
            report.skip(result.reason, result.detail or job.key, count=len(job.words))
            continue
        if result.unplaced:
            report.skip("no pronunciation", f"{job.key}: {' '.join(result.unplaced)[:80]}",
                        count=len(result.unplaced))
        lost = len(job.words) - len(result.unplaced) - len(result.words)
        if lost > 0:
            report.skip("not placed", f"{job.key}: {lost} word(s) got no time", count=lost)
        if not result.words:
            continue
        for pos, (label, start, end) in enumerate(result.words):
            segments.append(Segment(job.audio, start, end, label, row["speaker"], job.key, pos))
        report.files_used += 1
    report.segments = len(segments)
    return SegmentTable.from_segments(segments)


def read_mboshi(source: str | os.PathLike, split: str = "all",
                progress: Progress | None = None) -> tuple[SegmentTable, ReadReport]:
    """The Mboshi corpus's words with the times it ships (words.tsv; "silver", not gold).

    `split`: train, dev or all (the corpus's own split; dev shares no sentence with train but
    the same speakers). Utterances with times but no audio, words reaching outside their audio
    and labels with whitespace are skipped and counted (in words).
    """
    if split not in SPLITS_MBOSHI:
        raise WordbridgeError(f"mboshi split must be one of {', '.join(SPLITS_MBOSHI)}, got {split!r}")
    progress = ensure(progress)
    progress.set_stage("reading Mboshi word times")
    root = Path(source)
    report = ReadReport(reader="mboshi")
    utterances = _read_table(root / "utterances.tsv", ("utterance", "speaker", "split", "mboshi"), report)
    info = {}
    for line_no, r in utterances:
        if r["utterance"] in info:
            report.skip(DUPLICATE, f"{root / 'utterances.tsv'}:{line_no}: {r['utterance']} again")
            continue
        info[r["utterance"]] = r
    times: dict[str, list[tuple[int, str, str, str]]] = {}
    for line_no, r in _read_table(root / "words.tsv", ("utterance", "start_s", "end_s", "word"), report):
        times.setdefault(r["utterance"], []).append((line_no, r["start_s"], r["end_s"], r["word"]))
    wanted = [u for u, r in info.items() if split == "all" or r["split"] == split]
    extra = [u for u in times if u not in info] if split == "all" else []
    segments: list[Segment] = []
    words_file = root / "words.tsv"
    todo = wanted + extra
    for k, utt in enumerate(todo):
        progress.check()
        report.files_seen += 1
        words = times.get(utt)
        if not words:
            n = max(1, len(info[utt]["mboshi"].split()))
            report.skip("no word times", f"{utt}: in utterances.tsv but not in words.tsv", count=n)
            continue
        audio = root / "audio" / f"{utt}.opus"
        if not audio.is_file():
            report.skip(MISSING_AUDIO, f"{audio}: file not found (the utterance has word times)",
                        count=len(words))
            continue
        if utt not in info:
            report.skip("not in utterances.tsv", f"{utt}: has audio and word times but no speaker",
                        count=len(words))
            continue
        try:
            duration = audio_duration(audio)
        except InputFileError as exc:
            report.skip(getattr(exc, "reason", "unreadable audio"), str(exc), count=len(words))
            continue
        placed = []
        for line_no, start_s, end_s, label in words:
            where = f"{words_file}:{line_no}"
            label = label.strip()
            if not label or any(c.isspace() for c in label):
                report.skip(BAD_LABEL, f"{where}: {label!r}")
                continue
            try:
                start, end = float(start_s), float(end_s)
            except ValueError:
                report.skip("malformed words row", f"{where}: times {start_s!r} {end_s!r}")
                continue
            if not (end > start):
                report.skip("malformed words row", f"{where}: ends ({end}) before it starts ({start})")
                continue
            if start < 0 or end > duration + TIME_TOLERANCE:
                report.skip("word outside audio", f"{where}: {start:.2f}–{end:.2f} s but {audio.name} "
                                                  f"lasts {duration:.2f} s")
                continue
            placed.append((start, min(end, duration), label))
        placed.sort()
        if not placed:
            continue
        speaker = info[utt]["speaker"].strip() or None
        for pos, (start, end, label) in enumerate(placed):
            segments.append(Segment(str(audio), start, end, label, speaker, utt, pos))
        report.files_used += 1
        if k % 100 == 0:
            progress.update(k + 1, len(todo))
    progress.update(len(todo), len(todo))
    report.segments = len(segments)
    return SegmentTable.from_segments(segments), report


def _read_table(path: Path, columns: tuple[str, ...], report: ReadReport) -> list[tuple[int, dict]]:
    """(line number, {column: value}) for the rows of a headed TSV; bad rows counted as skips."""
    if not path.is_file():
        raise InputFileError(path, "file not found")
    with open(path, "rb") as fh:
        lines = fh.read().split(b"\n")
    header = [h.strip() for h in (_decode(lines[0]) or "").lstrip("\ufeff").split("\t")]
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputFileError(path, f"header row lacks column(s) {', '.join(missing)} (columns: "
                                   f"{', '.join(h for h in header if h) or 'none'})", 1)
    rows = []
    for line_no, raw in enumerate(lines[1:], 2):
        line = _decode(raw)
        if line is not None and not line.strip():
            continue
        fields = line.rstrip("\r").split("\t") if line is not None else []
        if len(fields) != len(header) or not fields[header.index(columns[0])].strip():
            why = "not UTF-8 text" if line is None else f"{len(fields)} fields, the header has {len(header)}"
            report.skip(f"malformed {path.stem} row", f"{path}:{line_no}: {why}")
            continue
        rows.append((line_no, dict(zip(header, fields))))
    return rows


def _decode(raw: bytes) -> str | None:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _inside(root: Path, name: str | os.PathLike) -> Path:
    path = Path(name)
    return path if path.is_absolute() else root / path


def _audio_file(folder: Path, utterance: str, extension: str) -> Path | None:
    if extension:
        ext = extension if extension.startswith(".") else "." + extension
        path = folder / (utterance + ext)
        return path if path.is_file() else None
    return next((folder / (utterance + e) for e in AUDIO_EXTENSIONS if (folder / (utterance + e)).is_file()),
                None)
