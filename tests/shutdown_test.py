"""Shutdown against a real cortadod (issue 10): --exit-timeout-secs is honoured exactly.

- A model whose inference runs far longer than the exit timeout (a 6000x6000 MatMul chain,
  made here with onnx.helper) is busy on its only instance while two more requests wait in its
  queue. On SIGTERM the waiting two are answered 503 (UNAVAILABLE) when the timeout ends,
  without running, and since the running one still does not finish, the watchdog forces the
  process out with exit status 1 and says so in the log.
- gRPC during the drain: a request in flight at SIGTERM finishes with its answer, and one sent
  while it runs is refused UNAVAILABLE with a message; the process then exits 0.
- SIGTERM while the daemon is still loading its models (model.onnx is a FIFO that nobody
  writes, so the load blocks for as long as the test likes) ends it at once with status 0.
- default_model_filename that leaves the version folder is refused: the model is not served
  and the reason names the rule, while a plain file name in the folder serves.

usage: shutdown_test.py CORTADOD   (run by tests/shutdown_test.sh)
"""
import http.client
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import unittest

import numpy as np
import onnx
import tritonclient.grpc as grpcclient
from onnx import TensorProto, helper, numpy_helper
from tritonclient.utils import InferenceServerException

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cortadod  # noqa: E402

CORTADOD = os.path.abspath(sys.argv[1])
del sys.argv[1]
TMP = tempfile.mkdtemp(prefix="shutdown_", dir=os.environ.get("TEST_TMPDIR"))
LOGS = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR", TMP)
N = 6000  # 2 * 6000^3 = 432 GFLOP per MatMul: many seconds on one thread


