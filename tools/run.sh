#!/usr/bin/env bash
# The main job: runs the example model shipped in config/ through the predictor and prints its
# prediction.
set -euo pipefail
cd "$(dirname "$0")/.."
bazel run //clients:cortado -- run --model config/examples/mlp/model.onnx \
  --input features=config/examples/mlp/features.npy --output-dir /tmp/cortado-example
/usr/bin/python3 -c "import numpy; print('probabilities:'); print(numpy.load('/tmp/cortado-example/probabilities.npy'))"
