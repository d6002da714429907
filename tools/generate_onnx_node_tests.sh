#!/usr/bin/env bash
# Writes ONNX's backend node test cases (model + inputs + expected outputs) into DIR, using the
# generators shipped in Debian's python3-onnx 1.12. numpy 1.24 removed aliases that onnx 1.12
# still uses, so they are put back before onnx is imported.
set -euo pipefail
out="${1:?usage: generate_onnx_node_tests.sh DIR}"
mkdir -p "$out"
/usr/bin/python3 -W ignore - "$out" <<'PY'
import sys
import numpy as np
for alias, value in (("float", float), ("int", int), ("bool", bool), ("object", object)):
    if alias not in np.__dict__:
        setattr(np, alias, value)
from onnx.backend.test.cmd_tools import main
sys.argv = ["onnx-backend-test", "generate-data", "-o", sys.argv[1]]
main()
PY
