#!/usr/bin/env bash
# Writes the control-flow and sequence cases (tools/generate_control_flow_tests.py) into DIR/node
# with Debian's python3 (onnx 1.12 and numpy).
set -euo pipefail
exec /usr/bin/python3 -W ignore "$(dirname "$0")/generate_control_flow_tests.py" "${1:?usage: generate_control_flow_tests.sh DIR}"
