"""Speech corpora kept inside a project folder: `<project>/corpora/<name>/` holds one feature store.

The project format (core/project) has no entry for feature stores: they are large, derived from
audio outside the project, and only needed to train a speech space. So they live in a plain
subfolder that the manifest does not list; each is a complete feature store (header.json written
last, see core.corpus.build), so a folder without header.json is an unfinished build. What a store
records travels with the project, so it names no absolute local path (see `build_project_corpus`).
"""

from __future__ import annotations

import os
from pathlib import Path

from core.corpus.build import BuildResult, build_feature_store, corpus_paths
from core.corpus.readers import READERS
from core.errors import InputFileError, WordbridgeError
from core.features import FeatureConfig
from core.frontends import parse_frontend_spec
from core.progress import Progress

CORPORA_DIR = "corpora"


def corpus_folder(project, name: str) -> Path:
    """`<project>/corpora/<name>`; the name must be usable as a folder name."""
    from core.project.project import check_id

    return Path(project.root) / CORPORA_DIR / check_id(name, "corpus name")


def list_corpora(project) -> list[Path]:
    """The finished feature stores under `<project>/corpora/`, newest first."""
    folder = Path(project.root) / CORPORA_DIR
    if not folder.is_dir():
        return []
    stores = [p for p in folder.iterdir() if (p / "header.json").is_file()]
    return sorted(stores, key=lambda p: (p / "header.json").stat().st_mtime, reverse=True)


def check_corpus_source(source: str | os.PathLike | None, reader: str) -> Path:
    """The corpus folder (or the CSV the clips reader may take), or a WordbridgeError saying what is wrong."""
    if reader not in READERS:
        raise WordbridgeError(f"unknown corpus reader {reader!r} (choose from {', '.join(READERS)})")
    if source is None or not str(source).strip():
        raise WordbridgeError("choose the folder that holds the corpus's audio files")
    path = Path(str(source).strip()).expanduser()
    if not path.exists():
        raise InputFileError(path, "corpus folder not found")
    if path.is_file() and not (reader == "clips" and path.suffix.lower() in (".csv", ".tsv")):
        raise InputFileError(path, "is a file; choose the corpus folder (a CSV file is only for the clips reader)")
    if path.is_dir() and not any(path.iterdir()):
        raise InputFileError(path, "the folder is empty")
    return path


def build_project_corpus(project, source: str | os.PathLike, name: str, reader: str = "textgrid",
                         options: dict | None = None, config: FeatureConfig = FeatureConfig(),
                         workers: int = 0, overwrite: bool = False, metadata: dict | None = None,
                         progress: Progress | None = None, frontend: str = "mfcc",
                         standardise: bool = False) -> BuildResult:
    """Build (or resume) a feature store of `source` in `<project>/corpora/<name>/`.

    The arguments are those of `core.corpus.build.build_feature_store`; the build is also noted in
    the project's runs table ("corpus-build", with the store's folder and the reader's report).
    Neither the store nor the runs table keeps the source's absolute path (issue 17): a source
    inside the project is named relative to it, one outside by its folder name and a fingerprint
    (core.corpus.build). The app remembers the folder itself in the user's settings (app/corpus_dialog.py).
    `frontend` is a front end as `main.py corpus build --frontend` names it ("mfcc" with `config`,
    "speech-embedding", "ssl:PATH"; `core.frontends.parse_frontend_spec`) and `standardise` its
    `--standardise`; the runs table records them when they are not the default MFCC.
    """
    source = check_corpus_source(source, reader)
    out = corpus_folder(project, name)
    local = corpus_paths(project.root, source, options)  # no absolute local path in the runs table either
    settings = {"source": local.text(str(source.resolve())), "reader": reader,
                "options": local.value(dict(options or {})), "features": config.to_dict(), "workers": workers,
                "metadata": local.value(dict(metadata or {}))}
    if local.fingerprint:
        settings["source_fingerprint"] = local.fingerprint
    front = parse_frontend_spec(frontend, config)  # a bad spec or checkpoint: one line, before any run is noted
    if frontend != "mfcc" or standardise:  # MFCC builds keep the settings they always had
        settings["frontend"] = f"ssl:{front.path.name}" if frontend.startswith("ssl:") else frontend  # no local path
        settings["standardise"] = bool(standardise)
    with project.recorded_run("corpus-build", settings, run_dir=out) as run:
        result = build_feature_store(source, out, reader, options, config, workers=workers,
                                     overwrite=overwrite, metadata=metadata, progress=progress,
                                     project_root=project.root, frontend=front, standardise=standardise)
        run.metrics = {"segments": result.n_segments, "read_report": result.read_report.to_dict(),
                       "build_report": result.build_report.to_dict()}
    return result
