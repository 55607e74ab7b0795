"""How well a demo-style project recognises words said ALONE, by three kinds of SYNTHETIC voices.

    .venv/bin/python scripts/demo_voice_check.py resources/demo [--out check.json]

For the 30 most frequent speech types that the EN text space has, each word is synthesised alone
(espeak-ng) by: the corpus's first training voices, its held-out voices (in the corpus, never
trained on) and voices the build never used (build_demo's unseen voices); each clip goes through
the app's own classifier (`ClipClassifier.classify_clip`). Besides top-1/5/10 it separates the
two steps of configuration A: `type_right` = the clip's nearest speech type is its word's type
(the acoustic step), `map_right` = that word's true type maps to the right EN word (the alignment).
The corpus facts (voices, held-out count) come from the project's "build-demo" run record.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import build_demo  # noqa: E402

from core.atomic import write_json  # noqa: E402
from core.classify import ClipClassifier, clip_embedder  # noqa: E402
from core.project import Project  # noqa: E402
from core.synth.voices import voice_for_speaker  # noqa: E402


def map_right(classifier, speech, words: list[str]) -> float:
    """Share of `words` whose true speech type maps to the right EN word (the alignment step alone)."""
    right = [classifier.classify_vector(speech.vectors[speech.index[w]], k=1).by_space["text-en"][0].word == w
             for w in words]
    return sum(right) / len(words)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("project", help="a project built by scripts/build_demo.py")
    p.add_argument("--voices", type=int, default=3, help="voices of each kind (held-out: at most the corpus's)")
    p.add_argument("--out", help="write the numbers here as JSON")
    args = p.parse_args()
    project = Project.open(args.project)
    builds = project.runs("build-demo")
    if not builds:
        raise SystemExit(f"error: {args.project} has no build-demo run record")
    build_args = builds[-1].config["args"]
    speakers, held_out = int(build_args["speakers"]), int(build_args["held_out"])
    classifier = ClipClassifier.load(project, embed=clip_embedder(project))
    speech, en = project.space("speech-en"), project.space("text-en")
    words = [w for w in speech.words if w in en.index][:30]
    kinds = {"training": [voice_for_speaker("en", i, seed=0) for i in range(args.voices)],
             "held_out": [voice_for_speaker("en", speakers - held_out + i, seed=0)
                          for i in range(min(args.voices, held_out))],
             "unseen": [build_demo.unseen_voice(i) for i in range(args.voices)]}
    report = {"project": args.project, "words": words, "isolated_words": build_args.get("isolated_words", 0),
              "map_right": map_right(classifier, speech, words)}
    for kind, voices in kinds.items():
        rates = build_demo.hit_rates(classifier, words, voices, "text-en")
        report[kind] = {k: rates[k] for k in ("clips", "top1", "top5", "top10", "type_right")}
        print(f"{kind:9s} {rates['clips']:3d} clips  top-1 {rates['top1']:.2f}  top-5 {rates['top5']:.2f}  "
              f"nearest type right {rates['type_right']:.2f}", flush=True)
    print(f"true type maps to the right EN word: {report['map_right']:.2f} of {len(words)} words")
    if args.out:
        write_json(args.out, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
