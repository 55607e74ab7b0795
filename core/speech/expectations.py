"""How well a speech-space configuration (A, B, VAD, F) is expected to work, from our own measurements.

`expectation(configuration, synthetic)` returns a short plain-language verdict with the measured
numbers and where each comes from. A number is read from `docs/results.json` where that file has a
key for it (a key it lacks reads "not measured", never a guess); numbers without a key are constants
below, each naming the run folder under `docs/runs/` it was read from and the `docs/RESULTS.md`
section that reports it. Used by Train ▸ Train speech space… and `main.py train-speech`, and
`frontend_for_reader` by Train ▸ Build speech corpus… (the default front end); no Qt here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

RESULTS_JSON = Path(__file__).resolve().parents[2] / "docs" / "results.json"
KMEANS = ("B", "VAD", "F")
PAPER = {"A": 23.7, "B": 19.4, "VAD": 10.9, "F": 0.8}  # Chung et al. 2018, Table 3 (VAD: the paper's C)
PAPER_NAME = {"VAD": "C"}

SUMMARY = "docs/RESULTS.md “Summary”"
SESSION_8 = "docs/RESULTS.md “Session 8: B / VAD / F at 120k”"
WORDS_WITHOUT_LABELS = "docs/RESULTS.md “Words without labels: front ends and spoken-term discovery (session 9)”"
MBOSHI_GPU = "docs/RESULTS.md “Mboshi start to end with the encoder trained on the GPU (session 10)”"
STANDARDISE_FIT = "docs/RESULTS.md “Words without labels: the standardised front end in the app (session 13)”"


@dataclass(frozen=True)
class Measure:
    """One measured number: `key` of docs/results.json (percent), or a constant `value` read from `run`."""

    key: str | None = None
    value: float | None = None
    run: str = ""
    section: str = ""

    def source(self) -> str:
        where = f"docs/results.json {self.key}" if self.key else self.run
        return f"{where} ({self.section})" if self.section else where


# Numbers read from docs/results.json (a missing key reads "not measured")
A_500K = Measure("synthetic_500k.A.classification", section=SUMMARY)
KMEANS_500K = {g: Measure(f"synthetic_500k.{g}.classification", section=SUMMARY) for g in KMEANS}
# B at 500k with the default settings (session 13), before session 21's label-free steps
B_500K_DEFAULT = Measure("synthetic_500k_default.B.classification", section=SUMMARY)
S22 = ("docs/RESULTS.md “Words without labels: configuration B aligns from the runner alone — voice groups, "
       "joined types, a Gromov–Wasserstein start (session 22)”")
B_500K = Measure("synthetic_500k.B.classification", section=S22)           # GPU-sized encoder
B_500K_CPU = Measure("synthetic_500k_cpu.B_voice_free.classification", section=S22)  # CPU-sized encoder
B_500K_FR = Measure("synthetic_500k.B.fr_p1", section=S22)
S23 = "docs/RESULTS.md “Words without labels: VAD cut at energy valleys, and one pivot decoding (session 23)”"
B_500K_FR_PIVOT = Measure("synthetic_500k.B.fr_p1_pivot", section=S23)  # through the English text space
VAD_500K_ENERGY = Measure("synthetic_500k_gpu.VAD_energy.classification", section=S23)
S24 = "docs/RESULTS.md “Words without labels: VAD cut at every energy valley (session 24)”"
VAD_500K_SYLLABLE = Measure("synthetic_500k_gpu.VAD_syllable.classification", section=S24)
S25 = "docs/RESULTS.md “Words without labels: configuration B over three seeds, and a stretch's neighbours (session 25)”"
B_500K_SEEDS12 = Measure("synthetic_500k_gpu.B_seeds12.classification", section=S25)  # the same file, seeds 1-2
B_500K_SEEDS12_FR_PIVOT = Measure("synthetic_500k_gpu.B_seeds12.fr_p1_pivot", section=S25)
B_120K_VOICE_FREE = Measure("synthetic_120k_gpu.B_voice_free.classification", section=S22)
VAD_500K_VOICE_FREE = Measure("synthetic_500k_gpu.VAD_voice_free.classification", section=S22)
MBOSHI_TOP1 = Measure("mboshi.dev.word_top1", section=MBOSHI_GPU)
MBOSHI_TOP10 = Measure("mboshi.dev.word_top10", section=MBOSHI_GPU)
MBOSHI_MOST_FREQUENT = Measure("mboshi.dev.most_frequent_top1", section=MBOSHI_GPU)
ZRC_TOKEN_F = Measure("mboshi.zrc.token_f", section=WORDS_WITHOUT_LABELS)
ZRC_NED = Measure("mboshi.zrc.ned", section=WORDS_WITHOUT_LABELS)
VAD_PATH = "docs/RESULTS.md “Words without labels: the app's own path scored as term discovery (session 13)”"
VAD_PATH_TOKEN_F = Measure("mboshi.vad_path.token_f", section=VAD_PATH)
VAD_PATH_NED = Measure("mboshi.vad_path.ned", section=VAD_PATH)
# docs/runs/2026-12-06-s13-cpu-mboshi-vad-path/: the same segments with random cluster labels (mean of the
# standardised speech-embedding rows of seeds 0-2: 89.4, 90.1, 89.6)
VAD_PATH_RANDOM_NED = Measure(value=89.7, run="docs/runs/2026-12-06-s13-cpu-mboshi-vad-path/", section=VAD_PATH)
ENERGY_PATH_TOKEN_F = Measure("mboshi.energy_path.token_f", section=VAD_PATH)
ENERGY_PATH_NED = Measure("mboshi.energy_path.ned", section=VAD_PATH)
ENERGY_PATH_MEAN_NED = Measure("mboshi.energy_path_mean_encoder.ned", section=VAD_PATH)
# the same run folder, metrics_energy.json: the energy segments with random cluster labels (mean of the
# standardised speech-embedding rows of seeds 0-2: 90.7, 90.8, 90.6)
ENERGY_PATH_RANDOM_NED = Measure(value=90.7, run="docs/runs/2026-12-06-s13-cpu-mboshi-vad-path/", section=VAD_PATH)

# unit-skipgram at 120k tokens, held-out synthetic voices, CSLS, mean of seeds 0-2
# (docs/runs/2026-12-02-s8-kjv_120k_bvf-merged/, through scripts/results_json.py)
KMEANS_120K = {g: Measure(f"synthetic_120k.{g}.classification", section=SESSION_8) for g in KMEANS}
# Constants without a docs/results.json key, each with the run folder it was read from.
CHANCE_120K = Measure(value=100 / 2241, run="docs/runs/2026-12-02-s8-kjv_120k_bvf-merged/",  # one of 2,241 words
                      section=SESSION_8)
CHANCE_500K = Measure(value=100 / 5335, run="docs/runs/2026-12-06-s13-h100-kjv_500k_bvad/",  # one of 5,335 words
                      section="docs/RESULTS.md “Configurations B and VAD at 500k tokens (session 13, GPU)”")
# docs/runs/2026-11-25-s5-h100-kjv_120k_a/: configuration A at 120k tokens, 3 seeds
A_120K = Measure(value=57.9, run="docs/runs/2026-11-25-s5-h100-kjv_120k_a/", section=SUMMARY)
# docs/runs/2026-11-25-s4-cpu-b-pseudo-pairs/ (B at 50k tokens): the median share of a frequent word's
# cluster entropy that the speaker explains
SPEAKER_SHARE = Measure(value=73.0, run="docs/runs/2026-11-25-s4-cpu-b-pseudo-pairs/",
                        section="docs/RESULTS.md “Session 4: configuration B with positives mined from the audio”")
# docs/runs/2026-12-06-s14-cpu-b-diagnostics/ (item 8, size_bound*.json): a skip-gram space built from the TRUE
# words of N tokens of random verses, aligned unsupervised to the 500k-token text space: what a voice group's
# own space could reach at best (token classification, %)
B_DIAGNOSTICS = "docs/RESULTS.md “Words without labels: why configuration B stays at chance on synthetic voices”"
GROUP_SPACE_180K = Measure(value=3.2, run="docs/runs/2026-12-06-s14-cpu-b-diagnostics/", section=B_DIAGNOSTICS)
GROUP_SPACE_250K = Measure(value=85.0, run="docs/runs/2026-12-06-s14-cpu-b-diagnostics/", section=B_DIAGNOSTICS)
# docs/runs/2026-12-06-s15-cpu-merge-bound/: B at 500k tokens with each voice clustered on its own and the
# voices' clusters merged (mutual nearest centroids), held-out voices, CSLS
VOICE_MERGE_500K = Measure("synthetic_500k_cpu.B_voice_merge.classification",
                           section="docs/RESULTS.md “Words without labels: clustering each voice on its own, "
                                   "then merging across voices (session 15, 2-core CPU)”")
# docs/runs/2026-12-06-s9-cpu-same-different/metrics.json: Mboshi dev, MFCC + DTW (ap_dtw) and chance
MBOSHI_AP = Measure(value=0.076, run="docs/runs/2026-12-06-s9-cpu-same-different/", section=WORDS_WITHOUT_LABELS)
MBOSHI_AP_CHANCE = Measure(value=0.020, run="docs/runs/2026-12-06-s9-cpu-same-different/",
                           section=WORDS_WITHOUT_LABELS)
# the same run: Mboshi dev, speech embedding with no normalisation, mean-pooled (ap_mean)
MBOSHI_AP_SPEECH_RAW = Measure(value=0.057, run="docs/runs/2026-12-06-s9-cpu-same-different/",
                               section=WORDS_WITHOUT_LABELS)
# docs/runs/2026-12-06-s13-cpu-standardise-fit/: the same Mboshi dev sample, speech embedding standardised
# with statistics fitted as `corpus build --standardise` fits them (200 whole Mboshi train recordings,
# seed 0), mean-pooled, row (a); session 12's 0.114 took the statistics from the evaluated words themselves
MBOSHI_AP_STANDARDISED = Measure(value=0.108, run="docs/runs/2026-12-06-s13-cpu-standardise-fit/",
                                 section=STANDARDISE_FIT)
# the same run: speechocean762 test speakers, speech embedding + DTW
SO762_AP = Measure(value=0.102, run="docs/runs/2026-12-06-s9-cpu-same-different/", section=WORDS_WITHOUT_LABELS)
# docs/runs/2026-12-06-s9-mboshi-end-to-end/: the same flow with the encoder trained 2 epochs on a CPU
MBOSHI_CPU_TOP1 = Measure(value=13.2, run="docs/runs/2026-12-06-s9-mboshi-end-to-end/",
                          section="docs/RESULTS.md “Mboshi start to end (session 9)”")

# What a linguist with unlabelled recordings can do instead. allowed_configurations (project_space.py)
# allows A when the store's header has n_labelled > 0; clustering.group_by_labels and
# pseudo_skipgram.token_stream leave segments without a label out of A's types and stream.
LABEL_SOME_WORDS = (
    "What works instead: label some words and train configuration A. A store with labels for only part of "
    "its words is accepted (A needs one labelled segment or more and learns from the labelled ones only; "
    "the readers leave unlabelled words out, so build the store from the recordings you labelled, e.g. "
    "with TextGrid word tiers). How many labels are enough: not measured.")


@dataclass(frozen=True)
class Expectation:
    """What to expect of a configuration: `works` (expected to align with text), `summary` (plain
    language with the numbers), `advice` (what to do instead, or ''), `sources` (one per number)."""

    configuration: str
    synthetic: bool
    works: bool
    summary: str
    advice: str
    sources: tuple[str, ...]

    def text(self) -> str:
        """The summary, then the advice."""
        return f"{self.summary} {self.advice}".strip()

    def line(self) -> str:
        """One line for the command line."""
        return f"expected: {self.text()}"

    def sources_text(self) -> str:
        """Where the numbers come from, one per line."""
        return "Measured in:\n" + "\n".join(f"• {s}" for s in self.sources)


def load_results(path: str | Path | None = None) -> dict:
    """docs/results.json as a dict ({} when the file is missing or unreadable: every key 'not measured')."""
    try:
        data = json.loads(Path(path or RESULTS_JSON).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def measured(m: Measure, results: dict, digits: int = 1, unit: str = " %") -> str:
    """`m`'s number as text ("not measured" when its docs/results.json key is missing from `results`)."""
    value = results.get(m.key) if m.key else m.value
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "not measured"
    return f"{value:.{digits}f}{unit}"


