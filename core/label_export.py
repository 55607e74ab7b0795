"""Per-recording annotations that other tools open: Praat TextGrid (tier "words"), ELAN .eaf and
Audacity labels, each named after the recording's original file with its WAV alongside; and the way
back in (`read_eaf`, `import_annotated_recording`), so an export reads back into a project.

ELAN files are written and read with pympi-ling (imported where used). Times in .eaf are whole
milliseconds, as ELAN stores them.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from core.atomic import atomic_path
from core.errors import InputFileError, WordbridgeError
from core.lexicon_export import Interval, write_audacity_labels, write_textgrid
from core.progress import Progress, ensure
from core.project.paths import inside

WORDS_TIER = "words"  # the tier name core/corpus/textgrid.py reads by default
_IMPORTED = re.compile(r"^imported from (.+)$")
_UNSAFE = re.compile(r"[^\w\-. ]+")


@dataclass
class LabelExport:
    """What an export wrote: one stem per recording (FOLDER/<stem>.TextGrid, .eaf, .txt, .wav)."""

    folder: Path
    stems: list[str] = field(default_factory=list)
    unclassified: list[str] = field(default_factory=list)  # "<stem> start–end: why" of spans left blank

    def __len__(self) -> int:
        return len(self.stems)


def export_stem(recording) -> str:
    """A file stem for a recording's exports: the original file's name when it was imported, else its
    label, else the project's WAV name (characters unsafe in file names replaced by "_")."""
    match = _IMPORTED.match(recording.note or "")
    if match:
        stem = Path(match.group(1).strip().replace("\\", "/")).stem
    elif recording.label:
        stem = recording.label
    else:
        stem = Path(recording.wav_path).stem
    stem = _UNSAFE.sub("_", stem).strip(" .") or Path(recording.wav_path).stem
    return stem[:120]


def write_eaf(path: str | os.PathLike, tiers: dict[str, list[Interval]], media: str | os.PathLike | None = None) -> None:
    """Write an ELAN .eaf with one time-aligned tier per entry of `tiers`, linked to the `media` file
    (referred to relative to the .eaf, as ELAN resolves it when the two are moved together)."""
    from pympi import Elan

    path = Path(path)
    eaf = Elan.Eaf(author="Wordbridge")
    eaf.remove_tier("default")
    if media is not None:
        media = Path(media)
        eaf.add_linked_file(media.resolve().as_uri(), relpath=f"./{media.name}", mimetype="audio/x-wav")
    for name, intervals in tiers.items():
        eaf.add_tier(name)
        for iv in sorted(intervals, key=lambda iv: iv.start):
            start, end = int(round(iv.start * 1000)), int(round(iv.end * 1000))
            if end <= start:
                raise WordbridgeError(f"tier {name!r}: interval {iv.label!r} is shorter than 1 ms")
            eaf.add_annotation(name, start, end, iv.label)
    with atomic_path(path) as tmp:
        eaf.to_file(str(tmp))


def read_eaf(path: str | os.PathLike) -> tuple[dict[str, list[Interval]], list[str]]:
    """(tier name → intervals in seconds, time order; linked media paths) of an ELAN .eaf file."""
    from pympi import Elan

    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "no such ELAN file")
    try:
        eaf = Elan.Eaf(str(path))
        tiers = {name: sorted((Interval(a[0] / 1000.0, a[1] / 1000.0, a[2])
                               for a in eaf.get_annotation_data_for_tier(name)), key=lambda iv: iv.start)
                 for name in eaf.get_tier_names()}
    except Exception as exc:  # noqa: BLE001 - pympi raises many kinds on malformed files
        raise InputFileError(path, f"not a readable ELAN file ({type(exc).__name__}: {str(exc)[:100]})") from None
    media = [d.get("RELATIVE_MEDIA_URL") or d.get("MEDIA_URL", "") for d in eaf.media_descriptors]
    return tiers, [m for m in media if m]


def _copy_wav(source: Path, target: Path) -> None:
    with atomic_path(target, expected_bytes=source.stat().st_size) as tmp:  # the free space first
        shutil.copyfile(source, tmp)


