"""A spoken clip → its nearest text words (NN or CSLS) and their translations, for one project.

`ClipClassifier` loads the project's speech space, text spaces and mappings once, precomputes the
CSLS neighbourhood terms of every text word (the slow part, done in the background when a project
opens), and then classifies one clip in milliseconds: embed → map → top-k per text space.

Any mapping between two spaces defines an aligned space that holds both (`map_source` for its
source side, `map_target` for its target side), so retrieval works in either direction. A text
space with no mapping to the speech space is reached by translating the top words of a text space
that has one (a pivot), which is how a user translates one word.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field

import numpy as np

from core.embeddings import Embeddings
from core.errors import WordbridgeError
from core.progress import Progress, ensure
from core.retrieval import csls_penalties, rank_pivot_pairs, top_k_indices
from core.vectors import unit_rows

METHODS = ("nn", "csls")
# nearest speech types a clip is classified as (classify_clip); 1 = the nearest type only. An
# encoder may carry its own number, chosen on calibration with its type exemplars (`type_candidates`)
TYPE_CANDIDATES = 3


def type_candidates(embed) -> int:
    """How many nearest speech types a clip of this encoder is classified as: the encoder's own
    `type_candidates` (core.speech.exemplars.calibrate) or TYPE_CANDIDATES."""
    return getattr(embed, "type_candidates", None) or TYPE_CANDIDATES


@dataclass
class Candidate:
    """A text word (or speech type) and the score the list is ordered by.

    `raw_score`: the word's score in its own list before lists were merged (merge_by_rank), or
    None when `score` is that score. For a translation, `via` names the pivot word, `via_score` is
    the pivot's score and `link_score` the translation's own score (pivot → word).
    """

    word: str
    score: float
    via: str | None = None
    raw_score: float | None = None
    via_score: float | None = None
    link_score: float | None = None


@dataclass
class Classification:
    """Top-k results of one clip: per text space id, and the nearest speech types."""

    method: str
    by_space: dict[str, list[Candidate]]
    speech_types: list[Candidate]
    space_language: dict[str, str]
    direct: set[str]  # text spaces reached through a mapping (not a pivot)
    vector: np.ndarray | None = None  # the clip's speech embedding (its first candidate vector)
    seconds: float = 0.0  # time spent in `classify_vector` (and embedding, for `classify_clip`)
    # every candidate vector the lists were made from (nearest type first); re-ranking uses them all
    vectors: list[np.ndarray] = field(default_factory=list)
    # how sure the clip → speech type step is (core.speech.encode.ClipEncoder.candidates), or None
    confidence: dict | None = None


def _non_increasing(candidates: list[Candidate]) -> list[Candidate]:
    """Copies whose `score` never rises down the list: a word's shown score is the lowest raw score at
    or above its place (its own score stays in `raw_score`), so scores and bars follow the order."""
    out, ceiling = [], float("inf")
    for c in candidates:
        raw = c.score if c.raw_score is None else c.raw_score
        ceiling = min(ceiling, raw)
        out.append(dataclasses.replace(c, score=ceiling, raw_score=raw if ceiling != raw else None))
    return out


def merge_by_rank(results: list[Classification], k: int) -> Classification:
    """One Classification from several of the same clip (best first): per text space, the lists'
    first words, then their second words, ..., each word once, at most `k`. The order is by rank
    (docs/RESULTS.md: it keeps the nearest type's first word first); the scores shown never rise
    down the list (`_non_increasing`). Speech types are the first result's; `vectors` are all."""
    first = results[0]
    by_space = {}
    for space_id in first.by_space:
        merged, seen = [], set()
        lists = [r.by_space.get(space_id, []) for r in results]
        for rank in range(max(map(len, lists), default=0)):
            for candidates in lists:
                if rank < len(candidates) and candidates[rank].word not in seen:
                    seen.add(candidates[rank].word)
                    merged.append(candidates[rank])
        by_space[space_id] = _non_increasing(merged[:k])
    return dataclasses.replace(first, by_space=by_space,
                               vectors=[v for r in results for v in (r.vectors or [r.vector]) if v is not None])


@dataclass
class Link:
    """Two spaces in one aligned space: rows of `a` and `b` with unit length, plus CSLS terms."""

    mapping_id: str
    a_id: str
    b_id: str
    a: np.ndarray
    b: np.ndarray
    r_b: np.ndarray  # CSLS r term of each row of b, against a's rows
    r_a: np.ndarray  # CSLS r term of each row of a, against b's rows
    map_a: object  # callable mapping new raw vectors of space a into the aligned space


@dataclass
class _Space:
    entry: object
    emb: Embeddings


def _csls_terms(a: np.ndarray, b: np.ndarray, knn: int) -> tuple[np.ndarray, np.ndarray]:
    r_a, r_b = csls_penalties(a, b, knn, backend="auto", device="cpu")
    return r_a.cpu().numpy().astype(np.float32), r_b.cpu().numpy().astype(np.float32)


def aligned_space_maps(mapping):
    """(map_source, map_target): functions taking raw vectors of each side into the aligned space.

    Accepts a core.alignment Mapping (has them already) or a mapping stored in a project
    (core.project W [target dim, source dim] plus extra arrays). A stored mapping whose metadata
    has "src_steps"/"tgt_steps" and arrays named like `core.alignment.mapping.Mapping.save`
    ("src.center_mean.0", "src.pca_components", ...) replays that preprocessing; a bare W maps
    unit-length rows.
    """
    if hasattr(mapping, "map_source") and hasattr(mapping, "map_target"):
        return mapping.map_source, mapping.map_target
    W = np.asarray(mapping.W, dtype=np.float32)
    arrays, meta = getattr(mapping, "arrays", {}) or {}, getattr(mapping, "metadata", {}) or {}
    if "src_steps" in meta and "tgt_steps" in meta:
        from core.alignment.mapping import Mapping

        full = Mapping.from_arrays(W, arrays, meta)
        return full.map_source, full.map_target
    return (lambda x: unit_rows(unit_rows(x) @ W.T)), unit_rows


def _band_energy_embedder(config: dict):
    """The fixture/demo encoder: log energy in `bands` frequency bands (not a learned speech model)."""
    bands, max_hz = int(config.get("bands", 16)), float(config.get("max_hz", 4000.0))

    def embed(samples: np.ndarray, sr: int) -> np.ndarray:
        x = np.asarray(samples, dtype=np.float32)
        spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2 if len(x) else np.zeros(2)
        freqs = np.fft.rfftfreq(max(len(x), 2), 1.0 / sr)
        edges = np.linspace(0.0, max_hz, bands + 1)
        energy = np.array([spectrum[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in zip(edges[:-1], edges[1:])])
        v = np.log1p(energy / max(float(energy.sum()), 1e-12) * 100.0)
        return (v - v.mean()).astype(np.float32)

    return embed


def clip_embedder(project, encoder_id: str | None = None):
    """A callable (samples, sr) → speech-space vector for the project's encoder, or None if none."""
    encoders = list(project.manifest.encoders)
    if encoder_id is not None:
        encoders = [e for e in encoders if e.id == encoder_id]
    if not encoders:
        return None
    entry = encoders[0]
    if entry.config.get("kind") == "band-energy":
        return _band_energy_embedder(entry.config)
    from core.speech import encode

    weights, config = project.encoder(entry.id)
    return encode.clip_embedder(weights, config, root=project.root)


@dataclass
class ClipClassifier:
    """Classify clips of one project; build with `ClipClassifier.load(project)`."""

    speech: _Space
    texts: dict[str, _Space]
    links: dict[str, Link]  # text space id → link with the speech space (a = speech, b = text)
    text_links: dict[tuple[str, str], Link] = field(default_factory=dict)  # (from text, to text)
    knn: int = 10
    embed: object = None  # callable (samples, sr) -> vector in the speech space
    _speech_unit: np.ndarray | None = field(default=None, repr=False)  # unit rows of the speech space

    @classmethod
    def load(cls, project, speech_space: str | None = None, embed=None, knn: int = 10,
             progress: Progress | None = None) -> "ClipClassifier":
        """Load spaces and mappings of `project` and precompute CSLS terms (cancellable)."""
        progress = ensure(progress)
        progress.set_stage("preparing retrieval")
        entries = {e.id: e for e in project.manifest.spaces}
        speech_ids = [e.id for e in project.manifest.spaces if e.kind == "speech"]
        if speech_space is None:
            if not speech_ids:
                raise WordbridgeError("this project has no speech space yet (train one first)")
            speech_space = speech_ids[0]
        if speech_space not in entries:
            raise WordbridgeError(f"no space {speech_space!r} in this project")
        speech = _Space(entries[speech_space], project.space(speech_space))
        texts = {e.id: _Space(e, None) for e in project.manifest.spaces if e.kind == "text"}
        if not texts:
            raise WordbridgeError("this project has no text space yet")
        for sid in texts:
            texts[sid].emb = project.space(sid)
        links, text_links = {}, {}
        mappings = list(project.manifest.mappings)
        for n, m in enumerate(mappings):
            progress.check()
            progress.update(n, len(mappings))
            ends = {m.source, m.target}
            if speech_space in ends and (ends - {speech_space}) & texts.keys():
                text_id = (ends - {speech_space}).pop()
                if text_id not in links:
                    links[text_id] = cls._link(project, m, speech_space, text_id, speech.emb,
                                               texts[text_id].emb, knn)
            elif ends <= texts.keys() and len(ends) == 2:
                for a_id in ends:
                    b_id = (ends - {a_id}).pop()
                    if (a_id, b_id) not in text_links:
                        text_links[(a_id, b_id)] = cls._link(project, m, a_id, b_id, texts[a_id].emb,
                                                              texts[b_id].emb, knn)
        if not links:
            raise WordbridgeError("this project has no mapping between its speech space and a text space "
                                  "(run alignment first)")
        progress.update(len(mappings), len(mappings))
        return cls(speech, texts, links, text_links, knn, embed)

    @staticmethod
    def _link(project, entry, a_id: str, b_id: str, a_emb: Embeddings, b_emb: Embeddings, knn: int) -> Link:
        map_source, map_target = aligned_space_maps(project.mapping(entry.id))
        if entry.source == a_id:
            map_a, map_b = map_source, map_target
        else:
            map_a, map_b = map_target, map_source
        a, b = unit_rows(map_a(a_emb.vectors)), unit_rows(map_b(b_emb.vectors))
        r_a, r_b = _csls_terms(a, b, knn)
        return Link(entry.id, a_id, b_id, a, b, r_b, r_a, map_a)

    # single queries
    def _rank(self, query: np.ndarray, link: Link, k: int, method: str,
              keys_are_b: bool = True) -> list[tuple[int, float]]:
        keys, r_keys = (link.b, link.r_b) if keys_are_b else (link.a, link.r_a)
        sims = keys @ query
        if method == "csls":
            r_q = float(np.mean(sims[top_k_indices(sims, self.knn)]))
            scores = 2 * sims - r_q - r_keys
        elif method == "nn":
            scores = sims
        else:
            raise WordbridgeError(f"unknown retrieval method {method!r}; choose 'nn' or 'csls'")
        return [(int(i), float(scores[i])) for i in top_k_indices(scores, k)]

    def classify_vector(self, vector: np.ndarray, k: int = 10, method: str = "csls",
                        speech_types: bool = True) -> Classification:
        """Top-k text words of a speech-space `vector` in every text space the project has, and its
        k nearest speech types (`speech_types` False: none, for a clip's later candidate vectors,
        whose types `merge_by_rank` would drop)."""
        started = time.perf_counter()
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        by_space: dict[str, list[Candidate]] = {}
        for text_id, link in self.links.items():
            q = unit_rows(link.map_a(vector[None, :]))[0]
            words = self.texts[text_id].emb.words
            by_space[text_id] = [Candidate(words[i], s) for i, s in self._rank(q, link, k, method)]
        for text_id in self.texts:
            if text_id not in by_space:
                by_space[text_id] = self._pivot(text_id, by_space, k, method)
        types = self._speech_types(vector, k) if speech_types else []
        return Classification(method, by_space, types,
                              {sid: s.entry.language for sid, s in self.texts.items()}, set(self.links),
                              vector, time.perf_counter() - started, [vector])

    def _speech_types(self, vector: np.ndarray, k: int) -> list[Candidate]:
        """The k speech types nearest (cosine) to a speech-space vector."""
        if not len(self.speech.emb):
            return []
        if self._speech_unit is None:  # the unit rows once, not for every clip
            self._speech_unit = unit_rows(self.speech.emb.vectors)
        speech_sims = self._speech_unit @ unit_rows(vector[None, :])[0]
        return [Candidate(self.speech.emb.words[i], float(speech_sims[i])) for i in top_k_indices(speech_sims, k)]

    def _pivot(self, text_id: str, found: dict[str, list[Candidate]], k: int, method: str) -> list[Candidate]:
        """Translate the top words of a directly reached text space into `text_id`: each of the k
        top pivot words' k best translations (through the text → text link, by `method`), every pair
        ranked by the mean of the pivot's score (`via_score`) and the link's (`link_score`), the score
        shown (core.retrieval.rank_pivot_pairs, the experiment's rule too), so a translation is as
        good as the clip's match and the translation together."""
        for (a_id, b_id), link in self.text_links.items():
            if b_id != text_id or a_id not in found or a_id not in self.links:
                continue
            index, pivot_words = self.texts[a_id].emb.index, self.texts[a_id].emb.words
            via = [(index[c.word], c.score) for c in found[a_id][:k]]
            translations = {row: self._rank(link.a[row], link, k, method) for row, _ in via}
            words = self.texts[text_id].emb.words
            return [Candidate(words[t], mean, via=pivot_words[row], via_score=via_score, link_score=own)
                    for t, mean, row, via_score, own in rank_pivot_pairs(via, translations, k)]
        return []

    def classify_clip(self, samples: np.ndarray, sr: int, k: int = 10, method: str = "csls") -> Classification:
        """Embed the clip with the project's encoder, then `classify_vector`.

        With a type encoder (unit-skipgram) the clip is also classified as each of its
        `type_candidates(self.embed)` nearest speech types, and the lists are merged by rank: the
        first word is the nearest type's, the next ones take turns. Why: a clip that misses its type
        lands on an unrelated one; its true type is among the nearest 3 far more often than it is the
        nearest (demo, unseen voices: 67–71 % against 52–53 %, docs/RESULTS.md); with Mboshi's type
        exemplars the 10 nearest types gave the best top-10 on calibration (session 11).
        """
        if self.embed is None:
            raise WordbridgeError("this project has no speech encoder to embed new clips")
        started = time.perf_counter()
        confidence = None
        if hasattr(self.embed, "candidates"):
            vectors, confidence = self.embed.candidates(samples, sr, type_candidates(self.embed))
        elif hasattr(self.embed, "candidate_vectors"):
            vectors = self.embed.candidate_vectors(samples, sr, type_candidates(self.embed))
        else:
            vectors = [self.embed(samples, sr)]
        result = self.classify_vectors(vectors, k, method)
        result.confidence = confidence
        result.seconds = time.perf_counter() - started
        return result

    def classify_vectors(self, vectors: list[np.ndarray], k: int = 10, method: str = "csls") -> Classification:
        """Classify each candidate vector of one clip (nearest type first) and merge the lists by rank;
        the nearest speech types are the first vector's (all `merge_by_rank` keeps), so only its are
        computed."""
        return merge_by_rank([self.classify_vector(v, k, method, speech_types=n == 0) for n, v in enumerate(vectors)],
                             k)

    def rerank(self, classification: Classification, k: int = 10, method: str = "csls") -> Classification:
        """The same clip ranked with another method: every candidate vector is re-ranked (not only the
        first), so switching NN → CSLS → NN gives back exactly the first lists."""
        vectors = classification.vectors or [classification.vector]
        result = self.classify_vectors(vectors, k, method)
        result.seconds = classification.seconds
        result.confidence = classification.confidence
        return result

    # whole vocabularies
    def induce_pairs(self, text_id: str | None = None, max_types: int = 2000, method: str = "csls") -> list:
        """The best text word of each of the `max_types` most frequent speech types, with scores."""
        from core.lexicon_export import LexiconEntry

        text_id = text_id or self.primary_text()
        link = self.links[text_id]
        n = min(max_types, len(link.a))
        best = np.empty(n, dtype=np.int64)
        best_score = np.empty(n, dtype=np.float32)
        for start in range(0, n, 256):  # chunks keep memory at 256 × V
            end = min(start + 256, n)  # the last chunk stops at n, not at the end of the space
            sims = link.a[start:end] @ link.b.T
            if method == "csls":
                sims = 2 * sims - link.r_a[start:end, None] - link.r_b[None, :]
            best[start:end] = sims.argmax(axis=1)
            best_score[start:end] = sims.max(axis=1)
        words, language = self.texts[text_id].emb.words, self.texts[text_id].entry.language
        return [LexiconEntry(self.speech.emb.words[i], words[int(best[i])], language, float(best_score[i]))
                for i in range(n)]

    def primary_text(self) -> str:
        """The directly linked text space in the speech space's language (else the first linked)."""
        for text_id in self.links:
            if self.texts[text_id].entry.language == self.speech.entry.language:
                return text_id
        return next(iter(self.links))
