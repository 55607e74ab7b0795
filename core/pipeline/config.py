"""Experiment configs: one TOML file describes a whole speech ↔ text experiment.

Layout (every section but [corpus] and [[text]] is optional; see experiments/smoke.toml):

    name = "smoke"                   # shown in results.md
    seeds = [0, 1, 2]                # speech-space and alignment seeds (mean ± std over them)
    device = "auto"                  # auto | cpu | cuda (the command's --device wins)

    [corpus]                         # synthesise with espeak-ng ...
    text = "${WORDBRIDGE_DATA}/text/en_KJV1611.tsv.xz"
    chapters = "odd"                 # ... any core.synth SynthConfig field, plus `workers`
    # path = "corpora/mine"          # ... or read an existing corpus (WAV + TextGrid, corpus.json)

    [features]                       # FeatureConfig fields + workers, chunk_seconds (F), vad options;
                                     # frontend = "speech-embedding" (or a table) instead of MFCC;
                                     # segmenter = "vad" | "energy": the VAD configuration's reader
    [speech]                         # learners, configurations ("A*", "A", "B", "VAD", "F")
    [speech.speech2vec]              # SpeechConfig fields over the "paper" preset, plus `seeds`
    [speech.unit-skipgram]           # SpeechConfig fields over the "unit-skipgram" preset
    [text_training]                  # SkipGramParams fields + backend (auto|gensim|torch), max_tokens
    [[text]]                         # one text space: name, path, chapters, language, task, dictionary,
                                     # pivot (translation through another [[text]]: core.pipeline.pivot)
    [align]                          # AlignConfig fields of the unsupervised method (default "auto")
    [evaluation]                     # csls_knn, max_test_segments, topk

Paths: `${VAR}` is expanded (WORDBRIDGE_DATA defaults to
the repository's ../shared/data), `~` too, and a
relative path is taken from the config file's folder. Every error is one line naming the file.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import InputFileError, WordbridgeError

# the repository's sibling folder ../shared/data, wherever the repository was cloned
DEFAULT_DATA = str(Path(__file__).resolve().parents[2].parent / "shared" / "data")
CONFIGURATIONS = ("A*", "A", "B", "VAD", "F")
# which corpus reader cuts the segments of each configuration, and its speech grouping
READER_OF = {"A*": "textgrid", "A": "textgrid", "B": "textgrid", "VAD": "vad", "F": "chunks"}
GROUPING_OF = {"A*": "A", "A": "A", "B": "B", "VAD": "VAD", "F": "F"}
TASKS = ("classification", "translation")
LEARNER_PRESET = {"speech2vec": "paper", "unit-skipgram": "unit-skipgram"}

CORPUS_KEYS = {"text", "path", "language", "chapters", "max_tokens", "max_verses", "speakers",
               "held_out_speakers", "repeats", "noise_snr", "reverb", "pad", "seed", "workers",
               "isolated_words"}
FEATURE_KEYS = {"frontend", "kind", "deltas", "cmvn", "n_mfcc", "n_mels", "win_ms", "hop_ms", "workers",
                "shard_files", "chunk_seconds", "vad", "aggressiveness", "min_pause", "pause_level",
                "min_word", "max_word", "merge_gap", "segmenter", "silence_db", "valley_db"}
# readers the VAD configuration (segments without word boundaries) may cut with: webrtcvad + pauses,
# or pauses + energy valleys (core.corpus.unsegmented)
SEGMENTERS = ("vad", "energy")
TEXT_TRAINING_KEYS = {"dim", "window", "min_count", "negative", "epochs", "sample", "seed", "workers",
                      "backend", "max_tokens", "batch_size"}
TEXT_KEYS = {"name", "path", "chapters", "language", "task", "dictionary", "max_tokens", "pivot"}
EVAL_KEYS = {"csls_knn", "max_test_segments", "topk"}
TOP_KEYS = {"name", "description", "seeds", "device", "corpus", "features", "speech", "text_training",
            "text", "align", "evaluation"}


@dataclass
class TextSpec:
    """One text space to train and evaluate against."""

    name: str
    path: str
    chapters: str = "all"
    language: str = "en"
    task: str = "classification"  # classification (same language) | translation (needs dictionary)
    dictionary: str | None = None
    max_tokens: int | None = None  # read only the first N tokens (e.g. the transcripts of the speech)
    # translation only: the name of a classification [[text]] (the speech's own language) to translate
    # through — each test segment's word there, then that word by a text-to-text map (core.pipeline.pivot)
    pivot: str | None = None


@dataclass
class ExperimentConfig:
    """A validated experiment: plain dicts per section, ready to become stage settings."""

    source: str
    name: str
    description: str
    seeds: list[int]
    device: str
    corpus: dict
    features: dict
    learners: list[str]
    configurations: list[str]
    speech: dict[str, dict]  # learner → SpeechConfig overrides
    text_training: dict
    texts: list[TextSpec]
    align: dict
    evaluation: dict = field(default_factory=dict)
    learner_seeds: dict[str, list[int]] = field(default_factory=dict)  # [speech.<learner>] seeds

    def reader_of(self, configuration: str) -> str:
        """The corpus reader that cuts `configuration`'s segments (VAD: `[features] segmenter`)."""
        if configuration == "VAD":
            return self.features.get("segmenter", READER_OF["VAD"])
        return READER_OF[configuration]

    def seeds_of(self, learner: str) -> list[int]:
        """The seeds of one learner: its own `seeds` list if the config gives one, else the top-level list."""
        return self.learner_seeds.get(learner, self.seeds)

    def to_dict(self) -> dict:
        """Everything, JSON-serialisable (stored in metrics.json)."""
        return dataclasses.asdict(self)


