"""Text spaces added to a project: trained from a corpus file with the paper's settings, or imported.

`train_project_text_space` is what `main.py text-space` does (read the corpus, skip-gram 50-d,
window 5 by default) but stores the result as a project space instead of a .vec file;
`import_project_text_space` reads a word2vec .vec/.bin file (counts from its `.counts` side file).
Both report progress, stop at Cancel (`progress.check()`), and refuse to replace a space of the
same id unless asked. The app's Text ▸ Add text space… form runs them in a worker.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict
from pathlib import Path

from core.errors import WordbridgeError
from core.progress import Progress, ensure
from core.text import SkipGramParams

PAPER_PARAMS = SkipGramParams()  # skip-gram, dim 50, window 5 (Chung et al. 2018, section 4)


def suggest_space_id(project, language: str, stem: str = "text") -> str:
    """A free space id such as "text-fr" (or "text-fr-2" when taken)."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{stem}-{language}" if language else stem).strip("-._") or "text"
    taken = {s.id for s in project.manifest.spaces}
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _check_target(project, space_id: str, replace: bool) -> None:
    from core.project.project_items import check_id

    check_id(space_id, "space")
    if getattr(project, "read_only", False):
        raise WordbridgeError(f"{project.root}: the project is open read-only; save a copy to add a text space")
    existing = {s.id: s for s in project.manifest.spaces}
    if space_id in existing and not replace:
        raise WordbridgeError(f"this project already has a space {space_id!r}; choose another name or replace it")
    if space_id in existing and existing[space_id].kind != "text":
        raise WordbridgeError(f"space {space_id!r} is a {existing[space_id].kind} space, not a text space")


def train_project_text_space(project, corpus: str | Path, space_id: str, language: str = "",
                             params: SkipGramParams | None = None, corpus_format: str = "auto",
                             chapters: str = "all", replace: bool = False,
                             progress: Progress | None = None) -> dict:
    """Train a skip-gram text space on `corpus` (plain text or verse TSV) and add it to the project.

    Returns a summary dict (space id, words, dim, tokens, seconds). Cancel stops before storing."""
    from core.text import detect_format, load_corpus, train_text_space

    progress = ensure(progress)
    params = params or SkipGramParams()
    params.check()
    _check_target(project, space_id, replace)
    started = time.perf_counter()
    fmt = detect_format(corpus) if corpus_format == "auto" else corpus_format
    progress.set_stage("reading corpus")
    sentences = load_corpus(corpus, fmt, chapters, progress)
    progress.check()
    tokens = sum(len(s) for s in sentences)
    progress.log(f"{len(sentences)} sentences, {tokens} tokens ({fmt})")
    progress.set_stage("training skip-gram")
    emb = train_text_space(sentences, params, language=language, progress=progress)
    progress.check()
    progress.set_stage("storing the space")
    provenance = {"made_by": "skip-gram (app: Text > Add text space)", "corpus": Path(corpus).name,
                  "format": fmt, "chapters": chapters, "params": asdict(params), "sentences": len(sentences),
                  "tokens": tokens}
    project.add_space(space_id, emb, kind="text", language=language, provenance=provenance, replace=replace)
    return {"space": space_id, "words": len(emb), "dim": emb.dim, "tokens": tokens,
            "seconds": round(time.perf_counter() - started, 2)}


def import_project_text_space(project, path: str | Path, space_id: str, language: str = "",
                              max_rows: int | None = None, replace: bool = False,
                              progress: Progress | None = None) -> dict:
    """Read a word2vec .vec (text) or .bin (binary) file and add it to the project as a text space;
    `max_rows` keeps the most frequent words only. Returns a summary dict."""
    from core.vectors import load_vectors

    progress = ensure(progress)
    _check_target(project, space_id, replace)
    started = time.perf_counter()
    progress.set_stage("reading vectors")
    emb = load_vectors(path, max_rows=max_rows, language=language, modality="text")
    progress.check()
    progress.set_stage("storing the space")
    provenance = {"made_by": "imported (app: Text > Add text space)", "file": Path(path).name,
                  "max_rows": max_rows}
    project.add_space(space_id, emb, kind="text", language=language, provenance=provenance, replace=replace)
    return {"space": space_id, "words": len(emb), "dim": emb.dim, "tokens": None,
            "seconds": round(time.perf_counter() - started, 2)}
