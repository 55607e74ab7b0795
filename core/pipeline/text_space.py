"""Text spaces for experiments: gensim's word2vec when installed, else the same skip-gram in torch.

The GPU machine has torch but no gensim, so the torch path reuses the pseudo-word skip-gram of
core.speech (dynamic window, sub-sampling, unigram^0.75 negatives) over real word ids. Both paths
return `Embeddings` in frequency order with counts.
"""

from __future__ import annotations

import numpy as np

from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.progress import Progress, ensure

TORCH_DEFAULTS = {"batch_size": 8192, "lr": 0.005}


def read_sentences(path: str, chapters: str, max_tokens: int | None, progress: Progress | None = None) -> list[list[str]]:
    """Token lists of a verse TSV or plain-text corpus, stopping after `max_tokens` tokens."""
    from core.text.corpus import read_corpus

    sentences, total = [], 0
    for tokens in read_corpus(path, "auto", chapters, progress):
        sentences.append(tokens)
        total += len(tokens)
        if max_tokens is not None and total >= max_tokens:
            break
    return sentences


def gensim_available() -> bool:
    """True when gensim can be imported."""
    try:
        import gensim  # noqa: F401
    except ImportError:
        return False
    return True


def train_text(sentences: list[list[str]], training: dict, language: str, device: str = "auto",
               progress: Progress | None = None) -> tuple[Embeddings, str]:
    """Train a skip-gram space with the [text_training] settings; returns (space, backend used)."""
    from core.text.skipgram import SkipGramParams

    settings = dict(training)
    backend = settings.pop("backend", "auto")
    settings.pop("max_tokens", None)
    torch_only = {k: settings.pop(k) for k in list(settings) if k in TORCH_DEFAULTS}
    params = SkipGramParams(**settings)
    params.check()
    if backend == "auto":
        backend = "gensim" if gensim_available() else "torch"
    if backend == "gensim":
        from core.text.skipgram import train_text_space

        return train_text_space(sentences, params, language=language, progress=progress), "gensim"
    return train_torch_skipgram(sentences, params, language, device, progress,
                                **{**TORCH_DEFAULTS, **torch_only}), "torch"


def train_torch_skipgram(sentences: list[list[str]], params, language: str, device: str = "auto",
                         progress: Progress | None = None, batch_size: int = 8192,
                         lr: float = 0.005) -> Embeddings:
    """word2vec skip-gram with negative sampling in torch (core.speech.pseudo_skipgram's model)."""
    import tempfile

    import torch

    from core.speech import pseudo_skipgram as psg
    from core.speech.training import LoopSettings, train

    progress = ensure(progress)
    counts: dict[str, int] = {}
    for s in sentences:
        for w in s:
            counts[w] = counts.get(w, 0) + 1
    words = sorted((w for w, c in counts.items() if c >= params.min_count), key=lambda w: (-counts[w], w))
    if not words:
        raise WordbridgeError(f"no word occurs at least min_count={params.min_count} times in the corpus")
    index = {w: i for i, w in enumerate(words)}
    tokens, sent_ids = [], []
    for k, s in enumerate(sentences):
        ids = [index[w] for w in s if w in index]
        tokens += ids
        sent_ids += [k] * len(ids)
    count_arr = np.array([counts[w] for w in words], dtype=np.int64)
    torch.manual_seed(params.seed)
    model = psg.SkipGramNS(len(words), params.dim)
    task = psg.SkipGramTask(model, np.asarray(tokens, np.int64), np.asarray(sent_ids, np.int64), count_arr,
                            params.window, params.negative, params.sample, batch_size, params.seed)
    settings = LoopSettings(epochs=params.epochs, optimizer="adam", lr=lr, device=device, precision="fp32",
                            seed=params.seed, checkpoint_every=10**9, log_every=200, name="text skip-gram")
    with tempfile.TemporaryDirectory() as ckpt:
        train(task, settings, ckpt, progress)
    vectors = model.inp.weight.detach().float().cpu().numpy()
    return Embeddings(words, vectors, count_arr, language=language, modality="text")
