"""Score fusion of two word recognisers (issue 15): the speech-embedding one and the MFCC one.

    nice -n 10 .venv/bin/python scripts/voices_fusion.py --stage calibrate   # choose the weight
    nice -n 10 .venv/bin/python scripts/voices_fusion.py --stage test        # the chosen weight, once
    nice -n 10 .venv/bin/python scripts/voices_fusion.py --stage time        # one clip through both
    nice -n 10 .venv/bin/python scripts/voices_fusion.py --stage confidence  # calibration on fused scores

For every clip each recogniser gives a similarity to every speech type (core.voices.prototypes:
the nearest of a type's centroid and per-source prototypes); the fused score is

    (1 - w) * norm(s_SE) + w * norm(s_MFCC)

with `norm` either the cosines as they are ("cosine") or each clip's cosines z-scored over all
types ("z"), and w (the MFCC weight) in 0, 0.1, ..., 1. w = 0 is the speech-embedding recogniser
alone (the demo's), w = 1 the MFCC one alone.

THE RULE (fixed before any test set is scored; calibration sets only: the 15 speechocean762
calibration speakers held out of training, and the synthetic voices 600-603, which neither trained
nor are the unseen test voices 500-503): among all (norm, w), keep those whose real-calibration
word top-1 and word top-10 (through the demo's text map, as the headline numbers) are each at most
0.5 points below the speech-embedding recogniser alone (w = 0); of those take the one with the
largest mean of real-calibration word top-1 and synthetic-calibration 30-word top-1; ties go to
the smaller w, then to "cosine".

The test stage then scores the chosen (norm, w) once on the speechocean762 test speakers (word
and type top-1/top-10, digits among the ten digit words) and the unseen synthetic voices 500-503
(the 30-word check and 500 words), with w = 0 and w = 1 beside it only to show the path
reproduces the two recognisers' published numbers. Frames come from the CPU frame caches
(runs/voices-frames-cpu, runs/voices-frames-cpu3) for the real speakers; the synthetic voices are
synthesised here (espeak-ng through the espeakng-loader wheel: the same word list and voices give the
same samples) once through both front ends, and checked against the earlier runs' cached frames. Writes --out:
metrics.json, config.json, log.txt.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the app (app/__init__.py)
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from core.atomic import write_json  # noqa: E402
from core.errors import WordbridgeError  # noqa: E402

WEIGHTS = [round(0.1 * i, 1) for i in range(11)]
NORMS = ("cosine", "z")
MAX_DROP = 0.005  # real-calibration top-1 and top-10 may be at most this far below SE alone
SYN_CALIB_VOICES = range(600, 604)
RULE = ("among norm in {cosine, z} and w in 0..1 step 0.1: keep those whose real-calibration word top-1 and "
        "top-10 are each >= the speech-embedding recogniser alone (w=0) minus 0.5 points; choose the largest "
        "mean of real-calibration word top-1 and synthetic-calibration (voices 600-603) 30-word top-1; "
        "ties: smaller w, then cosine")


class Log:
    def __init__(self, path: Path):
        self.path = path

    def __call__(self, msg: str) -> None:
        line = f"{time.strftime('%H:%M:%S')} {msg}"
        print(line, flush=True)
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(line + "\n")


class Recogniser:
    """One stored recogniser (run folder) with the configs its frame caches were made under."""

    def __init__(self, run_dir: Path, ctx_for):
        from core.voices.experiment import VoicesConfig, load_recognizer

        self.run_dir = run_dir
        self.model, self.protos = load_recognizer(run_dir)
        self.vocabulary = json.loads((run_dir / "recognizer.json").read_text())["vocabulary"]
        read = lambda name: VoicesConfig(**json.loads((run_dir / name).read_text()))  # noqa: E731
        self.cfg_real = read("config_evaluate.json")  # real calibration / test frames: runs/voices-frames-cpu
        self.cfg_syn = read("config_prototypes.json")  # synthetic frames: runs/voices-frames-cpu3
        self.ctx_for = ctx_for
        self.name = self.cfg_real.frontend["name"]


def _missing(name, rec):
    def make():
        raise WordbridgeError(f"{rec.run_dir.name}: no cached {name} frames for front end {rec.name} "
                              "(not made here: they would need the recordings' front-end pass or the GPU)")
    return make


def frame_sets(recs, which: str, out: Path, log: Log) -> dict:
    """{set name: [FrameSet per recogniser]} for the calibration or the test sets.

    Synthetic sets are synthesised here once and put through both front ends (cached in
    OUT/frames), so the fusion sees one rendition of each clip as the app would. The result is
    compared with the frame caches of earlier runs (voices 600-603: session 11's speech-embedding
    frames; voices 500-503: runs/voices-frames-cpu3, both front ends); where they differ, the
    cached sets are scored too, as "<name>_cached"."""
    from core.voices.experiment import UNSEEN_VOICE_START, _frequent

    sets, cached = {}, {}
    for rec in recs:
        if which == "calibrate":
            ctx = rec.ctx_for(rec.cfg_real)
            sets.setdefault("real_calib", []).append(ctx.frames("real_calib", _missing("real_calib", rec)))
            # same name and key as docs/runs/2026-12-06-s11-cpu-prototype-variants/probe.py
            ctx = rec.ctx_for(replace(rec.cfg_syn, frames_cache=str(out / "frames")))
            name = "synthetic_calib600"
        else:
            ctx = rec.ctx_for(rec.cfg_real)
            sets.setdefault("real_test", []).append(ctx.frames("real_test", _missing("real_test", rec)))
            ctx = rec.ctx_for(rec.cfg_syn)
            name = "synthetic_unseen"
        try:
            cached.setdefault(name, []).append(ctx.frames(name, _missing(name, rec)))
        except WordbridgeError as exc:
            cached.setdefault(name, []).append(None)
            log(f"{exc}")
    ctx = recs[0].ctx_for(recs[0].cfg_syn)
    voices = SYN_CALIB_VOICES if which == "calibrate" else range(UNSEEN_VOICE_START, UNSEEN_VOICE_START + 4)
    name = "synthetic_calib600" if which == "calibrate" else "synthetic_unseen"
    key = "synthetic_calib" if which == "calibrate" else "synthetic_unseen"
    sets[key] = paired(recs, name, _frequent(ctx.speech, 500), voices, out, log)
    same = []
    for rec, new, old in zip(recs, sets[key], cached[name]):
        equal = (old is not None and old.labels == new.labels and np.array_equal(old.lengths, new.lengths)
                 and np.array_equal(old.frames, new.frames))
        same.append(equal)
        log(f"{key} ({rec.name}): bit-identical to the cached frames of earlier runs: "
            f"{equal if old is not None else 'no cache'}")
    if not all(same) and all(c is not None for c in cached[name]):
        sets[key + "_cached"] = cached[name]
    for name, (a, b) in sets.items():  # the fusion pairs clip i of one set with clip i of the other
        if a.labels != b.labels or a.speakers != b.speakers or not np.array_equal(a.copy, b.copy):
            raise WordbridgeError(f"{name}: the two front ends' frame sets hold different clips")
        log(f"{name}: {len(a)} clips, {len(set(a.speakers))} speakers, frames {a.dim} / {b.dim} dims")
    return sets


def paired(recs, name, words, voices, out: Path, log: Log) -> list:
    """One synthesis of `words` by `voices` through both recognisers' front ends (cached together)."""
    from core.synth.espeak import loader_version
    from core.voices import experiment as ex
    from core.voices.frameset import FrameSet, featurize

    paths = [out / "frames" / f"paired-{name}-{r.name}.safetensors" for r in recs]
    if all(p.is_file() for p in paths):
        return [FrameSet.load(p) for p in paths]
    t = time.time()
    clips = ex._synthetic(words, voices, recs[0].cfg_syn, None)
    log(f"{name}: synthesised {len(clips)} clips once (espeakng-loader {loader_version()}), "
        f"skipped {clips.skipped}, {time.time() - t:.0f} s")
    sets = []
    for r, p in zip(recs, paths):
        fe = r.ctx_for(r.cfg_syn).frontend
        sets.append(featurize(clips, fe, copies=0, seed=r.cfg_syn.seed, device="cpu"))
    for fs, p in zip(sets, paths):
        fs.save(p)
    log(f"{name}: paired frames made in {time.time() - t:.0f} s")
    return sets


