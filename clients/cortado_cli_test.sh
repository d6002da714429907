#!/usr/bin/env bash
# `cortado convert` and `cortado run` on the Caffe2go crayon NetDef (testdata/netdef/crayon):
# its input is uint8 BGRA, which a NetDef does not record, so the ONNX conversion needs
# --input-dtype; the converted model must give what the NetDef gives. Args: the cortado binary.
set -euo pipefail
cortado="$1"
crayon="$TEST_SRCDIR/cortado/testdata/netdef/crayon"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

/usr/bin/python3 - "$tmp/image.npy" <<'PY'
import sys
import numpy as np
y, x = np.mgrid[0:64, 0:64]
img = np.stack([x * 4, y * 4, (x + y) * 2, np.full_like(x, 255)], axis=-1).astype(np.uint8)
np.save(sys.argv[1], img[None])
PY

"$cortado" convert "$crayon" "$tmp/crayon.onnx" --input-shape data_int8_bgra=1,-1,-1,4 \
  --input-dtype data_int8_bgra=uint8
"$cortado" run --model "$crayon" --input data_int8_bgra="$tmp/image.npy" --output-dir "$tmp/netdef"
"$cortado" run --model "$tmp/crayon.onnx" --input data_int8_bgra="$tmp/image.npy" \
  --output-dir "$tmp/onnx"
/usr/bin/python3 - "$tmp" <<'PY'
import sys
import numpy as np
a = np.load(sys.argv[1] + "/netdef/styled_int8_bgra.npy").astype(int)
b = np.load(sys.argv[1] + "/onnx/styled_int8_bgra.npy").astype(int)
assert a.shape == (1, 64, 64, 4) and a.shape == b.shape, (a.shape, b.shape)
diff = np.abs(a - b).max()
print("crayon NetDef vs converted ONNX: max |diff| %d, %d of %d values differ"
      % (diff, (a != b).sum(), a.size))
assert diff <= 1, diff  # truncation to uint8 may flip one step
PY

# A bad dtype or a name that is no input is refused with a message.
if "$cortado" convert "$crayon" "$tmp/x.onnx" --input-dtype data_int8_bgra=uint9 2>"$tmp/err"; then
  echo "FAIL: an unknown dtype was accepted"; exit 1
fi
grep -q "unknown dtype 'uint9'" "$tmp/err"
if "$cortado" convert "$crayon" "$tmp/x.onnx" --input-dtype nope=uint8 2>"$tmp/err"; then
  echo "FAIL: --input-dtype of a non-input was accepted"; exit 1
fi
grep -q "no model input" "$tmp/err"
echo PASS
