"""Text spaces for experiments: gensim's word2vec when installed, else core.text.skipgram's
word2vec in torch (the GPU machine may lack gensim). Both return `Embeddings` in frequency order
with counts.
"""

from __future__ import annotations

from core.embeddings import Embeddings
from core.progress import Progress


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
    from core.text.skipgram import SkipGramParams, train_text_space

    settings = dict(training)
    backend = settings.pop("backend", "auto")
    settings.pop("max_tokens", None)
    batch_size = settings.pop("batch_size", None)
    params = SkipGramParams(**settings)
    params.check()
    if backend == "auto":
        backend = "gensim" if gensim_available() else "torch"
    extra = {} if batch_size is None else {"batch_size": int(batch_size)}
    space = train_text_space(sentences, params, language=language, progress=progress, backend=backend,
                             device=device, **extra)
    return space, backend
