"""Offline forced alignment of a transcript to its audio with PocketSphinx (US-English model).

`ForcedAligner.align(samples, words)` places each word of a known transcript in 16 kHz mono
audio with the `pocketsphinx` wheel's word-level alignment search (`Decoder.set_align_text`,
which allows optional silence between words and picks among a word's alternative
pronunciations), with batch feature normalisation, a −70 dBFS dither, and retries with wider
beams and padded audio when no path is found (`ATTEMPTS`). Pronunciations come from the
wheel's CMU dictionary, then from an optional corpus lexicon (ARPAbet; stress digits are
dropped: `load_lexicon`). A word with neither is aligned as a generic speech filler (+SPN+) so
its neighbours can still be placed, and is itself not returned. `align_files` runs many
utterances, in worker processes if asked, and returns one
`AlignResult` per utterance: placed words, or the reason none could be placed.

Nothing here raises for one bad utterance: failures are results with a short reason
("missing audio", "transcript longer than audio", "not aligned", ...), which the corpus readers
count in their ReadReport.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.errors import InputFileError, WordbridgeError
from core.progress import Progress, ensure

SAMPLE_RATE = 16000
FRAME_RATE = 100  # pocketsphinx frames per second (10 ms)
MIN_FRAMES_PER_PHONE = 3  # each phone is a 3-state left-to-right HMM: at least 3 frames
UNKNOWN = "<unknown>"  # stand-in word (generic speech filler) for a word without pronunciation
UNKNOWN_PHONES = "+SPN+"
# Attempts in turn, (search beam, seconds of silence padded at both ends): the model's default
# beams, then wider beams, then the defaults on padded audio. Some utterances find no path with
# the defaults; wider beams alone sometimes end the search early, so a result is kept only if it
# covers the whole transcript. On speechocean762 the two retries place about a third of the
# utterances the first attempt cannot (the rest, about 1 %, are counted as "not aligned").
ATTEMPTS = ((None, 0.0), (1e-60, 0.0), (None, 0.3))
# A deterministic −70 dBFS noise floor added before decoding: stretches of digital silence
# (zero padding) otherwise upset the model's feature normalisation and the search finds no path.
DITHER = 3e-4
# Markers of non-speech in transcripts (<sil>, [noise], +breath+): not words, never labels.
NON_WORD = re.compile(r"^(<.*>|\[.*\]|\+.*\+)$")
EDGE_PUNCTUATION = ".,;:!?\"“”„«»()[]{}¡¿…"

# Reasons (the ReadReport keys the readers count under)
NO_PRONUNCIATION = "no pronunciation"
NOT_ALIGNED = "not aligned"
TOO_LONG = "transcript longer than audio"
EMPTY = "empty transcript"


@dataclass
class AlignResult:
    """One utterance: placed (word, start_s, end_s) in order, or `reason` why none were placed.

    `unplaced` lists words of the transcript that were not returned (no pronunciation), while
    the others were; `audio_seconds` / `seconds` are the audio's length and the time spent.
    """

    key: str
    words: list[tuple[str, float, float]] = field(default_factory=list)
    reason: str | None = None
    detail: str = ""
    unplaced: list[str] = field(default_factory=list)
    audio_seconds: float = 0.0
    seconds: float = 0.0


def normalise_words(text: str) -> list[str]:
    """Transcript text → lower-case word tokens (edge punctuation and non-speech markers dropped)."""
    words = []
    for token in text.split():
        if NON_WORD.match(token):
            continue
        token = token.strip(EDGE_PUNCTUATION).lower()
        if token:
            words.append(token)
    return words


def load_lexicon(path: str | os.PathLike) -> dict[str, list[str]]:
    """A pronunciation lexicon: `WORD<TAB or spaces>PH1 PH2 ...` per line (ARPAbet).

    Words are lower-cased, stress digits dropped (AH0 → AH), phones upper-cased; a word may have
    several lines (alternative pronunciations, kept in file order). Blank lines and lines
    starting with ';;;' or '#' are ignored; a line with a word but no phones raises
    InputFileError naming the line.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "lexicon not found")
    lexicon: dict[str, list[str]] = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line_no, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith((";;;", "#")):
                continue
            parts = line.split()
            if len(parts) < 2:
                raise InputFileError(path, f"lexicon line has a word but no phones: {line[:60]!r}", line_no)
            word = re.sub(r"\(\d+\)$", "", parts[0]).lower()  # CMU style WORD(2)
            phones = [re.sub(r"\d+$", "", p).upper() for p in parts[1:]]
            if not all(re.fullmatch(r"[A-Z]+", p) for p in phones):
                raise InputFileError(path, f"lexicon line has phones that are not ARPAbet: "
                                           f"{line[:60]!r}", line_no)
            pron = " ".join(phones)
            prons = lexicon.setdefault(word, [])
            if pron not in prons:
                prons.append(pron)
    return lexicon


