#!/usr/bin/env bash
# Run the committed experiments on the GPU machine (one H100, 16 cores, python3.12 + torch, no
# network, 10 minutes per command) and pack their results into $OUT.
#
#   bash scripts/gpu_experiments.sh [CONFIG ...]      (default: experiments/kjv_synthetic.toml)
#   EXPERIMENT_ARGS="--seeds 0 --learners unit-skipgram" bash scripts/gpu_experiments.sh CONFIG   (part of a grid)
#
# Call it twice, back to back (the machine stays warm 30 s and keeps ignored folders such as
# runs/): every stage is cached, so the second call skips what the first finished and goes on.
# Each call stops itself after $LIMIT seconds (default 540) and always packs what is finished;
# metrics.json / results.md are rewritten after every evaluation, so a cut run still reports.
# $OUT gets NAME_results.tgz (metrics, tables, stage records, log) and NAME_spaces.tgz (the speech
# type spaces and text spaces as .vec files).
#
# Needs, carried into the working tree:
#   .whl/   wheels for python 3.12 / manylinux x86_64 (the box has torch, torchaudio, numpy,
#           scipy, safetensors only). Download them here with:
#           pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#             --abi cp312 --abi abi3 --abi none --platform manylinux2014_x86_64 \
#             --platform manylinux_2_17_x86_64 --platform manylinux_2_28_x86_64 --platform any \
#             -d .whl espeakng-loader==0.2.4 praatio==6.2.2 soundfile==0.14.0 cffi==2.1.1 \
#             pycparser==3.12 webrtcvad-wheels==2.0.14.post1 tqdm==4.70.1 typing_extensions==4.16.0 \
#             gensim==4.4.0 smart_open==9.0.2 wrapt==2.5.2
#           (gensim for the skip-gram steps: our torch skip-gram is much noisier, docs/RESULTS.md)
#           The gensim wheel (28 MB) no longer fits beside the ~42 MiB of tracked files in one
#           call (64 MiB in all): unpack the wheels without gensim's test data into one tarball,
#             mkdir -p /tmp/gs && for w in .whl2/*.whl; do python3 -m zipfile -e $w /tmp/gs/site; done
#             rm -rf /tmp/gs/site/gensim/test; tar czf build/gpusite.tgz -C /tmp/gs site    # ~5 MB
#           carry build/gpusite.tgz and, on the device, `tar xzf build/gpusite.tgz -C runs;
#           export PYTHONPATH=$PWD/runs/site` before this script (session 13).
#           Since session 25 the tracked files, that site, .whl/ and the French data no longer fit in
#           one call either: put the .whl/ wheels into the same site, without espeak-ng's dictionaries
#           other than English (synthesis is English only), and carry that tarball instead of .whl/:
#             for w in .whl/*.whl; do python3 -m zipfile -e $w /tmp/gs/site; done
#             find /tmp/gs/site/espeakng_loader/espeak-ng-data -name '*_dict' ! -name en_dict -delete
#             tar czf build/gpusite_all.tgz -C /tmp/gs site                  # ~9 MB
#   data (the Bible texts and FreeDict dictionaries): shared/data/ or data/ in the repository
#           root (a copy of /work/shared/data), or set WORDBRIDGE_DATA.
# faiss and umap are not needed (k-means and retrieval use their torch paths); without gensim the
# skip-gram steps fall back to torch, which worked badly (docs/RESULTS.md run 2).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
LIMIT=${LIMIT:-540}
OUT=${OUT:-/tmp/wordbridge_out}
mkdir -p "$OUT" runs
CONFIGS=("$@")
[ ${#CONFIGS[@]} -eq 0 ] && CONFIGS=(experiments/kjv_synthetic.toml)

if [ -z "${WORDBRIDGE_DATA:-}" ]; then
  for d in shared/data data /work/shared/data; do
    if [ -d "$d/text" ]; then export WORDBRIDGE_DATA=$(cd "$d" && pwd); break; fi
  done
fi
echo "data: ${WORDBRIDGE_DATA:-missing}"
# the speech-embedding front end's weights (scripts/convert_speech_embedding.py carry/...), if carried
[ -f carry/speech_embedding.safetensors ] && export WORDBRIDGE_SPEECH_EMBEDDING=$PWD/carry/speech_embedding.safetensors

# 1. Wheels: pip without network; if pip is missing, unpack them onto PYTHONPATH (all are
#    pre-built, so unpacking is enough).
if ls .whl/*.whl >/dev/null 2>&1; then
  if ! $PY -m pip install --quiet --no-index --no-deps .whl/*.whl 2>/tmp/pip.err; then
    echo "pip failed ($(tail -1 /tmp/pip.err)); unpacking wheels instead"
    mkdir -p .whl/site
    for w in .whl/*.whl; do $PY -m zipfile -e "$w" .whl/site; done
    export PYTHONPATH="$PWD/.whl/site:${PYTHONPATH:-}"
  fi
fi

# 2. What the run needs, checked before spending time.
$PY - <<'EOF' || exit 1
import importlib, torch
missing = [m for m in ("espeakng_loader", "praatio", "soundfile", "webrtcvad", "tqdm", "safetensors", "scipy")
           if importlib.util.find_spec(m) is None]
print("torch", torch.__version__, "cuda", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
print("optional (not needed):", {m: importlib.util.find_spec(m) is not None for m in ("gensim", "faiss", "umap")})
if missing:
    raise SystemExit(f"missing packages: {', '.join(missing)} (carry their wheels in .whl/)")
EOF

# 3. Run each config within the time limit (SIGINT stops it cleanly between batches).
START=$(date +%s)
FAILED=()
for cfg in "${CONFIGS[@]}"; do
  name=$(basename "$cfg" .toml)
  left=$(( LIMIT - ($(date +%s) - START) ))
  [ $left -le 20 ] && { echo "no time left for $cfg"; FAILED+=("$cfg (no time left)"); continue; }
  echo "== $cfg ($left s left)"
  timeout --signal=INT --kill-after=15 $left \
    $PY main.py experiment "$cfg" --out "runs/$name" --device cuda --workers 16 --quiet ${EXPERIMENT_ARGS:-} \
    > "runs/$name.log" 2>&1
  code=$?
  echo "exit code $code"; tail -5 "runs/$name.log"
  [ $code -ne 0 ] && FAILED+=("$cfg (exit code $code)")
  # 4. Pack: metrics, tables, every stage's record (settings + timings + numbers), log, config.
  tar czf "$OUT/${name}_results.tgz" "$cfg" "runs/$name.log" \
    $(ls runs/$name/metrics.json runs/$name/results.md 2>/dev/null) \
    $(ls runs/$name/stages/*/stage.json runs/$name/stages/speech-*/run/metrics.json 2>/dev/null)
  # The spaces themselves (speech type spaces, text spaces), so alignments can be studied again on a
  # CPU without training them again; left out when over the tool's 16 MiB per file.
  spaces=$(ls runs/$name/stages/speech-*/run/types.{vec,counts} runs/$name/stages/text-*/vectors.{vec,counts} 2>/dev/null)
  if [ -n "$spaces" ]; then
    tar czf "$OUT/${name}_spaces.tgz" $spaces
    [ "$(stat -c %s "$OUT/${name}_spaces.tgz")" -gt $((15 * 1024 * 1024)) ] && {
      echo "spaces of $name are over 15 MiB packed: not brought back"; rm -f "$OUT/${name}_spaces.tgz"; }
  fi
  ls -la "$OUT"
done
# 5. A cut or failed experiment still packs what it finished, but the call reports it: exit 1 (not the
#    experiment's 124, which the device tool would read as its own time limit).
if [ ${#FAILED[@]} -gt 0 ]; then echo "not finished: ${FAILED[*]}"; exit 1; fi
