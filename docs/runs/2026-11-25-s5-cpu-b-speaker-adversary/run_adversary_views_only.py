"""Variant: the speaker adversary in B's view-only stage only, the DTW pair rounds without it.
Runs `main.py experiment ARGS...` with `core.speech.runner._train_on_mined_pairs` given the bare
acoustic model (no speaker classifier, no speaker codes). A diagnostic patch, not a config option.

    PYTHONPATH=. .venv/bin/python docs/runs/2026-11-25-s5-cpu-b-speaker-adversary/run_adversary_views_only.py \
        docs/runs/2026-11-25-s5-cpu-b-speaker-adversary/b50k_adv1_views_only.toml --out DIR --device cpu
"""
import copy
import sys

from core.speech import runner

_pair_rounds = runner._train_on_mined_pairs


def _pair_rounds_without_adversary(cfg, store, frames, model, task, *rest, **kw):
    bare = copy.copy(task)
    bare.model, bare.speakers = model, None  # the ContrastiveAWE itself: no classifier, no spk1/spk2
    return _pair_rounds(cfg, store, frames, model, bare, *rest, **kw)


runner._train_on_mined_pairs = _pair_rounds_without_adversary

if __name__ == "__main__":
    import main

    sys.exit(main.main(["experiment", *sys.argv[1:]]))
