"""Skip-gram text spaces trained with gensim's word2vec (the paper's text side).

The paper trains fastText without subwords (= word2vec skip-gram), 50 dimensions. The other
defaults are those of shared/bench/textbench: window 5, min_count 5, 10 negative samples,
10 epochs, sub-sampling 1e-4, seed 1, 2 worker threads. With more than one worker gensim is not
bit-reproducible (thread scheduling); `workers=1` with a fixed seed is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable

import numpy as np

from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.progress import Progress, ensure


@dataclass
class SkipGramParams:
    """Every word2vec knob the command line exposes; defaults follow the paper and textbench."""

    dim: int = 50
    window: int = 5
    min_count: int = 5
    negative: int = 10
    epochs: int = 10
    sample: float = 1e-4
    seed: int = 1
    workers: int = 2
    sg: int = 1
    alpha: float = 0.025
    min_alpha: float = 0.0001

    def check(self) -> None:
        """Raise a one-line `WordbridgeError` for values gensim would reject or misuse."""
        for name in ("dim", "window", "min_count", "epochs", "workers"):
            if getattr(self, name) < 1:
                raise WordbridgeError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.negative < 1:
            raise WordbridgeError(f"negative must be at least 1, got {self.negative}")
        if self.sample < 0:
            raise WordbridgeError(f"sample must be >= 0, got {self.sample}")
        if self.sg not in (0, 1):
            raise WordbridgeError(f"sg must be 1 (skip-gram) or 0 (CBOW), got {self.sg}")


def train_text_space(sentences: Iterable[list[str]], params: SkipGramParams | None = None,
                     language: str = "", progress: Progress | None = None,
                     **overrides) -> Embeddings:
    """Train a word2vec space on `sentences` (a re-iterable of token lists).

    Keyword `overrides` (dim=..., epochs=..., ...) replace fields of `params`. Returns
    `Embeddings` whose rows are sorted by descending corpus count, with `counts` set.
    Progress is reported per epoch; cancellation takes effect between epochs.
    """
    from gensim.models import Word2Vec
    from gensim.models.callbacks import CallbackAny2Vec

    params = SkipGramParams(**{**asdict(params or SkipGramParams()), **overrides})
    params.check()
    progress = ensure(progress)

    class EpochReporter(CallbackAny2Vec):
        def __init__(self):
            self.epoch = 0

        def on_epoch_end(self, model):
            self.epoch += 1
            progress.update(self.epoch, params.epochs)
            progress.check()  # raising here stops train() cleanly: the epoch's threads are done

    model = Word2Vec(vector_size=params.dim, window=params.window, min_count=params.min_count,
                     negative=params.negative, hs=0, epochs=params.epochs, sample=params.sample,
                     seed=params.seed, workers=params.workers, sg=params.sg, alpha=params.alpha,
                     min_alpha=params.min_alpha)
    progress.set_stage("counting words")
    model.build_vocab(sentences)
    progress.check()
    if len(model.wv) == 0:
        if model.corpus_total_words == 0:
            raise WordbridgeError("no words in the corpus")
        raise WordbridgeError(f"no word occurs at least min_count={params.min_count} times in "
                              f"the corpus ({model.corpus_total_words} tokens); lower --min-count")
    progress.set_stage("training skip-gram")
    progress.update(0, params.epochs)
    model.train(sentences, total_examples=model.corpus_count, epochs=params.epochs,
                callbacks=[EpochReporter()])

    wv = model.wv
    counts = np.array([wv.get_vecattr(w, "count") for w in wv.index_to_key], dtype=np.int64)
    order = np.argsort(-counts, kind="stable")
    words = [wv.index_to_key[i] for i in order]
    return Embeddings(words, wv.vectors[order], counts[order], language=language, modality="text")
