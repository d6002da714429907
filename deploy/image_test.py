"""Tests the cortadod image the way a container runtime would run it, without one.

usage (root, the tools/setup.sh virtual environment's python):
    deploy/image_test.py ARCHIVE [--work DIR]
ARCHIVE is the docker-archive deploy/build_image.sh writes (WORK_DIR/cortadod.tar).

1. Unpacks the archive's layers (whiteouts applied) into a root filesystem and reads the image
   config: entrypoint, command, user 10001, ports 8000/8001/8002, the HEALTHCHECK, /models.
2. Starts the image's entrypoint and command as PID 1 of new PID and mount namespaces, in the
   network namespace cort12img (reached from here over a veth pair at 10.212.0.2), chrooted into
   the root filesystem mounted read-only (as deploy/k8s runs it), as user 10001, with the image's
   environment only, a fresh /proc, /tmp and minimal /dev, and a model repository mounted over
   /models (the image's example model plus "slow", a model that computes for seconds).
3. From outside: curl on health, model metadata and metrics; tritonclient over HTTP and gRPC
   runs the example model, compared with ONNX Runtime on the model file from the image; the
   HEALTHCHECK command passes inside the container.
4. SIGTERM with 4 requests of "slow" in flight (its gauge says so) and gRPC load on the example
   model: cortadod exits 0 after the slow requests have finished, each with ONNX Runtime's
   answer; every request sent before the signal succeeds, those sent after it are refused (see
   drain()); afterwards the HEALTHCHECK fails.
Prints the start-to-ready time and the counts; exits non-zero on the first failure.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import tarfile
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import onnxruntime
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

NETNS = "cort12img"
HOST_IP, CONTAINER_IP = "10.212.0.1", "10.212.0.2"


def fail(msg):
    print("FAIL: " + msg, flush=True)
    raise SystemExit(1)


def sh(*args, check=True):
    return subprocess.run(list(args), check=check, capture_output=True, text=True)


def unpack(archive, root):
    """The layers of a docker-archive, in order, into root; returns the image config."""
    with tarfile.open(archive) as outer:
        [manifest] = json.load(outer.extractfile("manifest.json"))
        config = json.load(outer.extractfile(manifest["Config"]))
        for layer in manifest["Layers"]:
            with tarfile.open(fileobj=outer.extractfile(layer)) as t:
                members = []
                for m in t.getmembers():
                    d, base = os.path.split(m.name)
                    if base == ".wh..wh..opq":
                        target = os.path.join(root, d)
                        for entry in os.listdir(target) if os.path.isdir(target) else []:
                            path = os.path.join(target, entry)
                            shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(
                                path) else os.remove(path)
                    elif base.startswith(".wh."):
                        path = os.path.join(root, d, base[4:])
                        if os.path.isdir(path) and not os.path.islink(path):
                            shutil.rmtree(path)
                        elif os.path.lexists(path):
                            os.remove(path)
                    else:
                        members.append(m)
                t.extractall(root, members=members, numeric_owner=True)
    return config["config"], len(manifest["Layers"])


def slow_model(repo, layers=8, rows=512, width=2048):
    """Model "slow": x [1, width] tiled to [rows, width], then `layers` times Tanh(MatMul(., W))
    with one shared W, averaged back to [1, width]: a few seconds of compute from a small
    request, so that requests are still in flight when SIGTERM comes."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    w = (np.random.default_rng(0).standard_normal((width, width)) / np.sqrt(width)).astype(
        np.float32)
    nodes = [helper.make_node("Tile", ["x", "reps"], ["h0"])]
    for i in range(layers):
        nodes.append(helper.make_node("MatMul", ["h%d" % i, "w"], ["m%d" % i]))
        nodes.append(helper.make_node("Tanh", ["m%d" % i], ["h%d" % (i + 1)]))
    nodes.append(helper.make_node("ReduceMean", ["h%d" % layers], ["y"], axes=[0], keepdims=1))
    graph = helper.make_graph(
        nodes, "slow", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, width])],
        [numpy_helper.from_array(w, "w"),
         numpy_helper.from_array(np.array([rows, 1], np.int64), "reps")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    os.makedirs(os.path.join(repo, "slow", "1"))
    onnx.save(model, os.path.join(repo, "slow", "1", "model.onnx"))
    with open(os.path.join(repo, "slow", "config.pbtxt"), "w") as f:
        f.write('name: "slow"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 0\n'
                'input [ { name: "x" data_type: TYPE_FP32 dims: [ 1, %d ] } ]\n'
                'output [ { name: "y" data_type: TYPE_FP32 dims: [ 1, %d ] } ]\n'
                'instance_group [ { count: 4 kind: KIND_CPU } ]\n' % (width, width))
    return os.path.join(repo, "slow", "1", "model.onnx")


def http_get(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return None, b""


class Container:
    """The image's entrypoint + command as PID 1 in its own namespaces (see the module doc)."""

    def __init__(self, root, config, models, log_path):
        user = config["User"]
        env = config.get("Env", [])
        argv = config.get("Entrypoint", []) + config.get("Cmd", [])
        script = (
            'root="$0"; models="$1"; shift 2; '
            'mount --bind "$root" "$root" && mount -o remount,bind,ro "$root" && '
            'mount --bind "$models" "$root/models" && mount -o remount,bind,ro "$root/models" && '
            'mount -t proc proc "$root/proc" && '
            'mount -t tmpfs -o mode=1777,size=64m tmpfs "$root/tmp" && '
            'mount -t tmpfs -o mode=755,size=1m tmpfs "$root/dev" && '
            'for d in null zero full random urandom; do '
            '  touch "$root/dev/$d" && mount --bind "/dev/$d" "$root/dev/$d"; done && '
            'exec env -i "$@"')
        cmd = (["ip", "netns", "exec", NETNS, "unshare", "--pid", "--fork", "--mount",
                "--propagation", "private", "--", "/bin/sh", "-c", script, root, models] + env +
               ["/usr/sbin/chroot", "--userspec=" + user, root] + argv)
        self.log = open(log_path, "w")
        self.started = time.monotonic()
        self.process = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT)
        self.pid = None  # cortadod's pid here (PID 1 in its namespace)

    def find_pid1(self):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with open("/proc/%d/task/%d/children" % (self.process.pid, self.process.pid)) as f:
                    children = f.read().split()
                if children:
                    pid = int(children[0])
                    with open("/proc/%d/comm" % pid) as f:
                        if f.read().strip() == "cortadod":
                            self.pid = pid
                            return pid
            except OSError:
                pass
            time.sleep(0.05)
        fail("cortadod never started in the container:\n" + self.read_log())

    def read_log(self):
        with open(self.log.name) as f:
            return f.read()[-5000:]


def reference(model, x):
    sess = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def check_config(config, root):
    checks = {
        "user 10001": config.get("User") == "10001:10001",
        "entrypoint cortadod": config.get("Entrypoint") == ["/usr/local/bin/cortadod"],
        "ports 8000-8002": set(config.get("ExposedPorts", {})) == {"8000/tcp", "8001/tcp",
                                                                   "8002/tcp"},
        "HEALTHCHECK": bool(config.get("Healthcheck", {}).get("Test")),
        "/models in the command": "--model-repository=/models" in config.get("Cmd", []),
        "/models/example_mlp": os.path.isfile(
            os.path.join(root, "models/example_mlp/config.pbtxt")),
        "no shell tools beyond the base": not os.path.exists(os.path.join(root, "usr/bin/curl")),
    }
    bad = [k for k, ok in checks.items() if not ok]
    if bad:
        fail("image config: %s (%s)" % (", ".join(bad), json.dumps(config)))
    print("ok: image config: " + ", ".join(checks))


def healthcheck(root, config):
    test = config["Healthcheck"]["Test"]
    argv = test[1:] if test[0] == "CMD" else ["/bin/sh", "-c", test[1]]
    r = subprocess.run(["ip", "netns", "exec", NETNS, "chroot", "--userspec=" + config["User"],
                        root] + argv, capture_output=True, text=True, timeout=10)
    return r.returncode


def drive(base, root):
    """curl and tritonclient against the running container."""
    for path in ("/v2/health/live", "/v2/health/ready", "/v2/models/example_mlp",
                 "/v2/models/example_mlp/ready"):
        r = sh("curl", "-sf", "-o", "/dev/null", "-w", "%{http_code}", "http://%s:8000%s" % (
            CONTAINER_IP, path), check=False)
        if r.stdout != "200":
            fail("curl %s answered %s" % (path, r.stdout or r.returncode))
    meta = json.loads(
        sh("curl", "-sf", "http://%s:8000/v2/models/example_mlp" % CONTAINER_IP).stdout)
    print("ok: curl: live, ready, model metadata %s %s" % (
        meta["name"], [(i["name"], i["shape"]) for i in meta["inputs"]]))

    x = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [0, 0, 0, 0]], np.float32)
    expected = reference(os.path.join(root, "models/example_mlp/1/model.onnx"), x)

    hc = httpclient.InferenceServerClient("%s:8000" % CONTAINER_IP)
    hin = httpclient.InferInput("features", list(x.shape), "FP32")
    hin.set_data_from_numpy(x, binary_data=True)
    got_http = hc.infer("example_mlp", [hin]).as_numpy("probabilities")
    gc = grpcclient.InferenceServerClient("%s:8001" % CONTAINER_IP)
    if not gc.is_server_ready():
        fail("gRPC ServerReady is false")
    gin = grpcclient.InferInput("features", list(x.shape), "FP32")
    gin.set_data_from_numpy(x)
    got_grpc = gc.infer("example_mlp", [gin]).as_numpy("probabilities")
    for name, got in (("HTTP", got_http), ("gRPC", got_grpc)):
        err = float(np.max(np.abs(got - expected)))
        if got.shape != expected.shape or err > 1e-5:
            fail("%s inference differs from ONNX Runtime: max |diff| %g" % (name, err))
    print("ok: tritonclient HTTP and gRPC inference = ONNX Runtime on the image's model "
          "(batch 3, max |diff| %.2g)" % float(np.max(np.abs(got_grpc - expected))))

    status, body = http_get("http://%s:8002/metrics" % CONTAINER_IP)
    text = body.decode()
    for needle in ('cortado_models_loaded 2',
                   'cortado_inference_requests_total{model="example_mlp"',
                   'process_resident_memory_bytes'):
        if needle not in text:
            fail("metrics: %r missing" % needle)
    rss = [float(l.split()[1]) for l in text.splitlines()
           if l.startswith("process_resident_memory_bytes")][0]
    print("ok: metrics on :8002 (RSS %.1f MB)" % (rss / 1e6))
    gc.close()
    hc.close()


