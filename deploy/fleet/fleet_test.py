"""A fleet of three cortadod on one machine, restarted and upgraded under load without a failure.

usage (root): fleet_test.py CORTADOD REPOSITORY [--work DIR] [--steady-secs N]
(REPOSITORY: the embedded model repository, copied for each host)

Three cortadod hosts run in their own network namespaces (cort12f1..3, veth pairs on the bridge
cort12br, 10.212.10.11-13, each on its own copy of the repository in poll mode), behind Debian's
nginx as the HTTP and gRPC load balancer (127.0.0.1:28080 and :28081, deploy/fleet/nginx.conf),
and Debian's prometheus discovers them through a file_sd targets file and scrapes them every
second. tritonclient threads (gRPC and HTTP, through nginx) send requests the whole time and
check every answer against ONNX Runtime on the version that answered.

1. Steady load.
2. Rolling restart, one host at a time, the way Kubernetes does it: the host leaves the
   balancer (readiness false: its endpoint is dropped and nginx reloads, old workers finishing
   their requests), its requests in flight reach 0 (its own gauge), SIGTERM (cortadod exits 0),
   it starts again, GET /v2/health/ready answers 200 (readiness true), it rejoins the balancer,
   and Prometheus has scraped the new process (its CPU counter started again: one reset) before the
   next host goes.
3. Rollout: version 2 of the model (other weights) is published into each host's repository
   (written aside, renamed into place); each host loads it in the background and switches.
   Every answer after the last switch comes from version 2.
4. Steady load again.

Asserts zero failed requests and zero wrong answers in every phase, that nginx sent nothing to a
host while it was out, and that Prometheus saw every host restart exactly once and load version
2. Prints the request counts, failures and latency (p50/p99/max) per phase and protocol.
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import numpy as np
import onnx
import onnx.numpy_helper
import onnxruntime
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient

HOSTS = ["10.212.10.11", "10.212.10.12", "10.212.10.13"]
BRIDGE, BRIDGE_IP = "cort12br", "10.212.10.1"
LB_HTTP, LB_GRPC, PROM_PORT = "127.0.0.1:28080", "127.0.0.1:28081", 28090
MODEL = "example_mlp"


def fail(msg):
    print("FAIL: " + msg, flush=True)
    raise SystemExit(1)


def sh(*args, check=True):
    r = subprocess.run(list(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        fail("%s: %s" % (" ".join(args), r.stderr.strip()))
    return r


def http_get(url, timeout=5):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError:
        return None, ""


def wait_for(what, check, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    fail("timed out (%d s) waiting for %s" % (timeout, what))


class Network:
    """A bridge on this machine and one network namespace per host, joined by veth pairs."""

    def __init__(self):
        self.names = ["cort12f%d" % (i + 1) for i in range(len(HOSTS))]

    def up(self):
        self.down()
        sh("ip", "link", "add", BRIDGE, "type", "bridge")
        sh("ip", "addr", "add", BRIDGE_IP + "/24", "dev", BRIDGE)
        sh("ip", "link", "set", BRIDGE, "up")
        for i, (ns, ip) in enumerate(zip(self.names, HOSTS)):
            host_end, ns_end = "cort12v%d" % (i + 1), "cort12n%d" % (i + 1)
            sh("ip", "netns", "add", ns)
            sh("ip", "link", "add", host_end, "type", "veth", "peer", "name", ns_end)
            sh("ip", "link", "set", host_end, "master", BRIDGE)
            sh("ip", "link", "set", host_end, "up")
            sh("ip", "link", "set", ns_end, "netns", ns)
            for args in (["addr", "add", ip + "/24", "dev", ns_end], ["link", "set", ns_end, "up"],
                         ["link", "set", "lo", "up"]):
                sh("ip", "netns", "exec", ns, "ip", *args)

    def down(self):
        for i, ns in enumerate(self.names):
            sh("ip", "netns", "del", ns, check=False)
            sh("ip", "link", "del", "cort12v%d" % (i + 1), check=False)
        sh("ip", "link", "del", BRIDGE, check=False)


class Host:
    """One cortadod in its namespace, on its own repository."""

    def __init__(self, index, cortadod, repo, work):
        self.index, self.ip, self.ns = index, HOSTS[index], "cort12f%d" % (index + 1)
        self.cortadod, self.repo, self.work = cortadod, repo, work
        self.process = None
        self.starts = 0

    def start(self):
        self.starts += 1
        log = open(os.path.join(self.work, "host%d.%d.log" % (self.index + 1, self.starts)), "w")
        self.process = subprocess.Popen(
            ["ip", "netns", "exec", self.ns, self.cortadod, "--model-repository", self.repo,
             "--model-control-mode=poll", "--repository-poll-secs=1", "--exit-timeout-secs=20",
             "--infer-thread-count=2", "--intra-op-thread-count=1"],
            stdout=log, stderr=subprocess.STDOUT)
        self.started = time.monotonic()

    def ready(self):
        return http_get("http://%s:8000/v2/health/ready" % self.ip, timeout=1)[0] == 200

    def wait_ready(self):
        deadline = time.monotonic() + 60
        while not self.ready():
            if self.process.poll() is not None:
                fail("host %s exited %s" % (self.ip, self.process.returncode))
            if time.monotonic() > deadline:
                fail("host %s not ready after 60 s" % self.ip)
            time.sleep(0.05)
        return time.monotonic() - self.started

    def metric(self, name):
        status, text = http_get("http://%s:8002/metrics" % self.ip)
        for line in text.splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
        return None

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.process.kill()
            fail("host %s did not exit within 40 s of SIGTERM" % self.ip)


class Balancer:
    """Debian's nginx with the hosts that are in rotation; each change is a graceful reload."""

    def __init__(self, template, work):
        self.prefix = os.path.join(work, "nginx")
        os.makedirs(self.prefix)
        with open(template) as f:
            self.template = f.read()
        self.conf = os.path.join(self.prefix, "nginx.conf")
        self.process = None
        self.members = set()
        self.changes = []  # (time, host ip, "in" | "out")

    def write(self):
        servers = lambda port: "\n".join(
            "    server %s:%d max_fails=0;" % (ip, port) for ip in sorted(self.members))
        conf = (self.template.replace("@PREFIX@", self.prefix)
                .replace("@LISTEN_HTTP@", LB_HTTP).replace("@LISTEN_GRPC@", LB_GRPC)
                .replace("@HTTP_SERVERS@", servers(8000)).replace("@GRPC_SERVERS@", servers(8001)))
        with open(self.conf, "w") as f:
            f.write(conf)
        sh("nginx", "-t", "-q", "-c", self.conf, "-p", self.prefix)

    def start(self, members):
        self.members = set(members)
        self.write()
        self.process = subprocess.Popen(["nginx", "-c", self.conf, "-p", self.prefix, "-g",
                                         "daemon off;"])
        wait_for("nginx", lambda: self.process.poll() is not None or
                 http_get("http://%s/v2/health/live" % LB_HTTP)[0] == 200)
        if self.process.poll() is not None:
            fail("nginx exited %d (is %s or %s taken?)" % (self.process.returncode, LB_HTTP,
                                                            LB_GRPC))

    def workers(self):
        out = sh("pgrep", "-P", str(self.process.pid), check=False).stdout.split()
        return out

    def set(self, ip, member):
        """Adds or removes a host, reloads, and waits until only the new worker is left."""
        (self.members.add if member else self.members.discard)(ip)
        self.write()
        old = set(self.workers())
        signalled = time.time()
        self.process.send_signal(signal.SIGHUP)
        wait_for("nginx to reload", lambda: set(self.workers()) and not set(self.workers()) & old,
                 timeout=30)
        # A host is out once the old workers are gone, and in from the moment new ones start.
        self.changes.append((time.time() if not member else signalled, ip,
                             "in" if member else "out"))

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            self.process.wait(timeout=30)

    def log(self, name):
        """(start time, upstream addresses, status) per request nginx logged."""
        rows = []
        with open(os.path.join(self.prefix, name)) as f:
            for line in f:
                # A retried request lists its upstreams: "10.212.10.11:8000, 10.212.10.12:8000".
                fields = line.split()
                rows.append((float(fields[0]) - float(fields[1]), " ".join(fields[2:-1]),
                             fields[-1]))
        return rows


