#!/usr/bin/env bash
# Runs torch_compare (C++) and checks its outputs against torch.nn with torch_compare.py, using
# the tools' virtual environment (tools/setup.sh; it sees Debian's python3-torch) or, without
# one, /usr/bin/python3. args: TORCH_COMPARE
set -euo pipefail
venv="${CORTADO_VENV:-$HOME/.cache/cortado/venv}"
python="$venv/bin/python"
[[ -x "$python" ]] || python=/usr/bin/python3
if ! "$python" -c "import torch, numpy" 2>/dev/null; then
  echo "torch_compare_test: torch and numpy must be importable by $python (python3-torch)" >&2
  exit 1
fi
here="$(dirname "$0")"
out="${TEST_TMPDIR:-$(mktemp -d)}/torch_compare"
mkdir -p "$out"
"$1" "$out"
exec "$python" -u "$here/torch_compare.py" "$out"