class ForcedAligner:
    """A PocketSphinx decoder set up for word-level forced alignment (one per process)."""

    def __init__(self, lexicon: dict[str, list[str]] | None = None):
        try:
            import pocketsphinx
        except ImportError:  # pragma: no cover - requirements.txt installs it
            raise WordbridgeError("forced alignment needs the pocketsphinx package "
                                  "(pip install pocketsphinx)") from None
        self._pocketsphinx = pocketsphinx
        self.lexicon = lexicon or {}
        self._phones: dict[str, int | None] = {}  # word → phone count (None: no pronunciation)
        self._added: list[tuple[str, str]] = [(UNKNOWN, UNKNOWN_PHONES)]  # (name, phones) added
        self._decoders: dict[float | None, object] = {}
        self.decoder = self._decoder(ATTEMPTS[0][0])

    def _decoder(self, beam: float | None):
        """The decoder for `beam` (None: the model's defaults), made on first use."""
        if beam not in self._decoders:
            config = self._pocketsphinx.Config(loglevel="FATAL")
            config["samprate"] = SAMPLE_RATE
            config["cmn"] = "batch"  # normalise over the whole utterance: results independent of order
            if beam is not None:
                config["beam"] = config["pbeam"] = config["wbeam"] = beam
            decoder = self._pocketsphinx.Decoder(config)
            for name, phones in self._added:
                decoder.add_word(name, phones, True)
            self._decoders[beam] = decoder
        return self._decoders[beam]

    def phone_count(self, word: str) -> int | None:
        """Phones in the word's (shortest) pronunciation, adding it from the lexicon if needed;
        None when neither the model's dictionary nor the lexicon has a usable one."""
        if word in self._phones:
            return self._phones[word]
        count = None
        if not NON_WORD.match(word) and not any(c.isspace() for c in word):
            known = self.decoder.lookup_word(word)
            if known:
                count = len(known.split())
            else:
                added = 0
                for pron in self.lexicon.get(word, []):
                    name = word if added == 0 else f"{word}({added + 1})"
                    try:
                        for decoder in self._decoders.values():
                            decoder.add_word(name, pron, True)
                    except RuntimeError:  # a phone the acoustic model does not have
                        continue
                    self._added.append((name, pron))
                    added += 1
                    n = len(pron.split())
                    count = n if count is None else min(count, n)
        self._phones[word] = count
        return count

    def align(self, samples: np.ndarray, words: list[str], key: str = "") -> AlignResult:
        """Place `words` (normalised, in order) in `samples` (mono float32, 16 kHz)."""
        t0 = time.perf_counter()
        duration = len(samples) / SAMPLE_RATE
        result = AlignResult(key, audio_seconds=duration)
        if not words:
            result.reason, result.detail = EMPTY, f"{key}: no words to align"
            return result
        counts = [self.phone_count(w) for w in words]
        result.unplaced = [w for w, c in zip(words, counts) if c is None]
        if len(result.unplaced) == len(words):
            result.reason = NO_PRONUNCIATION
            result.detail = f"{key}: no pronunciation for {' '.join(words)[:80]}"
            return result
        needed = sum(c if c is not None else 1 for c in counts) * MIN_FRAMES_PER_PHONE / FRAME_RATE
        if needed > duration:
            result.reason = TOO_LONG
            result.detail = (f"{key}: {len(words)} words need at least {needed:.2f} s but the audio "
                             f"lasts {duration:.2f} s")
            return result
        text = [w if c is not None else UNKNOWN for w, c in zip(words, counts)]
        spans = None
        for beam, pad_s in ATTEMPTS:
            pad = np.zeros(int(round(pad_s * SAMPLE_RATE)), dtype=np.float32)
            padded = np.concatenate([pad, samples, pad]) if len(pad) else np.asarray(samples, np.float32)
            noise = np.random.default_rng(0).standard_normal(len(padded)).astype(np.float32) * DITHER
            pcm = (np.clip(padded + noise, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
            spans = self._decode(self._decoder(beam), text, pcm)
            if spans is not None:
                spans = [(w, s - len(pad) / SAMPLE_RATE, e - len(pad) / SAMPLE_RATE) for w, s, e in spans]
                break
        result.seconds = time.perf_counter() - t0
        if spans is None:
            result.reason = NOT_ALIGNED
            result.detail = f"{key}: the aligner found no path through {len(words)} words"
            return result
        result.words = [(w, round(max(0.0, s), 3), round(min(duration, e), 3))
                        for (w, s, e), c in zip(spans, counts) if c is not None and w != UNKNOWN]
        result.words = [(w, s, e) for w, s, e in result.words if e > s]
        return result

    @staticmethod
    def _decode(d, text: list[str], pcm: bytes) -> list[tuple[str, float, float]] | None:
        try:
            d.set_align_text(" ".join(text))
            d.start_utt()
            d.process_raw(pcm, full_utt=True)
            d.end_utt()
        except (RuntimeError, ValueError):
            return None
        if d.hyp() is None:
            return None
        segs = d.seg()
        if segs is None:
            return None
        wanted = set(text)
        spans = []
        for seg in segs:
            word = re.sub(r"\(\d+\)$", "", seg.word)
            if word in wanted:
                spans.append((word, seg.start_frame / FRAME_RATE, (seg.end_frame + 1) / FRAME_RATE))
        if [w for w, _, _ in spans] != text:
            return None
        return spans


@dataclass
class AlignJob:
    """One utterance to align: an id, its audio file and its normalised words."""

    key: str
    audio: str
    words: list[str]


@dataclass
class AlignStats:
    """Totals over a run: utterances, audio seconds, wall seconds (real-time factor = wall / audio)."""

    utterances: int = 0
    audio_seconds: float = 0.0
    wall_seconds: float = 0.0
    workers: int = 0

    @property
    def real_time_factor(self) -> float:
        return self.wall_seconds / self.audio_seconds if self.audio_seconds else 0.0

    def summary(self) -> str:
        return (f"{self.utterances} utterances, {self.audio_seconds / 3600:.2f} h "
                f"of audio in {self.wall_seconds:.0f} s with {max(1, self.workers)} process(es) "
                f"(real-time factor {self.real_time_factor:.4f})")


_WORKER: ForcedAligner | None = None


def _init_worker(lexicon: dict[str, list[str]] | None) -> None:
    global _WORKER
    _WORKER = ForcedAligner(lexicon)


def _init_pool_worker(lexicon: dict[str, list[str]] | None) -> None:
    """A worker process: one thread for torch (resampling), then its own aligner."""
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
    _init_worker(lexicon)


def _align_job(job: AlignJob) -> AlignResult:
    from core.audio import load_audio

    t0 = time.perf_counter()
    try:
        samples, _ = load_audio(job.audio, SAMPLE_RATE)
    except InputFileError as exc:
        return AlignResult(job.key, reason=getattr(exc, "reason", "unreadable audio"), detail=str(exc),
                           seconds=time.perf_counter() - t0)
    result = _WORKER.align(samples, job.words, job.key)
    result.seconds = time.perf_counter() - t0
    return result


def align_files(jobs: list[AlignJob], lexicon: dict[str, list[str]] | None = None, workers: int = 0,
                progress: Progress | None = None, stats: AlignStats | None = None):
    """Align every job (in `workers` processes; 0 = in this process); yields AlignResult in job order.

    Progress goes to `progress` (stage "forced alignment", with the real-time factor so far);
    `stats`, if given, is filled in as results arrive.
    """
    progress = ensure(progress)
    if workers < 0:
        raise WordbridgeError(f"alignment workers must be 0 or more, got {workers}")
    stats = stats if stats is not None else AlignStats()
    stats.workers = workers
    progress.set_stage("forced alignment")
    t0 = time.perf_counter()
    pool = None
    if workers > 0 and len(jobs) > 1:
        import multiprocessing

        pool = multiprocessing.get_context("spawn").Pool(min(workers, len(jobs)), initializer=_init_pool_worker,
                                                         initargs=(lexicon,))
        results = pool.imap(_align_job, jobs, chunksize=4)
    else:
        _init_worker(lexicon)
        results = map(_align_job, jobs)
    try:
        for k, result in enumerate(results, 1):
            progress.check()
            stats.utterances += 1
            stats.audio_seconds += result.audio_seconds
            stats.wall_seconds = time.perf_counter() - t0
            if k % 10 == 0 or k == len(jobs):
                progress.update(k, len(jobs), rtf=round(stats.real_time_factor, 4))
            yield result
    finally:
        if pool is not None:
            pool.terminate()
    stats.wall_seconds = time.perf_counter() - t0
    progress.log(stats.summary())
