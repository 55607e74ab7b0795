#!/usr/bin/env bash
# Wordbridge set-up and entry point.
#   ./run.sh app  [ARGS...]   install what is missing, then open the desktop app (bundled demo project)
#   ./run.sh test [PYTEST...] install what is missing, then run the whole test suite
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
    apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
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

cmd="${1:-app}"; shift || true
case "$cmd" in
    setup) setup ;;
    app)   setup; exec .venv/bin/python main.py app "$@" ;;
    cli)   setup; exec .venv/bin/python main.py "$@" ;;
    test)  setup; exec .venv/bin/python -m pytest "$@" ;;  # pytest exit code 5 (no tests) is non-zero: CI fails
    *)     echo "usage: ./run.sh app|test|cli|setup [ARGS...]" >&2; exit 2 ;;
esac