def load_experiment(path: str | os.PathLike) -> ExperimentConfig:
    """Read and validate an experiment TOML file; errors are one line naming the file."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(path, "experiment config not found")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputFileError(path, f"not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise InputFileError(path, "not UTF-8 text") from None
    return parse_experiment(data, path)


def parse_experiment(data: dict, path: Path) -> ExperimentConfig:
    """Validate the parsed TOML `data` of the file `path`."""
    where = str(path)
    base = path.parent

    def fail(message: str):
        raise InputFileError(path, message)

    _unknown(data, TOP_KEYS, "top level", fail)
    seeds = _seed_list(data.get("seeds", [0]), "seeds", fail)
    device = data.get("device", "auto")
    if device not in ("auto", "cpu", "cuda") and not str(device).startswith("cuda:"):
        fail(f"device must be auto, cpu or cuda, not {device!r}")

    corpus = dict(_section(data, "corpus", fail, required=True))
    _unknown(corpus, CORPUS_KEYS, "[corpus]", fail)
    if ("text" in corpus) == ("path" in corpus):
        fail("[corpus] needs exactly one of `text` (synthesise from this text) or `path` (an existing corpus)")
    for key in ("text", "path"):
        if key in corpus:
            corpus[key] = resolve_path(corpus[key], base, fail, f"[corpus] {key}")

    features = dict(_section(data, "features", fail))
    _unknown(features, FEATURE_KEYS, "[features]", fail)
    if features.get("segmenter", "vad") not in SEGMENTERS:
        fail(f"[features] segmenter must be {' or '.join(SEGMENTERS)}, got {features['segmenter']!r}")

    speech = dict(_section(data, "speech", fail))
    learners = speech.pop("learners", list(LEARNER_PRESET))
    configurations = speech.pop("configurations", list(CONFIGURATIONS))
    for learner in learners:
        if learner not in LEARNER_PRESET:
            fail(f"[speech] unknown learner {learner!r} (choose from {', '.join(LEARNER_PRESET)})")
    for conf in configurations:
        if conf not in CONFIGURATIONS:
            fail(f"[speech] unknown configuration {conf!r} (choose from {', '.join(CONFIGURATIONS)})")
    _unknown(speech, set(LEARNER_PRESET), "[speech]", fail)
    overrides, learner_seeds = {}, {}
    for learner in learners:
        over = dict(speech.get(learner, {}))
        if "seeds" in over:
            learner_seeds[learner] = _seed_list(over.pop("seeds"), f"[speech.{learner}] seeds", fail)
        _check_speech_overrides(over, learner, fail)
        overrides[learner] = over

    text_training = dict(_section(data, "text_training", fail))
    _unknown(text_training, TEXT_TRAINING_KEYS, "[text_training]", fail)
    if text_training.get("backend", "auto") not in ("auto", "gensim", "torch"):
        fail("[text_training] backend must be auto, gensim or torch")

    texts = _texts(data.get("text"), base, fail)
    align = dict(_section(data, "align", fail))
    _check_align(align, fail)
    evaluation = dict(_section(data, "evaluation", fail))
    _unknown(evaluation, EVAL_KEYS, "[evaluation]", fail)

    return ExperimentConfig(where, str(data.get("name", path.stem)), str(data.get("description", "")),
                            seeds, str(device), corpus, features, list(learners),
                            list(configurations), overrides, text_training, texts, align, evaluation,
                            learner_seeds)


def parse_seeds(text: str) -> list[int]:
    """Seeds written on a command line, "1,2" → [1, 2] (blank items skipped); ValueError if one is no integer."""
    return [int(s) for s in text.split(",") if s.strip()]


def _seed_list(seeds, what: str, fail) -> list[int]:
    if not isinstance(seeds, list) or not seeds or not all(isinstance(s, int) for s in seeds):
        fail(f"{what} must be a non-empty list of integers, e.g. seeds = [0, 1, 2]")
    return [int(s) for s in seeds]


def resolve_path(value, base: Path, fail, what: str, must_exist: bool = True) -> str:
    """Expand ${VARS} (WORDBRIDGE_DATA defaults to the shared data folder) and ~, anchor relative
    paths at the config's folder, and check that the file exists."""
    if not isinstance(value, str) or not value:
        fail(f"{what} must be a path")
    env = dict(os.environ)
    env.setdefault("WORDBRIDGE_DATA", DEFAULT_DATA)
    expanded = value
    for name, val in env.items():
        expanded = expanded.replace("${" + name + "}", val)
    if "${" in expanded:
        fail(f"{what}: unknown variable in {value!r}")
    p = Path(os.path.expanduser(expanded))
    if not p.is_absolute():
        p = (base / p).resolve()
    if must_exist and not p.exists():
        fail(f"{what}: {p} not found")
    return str(p)