def export_recording_labels(project, classifier, method: str, folder: str | os.PathLike,
                            progress: Progress | None = None) -> LabelExport:
    """Classify each recording's word segments (or the whole recording) with the primary text space and
    write FOLDER/<stem>.TextGrid (tier "words"), <stem>.eaf, <stem>.txt (Audacity) and <stem>.wav.

    A word segment the encoder cannot embed (silent, or shorter than the front end needs) is kept as
    a blank interval and listed in `unclassified`, instead of stopping the whole export."""
    progress = ensure(progress)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    text_id, result = classifier.primary_text(), LabelExport(folder)
    recordings = project.recordings()
    progress.set_stage("exporting labels")
    used: set[str] = set()
    for k, rec in enumerate(recordings):
        progress.check()
        samples, sr = project.recording_audio(rec.id)
        spans = [(s.start, s.end) for s in project.segments(rec.id)] or [(0.0, rec.duration)]
        intervals, unclassified = [], []
        for start, end in spans:
            piece = samples[int(start * sr):int(end * sr)]
            if len(piece) == 0:
                continue
            try:
                c = classifier.classify_clip(piece, sr, 1, method)
            except WordbridgeError as exc:  # a word too short or silent to embed: a blank interval, listed
                unclassified.append((start, end, str(exc)))
                intervals.append(Interval(start, end, ""))
                continue
            best = c.by_space[text_id][0].word if c.by_space.get(text_id) else ""
            intervals.append(Interval(start, end, best))
        stem, n = export_stem(rec), 2
        while stem.casefold() in used:
            stem, n = f"{export_stem(rec)}-{n}", n + 1
        used.add(stem.casefold())
        base = folder / stem
        wav = base.with_suffix(".wav")
        _copy_wav(inside(project.root, rec.wav_path, f"recording {rec.id}"), wav)  # never a file outside
        write_textgrid(base.with_suffix(".TextGrid"), {WORDS_TIER: intervals}, max(rec.duration, 1e-3))
        write_eaf(base.with_suffix(".eaf"), {WORDS_TIER: intervals}, wav)
        write_audacity_labels(base.with_suffix(".txt"), intervals)
        result.stems.append(stem)
        result.unclassified += [f"{stem} {a:.3f}–{b:.3f}: {why}" for a, b, why in unclassified]
        progress.update(k + 1, len(recordings))
    return result


def read_annotation(path: str | os.PathLike, tier: str = WORDS_TIER, report=None) -> list[Interval]:
    """The labelled intervals of `tier` in a TextGrid or .eaf file (blank intervals left out).

    Labels are checked as the corpus readers check them (`core.corpus.textgrid.label_problem`): a
    label with spaces, line breaks or control characters is skipped and counted in `report` (a
    `core.corpus.report.ReadReport`) under the corpus readers' reason, naming the file and tier."""
    from core.corpus.report import ReadReport
    from core.corpus.textgrid import LABEL_RULE, label_problem, read_textgrid_words

    path = Path(path)
    report = report if report is not None else ReadReport()
    if path.suffix.lower() == ".eaf":
        tiers, _media = read_eaf(path)
        if tier not in tiers:
            raise InputFileError(path, f"no tier {tier!r} (tiers: {', '.join(tiers) or 'none'})")
        kept = []
        for iv in tiers[tier]:
            label = iv.label.strip()
            problem = label_problem(label) if label else None
            if problem:
                report.skip(problem, f"{path}: tier {tier!r}: {label!r} at {iv.start:.2f} s ({LABEL_RULE})")
            elif label:
                kept.append(Interval(iv.start, iv.end, label))
        return kept
    textgrid_report = ReadReport()
    words = read_textgrid_words(path, float("inf"), tier, skip_labels=(), report=textgrid_report)
    if words is None:
        reasons = "; ".join(f"{reason}: {', '.join(textgrid_report.examples.get(reason, []))}"
                            for reason in textgrid_report.skipped)
        raise InputFileError(path, f"cannot read tier {tier!r} ({reasons})")
    report.merge(textgrid_report)
    return [Interval(a, b, label) for a, b, label in words]


def skipped_labels_note(report) -> str:
    """'; 2 labels skipped (label with spaces or line breaks: 2)' for a status line ('' if none)."""
    if not report.n_skipped:
        return ""
    reasons = ", ".join(f"{reason}: {count}" for reason, count in report.skipped.items())
    return f"; {report.n_skipped} label{'s' if report.n_skipped != 1 else ''} skipped ({reasons})"


def import_annotated_recording(project, annotation: str | os.PathLike, tier: str = WORDS_TIER, report=None) -> int:
    """Import an annotation file (TextGrid or .eaf) with the WAV of the same name beside it: the audio
    becomes a recording and the tier's labelled intervals its word segments; returns the recording id.
    Labels the corpus readers would skip are skipped and counted in `report` (see `read_annotation`)."""
    annotation = Path(annotation)
    intervals = read_annotation(annotation, tier, report)
    audio = annotation.with_suffix(".wav")
    if annotation.suffix.lower() == ".eaf":
        for media in read_eaf(annotation)[1]:
            candidate = annotation.parent / Path(media.replace("file://", "")).name
            if candidate.is_file():
                audio = candidate
                break
    if not audio.is_file():
        raise InputFileError(annotation, f"its audio {audio.name} is not beside it")
    recording_id = project.import_recording(audio, note=f"imported from {audio.name}")
    project.add_segments(recording_id, [(iv.start, iv.end, iv.label) for iv in intervals])
    return recording_id
