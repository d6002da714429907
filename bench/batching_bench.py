"""Dynamic batching, on against off: perf_analyzer (Triton's, from the tritonclient wheel) against
one real cortadod serving each model twice from the same ONNX file with the same instance_group
count: once without dynamic_batching (every request its own execution) and once with it. Prints,
per model and concurrency, throughput and p99 latency of both, the ratios on/off (throughput > 1
and p99 < 1: batching helps), and the mean batch size the batched model ran (inferences per
execution, from the statistics extension).

    bazel build //server:cortadod && ~/.cache/cortado/venv/bin/python bench/batching_bench.py

Models: "example_mlp" is config/repository/example_mlp (features [4] -> 3); other names are
bench/export_models.py's models in --model_dir (exported there if missing). Run it from the
checkout with the tools venv (tools/setup.sh: tritonclient, perf_analyzer) on a quiet machine.
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import cortadod  # noqa: E402  (tests/cortadod.py: start and stop a real cortadod)
from serve_bench import perf_analyzer  # noqa: E402


def model_file(name, model_dir):
    if name == "example_mlp":
        return os.path.join(HERE, "..", "config", "repository", "example_mlp", "1", "model.onnx")
    path = os.path.join(model_dir, name, "model.onnx")
    if not os.path.exists(path):
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "export_models.py"),
                        "--models", name, "--model_dir", model_dir], check=True)
    return path


def publish(repo, name, onnx_path, config):
    os.makedirs(os.path.join(repo, name, "1"))
    os.symlink(os.path.abspath(onnx_path), os.path.join(repo, name, "1", "model.onnx"))
    with open(os.path.join(repo, name, "config.pbtxt"), "w") as f:
        f.write(config)


def get(server, path):
    with urllib.request.urlopen("http://%s%s" % (server.http_url, path)) as r:
        return json.load(r)


def counts(server, name):
    s = get(server, "/v2/models/%s/versions/1/stats" % name)["model_stats"][0]
    return s.get("inference_count", 0), s.get("execution_count", 0)


def measure(server, name, shape, concurrency, args):
    """perf_analyzer's (throughput, p99 ms); a run it finds unstable (a busy machine) is retried."""
    for attempt in range(3):
        try:
            return perf_analyzer(server, name, shape, concurrency, args.seconds, args.stability)
        except RuntimeError as e:
            print("  %s c=%d: attempt %d unstable, retried" % (name, concurrency, attempt + 1))
            error = e
    raise error


def main():
    home = os.path.expanduser("~")
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", default="example_mlp,resnet18")
    parser.add_argument("--model_dir", default=os.path.join(home, ".cache/cortado/bench-models"))
    parser.add_argument("--cortadod", default="bazel-bin/server/cortadod")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--seconds", type=int, default=5, help="perf_analyzer's window")
    parser.add_argument("--instances", type=int, default=2, help="instance_group count of both")
    parser.add_argument("--max_batch_size", type=int, default=32)
    parser.add_argument("--max_queue_delay_us", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=3)
    # perf_analyzer's --stability-percentage: by default any spread counts as stable, since the
    # medians of --repeats alternating runs are what is reported.
    parser.add_argument("--stability", type=int, default=1000)
    args = parser.parse_args()

    models = args.models.split(",")
    common = "max_batch_size: %d\ninstance_group [ { count: %d kind: KIND_CPU } ]\n" % (
        args.max_batch_size, args.instances)
    batching = "dynamic_batching { max_queue_delay_microseconds: %d }\n" % args.max_queue_delay_us
    rows = []
    with tempfile.TemporaryDirectory() as repo:
        for m in models:
            path = model_file(m, args.model_dir)
            publish(repo, m + "_off", path, common)
            publish(repo, m + "_on", path, common + batching)
        server = cortadod.start(args.cortadod, ["--model-repository", repo],
                                os.path.join(repo, "cortadod.log"))
        try:
            threads = re.search(r"(\d+) intra-op threads", server.log())
            print("cortadod: %s intra-op threads; %d instance(s) per model; max_batch_size %d; "
                  "max_queue_delay %d us" % (threads.group(1) if threads else "?",
                                             args.instances, args.max_batch_size,
                                             args.max_queue_delay_us))
            for m in models:
                inp = get(server, "/v2/models/%s_off" % m)["inputs"][0]
                shape = "%s:%s" % (inp["name"], ",".join(str(d) for d in inp["shape"][1:]))
                for c in [int(v) for v in args.concurrency.split(",")]:
                    runs = {"off": [], "on": []}
                    i0, e0 = counts(server, m + "_on")
                    for _ in range(args.repeats):
                        for mode in ("off", "on"):
                            runs[mode].append(measure(server, "%s_%s" % (m, mode), shape, c, args))
                    i1, e1 = counts(server, m + "_on")
                    off, on = ((statistics.median(r[0] for r in runs[k]),
                                statistics.median(r[1] for r in runs[k])) for k in ("off", "on"))
                    rows.append((m, c, off, on, (i1 - i0) / max(e1 - e0, 1)))
                    print("  %s c=%d: off %s; on %s" % (m, c, runs["off"], runs["on"]), flush=True)
        finally:
            server.stop()

    print("\n| model | concurrency | off infer/s | off p99 ms | on infer/s | on p99 ms "
          "| throughput on/off | p99 on/off | mean batch |")
    print("|---|---|---|---|---|---|---|---|---|")
    for m, c, off, on, mean_batch in rows:
        print("| %s | %d | %.1f | %.1f | %.1f | %.1f | %.2fx | %.2fx | %.1f |" % (
            m, c, off[0], off[1], on[0], on[1], on[0] / off[0], on[1] / off[1], mean_batch))


if __name__ == "__main__":
    main()
