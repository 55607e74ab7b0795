"""Rebuild the bundled demo project (resources/demo/) from the shared Bible texts, in one command.

    .venv/bin/python scripts/build_demo.py [--data ../shared/data] [--out resources/demo]

What it makes (CPU only, about 23 minutes on a 2-core machine, 15 MB; the smaller session-3 demo,
--tokens 50000 --chapters odd --speakers 10 --held-out 2 --text-tokens 200000, takes 4 minutes):
1. An experiment run (core.pipeline) in --work: SYNTHETIC English speech (espeak-ng voices via
   espeakng-loader) speaking the first --tokens word tokens of the KJV's --chapters with
   --speakers voices, plus the --isolated-words most frequent words spoken alone by every
   training voice (a word said into a microphone sounds unlike one cut out of running speech);
   forced-alignment word segments; the unit-skipgram learner in the paper's
   configuration A (segments grouped by their true word; acoustic word embeddings → skip-gram
   over the word-type stream); the EN text space from the same KJV chapters (the paper's matched
   ENls–enls setting); speech → EN alignment WITHOUT supervision ("auto": adversarial guarded by
   the criterion, falling back to robust self-learning).
2. FR (Louis Segond 1910) and ES (Reina-Valera 1909) text spaces of the same chapters
   (core.text.train_text_space, gensim, 50-d), and EN → FR / EN → ES mappings learned without
   supervision (self-learning); if one scores P@5 < --min-text-p5 on the FreeDict pairs, a
   supervised Procrustes map from half of the FreeDict pairs replaces it and is labelled
   "supervised (FreeDict)" in its method, metrics and the project description.
3. The project: speech space + encoder (core.speech.project_space.store_speech_space), text
   spaces, mappings, a few example clips per frequent word (isolated words, synthetic, training
   voices), cached UMAP and PCA coordinates, and a "build-demo" run with the held-out-voice hit
   rates measured at the end.
The project is built in a temporary folder and renamed into place, so --out is never half-written.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.atomic import write_text  # noqa: E402
from core.errors import WordbridgeError  # noqa: E402
from core.progress import Progress  # noqa: E402
from core.retrieval import top_k_indices  # noqa: E402
from core.vectors import unit_rows  # noqa: E402

SYNTHETIC_NOTE = "espeak-ng voices via espeakng-loader (synthetic speech, not recordings of people)"
LANGS = {"fr": ("fr_LouisSegond1910.tsv.xz", "en-fr.freedict.txt"),
         "es": ("es_ReinaValera1909.tsv.xz", "en-es.freedict.txt")}
FIRST_UNSEEN_SPEAKER = 40  # voices from here on are never used by the build (tests use them)


class Echo(Progress):
    """Prints log lines and stage names with the elapsed time."""

    def __init__(self):
        super().__init__()
        self.t0 = time.time()

    def log(self, message: str) -> None:
        print(f"[{time.time() - self.t0:7.1f}s] {message}", flush=True)

    def set_stage(self, name: str) -> None:
        self.stage, self.last = name, 0.0
        print(f"[{time.time() - self.t0:7.1f}s] · {name}", flush=True)

    def update(self, done: float, total: float | None = None, **metrics) -> None:
        if time.time() - getattr(self, "last", 0.0) > 30 and done:  # a line every 30 s at most
            self.last = time.time()
            shown = {k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()}
            print(f"[{time.time() - self.t0:7.1f}s]   {self.stage}: {done:g}/{total} {shown}", flush=True)


def experiment_toml(args) -> str:
    """The experiment config of the demo (written into the work folder, so the run is traceable)."""
    data = Path(args.data).resolve()
    return f"""# The bundled demo's experiment (written by scripts/build_demo.py). SYNTHETIC speech.
name = "demo"
description = "demo: synthetic English speech (KJV {args.chapters} chapters, espeak-ng) vs KJV text, unit-skipgram A"
seeds = [0]
device = "cpu"

