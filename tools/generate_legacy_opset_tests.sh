#!/usr/bin/env bash
# Writes the opset 1-6 legacy cases (tools/generate_legacy_opset_tests.py) into DIR/node with
# Debian's python3 (onnx 1.12 and numpy).
set -euo pipefail
exec /usr/bin/python3 -W ignore "$(dirname "$0")/generate_legacy_opset_tests.py" "${1:?usage: generate_legacy_opset_tests.sh DIR}"
