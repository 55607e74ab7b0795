#!/usr/bin/env bash
# The training half of the people's-voices experiment on the GPU machine (one H100/H200, 16 cores,
# python3 + torch, no network, 10 minutes per command); evaluation on real test speakers runs
# afterwards where the recordings are (scripts/voices_experiment.py --stages evaluate).
#
#   bash scripts/gpu_voices.sh NAME:FRONTEND:REAL [NAME:FRONTEND:REAL ...]
#     e.g. se-real:speech-embedding:1 se-syn:speech-embedding:0 mfcc-real:mfcc:1
#
# Needs, carried into the working tree (.git/info/exclude ignores both):
#   .whl/    wheels for python 3.12: espeakng-loader, soundfile, cffi, pycparser, platformdirs
#   carry/   speech_embedding.safetensors (scripts/convert_speech_embedding.py), so762/segments_train.tsv
#            and so762/audio/*.opus (the real training speakers' recordings; test speakers never travel)
# Runs share one frame cache and one synthesis (in one process), so later runs are quicker.
# $OUT gets voices_runs.tgz: every run folder without its frame caches and checkpoints.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/wordbridge_out}
LIMIT=${LIMIT:-560}
EXTRA=${VOICES_ARGS:-}
mkdir -p "$OUT" runs
if ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site
fi
export WORDBRIDGE_SPEECH_EMBEDDING=$PWD/carry/speech_embedding.safetensors PYTHONUNBUFFERED=1
python3 -c "import torch, espeakng_loader, soundfile; print('torch', torch.__version__, torch.cuda.get_device_name(0))" || exit 1
nproc
START=$(date +%s)
status=0
for spec in "$@"; do
  IFS=: read -r name frontend real <<<"$spec"
  left=$(( LIMIT - ($(date +%s) - START) ))
  [ $left -le 30 ] && { echo "no time left for $name"; status=1; continue; }
  flags=(--out "runs/voices-$name" --frontend "$frontend" --frames-cache runs/voices-frames --device cuda
         --workers 16 --stages train --real-segments carry/so762 --real-audio carry/so762)
  [ "$real" = 1 ] && flags+=(--train-real)
  echo "== $name ($left s left)"
  timeout --signal=INT --kill-after=15 $left python3 scripts/voices_experiment.py "${flags[@]}" $EXTRA \
    > "runs/voices-$name.log" 2>&1
  code=$?
  echo "exit code $code"; grep -v '^ \|^{\|^}' "runs/voices-$name.log" | tail -8
  cp "runs/voices-$name.log" "runs/voices-$name/log.txt" 2>/dev/null
  [ $code -ne 0 ] && status=1
done
# the frame cache (runs/voices-frames, GBs) stays behind; so do checkpoints
tar czf "$OUT/voices_runs.tgz" --exclude=frames --exclude=checkpoints --exclude=runs/voices-frames runs/voices-*/ 2>/dev/null
ls -la "$OUT"
exit $status