class Prometheus:
    def __init__(self, work):
        self.dir = os.path.join(work, "prometheus")
        os.makedirs(self.dir)
        self.targets = os.path.join(self.dir, "targets.json")
        with open(self.targets, "w") as f:
            json.dump([{"targets": ["%s:8002" % ip for ip in HOSTS],
                        "labels": {"fleet": "cort12"}}], f)
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                    "scrape_configs:\n  - job_name: cortado\n    file_sd_configs:\n"
                    "      - files: [%s]\n        refresh_interval: 5s\n" % self.targets)
        sh("promtool", "check", "config", config)
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        tsdb = os.path.join(self.dir, "tsdb")
        self.process = subprocess.Popen(
            ["prometheus", "--config.file=" + config, "--storage.tsdb.path=" + tsdb,
             "--web.listen-address=127.0.0.1:%d" % PROM_PORT], stdout=self.log,
            stderr=subprocess.STDOUT)
        # The one answering on the port must be this one, not one left behind by another run.
        wait_for("prometheus on :%d" % PROM_PORT, lambda: self.process.poll() is not None or
                 http_get("http://127.0.0.1:%d/-/ready" % PROM_PORT)[0] == 200)
        status, body = http_get("http://127.0.0.1:%d/api/v1/status/flags" % PROM_PORT)
        if self.process.poll() is not None or json.loads(body)["data"].get(
                "storage.tsdb.path") != tsdb:
            fail("another prometheus holds :%d" % PROM_PORT)

    def query(self, expr):
        status, body = http_get("http://127.0.0.1:%d/api/v1/query?%s" % (
            PROM_PORT, urllib.parse.urlencode({"query": expr})))
        if status != 200:
            return []
        return json.loads(body)["data"]["result"]

    def value(self, expr):
        r = self.query(expr)
        return float(r[0]["value"][1]) if r else None

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