def slow_model(n=N):
    """x [1] -> Expand to [n, n] -> (X @ X) @ X -> ReduceSum: tiny file, long run."""
    f = TensorProto.FLOAT
    graph = helper.make_graph(
        [helper.make_node("Expand", ["x", "shape"], ["big"]),
         helper.make_node("MatMul", ["big", "big"], ["p"]),
         helper.make_node("MatMul", ["p", "big"], ["q"]),
         helper.make_node("ReduceSum", ["q"], ["y"], keepdims=0)],
        "slow", [helper.make_tensor_value_info("x", f, [1])],
        [helper.make_tensor_value_info("y", f, [])],
        [numpy_helper.from_array(np.array([n, n], np.int64), "shape")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def mlp_model():
    graph = helper.make_graph(
        [helper.make_node("Relu", ["x"], ["y"])], "relu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def repository(name, models):
    """A repository under TMP/name: {model: (config text, {file: bytes or None for a FIFO})}."""
    root = os.path.join(TMP, name)
    shutil.rmtree(root, ignore_errors=True)
    for model, (config, files) in models.items():
        os.makedirs(os.path.join(root, model, "1"))
        with open(os.path.join(root, model, "config.pbtxt"), "w") as f:
            f.write(config)
        for path, data in files.items():
            full = os.path.join(root, model, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            if data is None:
                os.mkfifo(full)
            else:
                with open(full, "wb") as f:
                    f.write(data)
    return root


def post_infer(port, model, results, key):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    body = json.dumps({"inputs": [{"name": "x", "shape": [1], "datatype": "FP32",
                                   "data": [1.0]}]})
    try:
        conn.request("POST", "/v2/models/%s/infer" % model, body)
        response = conn.getresponse()
        results[key] = (response.status, response.read().decode())
    except (OSError, http.client.HTTPException) as e:
        results[key] = (None, repr(e))
    finally:
        conn.close()


def metric(server, pattern):
    conn = http.client.HTTPConnection("127.0.0.1", server.metrics_port, timeout=10)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    m = re.search(pattern, text, re.M)
    return float(m.group(1)) if m else None


class ShutdownTest(unittest.TestCase):

    def test_queued_work_unavailable_and_forced_exit_1(self):
        root = repository("slow", {"slow": ('instance_group [ { count: 1 kind: KIND_CPU } ]\n',
                                            {"1/model.onnx": slow_model().SerializeToString()})})
        server = cortadod.start(CORTADOD, ["--model-repository", root, "--exit-timeout-secs", "2",
                                           "--infer-thread-count", "1",
                                           "--intra-op-thread-count", "1"],
                                os.path.join(LOGS, "cortadod_slow.log"))
        self.addCleanup(lambda: server.poll() is None and server.stop(timeout=5))
        results = {}
        threads = [threading.Thread(target=post_infer, args=(server.http_port, "slow", results, k))
                   for k in ("running", "queued1", "queued2")]
        # The first request must be the one that runs on the only instance: the other two start
        # only once the daemon has taken it (started together, any of the three could arrive
        # first, and then "queued1" was the one running, unanswered at the forced exit).
        threads[0].start()
        deadline = time.monotonic() + 60
        while metric(server, r'^cortado_inference_requests_in_flight (\S+)') != 1:
            if time.monotonic() > deadline:
                self.fail("the first request never arrived")
            time.sleep(0.05)
        threads[1].start()
        threads[2].start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if metric(server, r'^cortado_queue_size\{[^}]*model="slow"[^}]*\} (\S+)') == 2:
                break
            time.sleep(0.1)
        else:
            self.fail("the two requests never waited in the queue")
        server.process.terminate()
        status = server.process.wait(timeout=60)
        for t in threads:
            t.join(timeout=60)
        # Exit timeout 2 s + the 3 s close grace: the watchdog forces exit status 1.
        self.assertEqual(status, 1, server.log()[-3000:])
        self.assertIn("forcing exit", server.log())
        for key in ("queued1", "queued2"):
            code, body = results[key]
            self.assertEqual(code, 503, (key, body))
            self.assertIn("error", json.loads(body))
        # The one that was running got no answer: the process was forced out under it.
        self.assertIsNone(results["running"][0], results["running"])
        self.assertNotIn("cortadod stopped", server.log())

    def test_grpc_during_drain(self):
        """After SIGTERM, a gRPC request in flight finishes with its answer, and one that arrives
        while it does is refused UNAVAILABLE with a message; then the process exits 0."""
        root = repository("drain", {"slow": ('instance_group [ { count: 1 kind: KIND_CPU } ]\n',
                                             {"1/model.onnx": slow_model(1500).SerializeToString()})})
        server = cortadod.start(CORTADOD, ["--model-repository", root, "--exit-timeout-secs", "120",
                                           "--intra-op-thread-count", "1"],
                                os.path.join(LOGS, "cortadod_drain.log"))
        self.addCleanup(lambda: server.poll() is None and server.stop(timeout=5))
        results = {}

        def infer(key):
            client = grpcclient.InferenceServerClient(server.grpc_url)
            x = grpcclient.InferInput("x", [1], "FP32")
            x.set_data_from_numpy(np.ones([1], np.float32))
            try:
                results[key] = ("OK", client.infer("slow", [x], client_timeout=300).as_numpy("y"))
            except InferenceServerException as e:
                results[key] = (e.status(), e.message())

        running = threading.Thread(target=infer, args=("running",))
        running.start()
        deadline = time.monotonic() + 60
        while metric(server, r'^cortado_inference_requests_in_flight (\S+)') != 1:
            self.assertLess(time.monotonic(), deadline, "the request never got in flight")
            time.sleep(0.05)
        server.process.terminate()
        deadline = time.monotonic() + 60
        while "shutting down: not ready" not in server.log():
            self.assertLess(time.monotonic(), deadline, "no shutdown in the log")
            time.sleep(0.05)
        infer("late")
        running.join(timeout=300)
        self.assertEqual(server.process.wait(timeout=120), 0, server.log()[-3000:])
        self.assertEqual(results["late"][0], "StatusCode.UNAVAILABLE", results["late"])
        self.assertIn("shutting down", results["late"][1])
        self.assertEqual(results["running"][0], "OK", results["running"])
        # Ones through (X @ X) @ X summed: 1500^4, to float32's accuracy over the sum.
        self.assertAlmostEqual(float(results["running"][1]) / 1500.0 ** 4, 1.0, delta=1e-3)

    def test_sigterm_while_loading_exits_0(self):
        root = repository("loading", {"blocked": ("", {"1/model.onnx": None})})
        log = os.path.join(LOGS, "cortadod_loading.log")
        with open(log, "w") as out:
            process = cortadod.subprocess.Popen(
                [CORTADOD] + cortadod._PORTS + ["--model-repository", root],
                stdout=out, stderr=cortadod.subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and "loading model 'blocked'" not in open(log).read():
                time.sleep(0.05)
            self.assertIn("loading model 'blocked'", open(log).read())
            time.sleep(0.5)  # the loader is now blocked opening the FIFO
            self.assertIsNone(process.poll())
            process.terminate()
            self.assertEqual(process.wait(timeout=20), 0)
            self.assertIn("while starting up", open(log).read())
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    def test_default_model_filename_stays_in_the_version_folder(self):
        relu = mlp_model().SerializeToString()
        root = repository("filenames", {
            "inside": ('default_model_filename: "net.onnx"\n', {"1/net.onnx": relu}),
            # A valid model one level up, which the file name would reach.
            "escape": ('default_model_filename: "../outside.onnx"\n', {"outside.onnx": relu}),
        })
        server = cortadod.start(CORTADOD, ["--model-repository", root],
                                os.path.join(LOGS, "cortadod_filenames.log"))
        self.addCleanup(lambda: self.assertEqual(server.stop(), 0))
        conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=30)
        conn.request("GET", "/v2/models/inside/ready")
        response = conn.getresponse()
        response.read()
        self.assertEqual(response.status, 200)
        conn.request("GET", "/v2/models/escape/ready")
        response = conn.getresponse()
        response.read()
        self.assertNotEqual(response.status, 200)
        conn.request("POST", "/v2/repository/index", "{}")
        index = {m["name"]: m for m in json.loads(conn.getresponse().read())}
        conn.close()
        self.assertEqual(index["inside"]["state"], "READY")
        self.assertNotEqual(index["escape"].get("state"), "READY")
        self.assertIn("must name a file inside the version folder", index["escape"]["reason"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
