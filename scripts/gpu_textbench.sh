#!/usr/bin/env bash
# textbench adversarial + auto columns on the GPU at the full MUSE defaults (docs/BENCHMARKS.md
# "Session 4"): auto trains the adversarial maps, and its adversarial candidate gives that row.
#
#   bash scripts/gpu_textbench.sh PAIR_SUBSTRINGS [RESTARTS]      (RESTARTS default 1)
#
# Carry .tb/textbench.tar.xz (the fixed inputs of ../shared/bench/textbench) and .carry/wmin/ (tqdm).
set -o pipefail; export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/wordbridge_out}; mkdir -p "$OUT"
if ls .carry/wmin/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .carry/wmin/*.whl \
    && export PYTHONPATH=/tmp/site
fi
mkdir -p /tmp/tb && tar -xJf .tb/textbench.tar.xz -C /tmp/tb
python3 scripts/bench_text.py --textbench /tmp/tb/textbench --out "$OUT/tb" --only textbench \
  --methods adversarial,auto --pairs "$1" --restarts "${2:-1}" --device cuda --log 2>&1 | tee "$OUT/textbench.log"
