#!/usr/bin/env bash
# Runs tests/tls_test.py with the Python test tools' virtual environment
# (tools/setup.sh). args: CORTADOD; the embedded model repository comes from the runfiles.
set -euo pipefail
venv="${CORTADO_VENV:-$HOME/.cache/cortado/venv}"
if ! "$venv/bin/python" -c "import tritonclient.grpc" 2>/dev/null; then
  echo "tls_test: tritonclient[grpc] is missing from $venv; run tools/setup.sh" >&2
  exit 1
fi
here="$(dirname "$0")"
exec "$venv/bin/python" -u "$here/tls_test.py" "$1" "$TEST_SRCDIR/cortado/config/repository"
