"""Hot reload of a model placed on the OpenCL plug-in. cortadod runs in poll mode with
--backend-plugin-dir holding opencl_plugin.so and serves testdata's mlp (Gemm, Relu, Gemm, Relu,
Gemm, Softmax) at graph level 0, so that every node is the plug-in's. A client keeps inferring
while version 2 is published; every answer must match PyTorch's (testdata/onnx/mlp/output.npy,
max |error| <= 1e-4 * max |output|), both versions must answer, none may fail. PoCL's debug log
counts the kernels created: one per node and request, 6 per request, shows all ran on OpenCL.

args: CORTADOD OPENCL_PLUGIN CORTADOD_PY
"""
import importlib.util
import os
import shutil
import sys
import tempfile
import threading
import time

import numpy as np
import tritonclient.http as http

cortadod_bin, plugin, helper = sys.argv[1:4]
spec = importlib.util.spec_from_file_location("cortadod", helper)
cortadod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cortadod)

fixture = os.path.join(os.environ.get("TEST_SRCDIR", ""), "cortado", "testdata", "onnx", "mlp")
x = np.load(os.path.join(fixture, "input.npy"))
want = np.load(os.path.join(fixture, "output.npy"))
bound = 1e-4 * float(np.abs(want).max())

work = tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR"))
repo, plugins = os.path.join(work, "repo"), os.path.join(work, "plugins")
os.makedirs(os.path.join(repo, "mlp", "1"))
os.makedirs(plugins)
shutil.copy(plugin, plugins)
shutil.copy(os.path.join(fixture, "model.onnx"), os.path.join(repo, "mlp", "1"))
with open(os.path.join(repo, "mlp", "config.pbtxt"), "w") as f:
    f.write('name: "mlp"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 8\n'
            'input [ { name: "input" data_type: TYPE_FP32 dims: [ 64 ] } ]\n'
            'output [ { name: "output" data_type: TYPE_FP32 dims: [ -1 ] } ]\n'
            'optimization { graph { level: 0 } }\n')

# PoCL needs a writable kernel cache; its debug log names every kernel it creates.
os.environ["POCL_CACHE_DIR"] = work
os.environ["POCL_DEBUG"] = "all"
log_path = os.path.join(work, "cortadod.log")
server = cortadod.start(cortadod_bin, ["--model-repository", repo, "--model-control-mode", "poll",
                                       "--repository-poll-secs", "1", "--backend-plugin-dir",
                                       plugins], log_path)
counts, bad = {}, []
try:
    assert "backend 'opencl' (API 1, priority 40)" in server.log(), "the plug-in was not loaded"

    def infer(client):
        i = http.InferInput("input", list(x.shape), "FP32")
        i.set_data_from_numpy(x)
        r = client.infer("mlp", [i])
        version = r.get_response()["model_version"]
        err = float(np.abs(r.as_numpy("output") - want).max())
        counts[version] = counts.get(version, 0) + 1
        if err > bound:
            bad.append((version, err))

    first = http.InferenceServerClient(server.http_url)
    for _ in range(20):
        infer(first)
    stop = False

    def loop():  # its own client: tritonclient's HTTP client stays on one thread
        client = http.InferenceServerClient(server.http_url)
        while not stop:
            try:
                infer(client)
            except Exception as e:  # a failed request fails the test below
                bad.append(str(e))

    t = threading.Thread(target=loop)
    t.start()
    os.makedirs(os.path.join(repo, "mlp", "2"))
    shutil.copy(os.path.join(fixture, "model.onnx"), os.path.join(repo, "mlp", "2"))
    deadline = time.time() + 60
    while counts.get("2", 0) < 20 and time.time() < deadline:
        time.sleep(0.1)
    stop = True
    t.join()
finally:
    status = server.stop()
log = open(log_path).read()
kernels = log.count("in fn POclCreateKernel")
requests = sum(counts.values())
print(f"requests by version {counts}, failed or wrong {len(bad)} {bad[:3]}")
print(f"OpenCL kernels created {kernels} for {requests} requests ({kernels / requests:.2f} each)")
print(f"cortadod exit status {status}")
assert not bad, bad
assert counts.get("1", 0) >= 20 and counts.get("2", 0) >= 20, counts
assert "version 2 loaded" in log and "version 1 unloaded" in log
assert kernels == 6 * requests, (kernels, requests)
assert status == 0
print("PASS")
