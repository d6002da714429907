#!/usr/bin/env bash
# Runs observability_test.py with the Python test tools' virtual environment (tools/setup.sh) and
# Debian's prometheus and promtool.
# args: OBSERVABILITY_TEST_PY CORTADOD EMBEDDED_CONFIG_PBTXT ADAPTER_RULES CORTADOD_PY
set -euo pipefail
venv="${CORTADO_VENV:-$HOME/.cache/cortado/venv}"
if ! "$venv/bin/python" -c "import tritonclient.grpc, yaml" 2>/dev/null; then
  echo "observability_test: tritonclient is missing from $venv; run tools/setup.sh" >&2
  exit 1
fi
for tool in prometheus promtool; do
  command -v "$tool" >/dev/null || { echo "observability_test: $tool is missing; run tools/setup.sh" >&2; exit 1; }
done
exec "$venv/bin/python" -u "$1" "$2" "$(dirname "$(dirname "$3")")" "$(dirname "$1")" "$4" "$5"
