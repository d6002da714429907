"""End-to-end: dynamic batching in a real cortadod, driven by Triton's own clients.

The PyTorch MLP export from testdata/ is served three times from a temporary repository:
"mlp" without dynamic batching, "mlp_batched" with it, and "mlp_small_queue" with a queue of 3.
Concurrent requests from tritonclient must run in fewer executions than inferences (Triton's
statistics and our Prometheus series say so), and every request must get its own rows' answer:
the unbatched model's within a millionth, a few float32 ulps (assert_same_rows), and PyTorch's
output. A full queue answers at once with HTTP 503 and gRPC UNAVAILABLE. A request whose HTTP
client closed its connection while it waited is dropped, not run.

usage: batching_test.py CORTADOD FIXTURE_DIR   (run by tests/batching_test.sh)
"""
import concurrent.futures
import http.client
import os
import re
import shutil
import sys
import tempfile
import time
import unittest

import numpy as np
import tritonclient.grpc as grpcclient
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cortadod  # noqa: E402

CORTADOD, FIXTURE = (os.path.abspath(p) for p in sys.argv[1:3])
del sys.argv[1:3]

TMP = tempfile.mkdtemp(prefix="batching_", dir=os.environ.get("TEST_TMPDIR"))
REPO = os.path.join(TMP, "repo")
LOG = os.path.join(os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR", TMP), "cortadod_batching.log")

IO = """
input [ { name: "input" data_type: TYPE_FP32 dims: [ 64 ] } ]
output [ { name: "output" data_type: TYPE_FP32 dims: [ 10 ] } ]
instance_group [ { count: 1 kind: KIND_CPU } ]
"""


def assert_same_rows(got, want):
    """A request's rows from a batch against the same rows run alone. The kernels may take
    another path for a batch of 4 rows than for 1 (the GEMM's row blocking), so the sums can
    round differently in the last bit (seen on AVX2: 7e-9 on values near 0.1); any other row's
    answer differs by orders of magnitude more."""
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=0)


CONFIGS = {
    "mlp": "max_batch_size: 16\n" + IO,
    # A short delay lets concurrent requests gather.
    "mlp_batched": "max_batch_size: 16\n" + IO + """
dynamic_batching { max_queue_delay_microseconds: 2000 }
""",
    # Requests wait up to 10 s for 4 rows; 4 rows go at once.
    "mlp_preferred": "max_batch_size: 16\n" + IO + """
dynamic_batching { preferred_batch_size: [ 4 ] max_queue_delay_microseconds: 10000000 }
""",
    # Three requests wait up to 10 s for a fourth row; the queue holds three.
    "mlp_small_queue": "max_batch_size: 16\n" + IO + """
dynamic_batching {
  preferred_batch_size: [ 16 ]
  max_queue_delay_microseconds: 10000000
  default_queue_policy { max_queue_size: 3 }
}
""",
    # Requests wait a second for company: time for a client to give up and go.
    "mlp_slow": "max_batch_size: 16\n" + IO + """
dynamic_batching { preferred_batch_size: [ 16 ] max_queue_delay_microseconds: 1000000 }
""",
}

SERVER = None
SERVER_EXIT = None


def setUpModule():
    global SERVER
    with open(os.path.join(FIXTURE, "model.onnx"), "rb") as f:
        model = f.read()
    for name, config in CONFIGS.items():
        os.makedirs(os.path.join(REPO, name, "1"))
        with open(os.path.join(REPO, name, "1", "model.onnx"), "wb") as f:
            f.write(model)
        with open(os.path.join(REPO, name, "config.pbtxt"), "w") as f:
            f.write(config)
    SERVER = cortadod.start(CORTADOD, ["--model-repository", REPO, "--infer-thread-count", "4"], LOG)


def tearDownModule():
    global SERVER_EXIT
    if SERVER is not None:
        SERVER_EXIT = SERVER.stop(timeout=60) if SERVER.poll() is None else SERVER.poll()
    shutil.rmtree(TMP, ignore_errors=True)


def metrics():
    conn = http.client.HTTPConnection("127.0.0.1", SERVER.metrics_port, timeout=10)
    try:
        conn.request("GET", "/metrics")
        return conn.getresponse().read().decode()
    finally:
        conn.close()


