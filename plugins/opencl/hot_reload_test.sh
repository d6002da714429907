#!/usr/bin/env bash
# Runs plugins/opencl/hot_reload_test.py with the Python test tools' virtual environment.
# args: CORTADOD OPENCL_PLUGIN CORTADOD_PY
set -euo pipefail
venv="${CORTADO_VENV:-$HOME/.cache/cortado/venv}"
if ! "$venv/bin/python" -c "import tritonclient.http, numpy" 2>/dev/null; then
  echo "hot_reload_test: tritonclient/numpy are missing from $venv; run tools/setup.sh" >&2
  exit 1
fi
exec "$venv/bin/python" -u "$(dirname "$0")/hot_reload_test.py" "$@"
