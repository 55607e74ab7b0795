"""word2vec skip-gram with negative sampling, two backends: gensim (CPU) and torch (CPU or GPU).

The paper trains fastText without subwords (= word2vec skip-gram), 50 dimensions. The other
defaults are those of shared/bench/textbench: window 5, min_count 5, 10 negative samples,
10 epochs, sub-sampling 1e-4, seed 1, 2 worker threads. With more than one worker gensim is not
bit-reproducible (thread scheduling); `workers=1` with a fixed seed is.

The torch backend is word2vec as Mikolov et al. (2013) describe it, batched: separate input and
output vectors (input uniform in ±0.5/dim, output zero), frequent words discarded with
probability 1 − (√(f/t) + 1)·t/f each epoch, a window shrunk at random to 1..window around each
word, negatives drawn from the unigram distribution raised to 0.75, and plain SGD whose rate
falls linearly from `alpha` to `min_alpha` over the whole run. Each step takes a batch of
(word, context) pairs and adds the updates to the touched rows only (index_add_), as word2vec's
threads do; the input vectors are the embeddings. It needs only torch and numpy, so text and
speech-type spaces train on a GPU box without gensim. Both backends work on integer token
streams too (`word2vec_ids`), which is how core.speech.pseudo_skipgram trains over pseudo-words.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable

import numpy as np

from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.progress import Progress, ensure

BACKENDS = ("auto", "gensim", "torch")
TORCH_BATCH = 4096  # (word, context) pairs per SGD step at most; see _safe_batch_size
# At most this many expected updates of one row in one step (at alpha 0.025; scaled by 0.025/alpha).
# On 120k KJV tokens training diverged at ~5,600 and was still word2vec-like at ~2,800; on an
# 8-word toy corpus, where every row is that busy, ~1,000 already collapsed the space and ~300 bent it.
_MAX_ROW_UPDATES = 100
_CHUNK_TOKENS = 200_000  # tokens whose pairs and negatives are drawn at once (bounds memory)
_LOSS_EVERY = 8  # steps between loss samples (the loss is only reported)


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
        if not 0 < self.alpha or not 0 <= self.min_alpha <= self.alpha:
            raise WordbridgeError(f"need 0 <= min_alpha <= alpha and alpha > 0, got alpha={self.alpha}, "
                                  f"min_alpha={self.min_alpha}")


def gensim_available() -> bool:
    """True when gensim can be imported."""
    import importlib.util

    return importlib.util.find_spec("gensim") is not None


def resolve_backend(backend: str) -> str:
    """"auto" → gensim when installed, else torch; an unknown name is a user error."""
    if backend not in BACKENDS:
        raise WordbridgeError(f"skip-gram backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if backend == "auto":
        return "gensim" if gensim_available() else "torch"
    return backend


def train_text_space(sentences: Iterable[list[str]], params: SkipGramParams | None = None,
                     language: str = "", progress: Progress | None = None, backend: str = "auto",
                     device: str = "auto", batch_size: int = TORCH_BATCH, **overrides) -> Embeddings:
    """Train a word2vec space on `sentences` (a re-iterable of token lists).

    Keyword `overrides` (dim=..., epochs=..., ...) replace fields of `params`. `backend` is
    "gensim", "torch" or "auto" (gensim when installed); `device` and `batch_size` concern the
    torch backend only. Returns `Embeddings` whose rows are sorted by descending corpus count
    (ties in gensim's order, the same for both backends), with `counts` set. Progress is
    reported per epoch.
    """
    params = SkipGramParams(**{**asdict(params or SkipGramParams()), **overrides})
    params.check()
    progress = ensure(progress)
    if resolve_backend(backend) == "gensim":
        words, vectors, counts = word2vec_gensim(sentences, params, progress)
    else:
        progress.set_stage("counting words")
        words, counts, tokens, sentence_ids = _vocabulary(sentences, params.min_count)
        vectors = word2vec_torch(tokens, sentence_ids, len(words), params, device, batch_size, progress)
    return Embeddings(words, vectors, counts, language=language, modality="text")


def word2vec_ids(tokens: np.ndarray, sentence_ids: np.ndarray, n_words: int, params: SkipGramParams,
                 backend: str = "auto", device: str = "auto", batch_size: int = TORCH_BATCH,
                 progress: Progress | None = None) -> np.ndarray:
    """Skip-gram vectors [n_words, dim] for a stream of word ids 0..n_words-1 cut into sentences.

    `sentence_ids` gives each token's sentence (equal neighbours = same sentence); windows never
    cross a sentence end. Every id is a word (no min_count here); an id that never occurs keeps a
    zero vector with gensim and its small random start with torch.
    """
    params.check()
    progress = ensure(progress)
    tokens = np.asarray(tokens, dtype=np.int64)
    if len(tokens) != len(sentence_ids):
        raise WordbridgeError(f"{len(tokens)} tokens but {len(sentence_ids)} sentence ids")
    if len(tokens) and (tokens.min() < 0 or tokens.max() >= n_words):
        raise WordbridgeError(f"token ids must lie in 0..{n_words - 1}")
    if n_words == 0:
        return np.zeros((0, params.dim), dtype=np.float32)
    if resolve_backend(backend) == "torch":
        return word2vec_torch(tokens, sentence_ids, n_words, params, device, batch_size, progress)
    names = [str(i) for i in range(n_words)]
    cut = np.flatnonzero(np.diff(np.asarray(sentence_ids))) + 1
    corpus = [[names[t] for t in part] for part in np.split(tokens, cut)] if len(tokens) else []
    words, vectors, _ = word2vec_gensim(corpus, SkipGramParams(**{**asdict(params), "min_count": 1}),
                                        progress)
    out = np.zeros((n_words, params.dim), dtype=np.float32)
    out[[int(w) for w in words]] = vectors
    return out


def word2vec_gensim(sentences: Iterable[list[str]], params: SkipGramParams, progress: Progress | None = None
                    ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """gensim's Word2Vec on token lists: (words, vectors, counts), rows by descending count."""
    try:
        from gensim.models import Word2Vec
        from gensim.models.callbacks import CallbackAny2Vec
    except ImportError:
        raise WordbridgeError("the gensim skip-gram backend needs gensim installed "
                              "(pip install gensim, or use the torch backend)") from None
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
        _raise_no_vocabulary(model.corpus_total_words, params.min_count)
    progress.set_stage("training skip-gram")
    progress.update(0, params.epochs)
    model.train(sentences, total_examples=model.corpus_count, epochs=params.epochs,
                callbacks=[EpochReporter()])
    wv = model.wv
    counts = np.array([wv.get_vecattr(w, "count") for w in wv.index_to_key], dtype=np.int64)
    order = np.argsort(-counts, kind="stable")
    return [wv.index_to_key[i] for i in order], wv.vectors[order], counts[order]


def _raise_no_vocabulary(total_words: int, min_count: int) -> None:
    if total_words == 0:
        raise WordbridgeError("no words in the corpus")
    raise WordbridgeError(f"no word occurs at least min_count={min_count} times in "
                          f"the corpus ({total_words} tokens); lower --min-count")


def _vocabulary(sentences: Iterable[list[str]], min_count: int
                ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """(words by descending count, ties ordered as gensim orders them; counts; token ids; sentence ids)."""
    counts: dict[str, int] = {}
    for sentence in sentences:
        for w in sentence:
            counts[w] = counts.get(w, 0) + 1
    kept = [w for w, c in counts.items() if c >= min_count]  # in order of first occurrence
    # gensim's order: by descending count, ties with the word seen first last
    words = [kept[i] for i in np.lexsort((-np.arange(len(kept)), -np.array([counts[w] for w in kept])))]
    if not words:
        _raise_no_vocabulary(sum(counts.values()), min_count)
    index = {w: i for i, w in enumerate(words)}
    tokens: list[int] = []
    sentence_ids: list[int] = []
    for k, sentence in enumerate(sentences):
        ids = [index[w] for w in sentence if w in index]
        tokens += ids
        sentence_ids += [k] * len(ids)
    return (words, np.array([counts[w] for w in words], dtype=np.int64),
            np.asarray(tokens, dtype=np.int64), np.asarray(sentence_ids, dtype=np.int64))


def word2vec_torch(tokens: np.ndarray, sentence_ids: np.ndarray, n_words: int, params: SkipGramParams,
                   device: str = "auto", batch_size: int = TORCH_BATCH, progress: Progress | None = None
                   ) -> np.ndarray:
    """Skip-gram with negative sampling by batched sparse SGD in torch; the input vectors, float32.

    Word2vec updates one pair at a time; here a step applies the updates of a batch of pairs
    computed from the same vectors, so a row that occurs k times in a batch moves by the sum of
    k stale gradients, which overshoots (and diverges) when k is in the thousands: the frequent
    words' output rows, drawn as negatives again and again. Pairs are shuffled within chunks,
    and the batch is `batch_size` pairs or fewer, so that no row expects more than
    _MAX_ROW_UPDATES updates per step (`_safe_batch_size`); then the result matches word2vec's.
    """
    import torch

    if params.sg != 1:
        raise WordbridgeError("the torch skip-gram backend trains skip-gram only (sg=1); use gensim for CBOW")
    if batch_size < 1:
        raise WordbridgeError(f"batch_size must be at least 1, got {batch_size}")
    progress = ensure(progress)
    dev = _device(device)
    tokens = np.asarray(tokens, dtype=np.int64)
    sentence_ids = np.asarray(sentence_ids, dtype=np.int64)
    if len(tokens) != len(sentence_ids):
        raise WordbridgeError(f"{len(tokens)} tokens but {len(sentence_ids)} sentence ids")
    dim, n_tokens = params.dim, len(tokens)
    counts = np.bincount(tokens, minlength=n_words).astype(np.float64)
    keep_prob = _keep_probability(counts, params.sample)
    noise = counts ** 0.75
    noise_cdf = np.cumsum(noise)
    # divided by its own last value, the cdf ends at exactly 1, so a word never seen is never drawn
    noise_cdf = torch.as_tensor(noise_cdf / max(noise_cdf[-1], 1e-300), device=dev)
    batch_size = _safe_batch_size(batch_size, counts * keep_prob, noise, params)
    progress.log(f"torch skip-gram: {n_tokens} tokens, {n_words} words, {batch_size} pairs per step on {dev}")
    rng = np.random.default_rng([params.seed, 2013])
    gen = torch.Generator(device=dev)
    gen.manual_seed(params.seed)
    w_in = (torch.rand(n_words, dim, generator=gen, device=dev) - 0.5) / dim
    w_out = torch.zeros(n_words, dim, device=dev)
    chunks = _sentence_chunks(sentence_ids, _CHUNK_TOKENS)
    progress.set_stage("training skip-gram")
    progress.update(0, params.epochs)
    total_work = params.epochs * max(n_tokens, 1)
    for epoch in range(params.epochs):
        loss_sum, loss_pairs = torch.zeros((), device=dev), 0
        for a, b in chunks:
            inp, out = _shuffled_pairs(tokens[a:b], sentence_ids[a:b], keep_prob, params.window, rng)
            inp, out = torch.as_tensor(inp, device=dev), torch.as_tensor(out, device=dev)
            negs = torch.searchsorted(noise_cdf, torch.rand(len(inp), params.negative, generator=gen,
                                                            device=dev, dtype=noise_cdf.dtype))
            targets = torch.cat([out[:, None], negs.clamp_(max=n_words - 1)], dim=1)  # column 0: the true word
            # word2vec skips a negative draw that is the true word itself
            weight = torch.cat([torch.ones(len(inp), 1, device=dev), (negs != out[:, None]).float()], dim=1)
            n_batches = -(-len(inp) // batch_size)
            for k in range(n_batches):
                progress.check()
                done = epoch * n_tokens + a + (b - a) * (k + 0.5) / n_batches
                lr = params.alpha - (params.alpha - params.min_alpha) * done / total_work
                sl = slice(k * batch_size, (k + 1) * batch_size)
                with_loss = k % _LOSS_EVERY == 0
                loss = _sgd_step(w_in, w_out, inp[sl], targets[sl], weight[sl], lr, with_loss)
                if with_loss:
                    loss_sum += loss
                    loss_pairs += len(inp[sl])
        loss = float(loss_sum) / max(loss_pairs, 1)
        if not np.isfinite(loss) or not bool(torch.isfinite(w_in).all()):
            raise WordbridgeError(f"skip-gram training diverged in epoch {epoch + 1} (loss {loss}); "
                                  "lower alpha or the batch size")
        progress.update(epoch + 1, params.epochs, loss=loss)
    return w_in.cpu().numpy().astype(np.float32)


def _safe_batch_size(batch_size: int, kept: np.ndarray, noise: np.ndarray, params: SkipGramParams) -> int:
    """`batch_size`, lowered so the most-updated row expects at most _MAX_ROW_UPDATES updates a step.

    Per pair a word is the input or the output word with about its share of the sub-sampled
    stream, and one of the `negative` noise words with its share of unigram^0.75.
    """
    per_pair = kept / max(kept.sum(), 1e-300) + params.negative * noise / max(noise.sum(), 1e-300)
    limit = _MAX_ROW_UPDATES * 0.025 / params.alpha / max(float(per_pair.max()), 1e-12)
    return int(max(1, min(batch_size, limit)))


def _sgd_step(w_in, w_out, inp, targets, weight, lr: float, with_loss: bool):
    """One batch of word2vec updates, all computed from the vectors before the step.

    `targets` [B, 1 + negative] holds the true output word then the noise words; `weight` is 0
    where a noise word is to be skipped. Returns the batch's summed loss when `with_loss`.
    """
    import torch
    import torch.nn.functional as F

    u = w_in[inp]  # [B, dim]
    v = w_out[targets]  # [B, 1 + negative, dim]
    score = torch.bmm(v, u[:, :, None]).squeeze(2)
    g = torch.sigmoid(score).neg_()
    g[:, 0] += 1.0  # label 1 for the true word, 0 for the noise words
    g.mul_(weight).mul_(lr)
    w_in.index_add_(0, inp, torch.bmm(g[:, None, :], v).squeeze(1))
    w_out.index_add_(0, targets.reshape(-1), (g[:, :, None] * u[:, None, :]).reshape(-1, u.shape[1]))
    if not with_loss:
        return None
    score[:, 1:].neg_()
    return -(F.logsigmoid(score) * weight).sum()


def _keep_probability(counts: np.ndarray, sample: float) -> np.ndarray:
    """word2vec's sub-sampling: keep a word of count c with (√(c/(t·N)) + 1)·t·N/c, capped at 1."""
    if sample <= 0:
        return np.ones(len(counts))
    threshold = sample * counts.sum()
    with np.errstate(divide="ignore"):
        keep = (np.sqrt(counts / threshold) + 1) * threshold / counts
    return np.minimum(np.nan_to_num(keep, nan=1.0, posinf=1.0), 1.0)


def _sentence_chunks(sentence_ids: np.ndarray, size: int) -> list[tuple[int, int]]:
    """[start, end) token ranges of about `size` tokens, cut only where a sentence ends."""
    n = len(sentence_ids)
    starts = np.concatenate([[0], np.flatnonzero(np.diff(sentence_ids)) + 1])
    chunks, a = [], 0
    while a < n:
        k = np.searchsorted(starts, a + size)
        b = int(starts[k]) if k < len(starts) else n
        b = n if b <= a else b
        chunks.append((a, b))
        a = b
    return chunks


def _shuffled_pairs(tokens: np.ndarray, sentences: np.ndarray, keep_prob: np.ndarray, window: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """This pass's (input word, output word) pairs of a chunk, shuffled.

    As in word2vec's skip-gram, the input vector is the context word's and the output vector the
    window's centre word's; each centre word gets its own window of 1..`window` words each side.
    """
    keep = rng.random(len(tokens)) < keep_prob[tokens]
    tok, sent = tokens[keep], sentences[keep]
    reach = rng.integers(1, window + 1, size=len(tok))
    inputs, outputs = [], []
    for d in range(1, window + 1):
        same = sent[d:] == sent[:-d]
        left = np.flatnonzero(same & (reach[d:] >= d))  # centre i+d, context i
        right = np.flatnonzero(same & (reach[:-d] >= d))  # centre i, context i+d
        inputs += [tok[left], tok[right + d]]
        outputs += [tok[left + d], tok[right]]
    inp, out = np.concatenate(inputs), np.concatenate(outputs)
    perm = rng.permutation(len(inp))
    return inp[perm], out[perm]


def _device(device: str):
    import torch

    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise WordbridgeError("device cuda was asked for but no CUDA GPU is available (use cpu)")
    if device != "cpu" and not device.startswith("cuda"):
        raise WordbridgeError(f"unknown device {device!r} (auto, cpu, cuda, cuda:N)")
    return torch.device(device)