[corpus]
text = "{data / 'text' / 'en_KJV1611.tsv.xz'}"
language = "en"
chapters = "{args.chapters}"
max_tokens = {args.tokens}
speakers = {args.speakers}
held_out_speakers = {args.held_out}
repeats = 1
seed = 0
isolated_words = {args.isolated_words}   # also spoken alone by every training voice (words said into a microphone)

[features]
workers = 0

[speech]
learners = ["unit-skipgram"]
configurations = ["A"]

[speech.unit-skipgram]
ac_epochs = {args.ac_epochs}
ac_hidden = 128
ac_dim = 64
batch_size = 256
max_frames = 80
sg_backend = "gensim"
sg_epochs = 10
sg_window = 5
sg_negatives = 5
sg_subsample = 0.001

[text_training]
dim = 50
epochs = 10
min_count = 3
window = 5
negative = 5
sample = 0.001
workers = 2

[[text]]
name = "en_same"
path = "{data / 'text' / 'en_KJV1611.tsv.xz'}"
chapters = "{args.chapters}"
max_tokens = {args.tokens}   # the transcripts of the speech (the paper's ENls-enls); a larger text
                             # corpus than the speech made unsupervised self-learning fail (RESULTS.md)
language = "en"
task = "classification"

[align]
method = "auto"
adv_epochs = 2
adv_epoch_size = 50000
dis_hidden_dim = 512

[evaluation]
csls_knn = 10
max_test_segments = 5000
topk = [1, 5]
"""


def text_sentences(path: Path, chapters: str, max_tokens: int | None) -> list[list[str]]:
    """Token lists of the `chapters` (all / odd / even) of a verse TSV, up to `max_tokens` tokens."""
    from core.pipeline.text_space import read_sentences

    return read_sentences(str(path), chapters, max_tokens)


def translation_scores(mapping, en, other, gold: dict[str, set[str]], words: list[str]) -> dict:
    """P@1 / P@5 (NN cosine in the aligned space) of EN words that have a gold translation in `other`."""
    test = [w for w in words if w in en.index and any(t in other.index for t in gold.get(w, ()))]
    if not test:
        return {"p_at_1": None, "p_at_5": None, "evaluated": 0}
    q = unit_rows(mapping.map_source(en.vectors[[en.index[w] for w in test]]))
    keys = unit_rows(mapping.map_target(other.vectors))
    top = top_k_indices(q @ keys.T, 5)
    hit1 = [other.words[top[i, 0]] in gold[w] for i, w in enumerate(test)]
    hit5 = [any(other.words[j] in gold[w] for j in top[i]) for i, w in enumerate(test)]
    return {"p_at_1": float(np.mean(hit1)), "p_at_5": float(np.mean(hit5)), "evaluated": len(test)}


def align_text(en, other, gold, args, log) -> tuple[object, dict]:
    """EN → other: unsupervised self-learning, or supervised Procrustes (FreeDict) when it fails."""
    from core.alignment import align
    from core.alignment.base import AlignConfig
    from core.pipeline.speech_eval import supervised_seed_pairs

    with_gold = [w for w in en.words if w in gold and any(t in other.index for t in gold[w])]
    test_words = with_gold[1::2]  # every other gold word is kept for testing (supervised uses the rest)
    result = align(en, other, AlignConfig(method="selflearn", device="cpu", seed=0))
    scores = translation_scores(result.mapping, en, other, gold, test_words)
    info = {"method": "selflearn (unsupervised)", "supervised": False, "criterion": float(result.criterion),
            **{f"freedict_{k}": v for k, v in scores.items()}}
    log(f"EN → {other.language}: unsupervised self-learning P@1 {scores['p_at_1']}, P@5 {scores['p_at_5']} "
        f"on {scores['evaluated']} FreeDict test words")
    if scores["p_at_5"] is not None and scores["p_at_5"] >= args.min_text_p5:
        return result.mapping, info
    pairs = supervised_seed_pairs(en, other, "translation", gold, set(test_words))  # the other half
    sup = align(en, other, AlignConfig(method="supervised", device="cpu", seed=0), seed_pairs=pairs)
    sup_scores = translation_scores(sup.mapping, en, other, gold, test_words)
    log(f"EN → {other.language}: unsupervised P@5 below {args.min_text_p5}; using SUPERVISED Procrustes from "
        f"{len(pairs)} FreeDict pairs: P@1 {sup_scores['p_at_1']}, P@5 {sup_scores['p_at_5']}")
    return sup.mapping, {"method": "supervised (FreeDict Procrustes)", "supervised": True,
                         "seed_pairs": int(len(pairs)), "unsupervised_attempt": info,
                         **{f"freedict_{k}": v for k, v in sup_scores.items()}}


def supervised_speech_map(speech, en, unsupervised: dict, log) -> tuple[object, dict]:
    """The paper's A*: Procrustes from identity pairs (speech type = its text word). SUPERVISED, labelled so."""
    from core.alignment import align
    from core.alignment.base import AlignConfig
    from core.pipeline.speech_eval import supervised_seed_pairs

    pairs = supervised_seed_pairs(speech, en, "classification", None, set())
    result = align(speech, en, AlignConfig(method="supervised", device="cpu", seed=0), seed_pairs=pairs)
    log(f"speech → EN: unsupervised held-out accuracy {unsupervised.get('held_out_accuracy_csls')} is too low; "
        f"using SUPERVISED A*-style Procrustes from {len(pairs)} identity pairs")
    return result.mapping, {"method": "supervised (A*: Procrustes on identity pairs)", "supervised": True,
                            "seed_pairs": int(len(pairs)), "criterion": float(result.criterion),
                            "unsupervised_attempt": unsupervised}