def normalise(s: np.ndarray, norm: str) -> np.ndarray:
    if norm == "cosine":
        return s
    return (s - s.mean(1, keepdims=True)) / np.maximum(s.std(1, keepdims=True), 1e-6)


def fused_rankings(encs, protos, combos, digit_rows, m: int = 30, batch: int = 1024) -> dict:
    """{(norm, w): (rows [n, m] of the m best types, digit rows [n, 10] best first)} of fused scores."""
    from core.retrieval import top_k_indices
    from core.voices.prototypes import type_similarities

    n = len(encs[0])
    out = {c: (np.zeros((n, m), np.int64), np.zeros((n, len(digit_rows)), np.int64)) for c in combos}
    for s in range(0, n, batch):
        raw = [type_similarities(e[s:s + batch], p) for e, p in zip(encs, protos)]
        normed = {norm: [normalise(r, norm) for r in raw] for norm in {c[0] for c in combos}}
        for norm, w in combos:
            a, b = normed[norm]
            fused = (1.0 - w) * a + w * b
            out[(norm, w)][0][s:s + batch] = top_k_indices(fused, m)
            out[(norm, w)][1][s:s + batch] = digit_rows[top_k_indices(fused[:, digit_rows], len(digit_rows))]
    return out


def set_scores(rows, digit_ranked, labels, vocabulary, type_text, digit_rows, top30=None) -> dict:
    """The experiment's scores of one set from ranked rows (core.voices.evaluate's definitions)."""
    from core.voices.evaluate import hit_rates, text_word_hits

    index = {w: i for i, w in enumerate(vocabulary)}
    truth = np.array([index.get(w, -1) for w in labels])
    inside = truth >= 0
    res = {"all": {**hit_rates(rows[inside], truth[inside]), "n": int(inside.sum())}}
    d = inside & np.isin(truth, digit_rows)
    res["digits"] = {**hit_rates(digit_ranked[d], truth[d], ks=(1,)), "n": int(d.sum())}
    ins = np.flatnonzero(inside)
    res["text_words"] = text_word_hits(rows[ins], [labels[i] for i in ins], type_text)
    if top30 is not None:
        t = np.array([w in top30 for w in labels]) & inside
        res["top30_words"] = {**hit_rates(rows[t], truth[t]), "n": int(t.sum())}
    return res