class Load:
    """Closed-loop client threads through the balancer; every answer is checked against ONNX
    Runtime on the version that answered. Results are recorded per phase."""

    def __init__(self, expected):
        self.expected = expected  # version -> outputs for self.inputs
        self.inputs = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], np.float32)
        self.phase = "steady"
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.results = []  # (phase, protocol, ok, latency, version, error)
        self.threads = []

    def record(self, protocol, started, version, outputs, error):
        latency = time.monotonic() - started
        ok = error is None
        if ok and (version not in self.expected or
                   float(np.max(np.abs(outputs - self.expected[version]))) > 1e-5):
            ok, error = False, "wrong answer from version %s" % version
        with self.lock:
            self.results.append((self.phase, protocol, ok, latency, version, error))

    def grpc_loop(self):
        client = grpcclient.InferenceServerClient(LB_GRPC)
        inp = grpcclient.InferInput("features", list(self.inputs.shape), "FP32")
        inp.set_data_from_numpy(self.inputs)
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                r = client.infer(MODEL, [inp], client_timeout=30)
                self.record("grpc", started, r.get_response().model_version,
                            r.as_numpy("probabilities"), None)
            except Exception as e:  # InferenceServerException and transport errors
                self.record("grpc", started, None, None, str(e)[:200])
        client.close()

    def http_loop(self):
        client = httpclient.InferenceServerClient(LB_HTTP, connection_timeout=30,
                                                  network_timeout=30)
        inp = httpclient.InferInput("features", list(self.inputs.shape), "FP32")
        inp.set_data_from_numpy(self.inputs, binary_data=True)
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                r = client.infer(MODEL, [inp])
                self.record("http", started, r.get_response()["model_version"],
                            r.as_numpy("probabilities"), None)
            except Exception as e:
                self.record("http", started, None, None, str(e)[:200])
        client.close()

    def start(self, grpc_threads, http_threads):
        self.threads = ([threading.Thread(target=self.grpc_loop) for _ in range(grpc_threads)] +
                        [threading.Thread(target=self.http_loop) for _ in range(http_threads)])
        for t in self.threads:
            t.start()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join()

    def report(self):
        phases = []
        for r in self.results:
            if r[0] not in phases:
                phases.append(r[0])
        failures = 0
        for phase in phases:
            for protocol in ("grpc", "http"):
                rows = [r for r in self.results if r[0] == phase and r[1] == protocol]
                if not rows:
                    continue
                lat = np.array([r[3] for r in rows]) * 1000
                bad = [r for r in rows if not r[2]]
                versions = sorted({r[4] for r in rows if r[4]})
                failures += len(bad)
                print("  %-15s %-4s requests %6d  failed %d  latency ms p50 %.2f p99 %.2f max "
                      "%.1f  versions %s" % (phase, protocol, len(rows), len(bad),
                                             np.percentile(lat, 50), np.percentile(lat, 99),
                                             lat.max(), ",".join(versions)))
                for r in bad[:5]:
                    print("    failure: %s" % r[5])
        return failures


