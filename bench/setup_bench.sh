#!/usr/bin/env bash
# Makes the virtual environment of bench/model_bench's ONNX Runtime peer if it is missing
# ($CORTADO_BENCH_VENV, default ~/.cache/cortado/bench-venv; from /usr/bin/python3 with the system
# site-packages, so that it sees Debian's numpy) and installs bench/requirements.txt into it.
# Idempotent: a second run installs nothing. The models are exported by bench/export_models.py
# (Debian's python3-torch and python3-torchvision, from tools/setup.sh).
set -euo pipefail
cd "$(dirname "$0")"
venv="${CORTADO_BENCH_VENV:-$HOME/.cache/cortado/bench-venv}"
if [ ! -x "$venv/bin/python" ]; then
  /usr/bin/python3 -m venv --system-site-packages "$venv"
fi
stamp="$venv/.requirements.$(sha1sum requirements.txt | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  "$venv/bin/pip" install -q --disable-pip-version-check -r requirements.txt
  touch "$stamp"
fi