def expectation(configuration: str, synthetic: bool, results_path: str | Path | None = None) -> Expectation:
    """The expectation for `configuration` (A, B, VAD, F) on synthetic (text-to-speech) or real speech;
    `results_path` replaces docs/results.json (tests)."""
    if configuration not in ("A", *KMEANS):
        raise ValueError(f"unknown configuration {configuration!r}")
    results = load_results(results_path)
    used: list[Measure] = []

    def num(m: Measure, digits: int = 1, unit: str = " %") -> str:
        used.append(m)
        return measured(m, results, digits, unit)

    def end_to_end() -> str:
        if configuration != "VAD":
            return f"configuration {configuration} on real speech end to end: not measured"
        return (f"this very path (configuration VAD) on Mboshi dev, scored the same way: with the energy reader "
                f"and the standardised speech embedding token F {num(ENERGY_PATH_TOKEN_F)}, NED "
                f"{num(ENERGY_PATH_MEAN_NED)} with the default mean encoder ({num(ENERGY_PATH_NED)} with a trained "
                f"one; random groups: {num(ENERGY_PATH_RANDOM_NED)}); with the vad reader, whose pause-split "
                f"segments hold several words, token F {num(VAD_PATH_TOKEN_F)}, NED {num(VAD_PATH_NED)}")

    if configuration == "A":
        works, advice = True, ""
        if synthetic:
            summary = (f"Expected to work: with word labels (configuration A) on synthetic speech, {num(A_500K)} "
                       f"of word segments by held-out voices were classified right at 500k tokens "
                       f"({num(A_120K)} at 120k; the paper's A: {PAPER['A']} %).")
        else:
            summary = (f"Expected to work if the encoder trains long enough: on real field recordings (Mboshi, "
                       f"3 speakers) {num(MBOSHI_TOP1)} of held-out word segments got the right written word "
                       f"({num(MBOSHI_TOP10)} in the top 10; always guessing the most frequent word: "
                       f"{num(MBOSHI_MOST_FREQUENT)}) with the encoder trained 30 epochs on a GPU; "
                       f"{num(MBOSHI_CPU_TOP1)} with 2 epochs on a CPU.")
    elif configuration == "B" and synthetic:
        works, advice = True, ""
        summary = (f"Expected to align only with voice-free word types (the Train dialog's default for B; train-speech --voice-free) and plenty of "
                   f"speech: on synthetic voices at 500k tokens, configuration B classified {num(B_500K)} of "
                   f"held-out voices' word segments with the GPU-sized encoder ({num(B_500K_SEEDS12)} the mean of "
                   f"two more seeds) and {num(B_500K_CPU)} with the CPU-sized one (the paper's B: {PAPER['B']} %; "
                   f"the default settings: "
                   f"{num(B_500K_DEFAULT, 2)}, chance {num(CHANCE_500K, 3)}). Its encoder trains on groups from "
                   f"the voices' shared space, its clusters are joined by sound and voice-free context, the "
                   f"voices are regressed out of its type space, and Align starts from Gromov–Wasserstein. "
                   f"Translation to French fails by a direct map ({num(B_500K_FR)} P@1) and works through the "
                   f"English text space ({num(B_500K_FR_PIVOT)} P@1 with the CPU-sized encoder, "
                   f"{num(B_500K_SEEDS12_FR_PIVOT)} with the GPU-sized one over two seeds; an experiment's "
                   f"`pivot` text, or here a map from the English text space to the French one: Align spaces, "
                   f"Map from a text space). A smaller corpus did not align: at "
                   f"120k tokens {num(B_120K_VOICE_FREE, 2)} ({num(KMEANS_120K['B'], 2)} with the default settings).")
    else:
        works, advice = False, LABEL_SOME_WORDS
        at_500k = B_500K_DEFAULT if configuration == "B" else KMEANS_500K[configuration]
        on_synthetic = (f"{num(KMEANS_120K[configuration], 2)} of word segments right at 120k tokens (chance "
                        f"{num(CHANCE_120K, 3)}; the paper's {PAPER_NAME.get(configuration, configuration)}: "
                        f"{PAPER[configuration]} %; 500k tokens: {num(at_500k, 2)}, "
                        f"chance {num(CHANCE_500K, 3)})")
        if synthetic:
            summary = (f"Not expected to align with text: configuration {configuration} on synthetic speech "
                       f"classified {on_synthetic}. Its k-means groups split each word by voice (the speaker "
                       f"explains {num(SPEAKER_SHARE, 0)} of a word's cluster entropy), so its word types "
                       f"match no text's words; keeping the voices apart does not help below ~250k tokens per "
                       f"voice group (even the true words of 180k tokens aligned {num(GROUP_SPACE_180K)} with "
                       f"the text, 250k {num(GROUP_SPACE_250K)}), and merging each voice's own clusters "
                       f"across voices left B at {num(VOICE_MERGE_500K, 2)} at 500k tokens.")
            if configuration == "VAD":
                summary += (f" The voice-free word types that make B align left VAD at "
                            f"{num(VAD_500K_VOICE_FREE, 2)} at 500k tokens: its pause-split segments hold "
                            f"several words; cut at energy valleys (about one word each) it reached "
                            f"{num(VAD_500K_ENERGY, 1)}; cut at every valley (syllable-like stretches, which a "
                            f"map fitted with labels reads far better) {num(VAD_500K_SYLLABLE, 1)}: there the "
                            f"unsupervised map's criterion prefers a wrong map to the right one.")
        else:
            summary = (f"Not expected to align with text: on real field recordings (Mboshi) word segments said "
                       f"by different speakers are hard to match (same-different AP {num(MBOSHI_AP, 3, '')} with MFCC, "
                       f"{num(MBOSHI_AP_STANDARDISED, 3, '')} with the standardised speech embedding, "
                       f"chance {num(MBOSHI_AP_CHANCE, 3, '')}; read English, speechocean762: "
                       f"{num(SO762_AP, 2, '')}) and spoken-term discovery finds words with token F "
                       f"{num(ZRC_TOKEN_F)} (NED {num(ZRC_NED)}); {end_to_end()}. Even on synthetic speech "
                       f"it classified {on_synthetic}: its k-means groups split each word by voice.")
    sources = tuple(dict.fromkeys(m.source() for m in used))
    return Expectation(configuration, synthetic, works, summary, advice, sources)