def setup(args, log):
    from core.frontends import make_frontend
    from core.progress import ensure
    from core.voices.evaluate import DIGITS
    from core.voices.experiment import _Context, _frequent, _vocabulary

    fronts = {}

    def ctx_for(cfg):
        key = json.dumps(cfg.frontend, sort_keys=True)
        if key not in fronts:
            fronts[key] = make_frontend(cfg.frontend)
        return _Context(cfg, Path(cfg.frames_cache), fronts[key], "cpu", vocabulary, speech, type_text,
                        ensure(None))

    recs = []
    vocabulary = speech = type_text = None
    for run in (args.se, args.mfcc):
        rec = Recogniser(Path(run), ctx_for)
        if vocabulary is None:
            vocabulary, speech, type_text = _vocabulary(rec.cfg_real)
        if rec.vocabulary != vocabulary:
            raise WordbridgeError(f"{run}: its vocabulary is not the project's ({len(rec.vocabulary)} types)")
        recs.append(rec)
    digit_rows = np.array([vocabulary.index(d) for d in DIGITS if d in vocabulary])
    log(f"recognisers {[r.name for r in recs]}; vocabulary {len(vocabulary)} types; "
        f"{sum(t is not None for t in type_text)} mapped to text words")
    return recs, vocabulary, type_text, digit_rows, set(_frequent(speech, 30))


def score_sets(recs, sets, combos, vocabulary, type_text, digit_rows, top30, log) -> dict:
    from core.voices.recognizer import encode_frameset

    out = {}
    for name, fsets in sets.items():
        t = time.time()
        encs = [encode_frameset(r.model, fs, "cpu") for r, fs in zip(recs, fsets)]
        ranked = fused_rankings(encs, [r.protos for r in recs], combos, digit_rows)
        labels = fsets[0].labels
        syn = name.startswith("synthetic")
        out[name] = {f"{norm}:{w}": set_scores(rows, dig, labels, vocabulary, type_text, digit_rows,
                                              top30 if syn else None)
                     for (norm, w), (rows, dig) in ranked.items()}
        log(f"{name}: scored {len(combos)} fusions in {time.time() - t:.0f} s")
    return out


