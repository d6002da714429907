"""Train, export, serve: the frontend's example publishes into a repository that a cortadod in
poll mode watches, while a client keeps sending inference requests.

1. The example trains on 640 images and publishes fashion_cnn version 1; cortadod starts on the
   repository (poll every second) and serves it.
2. Two client threads infer continuously over HTTP (Triton's tritonclient) while the example
   trains again (on 3200 images) and publishes version 2.
3. Once version 2 serves: no request failed; the served logits equal ONNX Runtime's on the
   published model.onnx; the served model's accuracy on the 10,000 test images equals the
   test_accuracy the example printed (from the eager model); the older version is unloaded
   (version policy latest 1); SIGTERM stops the server with exit 0.

usage: train_serve_test.py CORTADOD TRAIN_FASHION_MNIST   (run by tests/train_serve_test.sh)
"""
import gzip
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import numpy as np
import onnxruntime as ort
import tritonclient.http as httpclient

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cortadod  # noqa: E402

CORTADOD, TRAIN = (os.path.abspath(p) for p in sys.argv[1:3])
del sys.argv[1:3]
DATA = "/usr/share/datasets/fashion-mnist"
TMP = tempfile.mkdtemp(prefix="train_serve_", dir=os.environ.get("TEST_TMPDIR"))
OUT = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR", TMP)
REPO = os.path.join(TMP, "repo")


def test_images():
    with gzip.open(os.path.join(DATA, "t10k-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(os.path.join(DATA, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return ((images.astype(np.float32) / 255 - 0.2860) / 0.3530).astype(np.float32), labels


def train(limit, seed):
    """Runs the example; returns the test accuracy it printed."""
    result = subprocess.run(
        [TRAIN, "--epochs", "1", "--train_limit", str(limit), "--seed", str(seed),
         "--repository", REPO, "--model", "fashion_cnn"],
        capture_output=True, text=True, timeout=600)
    print(result.stdout, flush=True)
    if result.returncode != 0:
        raise RuntimeError("train_fashion_mnist failed:\n" + result.stderr[-3000:])
    lines = result.stdout.strip().splitlines()
    m = re.fullmatch(r"test_accuracy=(0\.\d{4})", lines[-1])
    if m is None:
        raise RuntimeError("last line is not test_accuracy=0.xxxx: %r" % lines[-1])
    return float(m.group(1))


def infer(client, batch, version=""):
    inp = httpclient.InferInput("image", list(batch.shape), "FP32")
    inp.set_data_from_numpy(batch, binary_data=True)
    response = client.infer("fashion_cnn", [inp], model_version=version)
    return response.get_response()["model_version"], response.as_numpy("logits")


class TrainServeTest(unittest.TestCase):
    def test_publish_under_load_and_serve(self):
        images, labels = test_images()
        train(640, seed=1)
        server = cortadod.start(CORTADOD, ["--model-repository", REPO, "--model-control-mode",
                                           "poll", "--repository-poll-secs", "1"],
                                os.path.join(OUT, "cortadod.log"))
        try:
            client = httpclient.InferenceServerClient(server.http_url)
            self.assertTrue(client.is_model_ready("fashion_cnn", "1"))
            stop = threading.Event()
            results = {"ok": 0, "failed": [], "versions": set()}
            lock = threading.Lock()

            def load(offset):
                own = httpclient.InferenceServerClient(server.http_url)
                i = offset
                while not stop.is_set():
                    try:
                        version, logits = infer(own, images[i % 9000:i % 9000 + 4])
                        assert logits.shape == (4, 10)
                        with lock:
                            results["ok"] += 1
                            results["versions"].add(version)
                    except Exception as e:  # any failure counts
                        with lock:
                            results["failed"].append(repr(e))
                    i += 7

            threads = [threading.Thread(target=load, args=(k * 1000,)) for k in range(2)]
            for t in threads:
                t.start()
            accuracy = train(3200, seed=2)
            deadline = time.monotonic() + 60
            while not client.is_model_ready("fashion_cnn", "2"):
                self.assertLess(time.monotonic(), deadline, "version 2 never became ready")
                time.sleep(0.2)
            time.sleep(1)
            stop.set()
            for t in threads:
                t.join()
            print("requests during the reload: %d ok, %d failed, versions %s" %
                  (results["ok"], len(results["failed"]), sorted(results["versions"])))
            self.assertEqual(results["failed"], [])
            self.assertGreater(results["ok"], 0)
            self.assertIn("2", results["versions"])

            # The served model is the published file: ONNX Runtime agrees on it.
            session = ort.InferenceSession(os.path.join(REPO, "fashion_cnn", "2", "model.onnx"))
            version, served = infer(client, images[:16])
            self.assertEqual(version, "2")
            expected = session.run(None, {"image": images[:16]})[0]
            err = float(np.abs(served - expected).max())
            print("served vs ONNX Runtime, 16 images: max abs error %.3g" % err)
            self.assertLess(err, 1e-4)

            # And it is the model the eager frontend evaluated.
            correct = 0
            for start in range(0, len(images), 500):
                _, logits = infer(client, images[start:start + 500])
                correct += int((logits.argmax(1) == labels[start:start + 500]).sum())
            served_accuracy = correct / len(images)
            print("served accuracy %.4f, eager test_accuracy %.4f" % (served_accuracy, accuracy))
            self.assertLessEqual(abs(served_accuracy - accuracy), 0.0011)
            self.assertFalse(client.is_model_ready("fashion_cnn", "1"))
        finally:
            code = server.stop()
        self.assertEqual(code, 0, server.log()[-3000:])


if __name__ == "__main__":
    unittest.main()