def no_labels_note(results_path: str | Path | None = None) -> str:
    """One sentence for the readers that give no word labels (VAD, chunks), with the measured number
    (from docs/results.json, or `results_path`)."""
    results = load_results(results_path)
    return (f"Stores without word labels are not expected to align with text (configuration VAD: "
            f"{measured(KMEANS_120K['VAD'], results, 2)} classification on synthetic speech at 120k tokens, "
            f"{measured(KMEANS_500K['VAD'], results, 2)} at 500k, the paper's C: {PAPER['VAD']} %); label some "
            f"words to use configuration A.")


# Readers that give no word labels (a store of theirs has n_labelled = 0).
UNLABELLED_READERS = ("vad", "energy", "chunks")


@dataclass(frozen=True)
class FrontEndChoice:
    """The front end to build a store with: `frontend` as `core.frontends.parse_frontend_spec` takes it
    ("mfcc", "speech-embedding"), `standardise` (`build_feature_store`'s), and `note`, one sentence
    saying why, with the measured numbers."""

    frontend: str
    standardise: bool
    note: str


def unlabelled_frontend(weights_missing: str | None = None) -> FrontEndChoice:
    """The front end recommended for a store without word labels (`UNLABELLED_READERS`): the speech
    embedding standardised over the corpus, which matched the same word across speakers best on
    unlabelled field recordings. `weights_missing`: why the speech-embedding weights cannot be had on
    this machine ('' when they can; None: `core.frontends.speech_embedding.weights_missing()` is
    asked); without them the choice falls back to MFCC and the note says so."""
    if weights_missing is None:
        from core.frontends.speech_embedding import weights_missing as check

        weights_missing = check()
    numbers = (f"same word across speakers, Mboshi field recordings, same-different AP: speech embedding "
               f"standardised {measured(MBOSHI_AP_STANDARDISED, {}, 3, '')}, raw "
               f"{measured(MBOSHI_AP_SPEECH_RAW, {}, 3, '')}, MFCC + DTW {measured(MBOSHI_AP, {}, 3, '')}, chance "
               f"{measured(MBOSHI_AP_CHANCE, {}, 3, '')}; docs/RESULTS.md sessions 9 and 13")
    if weights_missing:
        return FrontEndChoice("mfcc", False, f"Front end MFCC: the speech embedding standardised over the corpus "
                                             f"matches words across speakers best ({numbers}), but its weights "
                                             f"are not on this machine ({weights_missing}).")
    return FrontEndChoice("speech-embedding", True, f"Front end: speech embedding, standardised over the corpus, "
                                                    f"best measured without labels ({numbers}).")


