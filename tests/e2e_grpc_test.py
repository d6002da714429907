"""End-to-end: cortadod over gRPC, driven by Triton's own clients.

Starts the real daemon on free ports in explicit model-control mode over a temporary Triton-layout
repository (a PyTorch export from testdata/, plus small ONNX models written here), then
drives it with `tritonclient.grpc` (pinned in tools/requirements.txt), with Triton's generated
protobuf stubs for what tritonclient cannot send (typed contents, malformed raw data), with
grpc.health.v1, with the `cortado` client subcommands and with a short perf_analyzer run.
Results are checked against `cortado run` and PyTorch's output for the same input.

usage: e2e_grpc_test.py CORTADOD CORTADO FIXTURE_DIR   (run by tests/e2e_grpc_test.sh)
"""
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import onnx
from onnx import TensorProto, helper

import grpc
import tritonclient.grpc as grpcclient
from tritonclient.grpc import service_pb2, service_pb2_grpc
from tritonclient.utils import InferenceServerException

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cortadod  # noqa: E402

CORTADOD, CORTADO, FIXTURE = (os.path.abspath(p) for p in sys.argv[1:4])
del sys.argv[1:4]

TMP = tempfile.mkdtemp(prefix="e2e_grpc_", dir=os.environ.get("TEST_TMPDIR"))
REPO = os.path.join(TMP, "repo")
LOG = os.path.join(os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR", TMP), "cortadod_grpc.log")


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


SERVER = None
URL = None
HTTP_URL = None
SERVER_EXIT = None


def setUpModule():
    global SERVER, URL, HTTP_URL
    os.makedirs(REPO)
    with open(os.path.join(FIXTURE, "model.onnx"), "rb") as f:
        publish("mlp", 1, f.read())
    publish("addone", 1, one_node_model("Add", TensorProto.FLOAT, 4, const=1.0))
    publish("echo", 1, one_node_model("Identity", TensorProto.STRING, 2))
    SERVER = cortadod.start(CORTADOD, ["--model-repository", REPO, "--model-control-mode",
                                       "explicit", "--load-model", "mlp", "--load-model", "echo"],
                            LOG)
    URL, HTTP_URL = SERVER.grpc_url, SERVER.http_url


def tearDownModule():
    global SERVER_EXIT
    if SERVER is not None and SERVER.poll() is None:
        SERVER_EXIT = SERVER.stop(timeout=60)
        if SERVER.killed:
            SERVER_EXIT = "killed after 60 s"
        print("cortadod exited with %s after SIGTERM" % SERVER_EXIT)
    elif SERVER is not None:
        SERVER_EXIT = "%s before SIGTERM" % SERVER.poll()
    shutil.rmtree(TMP, ignore_errors=True)


def dump_log():
    with open(LOG) as f:
        sys.stderr.write("---- cortadod log ----\n" + f.read()[-20000:] + "---- end of log ----\n")


class GrpcE2E(unittest.TestCase):
    def setUp(self):
        self.client = grpcclient.InferenceServerClient(URL)
        self.x = np.load(os.path.join(FIXTURE, "input.npy"))
        self.pytorch = np.load(os.path.join(FIXTURE, "output.npy"))

    def tearDown(self):
        # Whatever a test did, the server is still up and answering.
        self.assertIsNone(SERVER.poll(), "cortadod exited")
        self.assertTrue(self.client.is_server_live())

    def infer_mlp(self, x, **kwargs):
        inp = grpcclient.InferInput("input", list(x.shape), "FP32")
        inp.set_data_from_numpy(x)
        return self.client.infer("mlp", [inp], **kwargs)

    def assert_error(self, fn, code, *message_parts):
        with self.assertRaises(InferenceServerException) as cm:
            fn()
        e = cm.exception
        self.assertEqual(e.status(), "StatusCode." + code, e.message())
        for part in message_parts:
            self.assertIn(part, e.message())
        print("  %-16s %s" % (code, e.message()))
        return e

    def cortado_run(self, x):
        out = os.path.join(TMP, "run_out")
        x_path = os.path.join(TMP, "x.npy")
        np.save(x_path, x)
        subprocess.run([CORTADO, "run", "--model", os.path.join(FIXTURE, "model.onnx"),
                        "--input", "input=" + x_path, "--output-dir", out],
                       check=True, stdout=subprocess.DEVNULL)
        return np.load(os.path.join(out, "output.npy"))

    # -- health, metadata, configuration -------------------------------------------------------

    def test_health(self):
        self.assertTrue(self.client.is_server_live())
        self.assertTrue(self.client.is_server_ready())
        self.assertTrue(self.client.is_model_ready("mlp"))
        self.assertTrue(self.client.is_model_ready("mlp", "1"))
        self.assertFalse(self.client.is_model_ready("mlp", "2"))
        self.assertFalse(self.client.is_model_ready("nope"))
        with grpc.insecure_channel(URL) as channel:
            check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                        request_serializer=lambda b: b,
                                        response_deserializer=lambda b: b)
            self.assertEqual(check(b""), b"\x08\x01")  # status: SERVING
            service = b"inference.GRPCInferenceService"
            self.assertEqual(check(b"\x0a" + bytes([len(service)]) + service), b"\x08\x01")

    def test_metadata_and_config(self):
        server = self.client.get_server_metadata(as_json=True)
        self.assertEqual(server["name"], "cortado")
        self.assertTrue(server["version"])
        meta = self.client.get_model_metadata("mlp", as_json=True)
        self.assertEqual(meta["name"], "mlp")
        self.assertIn("1", meta["versions"])
        self.assertEqual([(t["name"], t["datatype"]) for t in meta["inputs"]], [("input", "FP32")])
        self.assertEqual(meta["inputs"][0]["shape"][-1], "64")
        self.assertEqual([(t["name"], t["datatype"]) for t in meta["outputs"]],
                         [("output", "FP32")])
        config = self.client.get_model_config("mlp", as_json=True)["config"]
        self.assertEqual(config["name"], "mlp")
        self.assertEqual(config["input"][0]["name"], "input")
        self.assertEqual(config["input"][0]["data_type"], "TYPE_FP32")
        self.assertEqual(config["output"][0]["name"], "output")

    # -- inference -----------------------------------------------------------------------------

    def test_infer_raw_matches_cortado_run_and_pytorch(self):
        result = self.infer_mlp(self.x, request_id="r-1")
        got = result.as_numpy("output")
        self.assertEqual(result.get_response().id, "r-1")
        self.assertEqual(result.get_response().model_version, "1")
        self.assertEqual(got.dtype, np.float32)
        self.assertEqual(got.shape, self.pytorch.shape)
        np.testing.assert_allclose(got, self.cortado_run(self.x), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(got, self.pytorch, rtol=0,
                                   atol=1e-4 * np.abs(self.pytorch).max())
        # One row alone gives that row's answer.
        one = self.infer_mlp(self.x[2:3]).as_numpy("output")
        np.testing.assert_allclose(one[0], got[2], rtol=1e-5, atol=1e-6)

    def test_infer_typed_contents(self):
        # tritonclient always sends raw bytes; Triton's generated stub sends typed contents.
        with grpc.insecure_channel(URL) as channel:
            stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
            request = service_pb2.ModelInferRequest(model_name="mlp", id="typed")
            inp = request.inputs.add(name="input", datatype="FP32", shape=list(self.x.shape))
            inp.contents.fp32_contents.extend(self.x.ravel().tolist())
            request.outputs.add(name="output")
            response = stub.ModelInfer(request)
        self.assertEqual(response.id, "typed")
        self.assertEqual(len(response.raw_output_contents), 1)  # answered raw, like Triton
        got = np.frombuffer(response.raw_output_contents[0], dtype=np.float32).reshape(
            list(response.outputs[0].shape))
        np.testing.assert_allclose(got, self.infer_mlp(self.x).as_numpy("output"), rtol=0, atol=0)

    def test_requested_outputs(self):
        result = self.infer_mlp(self.x, outputs=[grpcclient.InferRequestedOutput("output")])
        self.assertEqual([o.name for o in result.get_response().outputs], ["output"])
        self.assert_error(
            lambda: self.infer_mlp(self.x, outputs=[grpcclient.InferRequestedOutput("nope")]),
            "INVALID_ARGUMENT", "nope")

    def test_bytes_tensors(self):
        data = np.array([[b"hello", b""], [b"\x00\xffbin", "caf\u00e9".encode()]], dtype=np.object_)
        inp = grpcclient.InferInput("x", [2, 2], "BYTES")
        inp.set_data_from_numpy(data)
        result = self.client.infer("echo", [inp])
        self.assertEqual(result.get_output("y").datatype, "BYTES")
        self.assertEqual(result.as_numpy("y").tolist(), data.tolist())

    def test_stream_infer(self):
        results = queue.Queue()
        self.client.start_stream(callback=lambda result, error: results.put((result, error)))
        try:
            for i in range(3):
                inp = grpcclient.InferInput("input", [1, 64], "FP32")
                inp.set_data_from_numpy(self.x[i:i + 1])
                self.client.async_stream_infer("mlp", [inp], request_id="s-%d" % i)
            bad = grpcclient.InferInput("input", [1, 64], "FP32")
            bad.set_data_from_numpy(self.x[:1])
            self.client.async_stream_infer("nope", [bad], request_id="s-bad")
            got, errors = {}, []
            for _ in range(4):
                result, error = results.get(timeout=60)
                if error is not None:
                    errors.append(error)
                else:
                    got[result.get_response().id] = result.as_numpy("output")
        finally:
            self.client.stop_stream()
        self.assertEqual(sorted(got), ["s-0", "s-1", "s-2"])
        full = self.infer_mlp(self.x).as_numpy("output")
        for i in range(3):
            np.testing.assert_allclose(got["s-%d" % i][0], full[i], rtol=1e-5, atol=1e-6)
        self.assertEqual(len(errors), 1)
        self.assertIn("nope", errors[0].message())

    def test_statistics(self):
        self.infer_mlp(self.x)
        stats = self.client.get_inference_statistics("mlp", as_json=True)["model_stats"]
        self.assertEqual(stats[0]["name"], "mlp")
        self.assertGreaterEqual(int(stats[0].get("inference_count", 0)), 1)
        self.assertGreaterEqual(int(stats[0]["inference_stats"]["success"].get("count", 0)), 1)

    # -- repository ----------------------------------------------------------------------------

    def test_repository_load_unload(self):
        def index():
            return {m["name"]: m for m in
                    self.client.get_model_repository_index(as_json=True).get("models", [])}

        self.assertEqual(index()["mlp"].get("state"), "READY")
        self.assertIn("addone", index())
        self.assertFalse(self.client.is_model_ready("addone"))

        def infer_addone():
            inp = grpcclient.InferInput("x", [1, 4], "FP32")
            inp.set_data_from_numpy(np.arange(4, dtype=np.float32).reshape(1, 4))
            return self.client.infer("addone", [inp]).as_numpy("y")

        self.client.load_model("addone")
        self.assertTrue(self.client.is_model_ready("addone"))
        self.assertEqual(index()["addone"].get("state"), "READY")
        np.testing.assert_array_equal(infer_addone(), [[1, 2, 3, 4]])
        self.client.unload_model("addone")
        self.assertFalse(self.client.is_model_ready("addone"))
        self.assert_error(infer_addone, "NOT_FOUND", "addone")
        self.client.load_model("addone")
        np.testing.assert_array_equal(infer_addone(), [[1, 2, 3, 4]])
        self.client.unload_model("addone")
        self.assert_error(lambda: self.client.load_model("missing"), "NOT_FOUND", "missing")
        self.assertTrue(self.client.is_model_ready("mlp"))

    # -- bad input -----------------------------------------------------------------------------

    def test_bad_requests(self):
        x = self.x
        self.assert_error(lambda: self.client.infer(
            "nope", [self.mlp_input(x)]), "NOT_FOUND", "nope")
        self.assert_error(lambda: self.infer_mlp(x, model_version="9"), "NOT_FOUND", "9")
        self.assert_error(lambda: self.infer_mlp(x, model_version="abc"),
                          "INVALID_ARGUMENT", "abc")
        self.assert_error(lambda: self.client.infer(
            "../mlp", [self.mlp_input(x)]), "INVALID_ARGUMENT", "..")
        self.assert_error(lambda: self.client.infer(
            "a/b", [self.mlp_input(x)]), "INVALID_ARGUMENT")
        self.assert_error(lambda: self.client.load_model("../mlp"), "INVALID_ARGUMENT", "..")
        self.assert_error(lambda: self.client.get_model_metadata("../mlp"), "INVALID_ARGUMENT")

        wrong_name = grpcclient.InferInput("features", list(x.shape), "FP32")
        wrong_name.set_data_from_numpy(x)
        self.assert_error(lambda: self.client.infer("mlp", [wrong_name]),
                          "INVALID_ARGUMENT", "features")
        self.assert_error(lambda: self.infer_mlp(np.zeros((4, 32), np.float32)),
                          "INVALID_ARGUMENT", "input")
        wrong_dtype = grpcclient.InferInput("input", [2, 64], "FP64")
        wrong_dtype.set_data_from_numpy(np.zeros((2, 64), np.float64))
        self.assert_error(lambda: self.client.infer("mlp", [wrong_dtype]),
                          "INVALID_ARGUMENT", "input")

        # Raw bytes that do not match shape x datatype (tritonclient checks this itself, so
        # the request is built with Triton's generated stub).
        with grpc.insecure_channel(URL) as channel:
            stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
            for raw in (x.tobytes()[:-1], x.tobytes() + b"\0\0\0\0", b""):
                request = service_pb2.ModelInferRequest(model_name="mlp")
                request.inputs.add(name="input", datatype="FP32", shape=list(x.shape))
                request.raw_input_contents.append(raw)
                with self.assertRaises(grpc.RpcError) as cm:
                    stub.ModelInfer(request)
                self.assertEqual(cm.exception.code(), grpc.StatusCode.INVALID_ARGUMENT)
                self.assertIn("input 'input'", cm.exception.details())
                print("  %-16s %s" % ("INVALID_ARGUMENT", cm.exception.details()))

        # After all of that the model still serves correct answers.
        np.testing.assert_allclose(self.infer_mlp(x).as_numpy("output"), self.pytorch, rtol=0,
                                   atol=1e-4 * np.abs(self.pytorch).max())

    def mlp_input(self, x):
        inp = grpcclient.InferInput("input", list(x.shape), "FP32")
        inp.set_data_from_numpy(x)
        return inp

    # -- the cortado client subcommands ---------------------------------------------------------

    def cortado(self, *args, check=True, url=None):
        p = subprocess.run([CORTADO] + list(args) + ["--url", url or URL], capture_output=True,
                           text=True)
        if check and p.returncode != 0:
            self.fail("cortado %s exited %d: %s" % (" ".join(args), p.returncode, p.stderr))
        return p

    def test_cortado_cli(self):
        p = self.cortado("health")
        self.assertIn("live: true", p.stdout)
        self.assertIn("ready: true", p.stdout)
        self.assertIn("grpc.health.v1: SERVING", p.stdout)
        self.assertRegex(self.cortado("models").stdout, r"(?m)^mlp\s+1\s+READY")

        x_path = os.path.join(TMP, "cli_x.npy")
        np.save(x_path, self.x)
        out = os.path.join(TMP, "cli_out")
        p = self.cortado("infer", "--model", "mlp", "--input", "input=" + x_path,
                         "--output-dir", out)
        self.assertIn("output: float32 [4,10] -> ", p.stdout)
        np.testing.assert_allclose(np.load(os.path.join(out, "output.npy")),
                                   self.cortado_run(self.x), rtol=1e-6, atol=1e-6)
        p = self.cortado("infer", "--typed", "--model", "mlp", "--input", "input=" + x_path,
                         "--output-dir", out)
        np.testing.assert_allclose(np.load(os.path.join(out, "output.npy")),
                                   self.cortado_run(self.x), rtol=1e-6, atol=1e-6)

        # The same over HTTP/REST, binary tensors and JSON tensors.
        for extra in ([], ["--typed"]):
            self.cortado("infer", "--protocol", "http", "--model", "mlp", "--input",
                         "input=" + x_path, "--output-dir", out, *extra, url=HTTP_URL)
            np.testing.assert_allclose(np.load(os.path.join(out, "output.npy")),
                                       self.cortado_run(self.x), rtol=1e-6, atol=1e-6)
        p = self.cortado("health", "--protocol", "http", url=HTTP_URL)
        self.assertIn("ready: true", p.stdout)
        self.assertRegex(self.cortado("models", "--protocol", "http", url=HTTP_URL).stdout,
                         r"(?m)^mlp\s+1\s+READY")

        p = self.cortado("infer", "--model", "nope", "--input", "input=" + x_path,
                         "--output-dir", out, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertRegex(p.stderr, r"^cortado: error: .*nope")
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)

        self.cortado("load", "--model", "addone")
        self.assertRegex(self.cortado("models").stdout, r"(?m)^addone\s+1\s+READY")
        self.cortado("unload", "--model", "addone")
        self.assertFalse(self.client.is_model_ready("addone"))

    # -- perf_analyzer ---------------------------------------------------------------------------

    def test_perf_analyzer(self):
        venv_bin = os.path.dirname(sys.executable)
        perf = os.path.join(venv_bin, "perf_analyzer")
        self.assertTrue(os.path.exists(perf), "perf_analyzer missing from the venv: run tools/setup.sh")
        import nvidia.cuda_runtime  # ships the libcudart.so.12 that perf_analyzer links
        env = dict(os.environ)
        env["LD_LIBRARY_PATH"] = os.path.join(list(nvidia.cuda_runtime.__path__)[0], "lib")
        # Bounded by request count, not time; any spread of latencies counts as stable.
        common = [perf, "-m", "mlp", "-u", URL, "-i", "grpc", "--shape", "input:1,64",
                  "--measurement-mode", "count_windows", "--measurement-request-count", "50",
                  "--max-trials", "10", "--stability-percentage", "100"]
        for extra in (["--concurrency-range", "1:2"],  # ModelInfer
                      ["--concurrency-range", "2", "--streaming"]):  # ModelStreamInfer
            p = subprocess.run(common + extra, capture_output=True, text=True, env=env,
                               timeout=300)
            print(p.stdout[-3000:])
            self.assertEqual(p.returncode, 0,
                             "perf_analyzer %s failed:\n%s\n%s" % (extra, p.stdout, p.stderr))
            self.assertIn("Concurrency: 2, throughput:", p.stdout)


if __name__ == "__main__":
    result = unittest.main(exit=False, verbosity=2).result
    run = result.testsRun
    failed = len(result.failures) + len(result.errors)
    if SERVER_EXIT is not None and SERVER_EXIT != 0:  # SIGTERM must end it cleanly
        print("FAIL: cortadod exited with %s" % SERVER_EXIT)
        run += 1
        failed += 1
    if failed:
        dump_log()
    print("%d passed, %d failed" % (run - failed, failed))
    sys.exit(1 if failed else 0)
