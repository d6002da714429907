"""End-to-end: cortadod over HTTP/REST, driven by Triton's own HTTP client.

Starts the real daemon on free ports in explicit model-control mode over a temporary
Triton-layout repository (a PyTorch export from testdata/, plus small ONNX models
written here), with a small HTTP body limit, then drives it with `tritonclient.http` (pinned in
tools/requirements.txt): health, metadata, config, statistics, inference with JSON tensors and
with the binary tensor extension, the repository index, load and unload. Results are checked
against `cortado run` (the predictor) and PyTorch's output for the same input. What tritonclient
cannot send (malformed JSON, a binary header longer than the body, an oversized body) goes out
over plain http.client; every bad request must get its KServe status and an {"error": ...}
body, and the server must stay up.

usage: e2e_http_test.py CORTADOD CORTADO FIXTURE_DIR   (run by tests/e2e_http_test.sh)
"""
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

import numpy as np
from onnx import TensorProto, helper

import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cortadod  # noqa: E402

CORTADOD, CORTADO, FIXTURE = (os.path.abspath(p) for p in sys.argv[1:4])
del sys.argv[1:4]

TMP = tempfile.mkdtemp(prefix="e2e_http_", dir=os.environ.get("TEST_TMPDIR"))
REPO = os.path.join(TMP, "repo")
LOG = os.path.join(os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR", TMP), "cortadod_http.log")
BODY_LIMIT = 1 << 20  # --http-max-input-size

SERVER = None
PORT = None
URL = None


def publish(model, version, onnx_bytes, config=None):
    """Writes <repo>/<model>/<version>/model.onnx the documented way (temp folder, rename)."""
    model_dir = os.path.join(REPO, model)
    tmp = os.path.join(model_dir, ".tmp-%d" % version)
    os.makedirs(tmp)
    with open(os.path.join(tmp, "model.onnx"), "wb") as f:
        f.write(onnx_bytes)
    if config is not None:
        with open(os.path.join(model_dir, "config.pbtxt"), "w") as f:
            f.write(config)
    os.rename(tmp, os.path.join(model_dir, str(version)))


def one_node_model(op, dtype, width, const=None):
    inputs = ["x"]
    inits = []
    if const is not None:
        inits.append(helper.make_tensor("c", TensorProto.FLOAT, [], [const]))
        inputs.append("c")
    graph = helper.make_graph(
        [helper.make_node(op, inputs, ["y"])], "g",
        [helper.make_tensor_value_info("x", dtype, ["N", width])],
        [helper.make_tensor_value_info("y", dtype, ["N", width])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model.SerializeToString()


def dump_log():
    with open(LOG) as f:
        sys.stderr.write("---- cortadod log ----\n" + f.read()[-20000:] + "---- end of log ----\n")


def setUpModule():
    global SERVER, PORT, URL
    os.makedirs(REPO)
    with open(os.path.join(FIXTURE, "model.onnx"), "rb") as f:
        publish("mlp", 1, f.read())
    publish("addone", 1, one_node_model("Add", TensorProto.FLOAT, 4, const=1.0))
    publish("echo", 1, one_node_model("Identity", TensorProto.STRING, 2))
    SERVER = cortadod.start(CORTADOD, ["--model-repository", REPO, "--http-max-input-size",
                                       str(BODY_LIMIT), "--log-access", "--model-control-mode",
                                       "explicit", "--load-model", "mlp", "--load-model", "echo"],
                            LOG)
    PORT, URL = SERVER.http_port, SERVER.http_url


def tearDownModule():
    if SERVER is not None and SERVER.poll() is None:
        code = SERVER.stop(timeout=60)
        if SERVER.killed:
            code = "killed after 60 s"
        print("cortadod exited with %s after SIGTERM" % code)
        if code != 0:
            dump_log()
            raise RuntimeError("cortadod exited with %s after SIGTERM" % code)
    shutil.rmtree(TMP, ignore_errors=True)


def raw(method, path, body=b"", headers=None):
    """One request over plain http.client: (status, headers, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


class HttpE2E(unittest.TestCase):
    def setUp(self):
        self.client = httpclient.InferenceServerClient(URL)
        self.x = np.load(os.path.join(FIXTURE, "input.npy"))
        self.pytorch = np.load(os.path.join(FIXTURE, "output.npy"))

    def tearDown(self):
        # Whatever a test did, the server is still up and answering.
        self.assertIsNone(SERVER.poll(), "cortadod exited")
        self.assertTrue(self.client.is_server_live())
        self.client.close()

    def mlp_input(self, x, binary=True):
        inp = httpclient.InferInput("input", list(x.shape), "FP32")
        inp.set_data_from_numpy(x, binary_data=binary)
        return inp

    def infer_mlp(self, x, binary=True, **kwargs):
        return self.client.infer("mlp", [self.mlp_input(x, binary)], **kwargs)

    def assert_error(self, fn, status, *message_parts):
        with self.assertRaises(InferenceServerException) as cm:
            fn()
        e = cm.exception
        self.assertEqual(e.status(), str(status), e.message())
        for part in message_parts:
            self.assertIn(part, e.message())
        print("  %s %s" % (status, e.message()))
        return e

    def assert_raw_error(self, status, response, *message_parts):
        got_status, headers, body = response
        self.assertEqual(got_status, status, body)
        self.assertEqual(headers.get("content-type"), "application/json")
        error = json.loads(body)["error"]
        for part in message_parts:
            self.assertIn(part, error)
        print("  %s %s" % (status, error))

    def cortado_run(self, x):
        out = os.path.join(TMP, "run_out")
        x_path = os.path.join(TMP, "x.npy")
        np.save(x_path, x)
        subprocess.run([CORTADO, "run", "--model", os.path.join(FIXTURE, "model.onnx"),
                        "--input", "input=" + x_path, "--output-dir", out],
                       check=True, stdout=subprocess.DEVNULL)
        return np.load(os.path.join(out, "output.npy"))

    # -- health, metadata, configuration, statistics --------------------------------------------

    def test_health(self):
        self.assertTrue(self.client.is_server_live())
        self.assertTrue(self.client.is_server_ready())
        self.assertTrue(self.client.is_model_ready("mlp"))
        self.assertTrue(self.client.is_model_ready("mlp", "1"))
        self.assertFalse(self.client.is_model_ready("mlp", "2"))
        self.assertFalse(self.client.is_model_ready("nope"))
        self.assertFalse(self.client.is_model_ready("addone"))  # not loaded
        status, _, body = raw("GET", "/v2/health/ready")
        self.assertEqual((status, body), (200, b""))

    def test_access_log(self):
        # Requests the adapter answers itself get their line (with the HTTP status) from it.
        self.client.get_model_config("mlp")
        raw("POST", "/v2/models/mlp/infer", "{oops")
        wanted = [r"access protocol=http method=model_config model=mlp version=\"\" id=\"\" "
                  r"status=200 latency_ms=",
                  r"access protocol=http method=infer model=mlp version=\"\" id=\"\" "
                  r"status=400 latency_ms="]
        deadline = time.monotonic() + 10
        while True:
            with open(LOG) as f:
                log = f.read()
            missing = [w for w in wanted if not re.search(w, log)]
            if not missing:
                break
            self.assertLess(time.monotonic(), deadline, "no access-log line like %s" % missing)
            time.sleep(0.1)

    def test_metadata_and_config(self):
        server = self.client.get_server_metadata()
        self.assertEqual(server["name"], "cortado")
        self.assertTrue(server["version"])
        meta = self.client.get_model_metadata("mlp")
        self.assertEqual(meta["name"], "mlp")
        self.assertEqual(meta["versions"], ["1"])
        self.assertEqual([(t["name"], t["datatype"]) for t in meta["inputs"]], [("input", "FP32")])
        self.assertEqual(meta["inputs"][0]["shape"], [-1, 64])  # numbers, as Triton writes them
        self.assertEqual([(t["name"], t["datatype"]) for t in meta["outputs"]],
                         [("output", "FP32")])
        self.assertEqual(self.client.get_model_metadata("mlp", "1")["versions"], ["1"])
        config = self.client.get_model_config("mlp")  # the ModelConfig itself, as Triton
        self.assertEqual(config["name"], "mlp")
        self.assertIsInstance(config["max_batch_size"], int)
        self.assertEqual(config["input"][0]["name"], "input")
        self.assertEqual(config["input"][0]["data_type"], "TYPE_FP32")
        self.assertTrue(all(isinstance(d, int) for d in config["input"][0]["dims"]))
        self.assertEqual(config["input"][0]["dims"][-1], 64)
        self.assertEqual(config["output"][0]["name"], "output")

    def test_statistics(self):
        self.infer_mlp(self.x)
        stats = self.client.get_inference_statistics("mlp")["model_stats"]
        self.assertEqual(stats[0]["name"], "mlp")
        self.assertEqual(stats[0]["version"], "1")
        self.assertGreaterEqual(stats[0]["inference_count"], 1)
        self.assertGreaterEqual(stats[0]["inference_stats"]["success"]["count"], 1)
        for duration in ("fail", "queue", "compute_input", "compute_infer", "compute_output"):
            self.assertIn("ns", stats[0]["inference_stats"][duration])
        every = self.client.get_inference_statistics()["model_stats"]
        self.assertIn("mlp", [s["name"] for s in every])

    # -- inference -----------------------------------------------------------------------------

    def test_infer_binary_matches_cortado_run_and_pytorch(self):
        # tritonclient's defaults: binary input, and (no outputs named) binary_data_output.
        result = self.infer_mlp(self.x, request_id="r-1")
        got = result.as_numpy("output")
        response = result.get_response()
        self.assertEqual(response["id"], "r-1")
        self.assertEqual(response["model_name"], "mlp")
        self.assertEqual(response["model_version"], "1")
        self.assertIn("binary_data_size", response["outputs"][0]["parameters"])
        self.assertEqual(got.dtype, np.float32)
        self.assertEqual(got.shape, self.pytorch.shape)
        np.testing.assert_allclose(got, self.cortado_run(self.x), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(got, self.pytorch, rtol=0,
                                   atol=1e-4 * np.abs(self.pytorch).max())
        one = self.infer_mlp(self.x[2:3]).as_numpy("output")
        np.testing.assert_allclose(one[0], got[2], rtol=1e-5, atol=1e-6)
        # --log-access: one line per request, with the version that served it.
        line = re.compile(r"access protocol=http method=infer model=mlp version=1 id=r-1 "
                          r"status=OK latency_ms=[0-9.]+")
        deadline = time.monotonic() + 10
        while True:
            with open(LOG) as f:
                if line.search(f.read()):
                    break
            self.assertLess(time.monotonic(), deadline, "no access-log line for request r-1")
            time.sleep(0.1)

    def test_infer_json_tensors(self):
        binary = self.infer_mlp(self.x).as_numpy("output")
        result = self.infer_mlp(
            self.x, binary=False,
            outputs=[httpclient.InferRequestedOutput("output", binary_data=False)])
        out = result.get_response()["outputs"][0]
        self.assertIn("data", out)
        self.assertNotIn("parameters", out)
        got = result.as_numpy("output")
        self.assertEqual(got.shape, binary.shape)
        # JSON floats are written in shortest round-trip form: the same bits as binary.
        np.testing.assert_array_equal(got, binary)
        np.testing.assert_allclose(got, self.cortado_run(self.x), rtol=1e-6, atol=1e-6)
        # Nested "data" (row-major) is accepted as well as flat.
        body = json.dumps({"inputs": [{"name": "input", "shape": list(self.x.shape),
                                       "datatype": "FP32", "data": self.x.tolist()}]})
        status, headers, reply = raw("POST", "/v2/models/mlp/infer", body)
        self.assertEqual(status, 200, reply)
        self.assertEqual(headers["content-type"], "application/json")
        nested = json.loads(reply)["outputs"][0]
        np.testing.assert_array_equal(
            np.array(nested["data"], np.float32).reshape(nested["shape"]), binary)

    def test_mixed_binary_input_json_output(self):
        binary = self.infer_mlp(self.x).as_numpy("output")
        result = self.infer_mlp(
            self.x, binary=True,
            outputs=[httpclient.InferRequestedOutput("output", binary_data=False)])
        self.assertIn("data", result.get_response()["outputs"][0])
        np.testing.assert_array_equal(result.as_numpy("output"), binary)

    def test_bytes_tensors(self):
        data = np.array([[b"hello", b""], [b"\x00\xffbin", "caf\u00e9".encode()]],
                        dtype=np.object_)
        inp = httpclient.InferInput("x", [2, 2], "BYTES")
        inp.set_data_from_numpy(data)  # 4-byte length-prefixed, binary
        result = self.client.infer("echo", [inp])
        self.assertEqual(result.get_output("y")["datatype"], "BYTES")
        self.assertEqual(result.as_numpy("y").tolist(), data.tolist())
        text = np.array([["a", "bc"], ["d\u00e9", ""]], dtype=np.object_)
        inp = httpclient.InferInput("x", [2, 2], "BYTES")
        inp.set_data_from_numpy(text, binary_data=False)
        result = self.client.infer(
            "echo", [inp], outputs=[httpclient.InferRequestedOutput("y", binary_data=False)])
        self.assertEqual(result.get_response()["outputs"][0]["data"], ["a", "bc", "d\u00e9", ""])

    def test_requested_outputs(self):
        result = self.infer_mlp(self.x, outputs=[httpclient.InferRequestedOutput("output")])
        self.assertEqual([o["name"] for o in result.get_response()["outputs"]], ["output"])
        self.assert_error(
            lambda: self.infer_mlp(self.x, outputs=[httpclient.InferRequestedOutput("nope")]),
            400, "nope")

    # -- repository ----------------------------------------------------------------------------

    def test_repository_index_load_unload(self):
        def index():
            return {m["name"]: m for m in self.client.get_model_repository_index()}

        self.assertEqual(index()["mlp"]["state"], "READY")
        self.assertEqual(index()["mlp"]["version"], "1")
        self.assertIn("addone", index())
        self.assertNotEqual(index()["addone"].get("state"), "READY")

        def infer_addone():
            inp = httpclient.InferInput("x", [1, 4], "FP32")
            inp.set_data_from_numpy(np.arange(4, dtype=np.float32).reshape(1, 4))
            return self.client.infer("addone", [inp]).as_numpy("y")

        self.client.load_model("addone")
        self.assertTrue(self.client.is_model_ready("addone"))
        self.assertEqual(index()["addone"]["state"], "READY")
        np.testing.assert_array_equal(infer_addone(), [[1, 2, 3, 4]])
        self.client.unload_model("addone")
        self.assertFalse(self.client.is_model_ready("addone"))
        self.assert_error(infer_addone, 404, "addone")
        self.client.load_model("addone")
        np.testing.assert_array_equal(infer_addone(), [[1, 2, 3, 4]])
        self.client.unload_model("addone")
        self.assert_error(lambda: self.client.load_model("missing"), 404, "missing")
        self.assertTrue(self.client.is_model_ready("mlp"))
        status, _, body = raw("POST", "/v2/repository/index", '{"ready": true}')
        self.assertEqual(status, 200)
        ready = {m["name"] for m in json.loads(body)}
        self.assertIn("mlp", ready)
        self.assertNotIn("addone", ready)

    # -- bad input -----------------------------------------------------------------------------

    def test_unknown_model_or_version_and_bad_names(self):
        x = self.x
        self.assert_error(lambda: self.client.infer("nope", [self.mlp_input(x)]), 404, "nope")
        self.assert_error(lambda: self.infer_mlp(x, model_version="9"), 404, "9")
        self.assert_error(lambda: self.client.get_model_metadata("nope"), 404, "nope")
        self.assert_error(lambda: self.client.get_model_config("mlp", "9"), 404, "9")
        self.assert_error(lambda: self.infer_mlp(x, model_version="abc"), 400, "abc", "number")
        self.assert_error(lambda: self.client.get_model_metadata("mlp", "x1"), 400, "number")
        self.assert_error(lambda: self.client.infer("../mlp", [self.mlp_input(x)]), 400,
                          "model name")
        self.assert_error(lambda: self.client.infer("a/b", [self.mlp_input(x)]), 400,
                          "model name")
        self.assert_error(lambda: self.client.get_model_metadata(".."), 400, "model name")
        self.assert_error(lambda: self.client.load_model("../mlp"), 400, "model name")
        self.assert_raw_error(400, raw("GET", "/v2/models/%2E%2E/config"), "model name")
        self.assert_raw_error(400, raw("POST", "/v2/models/a%2Fb/infer", "{}"), "model name")
        self.assert_raw_error(404, raw("GET", "/v2/nothing/here"), "no endpoint")
        self.assert_raw_error(405, raw("GET", "/v2/models/mlp/infer"), "POST")

    def test_wrong_input_name_shape_dtype(self):
        x = self.x
        wrong_name = httpclient.InferInput("features", list(x.shape), "FP32")
        wrong_name.set_data_from_numpy(x)
        self.assert_error(lambda: self.client.infer("mlp", [wrong_name]), 400, "features")
        self.assert_error(lambda: self.infer_mlp(np.zeros((4, 32), np.float32)), 400, "input")
        self.assert_error(lambda: self.infer_mlp(np.zeros((4, 32), np.float32), binary=False),
                          400, "input")
        wrong_dtype = httpclient.InferInput("input", [2, 64], "FP64")
        wrong_dtype.set_data_from_numpy(np.zeros((2, 64), np.float64))
        self.assert_error(lambda: self.client.infer("mlp", [wrong_dtype]), 400, "input")
        # "data" that does not fill "shape".
        body = json.dumps({"inputs": [{"name": "input", "shape": [2, 64], "datatype": "FP32",
                                       "data": [0.0] * 127}]})
        self.assert_raw_error(400, raw("POST", "/v2/models/mlp/infer", body), "128 elements")
        # A value that is not of the datatype.
        body = json.dumps({"inputs": [{"name": "input", "shape": [1, 64], "datatype": "FP32",
                                       "data": ["a"] * 64}]})
        self.assert_raw_error(400, raw("POST", "/v2/models/mlp/infer", body), "FP32")
        # After all of that the model still serves correct answers.
        np.testing.assert_allclose(self.infer_mlp(x).as_numpy("output"), self.pytorch, rtol=0,
                                   atol=1e-4 * np.abs(self.pytorch).max())

    def test_malformed_json(self):
        self.assert_raw_error(400, raw("POST", "/v2/models/mlp/infer", '{"inputs": [{"name": '),
                              "malformed JSON")
        self.assert_raw_error(400, raw("POST", "/v2/models/mlp/infer", "[1, 2]"), "JSON object")
        self.assert_raw_error(400, raw("POST", "/v2/repository/index", "{"), "JSON object")

    def test_binary_header_length_beyond_body(self):
        header = json.dumps({"inputs": [{"name": "input", "shape": [1, 64], "datatype": "FP32",
                                         "parameters": {"binary_data_size": 256}}]}).encode()
        body = header + self.x[:1].tobytes()
        ok = raw("POST", "/v2/models/mlp/infer", body,
                 {"Inference-Header-Content-Length": str(len(header))})
        self.assertEqual(ok[0], 200, ok[2])  # well formed: accepted
        self.assert_raw_error(
            400, raw("POST", "/v2/models/mlp/infer", body,
                     {"Inference-Header-Content-Length": str(len(body) + 1)}),
            "Inference-Header-Content-Length")
        # The binary data that the header announces runs past the end of the body.
        self.assert_raw_error(
            400, raw("POST", "/v2/models/mlp/infer", body[:-4],
                     {"Inference-Header-Content-Length": str(len(header))}),
            "binary_data_size")
        self.assert_raw_error(
            400, raw("POST", "/v2/models/mlp/infer", body,
                     {"Inference-Header-Content-Length": "-5"}),
            "Inference-Header-Content-Length")

    def test_body_over_the_limit_is_413(self):
        big = np.zeros((BODY_LIMIT // (64 * 4) + 16, 64), np.float32)
        self.assert_error(lambda: self.infer_mlp(big), 413, str(BODY_LIMIT))
        self.assert_raw_error(413, raw("POST", "/v2/models/mlp/infer", b" " * (2 * BODY_LIMIT)),
                              "larger than the limit")
        # Just under the limit is fine.
        fits = np.zeros((BODY_LIMIT // (64 * 4) - 16, 64), np.float32)
        self.assertEqual(self.infer_mlp(fits).as_numpy("output").shape[0], fits.shape[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
