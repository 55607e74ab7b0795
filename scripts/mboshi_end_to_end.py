#!/usr/bin/env python
"""The Mboshi corpus from start to end (issue 16, Deliver 7), through the core functions the app's
menus call:

  new project (Project.create)                               — Project ▸ New
  build corpus: Mboshi audio + the corpus's own word times   — Train ▸ Build speech corpus…
      (core.corpus.project_corpora.build_project_corpus, reader mboshi; split train for training,
      split dev in its own store, never trained on)
  train the speech space: unit-skipgram, configuration A     — Train ▸ Train speech space…
      (segments grouped by their given word label; MFCC; CPU-sized epochs;
      core.speech.project_space.train_project_speech_space)
  add the Mboshi text space (skip-gram on the train split's  — Text ▸ Add text space…
      transcripts) and the French one (its translations)      (core.text_space_project)
  align speech → Mboshi text without supervision              — Train ▸ Align spaces… (selflearn, the
      (core.mapping_history.align_keeping_previous)             CPU default)
  type exemplars: every train segment a prototype of its     — (core.speech.exemplars; chosen on a
      type, and how many nearest types a clip's list merges      calibration slice of the train split,
                                                                 stored in the encoder, used by the app;
      training the space already stored a choice made on the    at most MAX_PER_TYPE exemplars a type)
      types alone; this one, on written words, replaces it
  confirm pairs in the lexicon review                         — Lexicon: confirm / correct
      (core.lexicon_review.LexiconReview.decide; a simulated linguist confirms the true written word
      of the k most frequent speech types, the true word taken from the corpus's own labels)
  refine with the confirmed pairs                             — Lexicon: Refine
      (core.mapping_history.refine_keeping_previous)
  export TextGrid + ELAN .eaf of a few dev recordings         — Lexicon: Export labels…
      (core.label_export.export_recording_labels; then read back with read_annotation)
  reopen (Project.open) and check that everything is there.

Measures (dev split, never trained on):
  * word segments → right Mboshi written word (top-1 / top-10): each dev segment's MFCC frames → the
    project's encoder → its type_candidates nearest speech types → mapped → CSLS nearest Mboshi
    written words (core.classify.ClipClassifier.classify_vectors, what the app does with a clip).
    The right word is the transcript word at the segment's position in utterances.tsv (words.tsv
    and the transcripts have the same number of words in every utterance; words.tsv drops some
    accents). Baseline: always the most frequent written words of the train transcripts.
  * P@1 of the 500 most frequent speech types → written words (CSLS, the lexicon's induction),
    after 0, 10, 25, 50 and 100 confirmed pairs; right = any written form the type's label has in
    the train transcripts (`idi` is written ídí, idí or idi). Also without the confirmed types.
  * the supervised bound: Procrustes on all identity pairs (every type → its most frequent written
    form), the same P@1.

In configuration A the speech types ARE the given word labels, so "type → written word" is a pure
alignment question (the acoustic side only enters the segment measures).

Usage: .venv/bin/python scripts/mboshi_end_to_end.py --out runs/mboshi-s9
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

K_STEPS = (0, 10, 25, 50, 100)
N_EVAL_TYPES = 500
TEXT_MBO, TEXT_FR, SPEECH = "text-mbo", "text-fr", "speech-mbo"


def default_source() -> Path:
    data = Path(os.environ.get("WORDBRIDGE_DATA", ROOT.parent / "shared" / "data"))
    return data / "speech" / "mboshi"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="run folder (the project is OUT/project)")
    p.add_argument("--source", default=str(default_source()), help="the Mboshi corpus folder (default: %(default)s)")
    p.add_argument("--ac-epochs", type=int, default=2, help="acoustic encoder epochs (default: %(default)s)")
    p.add_argument("--sg-epochs", type=int, default=20, help="skip-gram epochs, speech side (default: %(default)s)")
    p.add_argument("--text-epochs", type=int, default=20, help="skip-gram epochs, text side (default: %(default)s)")
    p.add_argument("--text-min-count", type=int, default=2, help="text skip-gram min count (default: %(default)s)")
    p.add_argument("--sample", type=float, default=0.0,
                   help="skip-gram subsampling threshold, both sides (default: %(default)s; word2vec's 1e-4 keeps "
                        "about 5%% of the frequent tokens of a 27k-token corpus)")
    p.add_argument("--workers", type=int, default=2, help="feature worker processes (default: %(default)s)")
    p.add_argument("--export-recordings", type=int, default=3, help="dev utterances exported (default: %(default)s)")
    p.add_argument("--max-dev", type=int, default=None, help="score at most this many dev segments (default: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", help="torch device for the speech space, alignment and scoring "
                                                   "(cpu | cuda; default: %(default)s)")
    p.add_argument("--retrain-speech", action="store_true",
                   help="with --resume: train the speech space again (e.g. with other --ac-epochs) instead of "
                        "keeping it")
    p.add_argument("--resume", action="store_true",
                   help="continue in an existing OUT/project: keep its corpus stores, speech space and text spaces "
                        "(their wall times are read from OUT/timings.json), align again, clear the review's "
                        "decisions and redo every later step")
    return p.parse_args(argv)


class Steps:
    """Wall time of each step, printed as it ends and kept in `path` (timings.json) as it goes."""

    def __init__(self, path: Path):
        self.path = path
        self.seconds: dict[str, float] = json.loads(path.read_text()) if path.is_file() else {}

    def kept(self, name: str) -> None:
        print(f"[{time.strftime('%H:%M:%S')}] {name}: kept from the first pass "
              f"({self.seconds.get(name, float('nan')):.1f} s then)", flush=True)

    def run(self, name: str, fn, *args, **kwargs):
        print(f"[{time.strftime('%H:%M:%S')}] {name} …", flush=True)
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        self.seconds[name] = round(time.perf_counter() - t, 2)
        print(f"[{time.strftime('%H:%M:%S')}] {name}: {self.seconds[name]:.1f} s", flush=True)
        self.path.write_text(json.dumps(self.seconds, indent=2) + "\n")
        return out


class PrintProgress:
    """A core.progress.Progress whose listener prints stages and log lines (not every update)."""

    def __call__(self):
        from core.progress import Progress

        state = {"stage": None}

        def listener(stage, done, total, metrics):
            if "message" in metrics:
                print("   ", metrics["message"], flush=True)
            elif stage != state["stage"]:
                state["stage"] = stage
                print("    stage:", stage, flush=True)

        return Progress(listener)


def read_corpus_tables(source: Path):
    """utterances (utt → (split, mboshi words, french)) and the words.tsv labels per utterance."""
    utts = {}
    with open(source / "utterances.tsv", encoding="utf-8") as fh:
        next(fh)
        for line in fh:
            f = line.rstrip("\n").split("\t")
            if len(f) >= 5:
                utts[f[0]] = (f[2], f[3].split(), f[4])
    return utts


def gold_forms(store, utts) -> dict[str, Counter]:
    """label (words.tsv spelling) → Counter of the written forms at the same position (train)."""
    forms: dict[str, Counter] = defaultdict(Counter)
    table = store.table
    for label, utt, pos in zip(table.label, table.utterance, table.position):
        words = utts.get(utt, (None, [], None))[1]
        if label and pos is not None and int(pos) < len(words):
            forms[label][words[int(pos)]] += 1
    return forms


def write_text_corpora(utts, folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    mbo, fr = folder / "mboshi_train.txt", folder / "french_train.txt"
    rows = [v for v in utts.values() if v[0] == "train"]
    mbo.write_text("\n".join(" ".join(v[1]) for v in rows) + "\n", encoding="utf-8")
    fr.write_text("\n".join(v[2] for v in rows) + "\n", encoding="utf-8")
    return mbo, fr


def csls_best(x: np.ndarray, y: np.ndarray, rows: np.ndarray, knn: int = 10) -> np.ndarray:
    """CSLS nearest target row of each source row in `rows` (x, y: unit rows in one space)."""
    from core.classify import _csls_terms

    r_x, r_y = _csls_terms(x, y, knn)
    sims = x[rows] @ y.T
    return (2 * sims - r_x[rows, None] - r_y[None, :]).argmax(axis=1)


def lexicon_p1(entries, forms: dict[str, Counter], n: int, exclude: set[str] = frozenset()) -> dict:
    """P@1 of the first `n` induced pairs (most frequent speech types): right when the induced word is
    one of the type's written forms; `exclude`: types left out (the confirmed ones)."""
    rows = [e for e in entries[:n] if e.speech_type not in exclude]
    right = sum(e.text_word in forms.get(e.speech_type, ()) for e in rows)
    return {"p1": right / max(len(rows), 1), "n": len(rows), "right": right}