def model_v2(v1_path, v2_path):
    """Version 2: the example model with another output bias."""
    m = onnx.load(v1_path)
    for init in m.graph.initializer:
        if init.name == "b2":
            b = onnx.numpy_helper.to_array(init) + np.array([1.0, 0.0, -1.0], np.float32)
            init.CopyFrom(onnx.numpy_helper.from_array(b.astype(np.float32), "b2"))
    onnx.save(m, v2_path)


def reference(path, x):
    sess = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})[0]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("cortadod")
    parser.add_argument("repository")
    parser.add_argument("--work", default=os.path.join(os.environ.get("TEST_TMPDIR", "/tmp"),
                                                        "cort12-fleet"))
    parser.add_argument("--steady-secs", type=float, default=8)
    parser.add_argument("--sigterm-first", action="store_true",
                        help="the wrong order, to see the test fail: SIGTERM a host while the "
                             "balancer still sends to it, and take it out only then")
    parser.add_argument("--nginx-conf", default=os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "nginx.conf"))
    opts = parser.parse_args()
    if os.geteuid() != 0:
        fail("run as root (network namespaces)")
    for tool in ("nginx", "prometheus", "promtool", "ip"):
        if shutil.which(tool) is None:
            fail("%s is missing; run tools/setup.sh" % tool)
    cortadod = os.path.abspath(opts.cortadod)
    shutil.rmtree(opts.work, ignore_errors=True)
    os.makedirs(opts.work)

    v1 = os.path.join(opts.repository, MODEL, "1", "model.onnx")
    v2 = os.path.join(opts.work, "model_v2.onnx")
    model_v2(v1, v2)
    x = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]], np.float32)
    expected = {"1": reference(v1, x), "2": reference(v2, x)}
    if float(np.max(np.abs(expected["1"] - expected["2"]))) < 1e-3:
        fail("versions 1 and 2 answer alike; the rollout check would prove nothing")

    network = Network()
    hosts, balancer, prom, load = [], None, None, None
    try:
        network.up()
        for i in range(len(HOSTS)):
            repo = os.path.join(opts.work, "repo%d" % (i + 1))
            shutil.copytree(opts.repository, repo)
            hosts.append(Host(i, cortadod, repo, opts.work))
        for h in hosts:
            h.start()
        for h in hosts:
            print("host %s ready in %.2f s" % (h.ip, h.wait_ready()))
        balancer = Balancer(opts.nginx_conf, opts.work)
        balancer.start(HOSTS)
        prom = Prometheus(opts.work)
        wait_for("prometheus to scrape the three hosts",
                 lambda: prom.value('count(up{job="cortado"} == 1)') == 3)
        print("nginx on %s (HTTP) and %s (gRPC); prometheus on :%d scrapes %d hosts" % (
            LB_HTTP, LB_GRPC, PROM_PORT, 3))

        load = Load(expected)
        load.start(grpc_threads=3, http_threads=2)
        time.sleep(opts.steady_secs)

        # 2. Rolling restart.
        load.phase = "rolling restart"
        for h in hosts:
            t0 = time.monotonic()
            resets = 'resets(process_cpu_seconds_total{instance="%s:8002"}[10m])' % h.ip
            resets_before = prom.value(resets) or 0
            if opts.sigterm_first:
                h.process.send_signal(signal.SIGTERM)
                time.sleep(0.5)
            balancer.set(h.ip, False)                       # readiness false: out of rotation
            wait_for("requests in flight on %s to finish" % h.ip,
                     lambda: h.process.poll() is not None or
                     h.metric("cortado_inference_requests_in_flight") == 0)
            status = h.stop()                              # SIGTERM
            if status != 0:
                fail("host %s exited %d after SIGTERM" % (h.ip, status))
            down_s = time.monotonic() - t0
            h.start()
            ready_s = h.wait_ready()                       # readiness true
            balancer.set(h.ip, True)                        # back in rotation
            wait_for("prometheus to scrape the new process on %s" % h.ip,
                     lambda: (prom.value(resets) or 0) > resets_before and prom.value(
                         'up{instance="%s:8002"}' % h.ip) == 1, timeout=30)
            print("restarted %s: out and drained %.2f s, ready again %.2f s after start, "
                  "back in %.2f s in all" % (h.ip, down_s, ready_s, time.monotonic() - t0))
        time.sleep(2)

        # 3. Rollout of version 2, one host after another.
        load.phase = "rollout v2"
        for h in hosts:
            aside = os.path.join(h.repo, MODEL, ".tmp-2")
            os.makedirs(aside)
            shutil.copy(v2, os.path.join(aside, "model.onnx"))
            os.rename(aside, os.path.join(h.repo, MODEL, "2"))
            wait_for("%s to serve version 2" % h.ip, lambda: http_get(
                "http://%s:8000/v2/models/%s/versions/2/ready" % (h.ip, MODEL))[0] == 200 and
                http_get("http://%s:8000/v2/models/%s/versions/1/ready" % (h.ip, MODEL))[0] != 200,
                timeout=30)
            print("rolled out version 2 on %s" % h.ip)
        load.phase = "after rollout"
        time.sleep(opts.steady_secs)
        load.finish()

        # Results.
        print("requests (through nginx):")
        failures = load.report()
        after = [r for r in load.results if r[0] == "after rollout" and r[2]]
        stale = [r for r in after if r[4] != "2"]

        # nginx: nothing went to a host between its leaving and its rejoining; retries.
        out_windows = {}
        for t, ip, change in balancer.changes:
            if change == "out":
                out_windows[ip] = [t, None]
            else:
                out_windows[ip][1] = t
        leaks, retried, lb_requests = 0, 0, 0
        per_host = {}
        for name in ("http.log", "grpc.log"):
            for started, upstream, status in balancer.log(name):
                lb_requests += 1
                if "," in upstream:
                    retried += 1
                for addr in upstream.split(", "):
                    ip = addr.split(":")[0]
                    per_host[ip] = per_host.get(ip, 0) + 1
                    window = out_windows.get(ip)
                    if window and window[0] < started < window[1]:
                        leaks += 1
        print("nginx: %d requests logged, per host %s, sent to another host after a failed "
              "attempt: %d, sent to a host while it was out: %d" % (
                  lb_requests, {k: per_host[k] for k in sorted(per_host)}, retried, leaks))

        # Prometheus saw every host come back and load version 2.
        back = {}
        for h in hosts:
            back[h.ip] = (
                prom.value('resets(process_cpu_seconds_total{instance="%s:8002"}[10m])' % h.ip),
                prom.value('max_over_time(cortado_model_loads_total{instance="%s:8002",version="2"}'
                           '[5m])' % h.ip))
        print("prometheus: per host (restarts seen, version 2 loaded): %s" % back)

        problems = []
        if failures:
            problems.append("%d failed requests" % failures)
        if stale:
            problems.append("%d answers after the rollout not from version 2" % len(stale))
        if leaks:
            problems.append("%d requests sent to a host while it was out" % leaks)
        for ip, (restarts, loaded) in back.items():
            if restarts != 1:
                problems.append("prometheus saw %s restart %s times, not once" % (ip, restarts))
            if loaded != 1:
                problems.append("prometheus did not see %s load version 2" % ip)
        if len(load.results) < 500:
            problems.append("too few requests (%d)" % len(load.results))
        if problems:
            fail("; ".join(problems))
        print("PASS: fleet: %d requests, 0 failed, through a rolling restart of %d hosts and a "
              "rollout of version 2" % (len(load.results), len(hosts)))
    finally:
        if load is not None:
            load.finish()
        for h in hosts:
            if h.process is not None and h.process.poll() is None:
                h.process.send_signal(signal.SIGTERM)
                try:
                    h.process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    h.process.kill()
        if balancer is not None:
            balancer.stop()
        if prom is not None:
            prom.stop()
        network.down()


if __name__ == "__main__":
    main()
