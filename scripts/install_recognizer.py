"""Make a trained word recogniser (scripts/voices_experiment.py run folder) a project's speech encoder.

    .venv/bin/python scripts/install_recognizer.py RUN PROJECT [--space speech-en]

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


def trained_on(run_dir: Path) -> str:
    """One sentence on what the run trained on, from its metrics.json."""
    metrics = json.loads((run_dir / "metrics.json").read_text())
    cfg, sources = metrics["config"], metrics.get("train_sources", {})
    parts = [f"every word said alone by {cfg['voices']} SYNTHETIC espeak-ng voices"]
    if cfg.get("train_real"):
        parts.append(f"{sources.get('so762', 0):,} word clips (with simulated-microphone copies) of the "
                     "speechocean762 training speakers (real non-native English speakers, CC BY 4.0; its "
                     "test speakers never trained on)")
    return "; ".join(parts) + f"; front end {metrics['frontend']['name']}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("run", help="voices run folder (recognizer.safetensors, recognizer.json, metrics.json)")
    p.add_argument("project", help="project folder to change")
    p.add_argument("--space", default="speech-en", help="the speech space the recogniser serves")
    args = p.parse_args(argv)
    try:
        from core.project import Project
        from core.voices.package import recognizer_encoder

        run_dir = Path(args.run)
        project = Project.open(args.project)
        speech = project.space(args.space)
        text = trained_on(run_dir)
        weights, config = recognizer_encoder(run_dir, speech, text)
        project.set_encoder(f"{args.space}-encoder", weights, config,
                            provenance={"recogniser_run": run_dir.name, "trained_on": text,
                                        "frontend": config["frontend_provenance"]})
        note = ("speech space from SYNTHETIC speech (espeak-ng voices); word recogniser trained on " + text
                + ". It knows only the speech space's words (KJV English) and English speech.")
        project.set_synthetic_speech(True, note)
        print(f"{args.project}: encoder {args.space}-encoder replaced ({len(speech)} types; {text})")
    except (WordbridgeError, OSError, KeyError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
