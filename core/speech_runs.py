"""Does a clip hold one word or several? Counts the runs of speech separated by pauses.

The recogniser takes a clip as one word; a sentence ("in the beginning God created") would get
one answer that means nothing. Runs are found with the pause detector of the `vad` corpus reader
(core.corpus.unsegmented.pause_split: 10-ms frames quieter than `pause_level` × the clip's loud
level for `min_pause` seconds or more separate two runs; runs under `min_word` are dropped), here
without cutting long runs at energy minima, so a long word stays one run. Words said without a
pause between them (fast connected speech) are one run: the count is a lower bound, and the
warning errs towards silence rather than flagging a single word.
"""

from __future__ import annotations

import numpy as np

MIN_PAUSE_S = 0.1  # as the vad reader: pauses between words read aloud one by one are longer
PAUSE_LEVEL = 0.1
MIN_RUN_S = 0.1


def speech_runs(samples: np.ndarray, sr: int, min_pause: float = MIN_PAUSE_S, pause_level: float = PAUSE_LEVEL,
                min_run: float = MIN_RUN_S) -> list[tuple[float, float]]:
    """(start, end) seconds of each run of speech in a clip (empty for a silent or empty clip)."""
    from core.audio import is_silent
    from core.corpus.unsegmented import _loud_level, pause_split

    samples = np.asarray(samples, dtype=np.float32)
    if samples.ndim != 1 or is_silent(samples):
        return []
    reference = _loud_level(samples, sr)
    spans = pause_split(samples, sr, min_pause=min_pause, pause_level=pause_level, min_word=min_run,
                        max_word=len(samples) / sr + 1.0, reference=reference)
    return [(a / sr, b / sr) for a, b in spans]


def several_words_warning(samples: np.ndarray, sr: int) -> str | None:
    """A one-line warning when the clip holds more than one run of speech, else None."""
    runs = speech_runs(samples, sr)
    if len(runs) < 2:
        return None
    return (f"this clip seems to hold {len(runs)} words ({len(runs)} stretches of speech between pauses); "
            "it is classified as one word — record one word per clip, or split it into words "
            "(Recordings ▸ Split into words; main.py classify --split)")