def choose(cal: dict) -> tuple[str, dict]:
    """The rule (module docstring) on the calibration scores {set: {"norm:w": scores}}."""
    real, syn = cal["real_calib"], cal["synthetic_calib"]
    se = real["cosine:0.0"]["text_words"]
    table = {}
    for key in real:
        r, s = real[key]["text_words"], syn[key]
        ok = r["top1"] >= se["top1"] - MAX_DROP - 1e-9 and r["top10"] >= se["top10"] - MAX_DROP - 1e-9
        table[key] = {"real_calib_word_top1": r["top1"], "real_calib_word_top10": r["top10"],
                      "real_calib_type_top1": real[key]["all"]["top1"],
                      "real_calib_type_top10": real[key]["all"]["top10"],
                      "real_calib_digits_top1": real[key]["digits"]["top1"],
                      "synthetic_calib_top30_top1": s["top30_words"]["top1"],
                      "synthetic_calib_500_top1": s["all"]["top1"],
                      "objective": round((r["top1"] + s["top30_words"]["top1"]) / 2, 5), "allowed": ok}
    allowed = [k for k, v in table.items() if v["allowed"]]
    best = max(allowed, key=lambda k: (table[k]["objective"], -float(k.split(":")[1]), k.split(":")[0] == "cosine"))
    return best, table


def stage_calibrate(args, out, log):
    recs, vocabulary, type_text, digit_rows, top30 = setup(args, log)
    se_cached = Path(args.syn_calib_se_cache)
    (out / "frames").mkdir(parents=True, exist_ok=True)
    for f in se_cached.glob("synthetic_calib600-*"):  # the session-11 SE frames of voices 600-603
        if not (out / "frames" / f.name).exists():
            shutil.copy2(f, out / "frames" / f.name)
            log(f"copied {f} into {out / 'frames'}")
    sets = frame_sets(recs, "calibrate", out, log)
    combos = [(n, w) for n in NORMS for w in WEIGHTS]
    cal = score_sets(recs, sets, combos, vocabulary, type_text, digit_rows, top30, log)
    best, table = choose(cal)
    for k, v in table.items():
        log(f"{k:11s} real calib word {v['real_calib_word_top1']:.4f}/{v['real_calib_word_top10']:.4f} "
            f"syn calib 30w {v['synthetic_calib_top30_top1']:.4f} 500w {v['synthetic_calib_500_top1']:.4f} "
            f"objective {v['objective']:.4f} {'ok' if v['allowed'] else 'dropped'}")
    log(f"chosen: {best} ({RULE})")
    metrics = _metrics(out)
    metrics.update({"rule": RULE, "calibration": table, "calibration_detail": cal, "chosen": best,
                    "calibration_sets": {k: {"clips": len(v[0]), "speakers": len(set(v[0].speakers))}
                                         for k, v in sets.items()}})
    write_json(out / "metrics.json", metrics)


def stage_test(args, out, log):
    metrics = _metrics(out)
    if "chosen" not in metrics:
        raise WordbridgeError(f"{out}: run --stage calibrate first (the weight is chosen there)")
    norm, w = metrics["chosen"].split(":")
    combos = [(norm, float(w))] + [c for c in (("cosine", 0.0), ("cosine", 1.0)) if c != (norm, float(w))]
    recs, vocabulary, type_text, digit_rows, top30 = setup(args, log)
    sets = frame_sets(recs, "test", out, log)
    res = score_sets(recs, sets, combos, vocabulary, type_text, digit_rows, top30, log)
    test = {}
    for norm_, w_ in combos:
        k = f"{norm_}:{w_}"
        rt, su = res["real_test"][k], res["synthetic_unseen"][k]
        test[k] = {"so762_test_word_top1": rt["text_words"]["top1"], "so762_test_word_top10": rt["text_words"]["top10"],
                   "so762_test_type_top1": rt["all"]["top1"], "so762_test_type_top10": rt["all"]["top10"],
                   "so762_test_digits_top1": rt["digits"]["top1"],
                   "synthetic_unseen_top30_top1": su["top30_words"]["top1"],
                   "synthetic_unseen_500_top1": su["all"]["top1"],
                   "role": "chosen" if k == metrics["chosen"] else "reproduction of a single recogniser"}
        log(f"TEST {k} ({test[k]['role']}): {json.dumps({a: b for a, b in test[k].items() if a != 'role'})}")
    metrics.update({"test": test, "test_detail": res,
                    "test_sets": {k: {"clips": len(v[0]), "speakers": len(set(v[0].speakers))}
                                  for k, v in sets.items()}})
    write_json(out / "metrics.json", metrics)


