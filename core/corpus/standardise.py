"""Fit a standardised front end (`core.frontends.standardised`) on the corpus a store is built from.

`corpus build --standardise` computes, before the features, the per-dimension mean and std of the
front end's frames of the whole audio (silence included) of up to `MAX_RECORDINGS` recordings of
the corpus — a fixed sample (`SEED`, drawn from the sorted recording names, so the same corpus
always gives the same sample) — then builds the store with those statistics fixed. No labels are
used. Why, and what it gives on Mboshi: docs/RESULTS.md, "Words without labels: the standardised
front end in the app (session 13)".
"""

from __future__ import annotations

import numpy as np

from core.audio import audio_warnings, load_audio
from core.errors import InputFileError, WordbridgeError
from core.frontends.base import FrontEnd
from core.frontends.standardised import StandardisedFrontEnd, fit_standardiser
from core.progress import Progress, ensure

MAX_RECORDINGS = 200
SEED = 0


def sample_recordings(names, n: int = MAX_RECORDINGS, seed: int = SEED) -> list[str]:
    """Up to `n` of the recording `names`: all of them when there are no more, else a seeded sample;
    drawn from the sorted names and returned sorted (the reader's order does not matter)."""
    names = sorted(set(names))
    if len(names) <= n:
        return names
    pick = np.random.default_rng(seed).choice(len(names), size=n, replace=False)
    return sorted(names[i] for i in pick)


def fit_on_recordings(inner: FrontEnd, paths, progress: Progress | None = None, device="cpu") -> StandardisedFrontEnd:
    """`inner` standardised with the statistics of all frames of the whole audio of each file in
    `paths` (`core.frontends.standardised.fit_standardiser`). Unreadable or silent files are passed
    over (the build reports them); progress: stage "standardising", one update per file, cancellable."""
    progress = ensure(progress)
    progress.set_stage("standardising")
    paths, used = list(paths), []

    def signals():
        for k, path in enumerate(paths):
            progress.check()
            try:
                samples, _ = load_audio(path)
            except InputFileError:
                samples = None
            if samples is not None and len(samples) and "silent" not in audio_warnings(samples):
                used.append(path)
                yield samples
            progress.update(k + 1, len(paths))

    try:
        return fit_standardiser(inner, signals(), device=device)
    except WordbridgeError:
        if not used:
            raise WordbridgeError("no readable recording to fit the standardisation on") from None
        raise
