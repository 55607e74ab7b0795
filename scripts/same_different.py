"""Cross-speaker same-different AP of word segments for each front end (issue 18 item 1).

    nice -n 10 .venv/bin/python scripts/same_different.py --out docs/runs/2026-12-06-s9-cpu-same-different

    nice -n 10 .venv/bin/python scripts/same_different.py --sets mboshi --frontends mfcc,ssl:MODEL.safetensors --out OUT

Sets: held-out synthetic voices (SYNTHETIC espeak-ng: the most frequent KJV words said alone by
voices no build uses), speechocean762 test speakers (forced-alignment segments,
build/so762/segments_test.tsv), Mboshi dev (the corpus's "silver" word times), mboshi-train (the
same from the train split: for choices such as an ssl layer, never made on dev). Front ends: mfcc,
speech-embedding, ssl:PATH (a checkpoint, `--ssl-layer` or the file's layer); distances: dtw
(frame-level cosine DTW, length-normalised) and mean (cosine of mean-pooled frames). Writes
OUT/metrics.json and OUT/config.json; frames are cached in --cache.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.discovery.same_different import same_different  # noqa: E402
from core.discovery.segments_io import (SYNTHETIC_VOICE_START, cached_frames, frequent_words,  # noqa: E402
                                        sample_cross_speaker, table_frames)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True)
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    p.add_argument("--so762-table", default=str(ROOT / "build" / "so762" / "segments_test.tsv"))
    p.add_argument("--cache", default=str(ROOT / "build" / "discovery"))
    p.add_argument("--sets", default="synthetic,so762,mboshi")
    p.add_argument("--frontends", default="mfcc,speech-embedding", help="mfcc, speech-embedding, ssl:PATH")
    p.add_argument("--ssl-layer", type=int, default=None, help="layer of ssl:PATH front ends (default: the file's)")
    p.add_argument("--methods", default="dtw,mean")
    p.add_argument("--words", type=int, default=200, help="synthetic: most frequent KJV words (default 200)")
    p.add_argument("--voices", type=int, default=6, help="synthetic: held-out voices (default 6)")
    p.add_argument("--segments", type=int, default=2000, help="real sets: sample size (default 2000)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    import torch

    from core.corpus.readers import read_corpus
    from core.frontends import parse_frontend_spec
    from core.segments import SegmentTable

    data = Path(args.data)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = vars(args) | {"torch_threads": torch.get_num_threads(),
                           "synthetic_voices": f"en voices {SYNTHETIC_VOICE_START}..{SYNTHETIC_VOICE_START + args.voices - 1} (seed 0), SYNTHETIC espeak-ng",
                           "sample_rule": "segments >= 0.1 s of words said by >= 2 speakers, uniform sample"}
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    metrics = {"sets": {}, "time_s": {}}
    frontends, cache_names = {}, {}
    for spec in args.frontends.split(","):
        fe = parse_frontend_spec(spec)
        name = spec
        if spec.startswith("ssl:"):
            if args.ssl_layer is not None:
                fe = type(fe)(fe.path, args.ssl_layer)
            name = f"ssl:{fe.path.name}@L{fe.layer}"
            cache_names[name] = f"ssl-{fe.path.stem}-{fe.sha256[:10]}-L{fe.layer}"
        frontends[name] = fe
    config["frontend_configs"] = {name: fe.config() for name, fe in frontends.items()}
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    methods = args.methods.split(",")
    for set_name in args.sets.split(","):
        t0 = time.time()
        if set_name == "synthetic":
            from core.synth.voices import voice_for_speaker
            from core.voices.clips import synthetic_word_clips

            words = frequent_words(data / "text" / "en_KJV1611.tsv.xz", args.words)
            voices = [voice_for_speaker("en", SYNTHETIC_VOICE_START + i, 0) for i in range(args.voices)]
            clips = None

            def get_clips():
                nonlocal clips
                if clips is None:
                    clips = synthetic_word_clips(words, voices)
                return clips

            key = f"synthetic_w{args.words}_v{args.voices}"
            labels_path = Path(args.cache) / f"{key}.labels.json"
            if not labels_path.is_file():
                c = get_clips()
                labels_path.parent.mkdir(parents=True, exist_ok=True)
                labels_path.write_text(json.dumps({"labels": c.labels, "speakers": c.speakers}))
            meta = json.loads(labels_path.read_text())
            labels, speakers = meta["labels"], meta["speakers"]
            compute = {name: (lambda fe=fe: fe.batch_frames(get_clips().samples, device="cpu"))
                       for name, fe in frontends.items()}
        else:
            if set_name == "so762":
                full = SegmentTable.load(args.so762_table)
            elif set_name == "mboshi":
                full, _ = read_corpus(data / "speech" / "mboshi", "mboshi", split="dev")
            elif set_name == "mboshi-train":
                full, _ = read_corpus(data / "speech" / "mboshi", "mboshi", split="train")
            else:
                raise SystemExit(f"error: unknown set {set_name!r}")
            table = sample_cross_speaker(full, args.segments, seed=args.seed)
            key = f"{set_name}_n{args.segments}_s{args.seed}"
            labels, speakers = list(table.label), list(table.speaker)
            compute = {name: (lambda fe=fe, table=table: table_frames(table, fe)) for name, fe in frontends.items()}
        metrics["sets"][set_name] = {}
        for name, fe in frontends.items():
            t = time.time()
            frames = cached_frames(Path(args.cache), f"{key}_{cache_names.get(name, name)}", compute[name])
            keep = [i for i, f in enumerate(frames) if len(f) > 0]
            r = same_different([frames[i] for i in keep], [labels[i] for i in keep],
                               [speakers[i] for i in keep], methods=methods)
            r["dropped_empty"] = len(frames) - len(keep)
            r["time_s"] = round(time.time() - t, 1)
            metrics["sets"][set_name][name] = r
            print(set_name, name, json.dumps(r), flush=True)
            (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        metrics["time_s"][set_name] = round(time.time() - t0, 1)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