def stage_time(args, out, log):
    """Median time of one recorded clip through both recognisers as the app runs one
    (core.speech.encode.ClipEncoder: trim, front end, encoder, similarities) plus the fusion."""
    import torch

    from core.project import Project
    from core.retrieval import top_k_indices
    from core.segments import SegmentTable
    from core.speech.encode import ClipEncoder
    from core.voices.clips import segment_clips
    from core.voices.fusion import app_cosines
    from core.voices.package import recognizer_encoder

    metrics = _metrics(out)
    norm, w = metrics.get("chosen", "cosine:0.5").split(":")
    w = float(w)
    project = Project.open(args.project, read_only=True)
    speech = project.space(next(s.id for s in project.manifest.spaces if s.kind == "speech"))
    encs = {}
    for run in (args.se, args.mfcc):
        weights, config = recognizer_encoder(run, speech, "timing")
        enc = ClipEncoder(weights, config)
        encs[enc.frontend.config()["name"]] = enc
    table = SegmentTable.load(Path(args.real_segments) / "segments_test.tsv")
    rng = np.random.default_rng(0)
    clips = segment_clips(table.subset(np.sort(rng.choice(len(table), 200, replace=False))), "so762")
    pad = lambda x: np.concatenate([rng.normal(0, 1e-3, 4000), x, rng.normal(0, 1e-3, 4000)]).astype(np.float32)  # noqa: E731

    def one(x, names):
        sims = [app_cosines(encs[name], x, 16000) for name in names]  # each as the app ranks
        s = sims[0] if len(sims) == 1 else ((1 - w) * normalise(sims[0][None], norm)[0]
                                           + w * normalise(sims[1][None], norm)[0])
        return top_k_indices(s, 30)

    samples = []
    for x in clips.samples:
        try:
            one(pad(x), ["speech-embedding", "mfcc"])
            samples.append(pad(x))
        except WordbridgeError:
            continue
        if len(samples) == 53:
            break
    result = {"torch_threads": torch.get_num_threads(), "clips": len(samples) - 3, "warmups": 3,
              "load_average_at_start": os.getloadavg()[0]}
    for label, names in (("speech-embedding alone", ["speech-embedding"]), ("mfcc alone", ["mfcc"]),
                         (f"fused {norm}:{w}", ["speech-embedding", "mfcc"]),
                         ("speech-embedding alone (again)", ["speech-embedding"])):
        times = []
        for i, x in enumerate(samples):
            t = time.perf_counter()
            one(x, names)
            if i >= 3:
                times.append((time.perf_counter() - t) * 1000)
        result[label] = {"median_ms": round(float(np.median(times)), 2),
                         "p95_ms": round(float(np.percentile(times, 95)), 2)}
        log(f"time {label}: median {result[label]['median_ms']} ms, p95 {result[label]['p95_ms']} ms")
    result["load_average_at_end"] = os.getloadavg()[0]
    metrics["timing"] = result
    write_json(out / "metrics.json", metrics)


