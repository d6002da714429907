#!/usr/bin/env python3
"""Reload under load: the figure of issue 3's closing note.

Starts cortadod in poll mode on a temporary copy of a model repository, drives it with
CONCURRENCY HTTP clients (keep-alive, one connection each) for STEADY seconds of steady state,
then for RELOAD seconds while NEW_VERSIONS new versions are published (renamed into place) and
the old ones removed, and prints the failed request count and p50/p99 latency of both phases.

  bazel build //server:cortadod
  /usr/bin/python3 server/reload_under_load.py bazel-bin/server/cortadod \
      [--concurrency 8] [--steady 20] [--reload 60] [--versions 10]

Uses only the standard library. The model is config/repository/example_mlp unless --model-dir
(a folder holding model.onnx and optionally config.pbtxt) and --input-json are given.
"""
import argparse
import http.client
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests"))
import cortadod  # noqa: E402  (tests/cortadod.py: starts the daemon on free ports)


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(p / 100.0 * (len(values) - 1)))))
    return values[k]


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cortadod")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--steady", type=float, default=20)
    ap.add_argument("--reload", type=float, default=60)
    ap.add_argument("--versions", type=int, default=10)
    ap.add_argument("--max-rss-growth", type=float, default=None,
                    help="fail when RSS at the end exceeds RSS after the steady phase by more "
                         "than this fraction (0.10 = 10%%)")
    ap.add_argument("--model-dir", default=os.path.join(HERE, "..", "config", "repository",
                                                         "example_mlp"))
    ap.add_argument("--model-name", default="example_mlp")
    ap.add_argument("--input-json", default=json.dumps({"inputs": [{
        "name": "features", "shape": [1, 4], "datatype": "FP32", "data": [1, 2, 3, 4]}]}))
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="cortado-reload-")
    model_root = os.path.join(tmp, "repo", args.model_name)
    os.makedirs(model_root)
    src_onnx = None
    for root, _, files in os.walk(args.model_dir):
        if "model.onnx" in files:
            src_onnx = os.path.join(root, "model.onnx")
            break
    if os.path.exists(os.path.join(args.model_dir, "config.pbtxt")):
        shutil.copy(os.path.join(args.model_dir, "config.pbtxt"), model_root)
    os.makedirs(os.path.join(model_root, "1"))
    shutil.copy(src_onnx, os.path.join(model_root, "1", "model.onnx"))

    try:
        server = cortadod.start(
            args.cortadod, ["--model-repository", os.path.join(tmp, "repo"),
                            "--model-control-mode=poll", "--repository-poll-secs=1",
                            "--http-thread-count=4"],
            os.path.join(tmp, "cortadod.log"), timeout=60)
    except RuntimeError as e:
        sys.exit(str(e))
    port = server.http_port

    body = args.input_json.encode()
    path = "/v2/models/%s/infer" % args.model_name
    phase = ["steady"]
    results = {"steady": [], "reload": []}  # (latency_s, ok, version)
    errors = []
    overloaded = [0]
    stop = threading.Event()
    lock = threading.Lock()

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while not stop.is_set():
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
                ok = resp.status == 200
                version = json.loads(data).get("model_version") if ok else None
                if resp.status in (429, 503) and b"overloaded" in data:
                    with lock:
                        overloaded[0] += 1  # clearly signalled overload, not a failure
                    ok = True
                elif not ok:
                    with lock:
                        errors.append("%d %s" % (resp.status, data[:200]))
            except Exception as e:  # connection errors count as failures
                ok, version = False, None
                with lock:
                    errors.append(repr(e))
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            dt = time.perf_counter() - t0
            with lock:
                results[phase[0]].append((dt, ok, version))

    threads = [threading.Thread(target=client) for _ in range(args.concurrency)]
    for t in threads:
        t.start()
    time.sleep(args.steady)
    rss_warm = rss_kb(server.process.pid)
    phase[0] = "reload"
    interval = args.reload / (args.versions + 1)
    for i in range(args.versions):
        time.sleep(interval)
        v = i + 2
        staging = os.path.join(model_root, ".tmp-%d" % v)
        os.makedirs(staging)
        shutil.copy(src_onnx, os.path.join(staging, "model.onnx"))
        os.rename(staging, os.path.join(model_root, str(v)))
        old = os.path.join(model_root, str(v - 2))
        if v - 2 >= 1 and os.path.isdir(old):
            shutil.rmtree(old)  # remove the version before last
    time.sleep(interval)
    rss_end = rss_kb(server.process.pid)
    stop.set()
    for t in threads:
        t.join()
    rc = server.stop(timeout=60)

    print("cortadod reload under load: concurrency %d, %d versions published over %.0f s"
          % (args.concurrency, args.versions, args.reload))
    for name in ("steady", "reload"):
        r = results[name]
        lat = [x[0] * 1000 for x in r if x[1]]
        failed = sum(1 for x in r if not x[1])
        versions = sorted({int(x[2]) for x in r if x[2]})
        print("%-7s requests %7d  failed %d  p50 %.3f ms  p99 %.3f ms  versions served %s"
              % (name, len(r), failed, percentile(lat, 50), percentile(lat, 99),
                 versions if len(versions) < 15 else "%d..%d" % (versions[0], versions[-1])))
    growth = (rss_end - rss_warm) / float(rss_warm)
    print("RSS after warm-up %d kB, at the end %d kB (%+.1f%%); overload rejections %d"
          % (rss_warm, rss_end, 100 * growth, overloaded[0]))
    rss_ok = args.max_rss_growth is None or growth <= args.max_rss_growth
    if errors:
        print("first errors:", errors[:5])
    loads = server.log().count("loaded in")
    print("versions loaded: %d; cortadod exit status after SIGTERM: %d" % (loads, rc))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if not errors and rc == 0 and rss_ok else 1


if __name__ == "__main__":
    sys.exit(main())
