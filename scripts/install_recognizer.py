"""Make a trained word recogniser (scripts/voices_experiment.py run folder) a project's speech encoder.

    .venv/bin/python scripts/install_recognizer.py RUN PROJECT [--space speech-en]
    # two recognisers, ranked by 0.4 x RUN's cosines + 0.6 x FUSE_RUN's (core.voices.fusion), with the
    # confidence calibration fitted on fused scores (scripts/voices_fusion.py --stage confidence):
    .venv/bin/python scripts/install_recognizer.py RUN PROJECT --fuse FUSE_RUN --fuse-weight 0.6 \
        --fuse-calibration runs/voices-fusion-s12/calibration_fused.json

Only the clip → speech type step changes (encoder, type centroids, front end, confidence
calibration); the speech space and its mappings stay. The project's description and synthetic-
speech note are rewritten to say what the recogniser was trained on and what it will not know.
Bad input: one line on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.errors import WordbridgeError  # noqa: E402


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run", help="voices run folder (recognizer.safetensors, recognizer.json, metrics.json)")
    p.add_argument("project", help="project folder to change")
    p.add_argument("--space", default="speech-en", help="the speech space the recogniser serves")
    p.add_argument("--fuse", metavar="RUN_DIR", help="a second voices run folder whose recogniser's cosines are "
                   "mixed into the ranking (score fusion)")
    p.add_argument("--fuse-weight", type=float, default=0.6, help="the second recogniser's weight (default 0.6)")
    p.add_argument("--fuse-calibration", metavar="JSON", help="confidence calibration fitted on the fused scores of "
                   "calibration speakers ({\"weight\": w, \"calibration\": {...}}; its weight must be --fuse-weight); "
                   "without it fused scores are shown uncalibrated")
    args = p.parse_args(argv)
    try:
        from core.project import Project
        from core.voices.package import install_recognizer

        from core.voices.package import read_fusion_calibration

        calibration = None
        if args.fuse_calibration:
            if not args.fuse:
                raise WordbridgeError("--fuse-calibration needs --fuse")
            calibration = read_fusion_calibration(args.fuse_calibration, args.fuse_weight)
        text = install_recognizer(Project.open(args.project), Path(args.run), args.space, fuse=args.fuse,
                                  fuse_weight=args.fuse_weight, fuse_calibration=calibration)
        print(f"{args.project}: encoder {args.space}-encoder replaced (trained on {text})")
    except (WordbridgeError, OSError, KeyError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
