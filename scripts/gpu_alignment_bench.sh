#!/usr/bin/env bash
# GPU alignment checks (docs/BENCHMARKS.md "Alignment on the H100"): the SYNTHETIC 20k x 300 rotation
# with selflearn (the speed target) and with adversarial at its full MUSE defaults (the correctness
# target; one run, 5 epochs x 1M samples), every aligner's log line printed as it comes.
#
#   bash scripts/gpu_alignment_bench.sh [ADVERSARIAL_SECONDS]     (default 420)
#
# Needs only torch, numpy and safetensors (the GPU image has them) plus tqdm's wheel in .carry/wmin/.
set -o pipefail; export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/wordbridge_out}; mkdir -p "$OUT"
if ls .carry/wmin/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .carry/wmin/*.whl \
    && export PYTHONPATH=/tmp/site
fi
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
timeout 120 python3 scripts/bench_text.py --only synthetic --synthetic-methods selflearn --device cuda \
  --out "$OUT/synthetic_selflearn" --log 2>&1 | tee "$OUT/synthetic_selflearn.log"
timeout "${1:-420}" python3 scripts/bench_text.py --only synthetic --synthetic-methods adversarial --restarts 1 \
  --device cuda --out "$OUT/synthetic_adversarial" --log 2>&1 | tee "$OUT/synthetic_adversarial.log"
echo "adversarial exit code $?"
