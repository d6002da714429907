"""Serving throughput: perf_analyzer (Triton's, from the tritonclient wheel) against a real
cortadod serving one of bench/model_bench's models over gRPC, at each --concurrency, against the
throughput ONNX Runtime reaches in-process on the same model with its best intra-op thread count
(bench/model_bench_ort.py at 1..--ort_threads threads), measured before and after the serving runs
(the best of either counts, so a busy machine cannot flatter cortadod). ORT runs the same batch
that perf_analyzer sends (batch 1: the first image of the model's input.npy), so both sides do the
same work per inference. Prints one line per concurrency with cortadod's inferences/s, p99
latency, the ratio to ORT's best (> 1: cortadod serves more), where a request's time went on the
server (from the model's statistics: average queue wait and Predictor::Run time per inference),
how much CPU time the whole cortadod process spent per inference (all threads: network, decode,
kernels, spinning) and how much perf_analyzer spent (the client shares the machine's cores with
the server; ORT in-process has no client to feed).

    bazel build //server:cortadod && ~/.cache/cortado/venv/bin/python bench/serve_bench.py

Run it from the checkout with the tools venv (tools/setup.sh: tritonclient, perf_analyzer) on a
quiet machine; cortadod runs with its defaults (intra-op threads from the CPUs it may use) plus
--cortadod_args, and --instances writes the model's instance_group count.
"""
import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import cortadod  # noqa: E402  (tests/cortadod.py: start and stop a real cortadod)


def ort_best(python, model, x, threads, runs):
    best = 0.0
    for t in range(1, threads + 1):
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                [python, os.path.join(HERE, "model_bench_ort.py"), "--model", model, "--input", x,
                 "--output", os.path.join(tmp, "y.npy"), "--threads", str(t), "--runs", str(runs)],
                check=True, capture_output=True, text=True).stdout
        result = json.loads(out.strip().splitlines()[-1])
        print("ORT %s, %d thread(s): %.1f inferences/s" % (result["ort_version"], t,
                                                             result["items_per_s"]))
        best = max(best, result["items_per_s"])
    return best


def cpu_seconds(pid):
    """User plus system CPU time of a process, all its threads, so far."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def model_stats(server, model):
    """(inferences, queue seconds, Predictor::Run seconds) so far, from the KServe statistics."""
    with urllib.request.urlopen("http://%s/v2/models/%s/stats" % (server.http_url, model)) as r:
        stats = json.load(r)["model_stats"][0]
    infer = stats["inference_stats"]
    return (stats["inference_count"], infer["queue"]["ns"] / 1e9,
            infer["compute_infer"]["ns"] / 1e9)


def batch_one(x, folder):
    """The first item of the .npy at `x`, as a batch of one, written to `folder`: what
    perf_analyzer's requests hold (its --shape has batch 1)."""
    import numpy as np
    path = os.path.join(folder, "input_b1.npy")
    np.save(path, np.load(x)[:1])
    return path


