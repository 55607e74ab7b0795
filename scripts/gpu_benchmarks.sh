#!/usr/bin/env bash
# GPU benchmark run 1 (docs/BENCHMARKS.md "GPU runs"): speech learners at 500k segments, feature
# extraction, CSLS at 200k and the synthetic 20k x 300 rotation, then the smoke experiment.
# Needs the wheels in .whl/ (see scripts/gpu_experiments.sh) carried to the GPU machine.
set -o pipefail; export PYTHONUNBUFFERED=1
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
nvidia-smi --query-gpu=name,memory.total --format=csv
(timeout 200 python3 scripts/bench_speech.py --segments 500000 --device cuda --out $OUT/speech500k.json 2>&1 | tail -30) 
(timeout 120 python3 scripts/bench_features.py --hours 50 --devices cuda --repeats 3 2>&1 | tail -8)
(timeout 120 python3 scripts/bench_text.py --only synthetic,csls --device cuda --out $OUT/text 2>&1 | tail -30)
(timeout 150 python3 main.py experiment experiments/smoke.toml --out /tmp/smoke --device cuda --workers 16 --quiet 2>&1 | tail -20)
ls $OUT $OUT/text
