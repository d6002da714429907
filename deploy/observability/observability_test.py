"""The observability stack against real parts: Debian's prometheus scraping a real cortadod.

usage: observability_test.py CORTADOD REPOSITORY OBSERVABILITY_DIR ADAPTER_RULES CORTADOD_PY
(REPOSITORY: the embedded model repository to copy; CORTADOD_PY: tests/cortadod.py)

1. promtool checks the rules (check rules) and runs their unit tests (test rules).
2. cortadod serves a copy of the embedded repository in poll mode; Prometheus runs with
   prometheus/prometheus.yml (scraping every second, the target pointed at this cortadod) and its
   rules.
3. While traffic runs (HTTP batches of 1 and 3, gRPC through tritonclient, bad inputs, an
   unknown model), the repository changes: a corrupt version (a load failure), a good new version
   (a load), a second model added and then removed (an unload).
4. Every panel names the provisioned datasource, and every query of every panel of the Grafana
   dashboard, with the dashboard's variables set to "All", must return series with a number in
   them over the test's time range; some must show the events of step 3. The recording rules
   return data, CortadoModelLoadFailed fires, every rule is healthy, and the prometheus-adapter
   rules' queries return data.
5. SIGTERM: cortadod exits 0 and Prometheus sees up == 0 (CortadoDown's input).

Ports come from 28000-28999. Prints what it checked; exits non-zero on the first failure.
"""
import json
import math
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request

import numpy as np
import tritonclient.grpc as grpcclient
import yaml

RATE_INTERVAL = "10s"  # $__rate_interval for a 1 s scrape interval


def fail(msg):
    print("FAIL: " + msg, flush=True)
    sys.exit(1)


def free_port():
    for port in random.sample(range(28000, 29000), 1000):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    fail("no free port in 28000-28999")


def wait_for(what, check, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.5)
    fail("timed out waiting for " + what)


def http(method, url, body=None):
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Prometheus:
    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port

    def api(self, path, **params):
        url = "%s/api/v1/%s?%s" % (self.base, path, urllib.parse.urlencode(params))
        status, body = http("GET", url)
        data = json.loads(body)
        if data.get("status") != "success":
            fail("prometheus %s %s: %s" % (path, params, data))
        return data["data"]

    def query(self, expr):
        return self.api("query", query=expr)["result"]

    def query_range(self, expr, start, end):
        return self.api("query_range", query=expr, start=start, end=end, step=1)["result"]


def finite_values(result):
    return [float(v) for s in result for _, v in s["values"] if math.isfinite(float(v))]


def panel_queries(dashboard):
    """(panel title, expression) for every target, the variables set to All."""
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            expr = target["expr"]
            expr = expr.replace("$__rate_interval", RATE_INTERVAL).replace("$job", "cortado")
            expr = expr.replace("$instance", ".*").replace("$model", ".*")
            if "$" in expr:
                fail("panel %r: unknown variable in %s" % (panel["title"], expr))
            yield panel["title"], target.get("legendFormat", ""), expr


def adapter_queries(rules_path):
    """prometheus-adapter's metricsQuery templates, filled in as the adapter would for the pods
    of this test (the local series have no namespace or pod labels, so instance stands in)."""
    with open(rules_path) as f:
        rules = yaml.safe_load(f)["rules"]
    for rule in rules:
        series = re.match(r"\s*(\w+)", rule["seriesQuery"]).group(1)
        expr = (rule["metricsQuery"].replace("<<.Series>>", series)
                .replace("<<.LabelMatchers>>", 'job="cortado"').replace("<<.GroupBy>>", "instance"))
        yield rule["name"]["as"], expr


class Traffic(threading.Thread):
    """Requests until stopped: HTTP batches of 1 and 3, gRPC, a wrong input name, an unknown
    model. Counts what was answered how."""

    def __init__(self, server):
        super().__init__(daemon=True)
        self.server = server
        self.stop = threading.Event()
        self.counts = {}

    def count(self, key):
        self.counts[key] = self.counts.get(key, 0) + 1

    def run(self):
        url = "http://%s/v2/models/%%s/infer" % self.server.http_url
        grpc = grpcclient.InferenceServerClient(self.server.grpc_url)
        one = json.dumps({"inputs": [{"name": "features", "shape": [1, 4], "datatype": "FP32",
                                      "data": [5.1, 3.5, 1.4, 0.2]}]}).encode()
        three = json.dumps({"inputs": [{"name": "features", "shape": [3, 4], "datatype": "FP32",
                                        "data": [1] * 12}]}).encode()
        bad = one.replace(b'"features"', b'"featurez"')
        i = 0
        while not self.stop.is_set():
            i += 1
            self.count(("http", http("POST", url % "example_mlp", three if i % 4 == 0 else one)[0]))
            inp = grpcclient.InferInput("features", [2, 4], "FP32")
            inp.set_data_from_numpy(np.ones((2, 4), np.float32))
            try:
                grpc.infer("example_mlp", [inp])
                self.count(("grpc", "ok"))
            except Exception as e:  # tritonclient raises InferenceServerException
                self.count(("grpc", str(e)[:60]))
            if i % 10 == 0:
                self.count(("bad", http("POST", url % "example_mlp", bad)[0]))
                self.count(("unknown", http("POST", url % "no_such_model", one)[0]))
            time.sleep(0.02)
        grpc.close()


