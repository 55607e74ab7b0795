"""Convert Google's speech_embedding weights from the openwakeword 0.4.0 wheel into one .safetensors file.

    .venv/bin/python scripts/convert_speech_embedding.py OUT.safetensors [--models-dir DIR]

Needs `onnx` and `openwakeword==0.4.0` here (or --models-dir holding melspectrogram.onnx and
embedding_model.onnx). On a machine without them (the GPU machine has torch only), carry the
file over and point WORDBRIDGE_SPEECH_EMBEDDING at it. The weights are Apache-2.0 (Google
speech_embedding, trained with English keyword labels); openwakeword's own wake-word models
(CC BY-NC-SA) are not read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None) -> int:
    """Parse arguments, convert, print the output path and its tensors' count. The file is read back
    through core.atomic (the project's one safetensors reader: a damaged file is one line)."""
    from core.atomic import load_safetensors
    from core.errors import WordbridgeError
    from core.frontends.speech_embedding import convert_openwakeword

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", metavar="OUT.safetensors", help="file to write (atomically)")
    parser.add_argument("--models-dir", default=None,
                        help="folder with the two ONNX files (default: the installed openwakeword's)")
    args = parser.parse_args(argv)
    try:
        path = convert_openwakeword(args.out, args.models_dir)
        n = len(load_safetensors(path))
    except WordbridgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}: {n} tensors; use it with WORDBRIDGE_SPEECH_EMBEDDING={path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