def metric(name):
    status, body = http_get("http://%s:8002/metrics" % CONTAINER_IP)
    for line in body.decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def drain(container, root, config, slow_x, slow_expected):
    """SIGTERM under load from 6 gRPC clients. Requests sent before the signal must succeed
    (those in flight finish); those sent after it are answered or refused (UNAVAILABLE, or no
    connection once the endpoint has closed), never failed otherwise. A request sent after the
    signal and cancelled when the endpoint closes is counted apart and reported: cortadod should
    have refused it (issue 10)."""
    stop = threading.Event()
    signalled = threading.Event()
    lock = threading.Lock()
    counts = {"sent before: ok": 0, "sent before: failed": 0, "sent after: ok": 0,
              "sent after: refused": 0, "sent after: cancelled": 0, "sent after: other": 0}
    errors = []

    def load():
        client = grpcclient.InferenceServerClient("%s:8001" % CONTAINER_IP)
        inp = grpcclient.InferInput("features", [1, 4], "FP32")
        inp.set_data_from_numpy(np.ones((1, 4), np.float32))
        while not stop.is_set():
            after = signalled.is_set()
            try:
                client.infer("example_mlp", [inp], client_timeout=10)
                key = "ok"
            except Exception as e:  # InferenceServerException
                msg = str(e)
                if not after:
                    key = "failed"
                elif "UNAVAILABLE" in msg.upper() or "connect" in msg.lower():
                    key = "refused"
                elif "CANCELLED" in msg:
                    key = "cancelled"
                else:
                    key = "other"
                if key in ("failed", "other"):
                    errors.append(msg[:200])
                if after:
                    time.sleep(0.05)
            with lock:
                counts[("sent after: " if after else "sent before: ") + key] += 1

    slow_results = []

    def slow():
        client = httpclient.InferenceServerClient("%s:8000" % CONTAINER_IP, network_timeout=60)
        inp = httpclient.InferInput("x", [1, slow_x.shape[1]], "FP32")
        inp.set_data_from_numpy(slow_x, binary_data=True)
        try:
            y = client.infer("slow", [inp]).as_numpy("y")
            slow_results.append((time.monotonic(), float(np.max(np.abs(y - slow_expected)))))
        except Exception as e:
            slow_results.append((time.monotonic(), str(e)[:200]))

    # The slow requests first, alone, so that the gauge counts them; then the load.
    slow_threads = [threading.Thread(target=slow) for _ in range(4)]
    for t in slow_threads:
        t.start()
    deadline = time.monotonic() + 30
    while metric("cortado_inference_requests_in_flight") < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    in_flight = metric("cortado_inference_requests_in_flight")
    if in_flight < 4 or slow_results:
        fail("the slow requests are not in flight (%s, %s)" % (in_flight, slow_results))
    threads = [threading.Thread(target=load) for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    signalled.set()  # first, so that "sent before" means before the signal
    os.kill(container.pid, signal.SIGTERM)
    try:
        status = container.process.wait(timeout=50)
    except subprocess.TimeoutExpired:
        fail("cortadod did not exit within 50 s of SIGTERM")
    exit_s = time.monotonic() - t0
    time.sleep(0.5)
    stop.set()
    for t in threads + slow_threads:
        t.join()
    log = container.read_log()
    print("drain: 4 slow requests in flight at SIGTERM (the gauge: %d), answered %s s after it, "
          "max |diff| from ONNX Runtime %s" % (
              in_flight, ["%.2f" % (t - t0) for t, _ in slow_results],
              [r if isinstance(r, str) else "%.1g" % r for _, r in slow_results]))
    print("drain: %s; exit %d after %.2f s" % (counts, status, exit_s))
    if len(slow_results) != 4 or any(isinstance(r, str) or r > 1e-4 for _, r in slow_results):
        fail("the slow requests in flight did not all finish with the right answer: %s"
             % slow_results)
    if max(t for t, _ in slow_results) - t0 > exit_s:
        fail("cortadod exited before its requests in flight were answered")
    if status != 0:
        fail("cortadod exited %d after SIGTERM:\n%s" % (status, log))
    if counts["sent before: failed"] or counts["sent after: other"]:
        fail("requests cut off by SIGTERM: %s" % errors[:3])
    # Each load thread sent at least one request before the signal (queued behind the slow
    # ones, which hold the inference threads): all answered.
    if counts["sent before: ok"] < len(threads):
        fail("too little load before SIGTERM: %s" % counts)
    for line in ("received SIGTERM", "cortadod stopped"):
        if line not in log:
            fail("no %r in the log" % line)
    rc = healthcheck(root, config)
    if rc == 0:
        fail("the HEALTHCHECK passes with cortadod stopped")
    print("ok: SIGTERM as PID 1: exit 0, every request sent before it answered; HEALTHCHECK "
          "fails once stopped (%d)" % rc)
    if counts["sent after: cancelled"]:
        print("NOTE: %d requests sent after SIGTERM were cancelled when the gRPC endpoint closed "
              "instead of refused as UNAVAILABLE (cortadod's shutdown, issue 10)"
              % counts["sent after: cancelled"])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("archive")
    parser.add_argument("--work", default="/var/tmp/cortado-image-test")
    opts = parser.parse_args()
    if os.geteuid() != 0:
        fail("run as root (namespaces, chroot)")
    root = os.path.join(opts.work, "rootfs")
    shutil.rmtree(opts.work, ignore_errors=True)
    os.makedirs(root)

    t = time.monotonic()
    config, layers = unpack(opts.archive, root)
    size = int(sh("du", "-sm", root).stdout.split()[0])
    print("ok: unpacked %d layers in %.1f s: root filesystem %d MB" % (
        layers, time.monotonic() - t, size))
    check_config(config, root)

    sh("ip", "netns", "del", NETNS, check=False)
    sh("ip", "netns", "add", NETNS)
    container = None
    try:
        sh("ip", "link", "add", "cort12h", "type", "veth", "peer", "name", "cort12c")
        sh("ip", "link", "set", "cort12c", "netns", NETNS)
        sh("ip", "addr", "add", HOST_IP + "/30", "dev", "cort12h")
        sh("ip", "link", "set", "cort12h", "up")
        for args in (["addr", "add", CONTAINER_IP + "/30", "dev", "cort12c"],
                     ["link", "set", "cort12c", "up"], ["link", "set", "lo", "up"]):
            sh("ip", "netns", "exec", NETNS, "ip", *args)

        models = os.path.join(opts.work, "models")
        shutil.copytree(os.path.join(root, "models"), models)
        slow_path = slow_model(models)
        slow_x = np.linspace(-1, 1, 2048, dtype=np.float32).reshape(1, 2048)
        slow_expected = reference(slow_path, slow_x)
        os.chmod(opts.work, 0o755)
        container = Container(root, config, models, os.path.join(opts.work, "cortadod.log"))
        pid = container.find_pid1()
        with open("/proc/%d/status" % pid) as f:
            nspid = [l.split()[1:] for l in f if l.startswith("NSpid:")][0]
        with open("/proc/%d/status" % pid) as f:
            uid = [l.split()[1] for l in f if l.startswith("Uid:")][0]
        if nspid[-1] != "1" or uid != "10001":
            fail("cortadod is pid %s in its namespace, uid %s" % (nspid, uid))
        while http_get("http://%s:8000/v2/health/ready" % CONTAINER_IP)[0] != 200:
            if container.process.poll() is not None:
                fail("cortadod exited %s:\n%s" % (container.process.returncode,
                                                  container.read_log()))
            if time.monotonic() - container.started > 120:
                fail("not ready after 120 s:\n" + container.read_log())
            time.sleep(0.01)
        ready_s = time.monotonic() - container.started
        print("ok: cortadod is PID 1 in its namespace, uid 10001, read-only root; "
              "start to ready: %.3f s" % ready_s)
        rc = healthcheck(root, config)
        if rc != 0:
            fail("the HEALTHCHECK failed (%d) while ready" % rc)
        print("ok: HEALTHCHECK passes")
        drive(CONTAINER_IP, root)
        drain(container, root, config, slow_x, slow_expected)
    finally:
        if container is not None and container.process.poll() is None:
            container.process.kill()
            container.process.wait()
        sh("ip", "netns", "del", NETNS, check=False)
        sh("ip", "link", "del", "cort12h", check=False)
    print("PASS: image test (start to ready %.3f s)" % ready_s)


if __name__ == "__main__":
    main()
