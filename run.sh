#!/usr/bin/env bash
# Wordbridge set-up and entry point.
#   ./run.sh app  [ARGS...]   install what is missing, then open the desktop app (bundled demo project)
#   ./run.sh test [PYTEST...] install what is missing, then run the test suite (numeric tests twice: see run_tests)
#   ./run.sh cli  [ARGS...]   install what is missing, then run `python main.py ARGS...`
#   ./run.sh setup            only install (apt packages when run as root, then .venv from requirements.txt + constraints.txt)
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES="python3-venv libportaudio2 libsndfile1 xvfb xauth libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \
libxcb-render-util0 libxcb-xkb1 libxcb-cursor0 libxcb-shape0 libxkbcommon-x11-0 libxkbcommon0 libegl1 libgl1 \
libfontconfig1 libdbus-1-3 pulseaudio pulseaudio-utils libasound2-plugins"

install_apt() {
    local missing=()
    for p in $APT_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "run.sh: missing system packages (install them as root): ${missing[*]}" >&2
        return 0
    fi
    echo "run.sh: installing system packages: ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # another apt (unattended upgrades, a second set-up) may hold its lock: wait for it, then retry
    local try
    for try in 1 2 3; do
        apt-get -o DPkg::Lock::Timeout=300 update -qq \
            && apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
            && return 0
        echo "run.sh: apt-get failed (attempt $try of 3); waiting 20 s" >&2
        sleep 20
    done
    return 1
}

install_venv() {
    local stamp=.venv/.requirements.sha256 want
    want=$(cat requirements.txt constraints.txt | sha256sum | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
    # a venv made while python3-venv was missing has a python but no pip: make it again
    if ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
        python3.11 -m venv --clear .venv || python3 -m venv --clear .venv
    fi
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -r requirements.txt -c constraints.txt  # constraints.txt: tested versions
    echo "$want" > "$stamp"
}

setup() { install_apt; install_venv; }

# The numeric tests (marker `numeric`, tests/conftest.py) run a second time under another BLAS /
# threads configuration: one thread everywhere, OpenBLAS (numpy, scipy) forced to its Sandybridge
# kernels, MKL (torch) in its conditional-numerical-reproducibility COMPATIBLE path, torch's own
# kernels without AVX. A result that hinges on a CPU's floating-point last bits then fails here,
# not only on another machine (docs/RELIABILITY.md).
SECOND_BLAS="OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Sandybridge \
MKL_CBWR=COMPATIBLE ATEN_CPU_CAPABILITY=default"

run_tests() {
    local first=0 second=0
    .venv/bin/python -m pytest "$@" || first=$?  # exit code 5 (no tests collected) fails too
    echo "run.sh: numeric tests again under a second BLAS/threads configuration: $SECOND_BLAS" >&2
    # shellcheck disable=SC2086  # SECOND_BLAS is a list of NAME=VALUE words
    env $SECOND_BLAS WORDBRIDGE_SECOND_BLAS="$SECOND_BLAS" .venv/bin/python -m pytest -p no:cacheprovider \
        "$@" -m numeric || second=$?
    # 5 = the arguments selected no numeric test: fine when the caller chose the tests, never in CI
    if [ "$second" -eq 5 ] && [ $# -gt 0 ]; then second=0; fi
    if [ "$first" -ne 0 ]; then return "$first"; fi
    return "$second"
}

cmd="${1:-app}"; shift || true
case "$cmd" in
    setup) setup ;;
    app)   setup; exec .venv/bin/python main.py app "$@" ;;
    cli)   setup; exec .venv/bin/python main.py "$@" ;;
    test)  setup; run_tests "$@" ;;
    *)     echo "usage: ./run.sh app|test|cli|setup [ARGS...]" >&2; exit 2 ;;
esac
