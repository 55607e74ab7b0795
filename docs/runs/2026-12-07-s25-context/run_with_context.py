"""The runner's own VAD path with each stretch's neighbours in its grouping encoding (session 25; a probe).

`main.py experiment CONFIG --out OUT_DIR --quiet`, with one change made from outside the product: when the
runner encodes every segment of the store for grouping (`_encode_and_group`), each encoding is followed by
WEIGHT × its previous and next stretch's encodings of the same utterance (`diag_context.with_neighbours`;
zeros at an utterance's ends). k-means, the type join, the skip-gram, the voice regression, the held-out
placement and the map then all see those encodings; the encoder itself is untouched (its finished
checkpoints are reloaded). The same-different AP in the speech stage's metrics is then of these encodings.

    PYTHONPATH=. python3 run_with_context.py WEIGHT CONFIG OUT_DIR
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from diag_context import with_neighbours  # noqa: E402

import core.speech.runner as runner  # noqa: E402
import core.speech.speech2vec as s2v  # noqa: E402
from core.cli import main  # noqa: E402


def patched(weight: float):
    utterances = {}
    encode_and_group, embed_segments = runner._encode_and_group, s2v.embed_segments

    def encode_and_group_with_store(cfg, store, *args, **kwargs):
        utterances["ids"] = np.asarray(store.utterance_ids)
        try:
            return encode_and_group(cfg, store, *args, **kwargs)
        finally:
            utterances.clear()

    def embed_with_neighbours(encode, frames, indices=None, **kwargs):
        out = embed_segments(encode, frames, indices, **kwargs)
        if indices is None and "ids" in utterances:  # the whole store, for grouping
            out = with_neighbours(out, utterances["ids"], weight).astype(np.float32)
        return out

    runner._encode_and_group = encode_and_group_with_store
    s2v.embed_segments = embed_with_neighbours


if __name__ == "__main__":
    weight, config, out_dir = float(sys.argv[1]), sys.argv[2], sys.argv[3]
    patched(weight)
    sys.exit(main(["experiment", config, "--out", out_dir, "--quiet"]))