def dev_segment_scores(project, store, utts, train_counts: Counter, max_dev: int | None, seed: int) -> dict:
    """Dev segments → Mboshi written words through the app's clip path (encoder → nearest types →
    map → CSLS), top-1 / top-10, with the most-frequent baseline and the acoustic type accuracy."""
    from core.classify import ClipClassifier, clip_embedder, type_candidates

    embed = clip_embedder(project)
    m = type_candidates(embed)
    classifier = ClipClassifier.load(project, embed=embed)
    table = store.table
    rows = np.arange(store.n_segments)
    if max_dev is not None and len(rows) > max_dev:
        rows = np.sort(np.random.default_rng(seed).choice(rows, max_dev, replace=False))
    speech_words = set(classifier.speech.emb.words)
    text_vocab = set(classifier.texts[TEXT_MBO].emb.words)
    top_words = [w for w, _ in train_counts.most_common(10)]
    hit1 = hit10 = base1 = base10 = type1 = type3 = oracle1 = in_vocab = known_type = 0
    type_index = classifier.speech.emb.index
    oracle_cache: dict[str, str] = {}
    for i in rows:
        utt, pos, label = table.utterance[i], int(table.position[i]), table.label[i]
        truth = utts[utt][1][pos]
        # what ClipEncoder.vectors_from_features does, keeping the encoding for the type measures
        encoding = embed.encode_features(store.features(int(i)))
        near = [t for t, _ in embed.nearest_types(encoding, max(3, m))]
        vectors = [embed.type_vectors[t].copy() for t in near[:m]]
        words = [c.word for c in classifier.classify_vectors(vectors, 10, "csls").by_space[TEXT_MBO]]
        hit1 += words[:1] == [truth]
        hit10 += truth in words[:10]
        base1 += truth == top_words[0]
        base10 += truth in top_words
        in_vocab += truth in text_vocab
        # which types the encoder picked (is the nearest type the segment's own label?)
        names = [classifier.speech.emb.words[t] for t in near[:3]]
        type1 += names[:1] == [label]
        type3 += label in names
        if label in speech_words:
            known_type += 1
            if label not in oracle_cache:  # the word the map gives the segment's true type
                v = classifier.speech.emb.vectors[type_index[label]]
                oracle_cache[label] = classifier.classify_vector(v, 1, "csls").by_space[TEXT_MBO][0].word
            oracle1 += oracle_cache[label] == truth
    n = len(rows)
    return {"segments": int(n), "type_candidates": int(m), "top1": hit1 / n, "top10": hit10 / n,
            "most_frequent_top1": base1 / n, "most_frequent_top10": base10 / n,
            "most_frequent_words": top_words,
            "truth_in_text_vocabulary": in_vocab / n, "label_is_a_speech_type": known_type / n,
            "nearest_type_is_label": type1 / n, "label_in_3_nearest_types": type3 / n,
            "true_type_then_map_top1": oracle1 / n}