def metric(text, name, model, extra=""):
    m = re.search(r'^%s\{%smodel="%s",version="1"\} (\S+)$' % (name, extra, model), text,
                  re.MULTILINE)
    return float(m.group(1)) if m else None


def infer_grpc(model, x, client=None):
    client = client or grpcclient.InferenceServerClient(SERVER.grpc_url)
    inp = grpcclient.InferInput("input", list(x.shape), "FP32")
    inp.set_data_from_numpy(x)
    return client.infer(model, [inp]).as_numpy("output")


def stats(model):
    client = grpcclient.InferenceServerClient(SERVER.grpc_url)
    return client.get_inference_statistics(model, "1", as_json=True)["model_stats"][0]


class Batching(unittest.TestCase):
    def setUp(self):
        x = np.load(os.path.join(FIXTURE, "input.npy"))
        rng = np.random.default_rng(7)
        # 64 distinct rows: the fixture's 4 and 60 more of the same scale.
        self.x = np.concatenate([x, rng.standard_normal((60, 64)).astype(np.float32) * x.std()])
        self.pytorch = np.load(os.path.join(FIXTURE, "output.npy"))

    def tearDown(self):
        self.assertIsNone(SERVER.poll(), "cortadod exited")

    def unbatched(self, rows):
        """What the model without batching answers for each request, run one at a time."""
        return [infer_grpc("mlp", self.x[r]) for r in rows]

    def test_four_concurrent_requests_run_as_one_batch_of_the_preferred_size(self):
        rows = [slice(i, i + 1) for i in range(4)]  # the fixture's rows, one per request
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            got = list(pool.map(lambda r: infer_grpc("mlp_preferred", self.x[r]), rows))
        after = stats("mlp_preferred")
        for g, want in zip(got, self.unbatched(rows)):
            assert_same_rows(g, want)
        np.testing.assert_allclose(np.concatenate(got), self.pytorch, rtol=0,
                                   atol=1e-4 * np.abs(self.pytorch).max())
        print("  4 concurrent requests: %s inferences in %s execution(s)" % (
            after["inference_count"], after["execution_count"]))
        self.assertEqual((int(after["inference_count"]), int(after["execution_count"])), (4, 1))
        self.assertEqual([(int(b["batch_size"]), int(b["compute_infer"]["count"]))
                          for b in after["batch_stats"]], [(4, 1)])

    def test_many_concurrent_requests_are_batched_and_each_gets_its_rows(self):
        # 64 requests of 1 to 3 rows from 32 clients at once.
        sizes = [1 + i % 3 for i in range(64)]
        starts = np.cumsum([0] + sizes[:-1]) % 62
        rows = [slice(int(s), int(s) + n) for s, n in zip(starts, sizes)]
        before = stats("mlp_batched")
        clients = [grpcclient.InferenceServerClient(SERVER.grpc_url) for _ in range(32)]
        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            got = list(pool.map(lambda i: infer_grpc("mlp_batched", self.x[rows[i]],
                                                     clients[i % 32]), range(64)))
        after = stats("mlp_batched")
        for g, want in zip(got, self.unbatched(rows)):
            assert_same_rows(g, want)
        inferences = int(after["inference_count"]) - int(before.get("inference_count", 0))
        executions = int(after["execution_count"]) - int(before.get("execution_count", 0))
        print("  64 requests from 32 clients: %d inferences in %d executions; batch sizes %s" % (
            inferences, executions,
            sorted((int(b["batch_size"]), int(b["compute_infer"]["count"]))
                   for b in after["batch_stats"])))
        self.assertEqual(inferences, sum(sizes))
        self.assertLess(executions, 64)
        # Prometheus agrees with the statistics extension.
        text = metrics()
        self.assertEqual(metric(text, "cortado_inferences_total", "mlp_batched"),
                         int(after["inference_count"]))
        self.assertEqual(metric(text, "cortado_executions_total", "mlp_batched"),
                         int(after["execution_count"]))
        self.assertEqual(metric(text, "cortado_batch_size_count", "mlp_batched"),
                         int(after["execution_count"]))
        self.assertEqual(metric(text, "cortado_queue_duration_seconds_count", "mlp_batched"),
                         int(after["inference_stats"]["success"]["count"]))

    def test_a_full_queue_answers_at_once(self):
        http = httpclient.InferenceServerClient(SERVER.http_url, concurrency=3)
        inputs = []
        for i in range(3):
            inp = httpclient.InferInput("input", [1, 64], "FP32")
            inp.set_data_from_numpy(self.x[i:i + 1], binary_data=True)
            inputs.append(inp)
        t0 = time.monotonic()
        waiting = [http.async_infer("mlp_small_queue", [inp]) for inp in inputs]
        # The three wait (for 16 rows or 10 s); wait until the server holds them.
        while time.monotonic() - t0 < 8:
            if metric(metrics(), "cortado_queue_size", "mlp_small_queue") == 3:
                break
            time.sleep(0.05)
        self.assertEqual(metric(metrics(), "cortado_queue_size", "mlp_small_queue"), 3)
        refused_at = time.monotonic()
        with self.assertRaises(InferenceServerException) as cm:
            infer_grpc("mlp_small_queue", self.x[3:4])
        self.assertEqual(cm.exception.status(), "StatusCode.UNAVAILABLE")
        self.assertIn("exceeds the maximum queue size (3 requests waiting)", cm.exception.message())
        one = httpclient.InferenceServerClient(SERVER.http_url)
        inp = httpclient.InferInput("input", [1, 64], "FP32")
        inp.set_data_from_numpy(self.x[3:4], binary_data=True)
        with self.assertRaises(InferenceServerException) as cm:
            one.infer("mlp_small_queue", [inp])
        self.assertEqual(cm.exception.status(), "503")
        refused_in = time.monotonic() - refused_at
        print("  queue full: both refusals came in %.3f s, while three requests wait" % refused_in)
        self.assertEqual(metric(metrics(), "cortado_queue_size", "mlp_small_queue"), 3)
        # The three still run, as one batch, once the delay has passed.
        got = [w.get_result(timeout=60).as_numpy("output") for w in waiting]
        for g, want in zip(got, self.unbatched([slice(i, i + 1) for i in range(3)])):
            assert_same_rows(g, want)
        s = stats("mlp_small_queue")
        self.assertEqual((int(s["inference_count"]), int(s["execution_count"])), (3, 1))
        self.assertEqual(metric(metrics(), "cortado_inference_rejected_total", "mlp_small_queue",
                                'cause="queue_full",'), 2)
        http.close()

    def test_a_request_whose_http_client_has_gone_is_not_run(self):
        body = self.x[0:1].tobytes()
        header = ('{"inputs":[{"name":"input","shape":[1,64],"datatype":"FP32",'
                  '"parameters":{"binary_data_size":%d}}]}' % len(body)).encode()
        conn = http.client.HTTPConnection("127.0.0.1", SERVER.http_port, timeout=10)
        conn.request("POST", "/v2/models/mlp_slow/infer", header + body,
                     {"Inference-Header-Content-Length": str(len(header)),
                      "Content-Type": "application/octet-stream"})
        conn.close()  # gone before the second's queue delay is over
        deadline = time.monotonic() + 30
        cancelled = None
        while time.monotonic() < deadline and not cancelled:
            time.sleep(0.1)
            cancelled = metric(metrics(), "cortado_inference_rejected_total", "mlp_slow",
                               'cause="cancelled",')
        self.assertEqual(cancelled, 1)
        s = stats("mlp_slow")
        self.assertEqual(int(s.get("execution_count", 0)), 0)
        # A client that stays gets its answer from the same queue.
        assert_same_rows(infer_grpc("mlp_slow", self.x[0:1]), infer_grpc("mlp", self.x[0:1]))
        self.assertEqual(int(stats("mlp_slow")["execution_count"]), 1)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    run = result.testsRun
    failed = len(result.failures) + len(result.errors)
    if SERVER_EXIT not in (None, 0):
        print("FAIL: cortadod exited with %s" % SERVER_EXIT)
        run, failed = run + 1, failed + 1
    if failed:
        with open(LOG) as f:
            sys.stderr.write("---- cortadod log ----\n" + f.read()[-20000:] + "---- end ----\n")
    print("%d passed, %d failed" % (run - failed, failed))
    sys.exit(1 if failed else 0)