def stage_confidence(args, out, log):
    """Fit the app's confidence calibration on the chosen fusion's scores of the calibration
    speakers, as core.voices.experiment._confidence fitted the shipped one on a single recogniser's
    (in-vocabulary clips; right = the first type is the label; no test speaker). Writes
    calibration_fused.json for scripts/install_recognizer.py --fuse-calibration."""
    from core.voices.confidence import best_and_margin, fit_calibration
    from core.voices.prototypes import type_similarities
    from core.voices.recognizer import encode_frameset

    metrics = _metrics(out)
    if "chosen" not in metrics:
        raise WordbridgeError(f"{out}: run --stage calibrate first (the weight is chosen there)")
    norm, w = metrics["chosen"].split(":")
    w = float(w)
    recs, vocabulary, _, _, _ = setup(args, log)
    fsets = [r.ctx_for(r.cfg_real).frames("real_calib", _missing("real_calib", r)) for r in recs]
    if fsets[0].labels != fsets[1].labels or fsets[0].speakers != fsets[1].speakers:
        raise WordbridgeError("real_calib: the two front ends' frame sets hold different clips")
    sims = [normalise(type_similarities(encode_frameset(r.model, fs, "cpu"), r.protos), norm)
            for r, fs in zip(recs, fsets)]
    index = {v: i for i, v in enumerate(vocabulary)}
    truth = np.array([index.get(x, -1) for x in fsets[0].labels])
    inside = truth >= 0
    fitted = {}
    for weight in (0.0, w):  # w = 0: the single recogniser's own fit, to compare with the shipped one
        fused = (1.0 - weight) * sims[0] + weight * sims[1]
        best, margin = best_and_margin(fused)
        right = np.argmax(fused, axis=1) == truth
        cal = fit_calibration(best[inside], margin[inside], right[inside],
                              "speechocean762 calibration speakers" + (f", fused scores ({norm}, w={weight:g})"
                                                                       if weight else ""))
        fitted[weight] = cal
        log(f"confidence w={weight:g}: {json.dumps(cal.to_dict())}; calibration clips {int(inside.sum())}, "
            f"top-1 {right[inside].mean():.4f}, no-match share {cal.no_match(best[inside]).mean():.4f}")
    shipped = json.loads((recs[0].run_dir / "recognizer.json").read_text())["calibration"]
    log(f"shipped calibration of {recs[0].run_dir.name}: {json.dumps(shipped)}")
    record = {"weight": w, "norm": norm, "calibration": fitted[w].to_dict(),
              "clips": int(inside.sum()), "speakers": len(set(fsets[0].speakers)),
              "single_recogniser_refit": fitted[0.0].to_dict(), "shipped_single": shipped}
    write_json(out / "calibration_fused.json", record)
    metrics["confidence"] = record
    write_json(out / "metrics.json", metrics)


def _metrics(out: Path) -> dict:
    f = out / "metrics.json"
    return json.loads(f.read_text()) if f.is_file() else {}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stage", choices=("calibrate", "test", "time", "confidence"), required=True)
    p.add_argument("--se", default="runs/voices-gpu-se-real", help="speech-embedding recogniser run")
    p.add_argument("--mfcc", default="runs/voices-gpu-mfcc-real", help="MFCC recogniser run")
    p.add_argument("--out", default="runs/voices-fusion-s12")
    p.add_argument("--syn-calib-se-cache", default="/tmp/protocache",
                   help="folder with session 11's speech-embedding frames of synthetic voices 600-603")
    p.add_argument("--project", default=str(ROOT / "resources" / "demo"), help="for timing: the demo project")
    p.add_argument("--real-segments", default="build/so762_v1", help="for timing: segment tables")
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    log = Log(out / "log.txt")
    cfg = {**json.loads((out / "config.json").read_text())} if (out / "config.json").is_file() else {}
    cfg.update({"rule": RULE, "weights": WEIGHTS, "norms": list(NORMS), "max_drop": MAX_DROP,
                "synthetic_calibration_voices": list(SYN_CALIB_VOICES), "se": args.se, "mfcc": args.mfcc,
                f"args_{args.stage}": vars(args)})
    write_json(out / "config.json", cfg)
    log(f"stage {args.stage}: {' '.join(sys.argv)}")
    t = time.time()
    try:
        {"calibrate": stage_calibrate, "test": stage_test, "time": stage_time,
         "confidence": stage_confidence}[args.stage](args, out, log)
    except WordbridgeError as exc:
        log(f"error: {exc}")
        return 2
    log(f"stage {args.stage} done in {time.time() - t:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