def unseen_voice(index: int):
    """A voice the build never uses (speaker index FIRST_UNSEEN_SPEAKER + index)."""
    from core.synth.voices import voice_for_speaker

    return voice_for_speaker("en", FIRST_UNSEEN_SPEAKER + index, seed=0)


def hit_rates(classifier, words: list[str], voices: list, text_id: str, gold: dict | None = None,
              target_id: str | None = None) -> dict:
    """Classify isolated-word clips of `words` said by `voices` (synth VoiceSpecs); top-1/5/10 hit
    rates (EN, and P@5 of a translation), and `type_right`: the share of clips whose nearest speech
    type is their word's (the acoustic step alone)."""
    from core.synth.synthesize import synthesize_utterance

    ranks, trans, seconds, type_right = [], [], [], []
    for voice in voices:
        for word in words:
            samples, _ = synthesize_utterance(word, voice, pad_s=0.3)
            t = time.perf_counter()
            try:
                result = classifier.classify_clip(samples, 16000, k=10, method="csls")
            except WordbridgeError:  # e.g. a clip in which the trimmer finds no speech: a miss
                ranks.append(99)
                type_right.append(False)
                continue
            seconds.append(time.perf_counter() - t)
            # the merged result's speech types are those of the nearest type's vector: that type first
            type_right.append(bool(result.speech_types) and result.speech_types[0].word == word)
            top = [c.word for c in result.by_space[text_id]]
            ranks.append(top.index(word) if word in top else 99)
            if gold is not None and word in gold:
                tops = [c.word for c in result.by_space[target_id]][:5]
                trans.append(any(t in gold[word] for t in tops))
    ranks = np.array(ranks)
    out = {"words": len(words), "voices": len(voices), "clips": int(len(ranks)),
           "top1": float(np.mean(ranks < 1)), "top5": float(np.mean(ranks < 5)), "top10": float(np.mean(ranks < 10)),
           "type_right": float(np.mean(type_right)), "median_classify_s": float(np.median(seconds))}
    if trans:
        out[f"translation_{target_id}_p_at_5"] = float(np.mean(trans))
    return out