def children_cpu_seconds():
    """User plus system CPU time of the finished child processes so far (perf_analyzer's)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def perf_analyzer(server, model, shape, concurrency, seconds, stability=50):
    import nvidia.cuda_runtime  # ships the libcudart.so.12 that perf_analyzer links
    env = dict(os.environ)
    env["LD_LIBRARY_PATH"] = os.path.join(list(nvidia.cuda_runtime.__path__)[0], "lib")
    perf = os.path.join(os.path.dirname(sys.executable), "perf_analyzer")
    p = subprocess.run(
        [perf, "-m", model, "-u", server.grpc_url, "-i", "grpc", "--shape", shape,
         "--concurrency-range", str(concurrency), "-p", str(seconds * 1000),
         "--max-trials", "5", "--stability-percentage", str(stability), "--percentile", "99"],
        capture_output=True, text=True, env=env, timeout=600)
    if p.returncode != 0:
        raise RuntimeError("perf_analyzer failed:\n" + p.stdout[-2000:] + p.stderr[-2000:])
    m = re.search(r"Concurrency: (\d+), throughput: ([\d.]+) infer/sec, latency (\d+) usec",
                  p.stdout)
    return float(m.group(2)), int(m.group(3)) / 1000.0


def main():
    home = os.path.expanduser("~")
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--model_dir", default=os.path.join(home, ".cache/cortado/bench-models"))
    parser.add_argument("--cortadod", default="bazel-bin/server/cortadod")
    parser.add_argument("--cortadod_args", default="", help="more cortadod flags, space-separated")
    parser.add_argument("--instances", type=int, default=0,
                        help="the model's instance_group count (0: cortadod's default)")
    parser.add_argument("--concurrency", default="1,2,4")
    parser.add_argument("--seconds", type=int, default=5, help="perf_analyzer's window")
    parser.add_argument("--stability", type=int, default=50,
                        help="perf_analyzer's --stability-percentage; raise it on a busy machine, "
                             "where windows differ more than 50%% and perf_analyzer gives up")
    parser.add_argument("--ort_threads", type=int, default=os.cpu_count())
    parser.add_argument("--ort_runs", type=int, default=30)
    parser.add_argument("--ort_python",
                        default=os.path.join(home, ".cache/cortado/bench-venv/bin/python"))
    args = parser.parse_args()

    src = os.path.join(args.model_dir, args.model)
    if not os.path.exists(os.path.join(src, "model.onnx")):
        subprocess.run(["/usr/bin/python3", os.path.join(HERE, "export_models.py"),
                        "--models", args.model, "--model_dir", args.model_dir], check=True)
    if not os.path.exists(args.ort_python):
        subprocess.run([os.path.join(HERE, "setup_bench.sh")], check=True)
    with tempfile.TemporaryDirectory() as repo, tempfile.TemporaryDirectory() as work:
        x = batch_one(os.path.join(src, "input.npy"), work)
        best = ort_best(args.ort_python, os.path.join(src, "model.onnx"), x, args.ort_threads,
                        args.ort_runs)
        os.makedirs(os.path.join(repo, args.model, "1"))
        os.symlink(os.path.join(src, "model.onnx"), os.path.join(repo, args.model, "1", "model.onnx"))
        if args.instances > 0:
            with open(os.path.join(repo, args.model, "config.pbtxt"), "w") as f:
                f.write("instance_group [ { count: %d kind: KIND_CPU } ]\n" % args.instances)
        server = cortadod.start(args.cortadod, ["--model-repository", repo] +
                                args.cortadod_args.split(), os.path.join(repo, "cortadod.log"))
        rows = []
        try:
            with urllib.request.urlopen("http://%s/v2/models/%s" % (server.http_url, args.model)) as r:
                meta = json.load(r)
            inp = meta["inputs"][0]
            shape = "%s:%s" % (inp["name"], ",".join(str(d if d > 0 else 1) for d in inp["shape"]))
            threads = re.search(r"(\d+) intra-op threads.*", server.log())
            print("cortadod: %s" % (threads.group(0) if threads else "?"))
            for c in [int(v) for v in args.concurrency.split(",")]:
                n0, queue0, run0 = model_stats(server, args.model)
                cpu0, client0 = cpu_seconds(server.process.pid), children_cpu_seconds()
                throughput, p99 = perf_analyzer(server, args.model, shape, c, args.seconds,
                                                args.stability)
                n1, queue1, run1 = model_stats(server, args.model)
                n = max(1, n1 - n0)
                rows.append((c, throughput, p99, (queue1 - queue0) / n * 1e3,
                             (run1 - run0) / n * 1e3,
                             (cpu_seconds(server.process.pid) - cpu0) / n * 1e3,
                             (children_cpu_seconds() - client0) / n * 1e3))
        finally:
            server.stop()
        best = max(best, ort_best(args.ort_python, os.path.join(src, "model.onnx"), x,
                                  args.ort_threads, args.ort_runs))
    print("ORT's best in-process (batch 1): %.1f inferences/s" % best)
    print("concurrency  cortadod infer/s  p99 ms  ratio to ORT  queue ms  run ms  cpu ms/infer"
          "  client cpu ms/infer")
    for c, throughput, p99, queue, run, cpu, client in rows:
        print("%11d  %16.1f  %6.1f  %11.2fx  %8.1f  %6.1f  %12.1f  %19.1f"
              % (c, throughput, p99, throughput / best, queue, run, cpu, client))


if __name__ == "__main__":
    main()