def calibrate_type_ranking(project, train_store, utts) -> dict:
    """Type exemplars and the number of merged types, chosen on a calibration slice of the TRAIN
    split (core.speech.exemplars.calibrate: 10 % of the train utterances held out from exemplars and
    centroids), then stored in the project's encoder with exemplars from every train segment when
    they won. Speech segments and their labels only; the written words enter only as the measure."""
    from core.classify import ClipClassifier, clip_embedder
    from core.speech import exemplars

    embed = clip_embedder(project)
    classifier = ClipClassifier.load(project, embed=embed)
    table = train_store.table
    index = classifier.speech.emb.index
    rows = [i for i, label in enumerate(table.label) if label in index]
    started = time.perf_counter()
    enc = exemplars.encode_segments(embed, [train_store.features(i) for i in rows])
    encode_s = time.perf_counter() - started
    types = np.array([index[table.label[i]] for i in rows], dtype=np.int64)
    truths = [utts[table.utterance[i]][1][int(table.position[i])] for i in rows]

    def type_words(row: int) -> list[str]:  # the app's list for a type: its vector → map → CSLS
        return [c.word for c in classifier.classify_vector(embed.type_vectors[row], 10, "csls").by_space[TEXT_MBO]]

    result = exemplars.calibrate(enc, types, len(index), [table.utterance[i] for i in rows], truths, type_words)
    chosen = result["chosen"]
    use = chosen["similarity"] == "exemplars"
    exemplars.add_to_encoder(project, enc if use else None, types if use else None, chosen["type_candidates"],
                             note="every train segment (calibrate_type_ranking)", votes=chosen["votes"])
    return {**result, "encode_s": round(encode_s, 2)}


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    torch.set_num_threads(2)
    from core.corpus.feature_store import FeatureStore
    from core.corpus.project_corpora import build_project_corpus
    from core.features import FeatureConfig
    from core.lexicon_review import LexiconReview
    from core.mapping_history import align_keeping_previous, refine_keeping_previous
    from core.project.project import Project
    from core.speech.config import SpeechConfig
    from core.speech.project_space import train_project_speech_space
    from core.text import SkipGramParams
    from core.text_space_project import train_project_text_space

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    source = Path(args.source)
    steps = Steps(out / "timings.json")
    progress = PrintProgress()
    utts = read_corpus_tables(source)
    metrics: dict = {"machine": {"cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                                 "platform": platform.platform(), "python": platform.python_version()}}

    # 1. new project
    root = out / "project"
    resume = args.resume and root.exists()
    if root.exists() and not resume:
        raise SystemExit(f"error: {root} exists; choose a new --out folder (or --resume)")
    if resume:
        project = Project.open(root)
        steps.kept("new project")
        kept = "corpus stores and text spaces" if args.retrain_speech else "corpus stores, speech space and text spaces"
        metrics["resumed"] = (f"{kept} kept from the first pass in this folder (their times are that pass's); "
                              + ("speech space trained again, " if args.retrain_speech else "")
                              + "alignment and every later step redone")
    else:
        project = steps.run("new project", Project.create, root, "Mboshi (session 9)",
                            description="Mboshi speech with its own word times; French translations",
                            languages=["mbo", "fr"])

    # 2. corpus: train and dev stores
    from core.corpus.project_corpora import corpus_folder

    stores = {}
    metrics["corpus"] = {}
    for split in ("train", "dev"):
        folder = corpus_folder(project, f"mboshi-{split}")
        if resume and (folder / "header.json").is_file():
            steps.kept(f"build corpus ({split})")
        else:
            b = steps.run(f"build corpus ({split})", build_project_corpus, project, source,
                          f"mboshi-{split}", reader="mboshi", options={"split": split},
                          config=FeatureConfig(), workers=args.workers, progress=progress())
            metrics["corpus"][split] = {"read": b.read_report.to_dict()}
        stores[split] = FeatureStore.open(folder)
        metrics["corpus"].setdefault(split, {})["segments"] = stores[split].n_segments
    train_store, dev_store = stores["train"], stores["dev"]

    # 3. speech space: unit-skipgram, configuration A, MFCC, CPU-sized epochs
    cfg = SpeechConfig(learner="unit-skipgram", grouping="A", seed=args.seed, device=args.device, dim=50,
                       ac_encoder="conv", ac_hidden=128, ac_dim=64, ac_epochs=args.ac_epochs, batch_size=256,
                       sg_epochs=args.sg_epochs, sg_window=5, sg_negatives=10, sg_min_count=1,
                       sg_subsample=args.sample)
    if resume and SPEECH in {s.id for s in project.manifest.spaces} and not args.retrain_speech:
        steps.kept("train speech space")
        run_metrics = root / "speech-runs" / SPEECH / "metrics.json"
        speech = {**json.loads(run_metrics.read_text()), "space": SPEECH}
    else:
        speech = steps.run("train speech space", train_project_speech_space, project, train_store.path, cfg,
                           SPEECH, language="mbo", replace=args.retrain_speech, start_over=args.retrain_speech,
                           progress=progress())
    metrics["speech_space"] = {k: v for k, v in speech.items() if isinstance(v, (int, float, str, bool))}
    metrics["speech_space"]["timings"] = speech.get("timings")

    # 4. text spaces: Mboshi transcripts and French translations of the train split
    mbo_txt, fr_txt = write_text_corpora(utts, out / "text")
    params = SkipGramParams(dim=50, window=5, min_count=args.text_min_count, epochs=args.text_epochs, seed=1,
                            sample=args.sample)
    for key, path, sid, lang, title in (("text_mbo", mbo_txt, TEXT_MBO, "mbo", "Mboshi"),
                                        ("text_fr", fr_txt, TEXT_FR, "fr", "French")):
        if resume and sid in {s.id for s in project.manifest.spaces}:
            steps.kept(f"add text space ({title})")
            metrics[key] = {"space": sid, "words": project.space_entry(sid).n_words}
        else:
            metrics[key] = steps.run(f"add text space ({title})", train_project_text_space, project, path,
                                     sid, lang, params, progress=progress())
    for pair in project.confirmed_pairs():  # a resumed run starts its review afresh
        project.clear_pair(pair.speech_ref, pair.language, pair.speech_kind)

    # 5. align speech → Mboshi text without supervision (the CPU default)
    aligned = steps.run("align (selflearn)", align_keeping_previous, project, TEXT_MBO, progress(),
                        method="selflearn", device=args.device, seed=args.seed)
    mapping_id = aligned["mapping"]
    metrics["align"] = {k: aligned[k] for k in ("mapping", "criterion", "method_used")}
    # type exemplars and the number of merged types, chosen on held-out train utterances (needs the map)
    metrics["type_ranking"] = steps.run("type exemplars (calibrated on train)", calibrate_type_ranking, project,
                                        train_store, utts)

    # gold: label → written forms (train), types in frequency order
    forms = gold_forms(train_store, utts)
    train_counts = Counter(w for v in utts.values() if v[0] == "train" for w in v[1])
    speech_emb = project.space(SPEECH)
    text_emb = project.space(TEXT_MBO)
    best_form = {t: forms[t].most_common(1)[0][0] for t in speech_emb.words if t in forms}
    confirmable = [t for t in speech_emb.words if best_form.get(t) in text_emb.index]
    top = speech_emb.words[:N_EVAL_TYPES]
    metrics["gold"] = {"speech_types": len(speech_emb), "text_words": len(text_emb),
                       "types_with_a_written_form_in_text_space": len(confirmable),
                       "top500_with_a_form_in_text_space": sum(
                           any(f in text_emb.index for f in forms.get(t, ())) for t in top),
                       "top500_label_spelled_as_text": sum(t in text_emb.index for t in top)}

    # 6. the lexicon review, the simulated linguist and Refine
    from core.classify import ClipClassifier

    def induced():
        c = ClipClassifier.load(project)
        return c.induce_pairs(TEXT_MBO, 2000, "csls")

    lexicon, dev_scores, confirmed = {}, {}, []
    entries = steps.run("lexicon (induce, 0 pairs)", induced)
    lexicon["0"] = {"all": lexicon_p1(entries, forms, N_EVAL_TYPES), "refine": None}
    dev_scores["0"] = steps.run("dev segments (0 pairs)", dev_segment_scores, project, dev_store, utts,
                                train_counts, args.max_dev, args.seed)
    for k in K_STEPS[1:]:
        review = LexiconReview(project, entries, "mbo", total_types=len(speech_emb), vocabulary=text_emb.index)

        def confirm():
            for t in confirmable[len(confirmed):k]:
                review.decide(t, "confirmed", best_form[t])
                confirmed.append(t)
            return review.counts()

        counts = steps.run(f"confirm pairs ({k})", confirm)
        refined = steps.run(f"refine ({k} pairs)", refine_keeping_previous, project, mapping_id, progress())
        entries = induced()
        lexicon[str(k)] = {"all": lexicon_p1(entries, forms, N_EVAL_TYPES),
                           "unconfirmed": lexicon_p1(entries, forms, N_EVAL_TYPES, set(confirmed)),
                           "review_counts": counts,
                           "refine": {"criterion_before": refined.criterion_before,
                                      "criterion_after": refined.criterion_after, "n_pairs": refined.n_pairs,
                                      "start": refined.start, "skipped": len(refined.skipped)}}
        print(f"    P@1 after {k} pairs: {lexicon[str(k)]['all']['p1']:.3f} "
              f"(unconfirmed types {lexicon[str(k)]['unconfirmed']['p1']:.3f})", flush=True)
    partial = out / "metrics.partial.json"  # what is measured so far, in case a later step fails
    partial.write_text(json.dumps({**metrics, "dev": dev_scores, "lexicon": lexicon}, indent=2, ensure_ascii=False))
    dev_scores["100"] = steps.run("dev segments (100 pairs)", dev_segment_scores, project, dev_store, utts,
                                  train_counts, args.max_dev, args.seed)

    # supervised bound: Procrustes on all identity pairs
    def bound():
        from core.alignment.base import AlignConfig
        from core.alignment.pipeline import align
        from core.vectors import unit_rows

        pairs = np.array([(speech_emb.index[t], text_emb.index[best_form[t]]) for t in confirmable], dtype=np.int64)
        result = align(speech_emb, text_emb, AlignConfig(method="supervised", device="cpu", seed=args.seed),
                       seed_pairs=pairs)
        x = unit_rows(result.mapping.map_source(speech_emb.vectors))
        y = unit_rows(result.mapping.map_target(text_emb.vectors))
        best = csls_best(x, y, np.arange(min(N_EVAL_TYPES, len(speech_emb))))
        right = sum(text_emb.words[b] in forms.get(t, ()) for t, b in zip(top, best))
        return {"p1": right / len(top), "n": len(top), "right": int(right), "pairs": int(len(pairs))}

    partial.write_text(json.dumps({**metrics, "dev": dev_scores, "lexicon": lexicon}, indent=2, ensure_ascii=False))
    metrics["supervised_bound"] = steps.run("supervised bound (Procrustes, all pairs)", bound)

    # 7. export TextGrid + EAF of a few dev recordings, then read them back
    def export():
        from core.audio import load_audio, save_wav
        from core.classify import ClipClassifier, clip_embedder
        from core.label_export import export_recording_labels, read_annotation

        table = dev_store.table
        by_utt: dict[str, list[int]] = defaultdict(list)
        for i, u in enumerate(table.utterance):
            by_utt[u].append(i)
        wav_dir = out / "export-input"
        wav_dir.mkdir(exist_ok=True)
        chosen = sorted(by_utt)[:args.export_recordings]
        for rec in project.recordings():  # a resumed run imports them again
            project.delete_recording(rec.id)
        for u in chosen:
            # a project's store names audio relative to the corpus folder (older stores: absolute, kept by `/`)
            samples, sr = load_audio(source / table.audio[by_utt[u][0]])
            wav = save_wav(wav_dir / f"{u}.wav", samples, sr)
            rid = project.import_recording(wav, speaker=table.speaker[by_utt[u][0]])
            project.add_segments(rid, [(float(table.start[i]), float(table.end[i]), None) for i in by_utt[u]])
        classifier = ClipClassifier.load(project, embed=clip_embedder(project))
        result = export_recording_labels(project, classifier, "csls", out / "export")
        back, right, n = {}, 0, 0
        for stem, u in zip(result.stems, chosen):
            grid = read_annotation(out / "export" / f"{stem}.TextGrid")
            eaf = read_annotation(out / "export" / f"{stem}.eaf")
            truth = utts[u][1]
            starts = [round(float(table.start[i]), 3) for i in by_utt[u]]
            said = {round(iv.start, 3): iv.label for iv in grid}
            right += sum(said.get(s) == w for s, w in zip(starts, truth))
            n += len(truth)
            back[stem] = {"textgrid_words": len(grid), "eaf_words": len(eaf), "given_words": len(truth),
                          "same": [(a.label, round(a.start, 3)) for a in grid] == [(b.label, round(b.start, 3))
                                                                                 for b in eaf]}
        return {"recordings": len(result.stems), "read_back": back, "left_blank": result.unclassified, "exported_words_right": right,
                "exported_words": n, "folder": str(out / "export")}

    if args.export_recordings > 0:
        metrics["export"] = steps.run("export TextGrid + EAF", export)
    else:  # e.g. on a machine that has the corpus tables and stores but not its audio
        metrics["export"] = {"skipped": "--export-recordings 0"}

    # 8. reopen
    before_w = project.mapping(mapping_id).W.copy()

    def reopen():
        p = Project.open(root)
        return {"spaces": sorted(s.id for s in p.manifest.spaces), "mappings": [m.id for m in p.manifest.mappings],
                "encoders": [e.id for e in p.manifest.encoders], "recordings": len(p.recordings()),
                "confirmed_pairs": len(p.confirmed_pairs()),
                "same_map": bool(np.array_equal(p.mapping(mapping_id).W, before_w)),
                "lexicon_p1_after_reopen": lexicon_p1(ClipClassifier.load(p).induce_pairs(TEXT_MBO, 2000, "csls"),
                                                      forms, N_EVAL_TYPES)["p1"]}

    metrics["reopen"] = steps.run("reopen", reopen)

    metrics.update({
        "mboshi.dev.word_top1": dev_scores["100"]["top1"], "mboshi.dev.word_top10": dev_scores["100"]["top10"],
        "mboshi.dev.word_top1_at_0": dev_scores["0"]["top1"], "mboshi.dev.word_top10_at_0": dev_scores["0"]["top10"],
        "mboshi.dev.most_frequent_top1": dev_scores["0"]["most_frequent_top1"],
        "mboshi.dev.most_frequent_top10": dev_scores["0"]["most_frequent_top10"],
        **{f"mboshi.lexicon_p1_at_{k}": lexicon[str(k)]["all"]["p1"] for k in K_STEPS},
        "mboshi.lexicon_p1_supervised_bound": metrics["supervised_bound"]["p1"],
        "units": "fractions in [0, 1]",
        "dev": dev_scores, "lexicon": lexicon, "timings_s": steps.seconds,
        "total_s": round(sum(steps.seconds.values()), 1),
    })
    config = {"command": "scripts/mboshi_end_to_end.py " + " ".join(sys.argv[1:] if argv is None else argv),
              "source": str(source), "speech": cfg.to_dict(), "text_params": params.__dict__,
              "features": FeatureConfig().to_dict(), "k_steps": list(K_STEPS), "n_eval_types": N_EVAL_TYPES,
              "align": {"method": "selflearn", "device": args.device, "seed": args.seed}}
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in metrics.items() if k.startswith("mboshi.")}, indent=2))
    print(f"wrote {out / 'metrics.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