def main(argv=None) -> int:
    """Build the demo project; returns the exit status."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    from core.pipeline.config import DEFAULT_DATA

    p.add_argument("--data", default=os.environ.get("WORDBRIDGE_DATA", DEFAULT_DATA),
                   help="folder with text/ and dicts/ ($WORDBRIDGE_DATA, else the repository's ../shared/data)")
    p.add_argument("--out", default=str(ROOT / "resources" / "demo"), help="demo project folder (replaced)")
    p.add_argument("--work", default=str(ROOT / "build" / "demo-work"), help="experiment run folder (cached stages)")
    p.add_argument("--tokens", type=int, default=500000, help="word tokens of synthetic speech")
    p.add_argument("--chapters", choices=("all", "odd"), default="all",
                   help="KJV chapters the speech is read from; FR/ES text spaces use the same chapters")
    p.add_argument("--speakers", type=int, default=24, help="synthetic voices in the corpus")
    p.add_argument("--held-out", type=int, default=4, help="of those, voices kept out of training")
    p.add_argument("--isolated-words", type=int, default=300,
                   help="the most frequent words also spoken alone by every training voice (0 = none)")
    p.add_argument("--ac-epochs", type=int, default=3, help="acoustic encoder epochs")
    p.add_argument("--text-tokens", type=int, default=0, help="tokens of each FR/ES text space (0 = all)")
    p.add_argument("--min-text-p5", type=float, default=0.15,
                   help="unsupervised EN→FR/ES maps scoring below this P@5 are replaced by supervised ones")
    p.add_argument("--min-speech-accuracy", type=float, default=0.05,
                   help="an unsupervised speech → EN map scoring below this held-out accuracy (CSLS) is "
                        "replaced by a supervised A*-style one (labelled supervised)")
    p.add_argument("--example-words", type=int, default=24, help="frequent words with example clips")
    p.add_argument("--example-voices", type=int, default=2, help="training voices per example word")
    p.add_argument("--test-words", type=int, default=30, help="frequent words for the unseen-voice check")
    p.add_argument("--test-voices", type=int, default=3, help="unseen voices for that check")
    p.add_argument("--no-umap", action="store_true", help="cache PCA layouts only")
    p.add_argument("--recognizer", default=None,
                   help="a people's-voices run folder (scripts/voices_experiment.py, recognizer.* inside): its "
                        "word recogniser (front end, encoder, centroids, confidence) replaces the MFCC encoder")
    p.add_argument("--fuse", metavar="RUN_DIR", default=None,
                   help="with --recognizer: a second voices run folder whose recogniser's cosines are mixed into "
                        "the ranking (score fusion; the shipped demo: runs/voices-gpu-mfcc-real)")
    p.add_argument("--fuse-weight", type=float, default=0.6, help="the second recogniser's weight (default 0.6)")
    p.add_argument("--fuse-calibration", metavar="JSON", default=None,
                   help="confidence calibration fitted on fused scores of calibration speakers "
                        "(scripts/voices_fusion.py --stage confidence)")
    args = p.parse_args(argv)
    if (args.fuse or args.fuse_calibration) and not args.recognizer:
        p.error("--fuse and --fuse-calibration need --recognizer")
    if args.fuse_calibration and not args.fuse:
        p.error("--fuse-calibration needs --fuse")
    import torch

    torch.set_num_threads(2)
    progress = Echo()
    log = progress.log
    t_start = time.time()
    data, out, work = Path(args.data), Path(args.out), Path(args.work)
    for rel in ["text/en_KJV1611.tsv.xz"] + [f"text/{t}" for t, _ in LANGS.values()] + \
               [f"dicts/{d}" for _, d in LANGS.values()]:
        if not (data / rel).is_file():
            raise WordbridgeError(f"{data / rel}: missing (give --data the shared data folder)")

    # 1. the experiment (cached: a rerun reuses finished stages)
    from core.pipeline.config import load_experiment
    from core.pipeline.experiment import Runtime, plan_experiment, run_experiment
    from core.pipeline.stages import stage_summary

    work.mkdir(parents=True, exist_ok=True)
    write_text(work / "demo.toml", experiment_toml(args))
    cfg = load_experiment(work / "demo.toml")
    rt = Runtime(device="cpu", synth_workers=2, feature_workers=0)
    run_dir = work / "run"
    metrics = run_experiment(cfg, run_dir, rt, progress=progress)
    plan = plan_experiment(cfg, rt)
    speech_stage = plan.stages["speech"][0]
    eval_stage = plan.stages["eval"][0]
    speech_run = Path(stage_summary(speech_stage, run_dir)["run"])
    eval_dir = eval_stage.folder(run_dir)
    scores = json.loads((eval_dir / "scores.json").read_text(encoding="utf-8"))
    log(f"experiment done: speech → EN {scores['alignment']}; scores {scores['scores']}")

    from core.alignment.mapping import Mapping
    from core.corpus.feature_store import FeatureStore
    from core.refine_pairs import store_alignment_mapping
    from core.speech.project_space import store_speech_space
    from core.speech.type_space import load_type_space
    from core.vectors import load_vectors

    type_space = load_type_space(speech_run)
    store = FeatureStore.open(stage_summary(plan.stages["features"][0], run_dir)["store"])
    en = load_vectors(stage_summary(plan.stages["text"][0], run_dir)["vectors"], language="en")
    speech_map = Mapping.load(eval_dir / "mapping.safetensors")
    speech_info = {"method": f"unsupervised ({scores['alignment'].get('method_used')})", "supervised": False,
                   "criterion": scores["alignment"].get("criterion"),
                   **{f"held_out_{k}": v for k, v in scores["scores"].items() if not isinstance(v, dict)}}
    if (scores["scores"].get("accuracy_csls") or 0.0) < args.min_speech_accuracy:
        speech_map, speech_info = supervised_speech_map(type_space.embeddings, en, speech_info, log)

    # 2. FR / ES text spaces and EN → FR / ES maps
    from core.pipeline.speech_eval import gold_dictionary
    from core.text.skipgram import train_text_space

    others, text_maps, golds = {}, {}, {}
    for lang, (text_file, dict_file) in LANGS.items():
        t = time.time()
        sentences = text_sentences(data / "text" / text_file, args.chapters, args.text_tokens or None)
        others[lang] = train_text_space(sentences, language=lang, dim=50, epochs=10, min_count=3, window=5,
                                        negative=5, sample=1e-3, workers=2)
        log(f"text space {lang}: {len(others[lang])} words from {sum(map(len, sentences))} tokens "
            f"in {time.time() - t:.0f}s")
        golds[lang] = gold_dictionary(str(data / "dicts" / dict_file))
        text_maps[lang] = align_text(en, others[lang], golds[lang], args, log)

    # 3. the project, built next to --out and renamed into place
    from core.project import Project
    from core.synth.synthesize import synthesize_utterance
    from core.synth.voices import voice_for_speaker

    tmp = out.parent / f".{out.name}.building"
    if tmp.exists():
        shutil.rmtree(tmp)
    sup_langs = [lang for lang, (_, info) in text_maps.items() if info["supervised"]]
    speech_sentence = ("Speech → EN text map is SUPERVISED (A*-style: Procrustes on identity pairs, because the "
                       "unsupervised map scored below --min-speech-accuracy on held-out voices). "
                       if speech_info["supervised"] else "Speech → EN text map learned without supervision. ")
    description = (f"DEMO with SYNTHETIC speech: English words spoken by espeak-ng voices (KJV {args.chapters} chapters, "
                   f"{args.tokens} tokens, {args.speakers} voices). Speech space: unit-skipgram, configuration A "
                   "(segments grouped by their true word). " + speech_sentence
                   + ("EN → " + "/".join(l.upper() for l in sup_langs) + " maps are SUPERVISED (FreeDict). "
                      if sup_langs else "EN → FR/ES maps learned without supervision. ")
                   + "Rebuild with scripts/build_demo.py.")
    project = Project.create(tmp, "Wordbridge demo (synthetic speech)", description=description,
                             languages=["en", "fr", "es"], synthetic_speech=True, synthetic_speech_note=SYNTHETIC_NOTE)
    # the speech space and its encoder, through the same core path as the app's "Train speech space…"
    store_speech_space(project, type_space, store.config, "speech-en", "en", synthetic=True,
                       synthetic_note=SYNTHETIC_NOTE,
                       provenance={"learner": "unit-skipgram", "configuration": "A", "corpus": f"KJV {args.chapters} chapters",
                                   "tokens": args.tokens, "speakers": args.speakers, "run": str(speech_run)})
    speech_emb = project.space("speech-en")
    project.add_space("text-en", en, kind="text", language="en",
                      provenance={"corpus": f"KJV 1611, {args.chapters} chapters (the speech's own text)",
                                  "trainer": "gensim"})
    for lang, (text_file, _) in LANGS.items():
        project.add_space(f"text-{lang}", others[lang], kind="text", language=lang,
                          provenance={"corpus": f"{text_file}, {args.chapters} chapters", "tokens_max": args.text_tokens,
                                      "trainer": "gensim"})
    store_alignment_mapping(project, "speech-en__text-en", "speech-en", "text-en", speech_map, speech_info["method"],
                  {k: v for k, v in speech_info.items() if not isinstance(v, dict)})
    for lang, (mapping, info) in text_maps.items():
        store_alignment_mapping(project, f"text-en__text-{lang}", "text-en", f"text-{lang}", mapping, info["method"],
                      {k: v for k, v in info.items() if not isinstance(v, dict)})

    examples = [w for w in speech_emb.words if len(w) > 1][:args.example_words]
    for v in range(args.example_voices):
        voice = voice_for_speaker("en", v, seed=0)  # a training voice of the corpus
        for word in examples:
            samples, _ = synthesize_utterance(word, voice, pad_s=0.15)
            project.add_recording(samples, 16000, source="import", device="espeak-ng (synthetic)",
                                  note=f"synthetic: {voice.espeak_name}", label=word, speaker=voice.speaker)
    log(f"{len(examples) * args.example_voices} example clips stored")

    from core.projection import compute_joint_projection

    for method in ("pca",) + (() if args.no_umap else ("umap",)):
        for aligned in (True, False):
            t = time.time()
            compute_joint_projection(project, method, aligned, progress=progress)
            log(f"projection {method} ({'after' if aligned else 'before'} alignment) in {time.time() - t:.0f}s")

    if args.recognizer:
        from core.voices.package import install_recognizer, read_fusion_calibration

        calibration = read_fusion_calibration(args.fuse_calibration, args.fuse_weight) if args.fuse_calibration else None
        text = install_recognizer(project, args.recognizer, fuse=args.fuse, fuse_weight=args.fuse_weight,
                                  fuse_calibration=calibration)
        log(f"word recogniser from {args.recognizer}"
            + (f" fused with {args.fuse} (weight {args.fuse_weight})" if args.fuse else "") + f": trained on {text}")

    # 4. honest check: isolated words by voices never used in the build
    from core.classify import ClipClassifier, clip_embedder

    classifier = ClipClassifier.load(project, embed=clip_embedder(project))
    test_words = [w for w in speech_emb.words if w in en.index][:args.test_words]
    check = hit_rates(classifier, test_words, [unseen_voice(v) for v in range(args.test_voices)], "text-en",
                      golds["fr"], "text-fr")
    log(f"unseen voices, {check['clips']} clips of the {len(test_words)} most frequent words: top-1 "
        f"{check['top1']:.2f}, top-5 {check['top5']:.2f}, top-10 {check['top10']:.2f}")
    project.record_run("build-demo", {"args": vars(args), "experiment": str(work / "demo.toml")}, status="finished",
                       metrics={"unseen_voice_check": check, "speech_to_en": scores, "speech_to_en_map": speech_info,
                                "text_maps": {l: i for l, (_, i) in text_maps.items()},
                                "experiment_summary": metrics.get("summary"),
                                "seconds": round(time.time() - t_start, 1)})
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    log(f"demo project written to {out}: {size / 1e6:.1f} MB in {time.time() - t_start:.0f}s")
    print(json.dumps({"unseen_voice_check": check, "size_mb": round(size / 1e6, 2)}, indent=1))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except WordbridgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
