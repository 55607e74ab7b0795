"""Word timings from espeak-ng events, mapped onto the tokenizer's words by character position.

espeak reports a WORD event (character position, sample) where a word it speaks starts. Its idea
of a word differs from ours (`[^\\W\\d_]+` on lower-cased text):
- it merges clitics and short function words into the event of a neighbour ("out of", "l'été",
  "qu'il", "o'clock", "là-bas");
- it speaks digits as words ("12" -> "twelve") that are no tokens of ours;
- it may emit an event inside one of our tokens.

So we work with character regions: event k owns the text from its position up to the next event's
position, and every token that *starts* in that region belongs to event k. The event's audio runs
from its sample to the first pause phoneme after it, or to the next event, whichever comes first.
When a region holds several tokens, the event's audio is split among them in proportion to their
character lengths; digit runs in the region take their share too but that share is left
unlabelled (it is the spoken number). Events that start inside a token are merged into the event
before them; events that do not move forward in both text and audio are merged into their
predecessor. The result is monotonic, non-overlapping and lies within the audio.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from core.text.tokenize import tokenize  # noqa: F401 (re-exported: the one tokenizer)

_PIECE_RE = re.compile(r"([^\W\d_]+)|[\d_]+")  # a token, or a run of digits/underscores


@dataclass(frozen=True)
class Token:
    """A tokenizer word with its character span [start, end) in the original text."""

    word: str
    start: int
    end: int


def _lower_with_offsets(text: str) -> tuple[str, list[int]]:
    """`text.lower()` and, for each of its characters, the index of the original character."""
    lowered = text.lower()
    if len(lowered) == len(text):
        return lowered, list(range(len(text)))
    offsets: list[int] = []
    for i, char in enumerate(text):
        offsets.extend([i] * len(char.lower()))
    if len(offsets) != len(lowered):  # cannot happen with Unicode's case rules; stay safe
        offsets = [min(i * len(text) // max(len(lowered), 1), len(text) - 1) for i in range(len(lowered))]
    return lowered, offsets


def _pieces(text: str) -> list[tuple[str | None, int, int]]:
    """Tokens (word, start, end) and unlabelled digit runs (None, start, end), original positions."""
    lowered, offsets = _lower_with_offsets(text)
    pieces = []
    for match in _PIECE_RE.finditer(lowered):
        start = offsets[match.start()]
        end = offsets[match.end() - 1] + 1
        pieces.append((match.group(1), start, end))
    return pieces


def word_timings_from_events(text: str, words: list[tuple[int, int]], phonemes: list[tuple[int, bool]],
                             end_sample: int, sample_rate: int) -> list[tuple[str, float, float]]:
    """Map espeak WORD events [(char_position, sample)] and PHONEME events [(sample, is_pause)]
    onto the tokens of `text`; return [(word, start_s, end_s)], one per token, monotonic,
    non-overlapping and within [0, end_sample / sample_rate]."""
    pieces = _pieces(text)
    tokens = [p for p in pieces if p[0] is not None]
    if not tokens:
        return []
    end_sample = max(end_sample, 1)
    events = _clean_events(words, tokens)
    if not events:
        events = [(0, 0)]  # espeak spoke nothing it called a word: spread tokens over the audio
    phonemes = sorted(phonemes)
    phoneme_samples = [p for p, _ in phonemes]
    starts = [p for p, _ in events]
    timings: list[tuple[str, float, float]] = []
    for k, (position, begin) in enumerate(events):
        next_begin = events[k + 1][1] if k + 1 < len(events) else end_sample
        stop = _speech_end(phonemes, phoneme_samples, begin, next_begin)
        stop = min(max(stop, begin + 1), end_sample) if begin < end_sample else end_sample
        begin = min(begin, stop - 1) if stop > 0 else 0
        low = position if k > 0 else -1  # the first event also owns any text before it
        high = starts[k + 1] if k + 1 < len(events) else len(text)
        region = [p for p in pieces if low <= p[1] < high]
        if not any(p[0] is not None for p in region):
            continue  # only digits or punctuation here: leave the audio unlabelled
        total = sum(p[2] - p[1] for p in region)
        offset = 0
        for word, a, b in region:
            t0 = begin + (stop - begin) * offset / total
            offset += b - a
            t1 = begin + (stop - begin) * offset / total
            if word is not None:
                timings.append((word, t0 / sample_rate, t1 / sample_rate))
    return make_valid(timings, end_sample / sample_rate)


def make_valid(timings: list[tuple[str, float, float]], duration: float,
               min_width: float = 1e-4) -> list[tuple[str, float, float]]:
    """Force timings to be increasing, non-overlapping, at least `min_width` long and within
    [0, duration] (a safety net for odd event sequences; normal output passes unchanged)."""
    fixed = []
    previous_end = 0.0
    for word, t0, t1 in timings:
        t0 = max(t0, previous_end, 0.0)
        t1 = max(t1, t0 + min_width)
        fixed.append((word, t0, t1))
        previous_end = t1
    if fixed and fixed[-1][2] > duration > 0:
        scale = duration / fixed[-1][2]
        fixed = [(w, t0 * scale, t1 * scale) for w, t0, t1 in fixed]
    return fixed


def _speech_end(phonemes: list[tuple[int, bool]], samples: list[int], begin: int, next_begin: int) -> int:
    """Where speech stops between `begin` and `next_begin`: the first of the pause phonemes that
    run up to `next_begin` with no sounding phoneme after them (or `next_begin` itself)."""
    stop = next_begin
    i = bisect.bisect_left(samples, next_begin) - 1
    while i >= 0 and samples[i] > begin and phonemes[i][1]:
        stop = samples[i]
        i -= 1
    return stop


def _clean_events(words: list[tuple[int, int]], tokens: list[tuple[str, int, int]]) -> list[tuple[int, int]]:
    """Drop WORD events that go backwards or start inside a token (their audio joins the event
    before them)."""
    token_starts = [t[1] for t in tokens]
    cleaned: list[tuple[int, int]] = []
    for position, sample in words:
        i = bisect.bisect_right(token_starts, position) - 1
        if i >= 0 and tokens[i][1] < position < tokens[i][2]:
            if cleaned:
                continue
            position = tokens[i][1]
        if cleaned and (position <= cleaned[-1][0] or sample <= cleaned[-1][1]):
            continue
        cleaned.append((position, sample))
    return cleaned
