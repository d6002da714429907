"""Hostile input against a real cortadod: each attack of issue 10, then the daemon must still be
live, still serve, and its peak memory (VmHWM) must not have grown by more than the attack's
bytes justify.

Attacks: a megabyte of '[' to /v2/repository/index (it used to overflow the stack and kill the
daemon) and to /infer; deep nesting under the control body cap; a 250-byte HTTP request whose
binary BYTES input claims shape [33554432] with 8 bytes of data (it used to make the daemon touch
1 GiB before answering 400); the same bomb over gRPC in raw_input_contents and in typed
bytes_contents; an FP32 shape of 2^40 elements with 16 bytes.

usage: hostile_input_test.py CORTADOD REPOSITORY   (run by tests/hostile_input_test.sh)
"""
import http.client
import json
import os
import shutil
import socket
import struct
import sys
import tempfile
import unittest

import grpc
from tritonclient.grpc import service_pb2, service_pb2_grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cortadod  # noqa: E402

CORTADOD, REPOSITORY = (os.path.abspath(p) for p in sys.argv[1:3])
del sys.argv[1:3]

TMP = tempfile.mkdtemp(prefix="hostile_", dir=os.environ.get("TEST_TMPDIR"))
LOG = os.path.join(os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR", TMP), "cortadod_hostile.log")
# Peak RSS may grow by at most this much over a whole attack (the bomb used to add ~1 GiB).
MAX_GROWTH_KB = 48 * 1024
HEADER_TIMEOUT_S = 5  # --http-header-timeout-secs
MAX_CONNECTIONS = 8   # --http-max-connections
INFLIGHT_BUDGET = 2 << 20  # --max-inflight-bytes
ADMIN = {"Admin-Key": "s3cret"}  # the model-repository API is restricted to this header
SERVER = None


# example_mlp again, behind a queue policy that lets a request shorten its 10 s timeout.
POLICY_CONFIG = """
name: "mlp_policy"
max_batch_size: 8
input [ { name: "features" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "probabilities" data_type: TYPE_FP32 dims: [ 3 ] } ]
instance_group [ { count: 1 kind: KIND_CPU } ]
dynamic_batching {
  default_queue_policy {
    timeout_action: REJECT default_timeout_microseconds: 10000000 allow_timeout_override: true
  }
}
"""


def setUpModule():
    global SERVER
    repo = os.path.join(TMP, "repo")
    shutil.copytree(REPOSITORY, repo, copy_function=shutil.copyfile)
    os.chmod(repo, 0o755)
    os.makedirs(os.path.join(repo, "mlp_policy", "1"))
    shutil.copyfile(os.path.join(repo, "example_mlp", "1", "model.onnx"),
                    os.path.join(repo, "mlp_policy", "1", "model.onnx"))
    with open(os.path.join(repo, "mlp_policy", "config.pbtxt"), "w") as f:
        f.write(POLICY_CONFIG)
    SERVER = cortadod.start(CORTADOD, ["--model-repository", repo,
                                       "--http-header-timeout-secs", str(HEADER_TIMEOUT_S),
                                       "--http-max-connections", str(MAX_CONNECTIONS),
                                       "--max-inflight-bytes", str(INFLIGHT_BUDGET),
                                       "--http-restricted-api",
                                       "model-repository:admin-key=s3cret",
                                       "--grpc-restricted-protocol",
                                       "model-repository,statistics:admin-key=s3cret"], LOG)


def tearDownModule():
    if SERVER is not None:
        status = SERVER.stop()
        assert status == 0, "cortadod exited %s" % status


def status_kb(field):
    with open("/proc/%d/status" % SERVER.process.pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s in /proc status" % field)


def post(path, body, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", SERVER.http_port, timeout=60)
    try:
        conn.request("POST", path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


def infer_features():
    """A valid example_mlp request, JSON tensors."""
    return json.dumps({"inputs": [{"name": "features", "datatype": "FP32", "shape": [1, 4],
                                   "data": [0.1, 0.2, 0.3, 0.4]}]})


class HostileInputTest(unittest.TestCase):

    def setUp(self):
        # Warm up (first inference allocates the plan's arenas) so that peaks compare.
        status, _ = post("/v2/models/example_mlp/infer", infer_features())
        self.assertEqual(status, 200)
        self.hwm_before = status_kb("VmHWM")

    def tearDown(self):
        # Still alive, still serving, memory bounded.
        self.assertIsNone(SERVER.poll(), "cortadod died:\n" + SERVER.log()[-4000:])
        conn = http.client.HTTPConnection("127.0.0.1", SERVER.http_port, timeout=10)
        conn.request("GET", "/v2/health/live")
        self.assertEqual(conn.getresponse().status, 200)
        conn.close()
        status, body = post("/v2/models/example_mlp/infer", infer_features())
        self.assertEqual(status, 200, body)
        self.assertIn(b"probabilities", body)
        growth = status_kb("VmHWM") - self.hwm_before
        print("%s: peak RSS %d kB -> +%d kB" % (self.id().split(".")[-1], self.hwm_before, growth))
        self.assertLess(growth, MAX_GROWTH_KB)

    def test_megabyte_of_brackets_to_repository_index(self):
        status, body = post("/v2/repository/index", b"[" * (1 << 20), ADMIN)
        self.assertEqual(status, 413, body)
        self.assertIn(b"larger than the limit of 65536 bytes", body)

    def test_deep_nesting_under_the_control_cap(self):
        for path in ("/v2/repository/index", "/v2/repository/models/example_mlp/load"):
            status, body = post(path, b"[" * 60000, ADMIN)
            self.assertEqual(status, 400, body)
            self.assertIn(b"nested deeper than 128", body)
        status, body = post("/v2/repository/index", b'{"ready": true}', ADMIN)
        self.assertEqual(status, 200, body)
        self.assertIn(b"example_mlp", body)

    def test_megabyte_of_brackets_and_braces_to_infer(self):
        for body in (b"[" * (1 << 20), b'{"a":' * (1 << 18)):
            status, answer = post("/v2/models/example_mlp/infer", body)
            self.assertEqual(status, 400, answer)
            self.assertIn(b"nested deeper than 128", answer)

    def test_extreme_json_numbers(self):
        # Numbers that made RapidJSON's full-precision parser read out of bounds (a crash) or
        # hit undefined behaviour: now parsed (or refused) like any other.
        # The fuzzer's crashing input (server/fuzz/corpus/kserve_wire_fuzzer/
        # rapidjson_full_precision_oob), 385 bytes.
        number = "-215552555555555525555555555552.22555555" + "0" * 332 + "82434487e-702"
        for data in (number, "0e99", "1e-99999999999", "1" * 400):
            body = ('{"inputs":[{"name":"features","datatype":"FP32","shape":[1,4],'
                    '"data":[%s,1,2,3]}]}' % data)
            status, answer = post("/v2/models/example_mlp/infer", body)
            self.assertIn(status, (200, 400), answer)

    def test_binary_bytes_shape_bomb(self):
        header = json.dumps({"inputs": [{"name": "features", "datatype": "BYTES",
                                         "shape": [33554432],
                                         "parameters": {"binary_data_size": 8}}]}).encode()
        body = header + struct.pack("<I", 4) + b"abcd"
        self.assertLess(len(body), 250)
        status, answer = post("/v2/models/example_mlp/infer", body,
                              {"Inference-Header-Content-Length": str(len(header))})
        self.assertEqual(status, 400, answer)
        self.assertIn(b"needs 33554432 BYTES elements, the data holds 1", answer)

    def test_binary_fp32_shape_bomb(self):
        header = json.dumps({"inputs": [{"name": "features", "datatype": "FP32",
                                         "shape": [1 << 20, 1 << 20],
                                         "parameters": {"binary_data_size": 16}}]}).encode()
        status, answer = post("/v2/models/example_mlp/infer", header + b"\0" * 16,
                              {"Inference-Header-Content-Length": str(len(header))})
        self.assertEqual(status, 400, answer)

    def test_json_data_shape_bomb(self):
        body = json.dumps({"inputs": [{"name": "features", "datatype": "BYTES",
                                       "shape": [33554432], "data": ["a", "b"]}]})
        status, answer = post("/v2/models/example_mlp/infer", body)
        self.assertEqual(status, 400, answer)
        self.assertIn(b"33554432 elements but \\\"data\\\" has 2", answer)

    def grpc_infer(self, request):
        with grpc.insecure_channel(SERVER.grpc_url) as channel:
            stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
            with self.assertRaises(grpc.RpcError) as caught:
                stub.ModelInfer(request, timeout=60)
        return caught.exception

    def test_grpc_raw_bytes_shape_bomb(self):
        request = service_pb2.ModelInferRequest(model_name="example_mlp")
        tensor = request.inputs.add(name="features", datatype="BYTES", shape=[33554432])
        del tensor
        request.raw_input_contents.append(struct.pack("<I", 4) + b"abcd")
        error = self.grpc_infer(request)
        self.assertEqual(error.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("needs 33554432 BYTES elements, the data holds 1", error.details())

    def test_grpc_typed_bytes_shape_bomb(self):
        request = service_pb2.ModelInferRequest(model_name="example_mlp")
        tensor = request.inputs.add(name="features", datatype="BYTES", shape=[33554432])
        tensor.contents.bytes_contents.extend([b"a", b"b"])
        error = self.grpc_infer(request)
        self.assertEqual(error.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("needs 33554432 elements", error.details())

    def executions(self, model):
        conn = http.client.HTTPConnection("127.0.0.1", SERVER.http_port, timeout=10)
        conn.request("GET", "/v2/models/%s/stats" % model)
        stats = json.loads(conn.getresponse().read())["model_stats"][0]
        conn.close()
        return stats["execution_count"], stats["inference_stats"]["fail"]["count"]

    def test_expired_timeout_is_answered_without_running(self):
        # KServe's "timeout" parameter (1 us, shorter than the policy's 10 s) has always passed
        # by the time a worker takes the request: 503 over HTTP, UNAVAILABLE over gRPC, and the
        # model never runs (its execution count stays put while its failures grow).
        executions, failures = self.executions("mlp_policy")
        body = json.loads(infer_features())
        body["parameters"] = {"timeout": 1}
        status, answer = post("/v2/models/mlp_policy/infer", json.dumps(body))
        self.assertEqual(status, 503, answer)
        self.assertIn(b"request timeout expired", answer)
        request = service_pb2.ModelInferRequest(model_name="mlp_policy")
        request.parameters["timeout"].int64_param = 1
        tensor = request.inputs.add(name="features", datatype="FP32", shape=[1, 4])
        tensor.contents.fp32_contents.extend([0.1, 0.2, 0.3, 0.4])
        error = self.grpc_infer(request)
        self.assertEqual(error.code(), grpc.StatusCode.UNAVAILABLE)
        self.assertIn("request timeout expired", error.details())
        self.assertEqual(self.executions("mlp_policy"), (executions, failures + 2))
        conn = http.client.HTTPConnection("127.0.0.1", SERVER.metrics_port, timeout=10)
        conn.request("GET", "/metrics")
        metrics = conn.getresponse().read().decode()
        conn.close()
        self.assertRegex(metrics, r'cortado_inference_rejected_total\{cause="timeout",'
                                  r'model="mlp_policy",version="1"\} [1-9]')
        # Without the parameter the policy's 10 s leave plenty of time.
        status, answer = post("/v2/models/mlp_policy/infer", infer_features())
        self.assertEqual(status, 200, answer)
        self.assertEqual(self.executions("mlp_policy")[0], executions + 1)

    def test_bad_overload_parameters(self):
        body = json.loads(infer_features())
        body["parameters"] = {"timeout": -5}
        status, answer = post("/v2/models/mlp_policy/infer", json.dumps(body))
        self.assertEqual(status, 400, answer)
        self.assertIn(b'parameter \\"timeout\\" must be a non-negative integer', answer)

    def test_slowloris_header_is_cut_off(self):
        # One header byte a second: the connection is closed once the header timeout passes,
        # well before the header could ever complete.
        s = socket.create_connection(("127.0.0.1", SERVER.http_port), timeout=30)
        s.sendall(b"GET /v2/health/live HTTP/1.1\r\n")
        closed = False
        for _ in range(4 * HEADER_TIMEOUT_S):
            try:
                s.sendall(b"X")
                s.settimeout(1)
                if s.recv(1024) == b"":
                    closed = True
                    break
            except socket.timeout:
                continue
            except OSError:  # reset: closed as well
                closed = True
                break
        s.close()
        self.assertTrue(closed, "a trickled header kept its connection open")

    def test_connection_cap(self):
        # Idle connections up to the cap are held open; the next one gets 503 and is closed.
        held, refused = [], None
        try:
            for _ in range(MAX_CONNECTIONS + 4):
                s = socket.create_connection(("127.0.0.1", SERVER.http_port), timeout=10)
                s.settimeout(0.2)
                try:
                    data = s.recv(4096)
                except socket.timeout:
                    held.append(s)
                    continue
                refused = data
                s.close()
                break
            self.assertIsNotNone(refused, "no connection was refused")
            self.assertTrue(refused.startswith(b"HTTP/1.1 503"), refused)
            self.assertIn(b"too many connections", refused)
            self.assertLessEqual(len(held), MAX_CONNECTIONS)
        finally:
            for s in held:
                s.close()
        # Once they are gone, connections are accepted again (tearDown infers).
        for _ in range(50):
            status, _ = post("/v2/repository/index", b"", ADMIN)
            if status == 200:
                break

    def test_pipelined_flood(self):
        # 500 requests in one write: each is read and answered in turn (one at a time per
        # connection), all of them, in order.
        n = 500
        body = infer_features().encode()
        request = (b"POST /v2/models/example_mlp/infer HTTP/1.1\r\nHost: x\r\n"
                   b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                   % (len(body), body))
        s = socket.create_connection(("127.0.0.1", SERVER.http_port), timeout=60)
        s.sendall(request * (n - 1) + request.replace(b"Host: x", b"Host: x\r\nConnection: close"))
        received = b""
        while True:
            chunk = s.recv(1 << 16)
            if not chunk:
                break
            received += chunk
        s.close()
        self.assertEqual(received.count(b"HTTP/1.1 200 OK"), n)
        self.assertEqual(received.count(b"probabilities"), n)

    def test_request_over_the_inflight_budget(self):
        # A body that does not fit the server's budget of bytes in flight is refused from its
        # Content-Length, before it is read: 503 over HTTP, UNAVAILABLE over gRPC.
        big = b"{" + b" " * (INFLIGHT_BUDGET + 1) + b"}"
        status, answer = post("/v2/models/example_mlp/infer", big)
        self.assertEqual(status, 503, answer[:200])
        self.assertIn(b"the server is overloaded", answer)
        request = service_pb2.ModelInferRequest(model_name="example_mlp", id="x" * INFLIGHT_BUDGET)
        tensor = request.inputs.add(name="features", datatype="FP32", shape=[1, 4])
        tensor.contents.fp32_contents.extend([0.1, 0.2, 0.3, 0.4])
        error = self.grpc_infer(request)
        self.assertEqual(error.code(), grpc.StatusCode.UNAVAILABLE)
        self.assertIn("the server is overloaded", error.details())

    def test_restricted_api_needs_its_key(self):
        for headers in ({}, {"Admin-Key": "guess"}, {"Other-Key": "s3cret"}):
            status, answer = post("/v2/repository/index", b"", headers)
            self.assertEqual(status, 403, answer)
            self.assertIn(b"the model-repository API is restricted", answer)
            self.assertNotIn(b"s3cret", answer)
        status, answer = post("/v2/repository/index", b"", {"admin-key": "s3cret"})
        self.assertEqual(status, 200, answer)
        with grpc.insecure_channel(SERVER.grpc_url) as channel:
            stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
            for call, request in ((stub.RepositoryIndex, service_pb2.RepositoryIndexRequest()),
                                  (stub.ModelStatistics, service_pb2.ModelStatisticsRequest())):
                for metadata in ((), (("admin-key", "guess"),)):
                    with self.assertRaises(grpc.RpcError) as caught:
                        call(request, metadata=metadata, timeout=30)
                    self.assertEqual(caught.exception.code(), grpc.StatusCode.PERMISSION_DENIED)
                call(request, metadata=(("admin-key", "s3cret"),), timeout=30)
            # Unrestricted categories need nothing.
            self.assertTrue(stub.ServerLive(service_pb2.ServerLiveRequest(), timeout=30).live)

    def test_truncated_request_then_close(self):
        # A header promising a body that never comes, then a close: no answer owed, no leak.
        s = socket.create_connection(("127.0.0.1", SERVER.http_port), timeout=10)
        s.sendall(b"POST /v2/models/example_mlp/infer HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Length: 100000000\r\n\r\n[[[[")
        s.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