def publish(repo, model, version, files):
    """The documented publish: write aside, then rename into place."""
    tmp = os.path.join(repo, model, ".tmp-%s" % version)
    os.makedirs(tmp)
    for name, data in files.items():
        with open(os.path.join(tmp, name), "wb") as f:
            f.write(data)
    os.rename(tmp, os.path.join(repo, model, str(version)))


def main():
    cortadod, embedded, obs_dir, adapter_rules, cortadod_py = map(os.path.abspath, sys.argv[1:])
    sys.path.insert(0, os.path.dirname(cortadod_py))
    import cortadod as daemon  # tests/cortadod.py

    work = os.environ.get("TEST_TMPDIR") or tempfile.mkdtemp()
    work = os.path.join(work, "observability")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    prom_dir = os.path.join(obs_dir, "prometheus")
    rules = os.path.join(prom_dir, "cortado.rules.yml")

    # 1. promtool.
    for args in (["check", "rules", rules], ["test", "rules", "cortado.rules.test.yml"]):
        r = subprocess.run(["promtool"] + args, cwd=prom_dir, capture_output=True, text=True)
        if r.returncode != 0:
            fail("promtool %s:\n%s%s" % (" ".join(args), r.stdout, r.stderr))
        print("ok: promtool %s: %s" % (" ".join(args[:2]), r.stdout.strip().splitlines()[-1]))

    # 2. cortadod and Prometheus.
    repo = os.path.join(work, "repo")
    shutil.copytree(embedded, repo)
    ports = ["--http-port=%d" % free_port(), "--grpc-port=%d" % free_port(),
             "--metrics-port=%d" % free_port()]
    server = daemon.start(cortadod, ["--model-repository", repo, "--model-control-mode=poll",
                                     "--repository-poll-secs=1", "--exit-timeout-secs=10"] + ports,
                          os.path.join(work, "cortadod.log"))
    prom = None
    try:
        with open(os.path.join(prom_dir, "prometheus.yml")) as f:
            config = yaml.safe_load(f)
        config["global"].update(scrape_interval="1s", evaluation_interval="1s")
        config["rule_files"] = [rules]
        [job] = config["scrape_configs"]
        job["static_configs"] = [{"targets": [server.metrics_url]}]
        config_path = os.path.join(work, "prometheus.yml")
        with open(config_path, "w") as f:
            yaml.safe_dump(config, f)
        subprocess.run(["promtool", "check", "config", config_path], check=True,
                       capture_output=True)
        prom_port = free_port()
        prom_log = open(os.path.join(work, "prometheus.log"), "w")
        prom = subprocess.Popen(["prometheus", "--config.file=" + config_path,
                                 "--storage.tsdb.path=" + os.path.join(work, "tsdb"),
                                 "--web.listen-address=127.0.0.1:%d" % prom_port],
                                stdout=prom_log, stderr=subprocess.STDOUT)
        p = Prometheus(prom_port)
        wait_for("prometheus to scrape cortadod",
                 lambda: any(s["value"][1] == "1" for s in p.query('up{job="cortado"}')))
        start = time.time()
        print("ok: prometheus on :%d scrapes cortadod on %s" % (prom_port, server.metrics_url))

        # 3. Traffic and repository events.
        traffic = Traffic(server)
        traffic.start()
        time.sleep(4)
        model_dir = os.path.join(repo, "example_mlp")
        with open(os.path.join(model_dir, "1", "model.onnx"), "rb") as f:
            onnx_bytes = f.read()
        publish(repo, "example_mlp", 2, {"model.onnx": b"not an onnx model"})
        wait_for("the failed load of version 2",
                 lambda: p.query('cortado_model_load_failures_total{model="example_mlp",'
                                 'version="2"}'))
        publish(repo, "example_mlp", 3, {"model.onnx": onnx_bytes})
        wait_for("version 3 to load",
                 lambda: p.query('cortado_model_loads_total{model="example_mlp",version="3"}'))
        shutil.copytree(model_dir, os.path.join(repo, ".example_b"),
                        ignore=shutil.ignore_patterns("2"))
        with open(os.path.join(repo, ".example_b", "config.pbtxt")) as f:
            pbtxt = f.read().replace('name: "example_mlp"', 'name: "example_b"')
        with open(os.path.join(repo, ".example_b", "config.pbtxt"), "w") as f:
            f.write(pbtxt)
        os.rename(os.path.join(repo, ".example_b"), os.path.join(repo, "example_b"))
        wait_for("example_b to load", lambda: p.query('cortado_models_loaded == 2'))
        time.sleep(3)
        shutil.rmtree(os.path.join(repo, "example_b"))
        wait_for("example_b to unload", lambda: p.query('cortado_models_loaded == 1'))
        time.sleep(12)  # a rate interval of traffic after the last event
        traffic.stop.set()
        traffic.join()
        end = time.time()
        print("traffic:", ", ".join("%s %s: %d" % (k[0], k[1], n)
                                    for k, n in sorted(traffic.counts.items(), key=str)))
        if traffic.counts.get(("http", 200), 0) < 20 or traffic.counts.get(("grpc", "ok"), 0) < 20:
            fail("too few good requests: %s" % traffic.counts)
        if set(k for k in traffic.counts if k[1] not in (200, "ok", 400, 404)) - {("bad", 400)}:
            fail("unexpected answers: %s" % traffic.counts)

        # 4. Every panel's query.
        with open(os.path.join(obs_dir, "grafana", "dashboards", "cortado.json")) as f:
            dashboard = json.load(f)
        with open(os.path.join(obs_dir, "grafana", "provisioning", "datasources",
                               "prometheus.yaml")) as f:
            uids = {d["uid"] for d in yaml.safe_load(f)["datasources"]}
        for panel in dashboard["panels"]:
            for ref in [panel.get("datasource")] + [t.get("datasource") for t in
                                                    panel.get("targets", [])]:
                if ref is not None and ref["uid"] not in uids:
                    fail("panel %r uses datasource %s, not provisioned (%s)" % (
                        panel["title"], ref["uid"], uids))
        peaks = {}
        n = 0
        for title, legend, expr in panel_queries(dashboard):
            result = p.query_range(expr, start, end)
            values = finite_values(result)
            if not values:
                fail("panel %r, %r: no data for %s" % (title, legend, expr))
            peaks[(title, legend)] = max(values)
            labels = sorted({json.dumps(s["metric"], sort_keys=True) for s in result})
            print("ok: panel %r %r: %d series, max %.4g" % (title, legend, len(result),
                                                          max(values)))
            n += 1
            if title == "Failures by reason":
                reasons = {s["metric"].get("reason") for s in result}
                if not {"invalid_argument", "not_found"} <= reasons:
                    fail("failures by reason shows %s" % reasons)
            if title == "Model loads":
                versions = {s["metric"].get("version") for s in result if finite_values([s])
                            and max(finite_values([s])) >= 1}
                if "3" not in versions:
                    fail("the load of version 3 is not in 'Model loads': %s" % labels)
        expect = {("Model unloads", "{{instance}}"): 1,
                  ("Model load failures", "{{model}} v{{version}} {{reason}}"): 1,
                  ("Batch size per execution", "{{model}} p99"): 2,
                  ("Requests in flight", "{{instance}}"): 0}
        for key, at_least in expect.items():
            if peaks[key] < at_least:
                fail("panel %r peaked at %s, expected >= %s" % (key, peaks[key], at_least))
        print("ok: %d panel queries answered with data; unloads, load failures, batches of 3 seen"
              % n)

        for group in p.api("rules")["groups"]:
            for rule in group["rules"]:
                if rule["health"] != "ok":
                    fail("rule %s: %s %s" % (rule["name"], rule["health"], rule.get("lastError")))
                if rule["type"] == "recording" and not p.query(rule["name"]):
                    fail("recording rule %s has no data" % rule["name"])
        print("ok: every rule healthy, every recording rule has data")
        wait_for("CortadoModelLoadFailed to fire",
                 lambda: p.query('ALERTS{alertname="CortadoModelLoadFailed",alertstate="firing",'
                                 'model="example_mlp",version="2"}'), timeout=20)
        print("ok: CortadoModelLoadFailed fires for example_mlp version 2")
        for name, expr in adapter_queries(adapter_rules):
            values = finite_values(p.query_range(expr, start, end))
            if not values:
                fail("prometheus-adapter rule %s: no data for %s" % (name, expr))
            print("ok: prometheus-adapter rule %s: max %.4g" % (name, max(values)))

        # 5. SIGTERM.
        status = server.stop(timeout=30)
        if status != 0:
            fail("cortadod exited %s after SIGTERM" % status)
        wait_for("up == 0", lambda: p.query('up{job="cortado"} == 0'), timeout=20)
        print("ok: SIGTERM: cortadod exited 0, Prometheus sees it down")
    finally:
        if server.poll() is None:
            server.process.kill()
        if prom is not None:
            prom.terminate()
            prom.wait()
    print("PASS: observability end to end")


if __name__ == "__main__":
    main()