def frontend_for_reader(reader: str, weights_missing: str | None = None) -> FrontEndChoice:
    """The default front end for `reader`: `unlabelled_frontend` for readers without word labels, else
    MFCC (the paper's features; note '')."""
    if reader in UNLABELLED_READERS:
        return unlabelled_frontend(weights_missing)
    return FrontEndChoice("mfcc", False, "")


# docs/runs/2026-12-06-s13-cpu-mboshi-vad-path/ (README addenda 2-3): Mboshi dev, energy segments, K 781,
# seeds 0-2, NED of k-means on the standardised speech embedding's mean frames vs on the trained encoder's
MEAN_FRAMES_NED = ENERGY_PATH_MEAN_NED  # README addendum 3: the app's own command, 78.5 ± 0.4
TRAINED_ENCODER_NED = ENERGY_PATH_NED
ENCODER_KINDS = ("conv", "gru", "mean")


def _frontend_name(header: dict) -> str:
    """The store's front end, seen through a standardisation ("mfcc" for stores without a record)."""
    record = header.get("frontend") if isinstance(header.get("frontend"), dict) else {}
    if record.get("name") == "standardised" and isinstance(record.get("inner"), dict):
        record = record["inner"]
    return str(record.get("name") or "mfcc")


def encoder_for(header: dict, grouping: str) -> tuple[str, str]:
    """(the unit-skipgram acoustic encoder to default to, one sentence why or ''): "mean" (no training:
    k-means over each segment's mean frame) for the k-means configurations on a speech-embedding store,
    where that grouped words better than the trained encoder on field recordings; else "conv"
    (trained; mean-pooled MFCC frames carry almost no word identity: same-different AP near chance)."""
    if grouping not in KMEANS or _frontend_name(header) != "speech-embedding":
        return "conv", ""
    results = load_results()
    return "mean", (f"Encoder “mean” (nothing trained: k-means over each segment's mean frame): on Mboshi "
                    f"field recordings it grouped words better than the trained encoder (term-discovery NED "
                    f"{measured(MEAN_FRAMES_NED, results)} against {measured(TRAINED_ENCODER_NED, results)}, "
                    f"lower is better; docs/RESULTS.md session 13).")
