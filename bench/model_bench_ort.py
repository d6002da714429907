"""ONNX Runtime's half of bench/model_bench: runs one model with the CPU execution provider at
--threads intra-op threads (inter-op 1, sequential execution, ORT_ENABLE_ALL) on the array in
--input, --warmup untimed runs then --runs timed ones, writes the first output to --output
(.npy) and prints one JSON line:

    {"ort_version", "median_ms", "items_per_s", "runs", "ru_maxrss_kb", "baseline_rss_kb"}

ru_maxrss_kb is this process's peak RSS (run one process per model and configuration);
baseline_rss_kb is its peak RSS after importing numpy and onnxruntime, before the model loads.
Runs in the bench venv (bench/setup_bench.sh), which holds the pinned current onnxruntime."""
import argparse
import json
import resource
import statistics
import time

import numpy as np
import onnxruntime as ort


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True)
    parser.add_argument("--input", required=True, help=".npy fed to the model's first input")
    parser.add_argument("--output", required=True, help=".npy to write the first output to")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    x = np.load(args.input)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = ort.InferenceSession(args.model, options, providers=["CPUExecutionProvider"])
    feeds = {session.get_inputs()[0].name: x}

    output = None
    for _ in range(args.warmup):
        output = session.run(None, feeds)[0]
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        output = session.run(None, feeds)[0]
        times.append(time.perf_counter() - start)
    np.save(args.output, output)
    median = statistics.median(times)
    print(json.dumps({
        "ort_version": ort.__version__,
        "median_ms": median * 1e3,
        "items_per_s": x.shape[0] / median,
        "runs": len(times),
        "ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "baseline_rss_kb": baseline,
    }), flush=True)


if __name__ == "__main__":
    main()