def _section(data: dict, name: str, fail, required: bool = False) -> dict:
    if name not in data:
        if required:
            fail(f"missing section [{name}]")
        return {}
    if not isinstance(data[name], dict):
        fail(f"[{name}] must be a table")
    return data[name]


def _unknown(section: dict, known: set, where: str, fail) -> None:
    extra = sorted(set(section) - set(known))
    if extra:
        fail(f"unknown key {extra[0]!r} in {where} (known: {', '.join(sorted(known))})")


def _check_speech_overrides(over: dict, learner: str, fail) -> None:
    from core.speech.config import config_field_names, preset

    _unknown(over, set(config_field_names()) - {"learner", "grouping", "seed"}, f"[speech.{learner}]", fail)
    try:
        preset(LEARNER_PRESET[learner], **over)
    except (WordbridgeError, TypeError) as exc:
        fail(f"[speech.{learner}]: {exc}")


def _check_align(align: dict, fail) -> None:
    from core.alignment.base import AlignConfig

    known = {f.name for f in dataclasses.fields(AlignConfig)} - {"seed", "device"}
    _unknown(align, known, "[align]", fail)
    if align.get("method") in ("supervised", "semisupervised"):
        fail("[align] method is the unsupervised method; the supervised A* runs on its own")
    try:
        AlignConfig(**align).validate()
    except (WordbridgeError, TypeError) as exc:
        fail(f"[align]: {exc}")


def _texts(entries, base: Path, fail) -> list[TextSpec]:
    if not isinstance(entries, list) or not entries:
        fail("needs at least one [[text]] table (a text space to align with)")
    texts, names = [], set()
    for k, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            fail(f"[[text]] number {k} must be a table")
        _unknown(entry, TEXT_KEYS, f"[[text]] number {k}", fail)
        for key in ("name", "path"):
            if key not in entry:
                fail(f"[[text]] number {k} needs `{key}`")
        spec = TextSpec(**entry)
        if not spec.name.replace("_", "").replace("-", "").isalnum() or spec.name in names:
            fail(f"[[text]] name {spec.name!r} must be unique and made of letters, digits, - and _")
        names.add(spec.name)
        spec.path = resolve_path(spec.path, base, fail, f"[[text]] {spec.name} path")
        if spec.chapters not in ("all", "odd", "even"):
            fail(f"[[text]] {spec.name}: chapters must be all, odd or even")
        if spec.max_tokens is not None and (not isinstance(spec.max_tokens, int) or spec.max_tokens <= 0):
            fail(f"[[text]] {spec.name}: max_tokens must be a positive integer")
        if spec.task not in TASKS:
            fail(f"[[text]] {spec.name}: task must be classification or translation")
        if spec.task == "translation":
            if not spec.dictionary:
                fail(f"[[text]] {spec.name}: a translation task needs `dictionary` (gold pairs)")
            spec.dictionary = resolve_path(spec.dictionary, base, fail, f"[[text]] {spec.name} dictionary")
        texts.append(spec)
    by_name = {t.name: t for t in texts}
    for spec in texts:
        if spec.pivot is None:
            continue
        pivot = by_name.get(spec.pivot)
        if spec.task != "translation" or pivot is None or pivot.task != "classification":
            fail(f"[[text]] {spec.name}: pivot must name a classification [[text]] of this file, and only a "
                 f"translation task can have one (got {spec.pivot!r})")
    return texts
