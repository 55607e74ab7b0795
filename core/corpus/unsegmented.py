"""Readers for audio without word boundaries: (d) VAD + pause-based word segmentation, (e) chunks.

(d) `read_vad`: voice activity detection (webrtcvad, or silero-vad) finds speech regions; within
a region, words are the stretches between pauses (frames quieter than `pause_level` × the
region's loud level, lasting `min_pause` seconds or more), and stretches longer than `max_word`
are cut at their energy minima. Each speech region is an utterance, its words numbered in order.
(e) `read_chunks`: equal-length chunks of every file (the paper's floor baseline F).
(d') `read_energy`: each file cut at pauses and, inside speech runs longer than `max_word`, at
energy valleys (`core.discovery.term_discovery.energy_segments`: the segmentation of the
term-discovery baseline, which on Mboshi field recordings gave word boundaries far closer to the
words than the VAD reader's pauses: boundary F 39.2 vs 19.2, token F 7.9 vs 1.8, docs/RESULTS.md
session 13; on synthetic read English boundary F 0.58 vs 0.38, session 23). Each file is an utterance,
its stretches numbered in order.
None knows words, so labels are None. The speaker is the audio's folder relative to `source`, or,
with `speaker_pattern`, what that regular expression finds in the file name (`core.corpus.speakers`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from core.audio import TARGET_SR, frame_rms, is_silent, load_audio
from core.corpus.report import ReadReport, find_audio_files, probe_duration, relative_id
from core.corpus.speakers import file_speakers
from core.errors import InputFileError, WordbridgeError
from core.progress import Progress, ensure
from core.segments import Segment, SegmentTable

VAD_FRAME_S = 0.03
ENERGY_HOP_S = 0.01


def read_vad(source: str | os.PathLike, vad: str = "webrtc", aggressiveness: int = 2,
             min_pause: float = 0.1, pause_level: float = 0.1, min_word: float = 0.1,
             max_word: float = 1.0, merge_gap: float = 0.3, speaker_pattern: str | None = None,
             progress: Progress | None = None) -> tuple[SegmentTable, ReadReport]:
    """Unlabelled word-like segments of unsegmented recordings (VAD, then splits at pauses)."""
    if vad not in ("webrtc", "silero"):
        raise WordbridgeError(f"unknown VAD {vad!r} (choose webrtc or silero)")
    progress = ensure(progress)
    root, report, files, speakers = _start(source, "vad", "voice activity detection", speaker_pattern, progress)
    segments: list[Segment] = []
    for path, samples, sr in _recordings(files, report, progress):
        if vad == "webrtc":
            regions = webrtc_speech_regions(samples, sr, aggressiveness, merge_gap)
        else:
            regions = silero_speech_regions(samples, sr)
        file_id, speaker = relative_id(path, root), speakers[path]
        reference = _loud_level(samples, sr)
        n_before = len(segments)
        for r, (r0, r1) in enumerate(regions):
            words = pause_split(samples[r0:r1], sr, min_pause, pause_level, min_word, max_word, reference)
            for pos, (w0, w1) in enumerate(words):
                segments.append(Segment(str(path), (r0 + w0) / sr, (r0 + w1) / sr, None, speaker,
                                        f"{file_id}#{r}", pos))
        if len(segments) == n_before:
            report.skip("no speech found", str(path))
            continue
        report.files_used += 1
    report.segments = len(segments)
    return SegmentTable.from_segments(segments), report


def _start(source, reader: str, stage: str, speaker_pattern: str | None, progress: Progress):
    """What every reader here begins with: (root, report, audio files, speaker of each file); the
    speaker pattern is checked against every file before any audio is read."""
    progress.set_stage(stage)
    root = Path(source)
    report = ReadReport(reader=reader)
    files = find_audio_files(root, report)
    return root, report, files, file_speakers(files, root, speaker_pattern)


def _recordings(files: list[Path], report: ReadReport, progress: Progress):
    """(path, samples, sample rate) of every file of `files`, in order; an unreadable one is
    reported in `report` and passed over; cancellable, one progress update per file."""
    for k, path in enumerate(files):
        progress.check()
        report.files_seen += 1
        try:
            samples, sr = load_audio(path)
        except InputFileError as exc:
            report.skip(getattr(exc, "reason", "unreadable audio"), str(exc))
            continue
        yield path, samples, sr
        progress.update(k + 1, len(files))


def read_energy(source: str | os.PathLike, min_pause: float = 0.1, silence_db: float = 35.0,
                min_word: float = 0.15, max_word: float = 0.5, valley_db: float = 1.0,
                speaker_pattern: str | None = None, progress: Progress | None = None
                ) -> tuple[SegmentTable, ReadReport]:
    """Unlabelled syllable-to-word-sized segments of unsegmented recordings: cut at pauses, and
    long stretches at their energy valleys (see the module docstring)."""
    from core.discovery.term_discovery import energy_segments

    if not 0 < min_word <= max_word:
        raise WordbridgeError(f"shortest and longest word must satisfy 0 < {min_word} <= {max_word}")
    if min_pause <= 0 or silence_db <= 0 or valley_db < 0:
        raise WordbridgeError("pause length and silence level must be positive, the valley depth not negative")
    progress = ensure(progress)
    root, report, files, speakers = _start(source, "energy", "cutting at pauses and energy valleys", speaker_pattern,
                                           progress)
    segments: list[Segment] = []
    for path, samples, _sr in _recordings(files, report, progress):
        spans = [] if is_silent(samples) else energy_segments(samples, silence_db, min_pause, min_word, max_word,
                                                               valley_db)
        if not spans:
            report.skip("no speech found", str(path))
            continue
        file_id, speaker = relative_id(path, root), speakers[path]
        segments += [Segment(str(path), a, b, None, speaker, file_id, pos) for pos, (a, b) in enumerate(spans)]
        report.files_used += 1
    report.segments = len(segments)
    return SegmentTable.from_segments(segments), report


def read_chunks(source: str | os.PathLike, chunk_seconds: float = 0.5, speaker_pattern: str | None = None,
                progress: Progress | None = None) -> tuple[SegmentTable, ReadReport]:
    """Each file cut into consecutive `chunk_seconds` chunks; a last chunk under half length is dropped."""
    if chunk_seconds <= 0:
        raise WordbridgeError(f"chunk length must be positive, got {chunk_seconds}")
    progress = ensure(progress)
    root, report, files, speakers = _start(source, "chunks", "chunking", speaker_pattern, progress)
    segments: list[Segment] = []
    for k, path in enumerate(files):
        progress.check()
        report.files_seen += 1
        duration = probe_duration(path, report)
        if duration is None:
            continue
        n = int(duration // chunk_seconds)
        if duration - n * chunk_seconds >= chunk_seconds / 2:
            n += 1
        if n == 0:
            report.skip("shorter than half a chunk", f"{path}: {duration:.3f} s")
            continue
        file_id, speaker = relative_id(path, root), speakers[path]
        for i in range(n):
            segments.append(Segment(str(path), i * chunk_seconds, min(duration, (i + 1) * chunk_seconds),
                                    None, speaker, file_id, i))
        report.files_used += 1
        if k % 100 == 0:
            progress.update(k + 1, len(files))
    report.segments = len(segments)
    return SegmentTable.from_segments(segments), report


def webrtc_speech_regions(samples: np.ndarray, sr: int = TARGET_SR, aggressiveness: int = 2,
                          merge_gap: float = 0.3, min_region: float = 0.1) -> list[tuple[int, int]]:
    """Speech regions as (start, end) sample indices from webrtcvad on 30-ms frames.

    Gaps shorter than `merge_gap` seconds are bridged; regions under `min_region` are dropped.
    """
    import webrtcvad

    if not 0 <= aggressiveness <= 3:
        raise WordbridgeError(f"VAD aggressiveness must be 0..3, got {aggressiveness}")
    detector = webrtcvad.Vad(int(aggressiveness))
    frame = int(VAD_FRAME_S * sr)
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    n = len(pcm) // frame
    flags = np.array([detector.is_speech(pcm[i * frame:(i + 1) * frame].tobytes(), sr) for i in range(n)],
                     dtype=bool)
    return _runs_to_regions(flags, frame, merge_gap, min_region, sr)


def silero_speech_regions(samples: np.ndarray, sr: int = TARGET_SR) -> list[tuple[int, int]]:
    """Speech regions (start, end sample indices) from the silero-vad model (optional dependency).

    The model ships inside the silero-vad package (no download); it takes 8 or 16 kHz audio.
    """
    if sr not in (8000, 16000):
        raise WordbridgeError(f"silero VAD takes 8000 or 16000 Hz audio, got {sr} Hz")
    import torch

    model, get_speech_timestamps = _silero()
    stamps = get_speech_timestamps(torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32)), model,
                                   sampling_rate=sr)
    return [(int(s["start"]), int(s["end"])) for s in stamps]


def pause_split(samples: np.ndarray, sr: int = TARGET_SR, min_pause: float = 0.1,
                pause_level: float = 0.1, min_word: float = 0.1, max_word: float = 1.0,
                reference: float | None = None) -> list[tuple[int, int]]:
    """Word-like spans (start, end sample indices) of a speech region, split at pauses.

    A pause is a run of 10-ms frames with RMS below `pause_level` × `reference` (default: the
    region's 95th-percentile frame RMS; `read_vad` passes the whole recording's 99th percentile,
    so that a region holding only noise yields no words) lasting at least `min_pause` seconds. Spans shorter than `min_word` are dropped;
    spans longer than `max_word` are cut at the quietest frame (not within `min_word` of an end),
    repeatedly.
    """
    hop = int(ENERGY_HOP_S * sr)
    n = len(samples) // hop
    if n == 0:
        return []
    rms = frame_rms(samples, hop)
    loud = np.percentile(rms, 95) if reference is None else reference
    if loud <= 0:
        return []
    voiced = rms >= pause_level * loud
    spans = _runs_to_regions(voiced, 1, min_pause, 0, sr / hop)
    min_frames, max_frames = int(round(min_word / ENERGY_HOP_S)), int(round(max_word / ENERGY_HOP_S))
    words: list[tuple[int, int]] = []
    for a, b in spans:
        for c, d in _cut_long(rms, a, b, max_frames, max(1, min_frames)):
            if d - c >= min_frames:
                words.append((c * hop, min(len(samples), d * hop)))
    return words


def _cut_long(rms: np.ndarray, a: int, b: int, max_frames: int, min_frames: int) -> list[tuple[int, int]]:
    if b - a <= max_frames or b - a < 2 * min_frames:
        return [(a, b)]
    smooth = np.convolve(rms[a:b], np.ones(3) / 3, mode="same")
    cut = a + min_frames + int(np.argmin(smooth[min_frames:b - a - min_frames]))
    return _cut_long(rms, a, cut, max_frames, min_frames) + _cut_long(rms, cut, b, max_frames, min_frames)


def _runs_to_regions(flags: np.ndarray, frame: int, merge_gap, min_region, sr) -> list[tuple[int, int]]:
    """Runs of True frames → (start, end) in samples (frame units when frame=1), merging short gaps."""
    if not flags.any():
        return []
    edges = np.diff(np.concatenate([[0], flags.astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    gap_frames = merge_gap * sr / frame
    merged = [[int(starts[0]), int(ends[0])]]
    for s, e in zip(starts[1:], ends[1:]):
        if s - merged[-1][1] < gap_frames:
            merged[-1][1] = int(e)
        else:
            merged.append([int(s), int(e)])
    min_frames = min_region * sr / frame
    return [(s * frame, e * frame) for s, e in merged if e - s >= min_frames]


def _loud_level(samples: np.ndarray, sr: int) -> float:
    hop = int(ENERGY_HOP_S * sr)
    n = len(samples) // hop
    if n == 0:
        return 0.0
    return float(np.percentile(frame_rms(samples, hop), 99))


_SILERO = {}


def _silero():
    """(model, get_speech_timestamps), loaded once per process from the package's own files."""
    if "model" not in _SILERO:
        import warnings

        import torch

        threads = torch.get_num_threads()  # importing silero_vad sets torch to one thread, process-wide
        try:
            from silero_vad import get_speech_timestamps, load_silero_vad
        except ImportError:
            raise WordbridgeError("silero VAD needs the silero-vad package (pip install silero-vad)") from None
        finally:
            torch.set_num_threads(threads)
        with warnings.catch_warnings():  # deprecation notices from silero's loader are silero's to act on
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            _SILERO["model"] = load_silero_vad()
        _SILERO["timestamps"] = get_speech_timestamps
    return _SILERO["model"], _SILERO["timestamps"]
