"""TLS on cortadod's gRPC endpoint (--grpc-use-ssl, --grpc-use-ssl-mutual) and HTTP endpoint
(--http-use-ssl, --http-use-ssl-mutual), with Python's grpc client and Triton's tritonclient.http
(HTTPS through gevent's ssl) and http.client as the peers, and certificates made here by the
openssl tool: a client that trusts the right CA (and, for mutual TLS, presents a certificate that
CA signed) is served; one that trusts another CA, presents no certificate, a certificate from
another CA, or speaks plaintext is refused; the daemon stays live throughout.

usage: tls_test.py CORTADOD REPOSITORY   (run by tests/tls_test.sh)
"""
import http.client
import os
import ssl
import subprocess
import sys
import tempfile
import unittest

import gevent.ssl
import grpc
import numpy as np
import tritonclient.http as httpclient
from tritonclient.grpc import service_pb2, service_pb2_grpc

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cortadod  # noqa: E402

CORTADOD, REPOSITORY = (os.path.abspath(p) for p in sys.argv[1:3])
del sys.argv[1:3]
TMP = tempfile.mkdtemp(prefix="tls_", dir=os.environ.get("TEST_TMPDIR"))
LOGS = os.environ.get("TEST_UNDECLARED_OUTPUTS_DIR", TMP)


def openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, cwd=TMP, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def make_ca(name):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
            "/CN=%s" % name, "-keyout", name + ".key", "-out", name + ".crt")


def make_cert(name, ca, san=None):
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=%s" % name,
            "-keyout", name + ".key", "-out", name + ".csr")
    args = ["x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key",
            "-CAcreateserial", "-days", "2", "-out", name + ".crt"]
    if san:
        with open(os.path.join(TMP, name + ".ext"), "w") as f:
            f.write("subjectAltName=%s\n" % san)
        args += ["-extfile", name + ".ext"]
    openssl(*args)


def read(name):
    with open(os.path.join(TMP, name), "rb") as f:
        return f.read()


def setUpModule():
    make_ca("ca")
    make_ca("other_ca")
    make_cert("server", "ca", san="IP:127.0.0.1")
    make_cert("client", "ca")
    make_cert("stranger", "other_ca")


def live(server, credentials):
    """ServerLive over a channel with `credentials` (None: plaintext); the RpcError or True."""
    target = server.grpc_url
    channel = (grpc.insecure_channel(target) if credentials is None
               else grpc.secure_channel(target, credentials))
    with channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        try:
            return stub.ServerLive(service_pb2.ServerLiveRequest(), timeout=20).live
        except grpc.RpcError as e:
            return e


def credentials(ca="ca", client=None):
    if client is None:
        return grpc.ssl_channel_credentials(root_certificates=read(ca + ".crt"))
    return grpc.ssl_channel_credentials(root_certificates=read(ca + ".crt"),
                                        private_key=read(client + ".key"),
                                        certificate_chain=read(client + ".crt"))


def https_context(ca="ca", client=None, module=ssl):
    """A client's TLS context (the stdlib's, or gevent's for tritonclient): trusts `ca`,
    presents `client`'s certificate if given."""
    context = module.create_default_context(cafile=os.path.join(TMP, ca + ".crt"))
    if client is not None:
        context.load_cert_chain(os.path.join(TMP, client + ".crt"),
                                os.path.join(TMP, client + ".key"))
    return context


def https_live(server, context):
    """GET /v2/health/live over HTTPS with `context`: the status, or the exception raised."""
    conn = http.client.HTTPSConnection("127.0.0.1", server.http_port, timeout=20,
                                       context=context)
    try:
        conn.request("GET", "/v2/health/live")
        return conn.getresponse().status
    except (OSError, http.client.HTTPException) as e:
        return e
    finally:
        conn.close()


def https_post(server, context, path, body):
    """POST `body` to `path` over HTTPS: the status and body of the answer; raises when none
    came."""
    conn = http.client.HTTPSConnection("127.0.0.1", server.http_port, timeout=20,
                                       context=context)
    try:
        conn.request("POST", path, body=body)
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


FEATURES = np.array([[0.1, -0.2, 0.3, 0.4], [1.5, 0.0, -1.0, 2.0]], dtype=np.float32)


def grpc_plaintext_reference(server):
    """example_mlp's answer to FEATURES over plaintext gRPC, to compare the HTTPS answer with."""
    with grpc.insecure_channel(server.grpc_url) as channel:
        stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
        request = service_pb2.ModelInferRequest(model_name="example_mlp")
        tensor = request.inputs.add(name="features", datatype="FP32", shape=list(FEATURES.shape))
        tensor.contents.fp32_contents.extend(FEATURES.ravel().tolist())
        response = stub.ModelInfer(request, timeout=30)
        return np.array(response.outputs[0].contents.fp32_contents or
                        np.frombuffer(response.raw_output_contents[0], np.float32)
                        ).reshape(list(response.outputs[0].shape))


def tritonclient_infer(server, context):
    """example_mlp's answer to FEATURES from tritonclient.http over HTTPS."""
    client = httpclient.InferenceServerClient(server.http_url, ssl=True,
                                              ssl_context_factory=lambda: context)
    try:
        inputs = [httpclient.InferInput("features", list(FEATURES.shape), "FP32")]
        inputs[0].set_data_from_numpy(FEATURES, binary_data=True)
        return client.infer("example_mlp", inputs).as_numpy("probabilities")
    finally:
        client.close()


class TlsTest(unittest.TestCase):

    def start(self, endpoint, mutual):
        """cortadod with TLS on `endpoint` ("grpc" or "http"), mutual or server-only."""
        flag = "--" + endpoint
        flags = ["--model-repository", REPOSITORY,
                 flag + ("-use-ssl-mutual" if mutual else "-use-ssl"),
                 flag + "-server-cert", os.path.join(TMP, "server.crt"),
                 flag + "-server-key", os.path.join(TMP, "server.key")]
        if mutual:
            flags += [flag + "-root-cert", os.path.join(TMP, "ca.crt")]
        # Readiness is asked over HTTPS when the HTTP endpoint has TLS.
        ready = https_context(client="client" if mutual else None) if endpoint == "http" else None
        server = cortadod.start(CORTADOD, flags, os.path.join(
            LOGS, "cortadod_%s_%s.log" % (endpoint, "mutual" if mutual else "server")),
            ssl_context=ready)
        self.addCleanup(lambda: self.assertEqual(server.stop(), 0))
        return server

    def assert_refused(self, server, result):
        self.assertIsInstance(result, grpc.RpcError)
        self.assertEqual(result.code(), grpc.StatusCode.UNAVAILABLE, result.details())
        self.assertIsNone(server.poll())
        conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=10)
        conn.request("GET", "/v2/health/live")
        self.assertEqual(conn.getresponse().status, 200)
        conn.close()

    def test_server_tls(self):
        server = self.start("grpc", mutual=False)
        self.assertIs(live(server, credentials()), True)
        self.assert_refused(server, live(server, credentials(ca="other_ca")))  # wrong CA
        self.assert_refused(server, live(server, None))  # plaintext
        self.assertIs(live(server, credentials()), True)

    def test_mutual_tls(self):
        server = self.start("grpc", mutual=True)
        self.assertIs(live(server, credentials(client="client")), True)
        # An inference over mutual TLS, checked against the model's shape.
        with grpc.secure_channel(server.grpc_url, credentials(client="client")) as channel:
            stub = service_pb2_grpc.GRPCInferenceServiceStub(channel)
            request = service_pb2.ModelInferRequest(model_name="example_mlp")
            tensor = request.inputs.add(name="features", datatype="FP32", shape=[2, 4])
            tensor.contents.fp32_contents.extend([0.1] * 8)
            response = stub.ModelInfer(request, timeout=30)
            self.assertEqual(list(response.outputs[0].shape), [2, 3])
        self.assert_refused(server, live(server, credentials()))  # no client certificate
        self.assert_refused(server, live(server, credentials(client="stranger")))  # other CA
        self.assert_refused(server, live(server, credentials(ca="other_ca", client="client")))
        self.assert_refused(server, live(server, None))

    def assert_https_refused(self, server, result, good):
        self.assertIsInstance(result, (ssl.SSLError, ConnectionError, http.client.HTTPException),
                              result)
        self.assertIsNone(server.poll())
        self.assertEqual(https_live(server, good), 200)

    def test_https(self):
        server = self.start("http", mutual=False)
        self.assertIn("HTTP endpoint: https://", server.log())
        good = https_context()
        self.assertEqual(https_live(server, good), 200)
        probabilities = tritonclient_infer(server, https_context(module=gevent.ssl))
        self.assertEqual(probabilities.shape, (2, 3))
        np.testing.assert_allclose(probabilities, grpc_plaintext_reference(server), rtol=1e-6)
        np.testing.assert_allclose(probabilities.sum(axis=1), [1, 1], rtol=1e-5)
        # A body over the endpoint's limit gets its 413, read after the whole body was sent
        # (http.client sends it all first): the server reads and discards the rest of it.
        for _ in range(3):
            status, body = https_post(server, good, "/v2/repository/index", b"[" * (1 << 20))
            self.assertEqual(status, 413, body)
            self.assertIn(b"larger than the limit of 65536 bytes", body)
        self.assertEqual(https_live(server, good), 200)
        # Another CA's client does not trust the server's certificate.
        refused = https_live(server, https_context(ca="other_ca"))
        self.assertIsInstance(refused, ssl.SSLCertVerificationError, refused)
        self.assert_https_refused(server, refused, good)
        # Plaintext HTTP to the HTTPS port gets no HTTP answer.
        conn = http.client.HTTPConnection("127.0.0.1", server.http_port, timeout=20)
        try:
            conn.request("GET", "/v2/health/live")
            plaintext = conn.getresponse()
        except (OSError, http.client.HTTPException) as e:
            plaintext = e
        conn.close()
        self.assert_https_refused(server, plaintext, good)

    def test_https_mutual(self):
        server = self.start("http", mutual=True)
        good = https_context(client="client")
        self.assertEqual(https_live(server, good), 200)
        probabilities = tritonclient_infer(server, https_context(client="client",
                                                                 module=gevent.ssl))
        np.testing.assert_allclose(probabilities, grpc_plaintext_reference(server), rtol=1e-6)
        for name, context in (("no client certificate", https_context()),
                              ("another CA's client", https_context(client="stranger")),
                              ("wrong CA", https_context(ca="other_ca", client="client"))):
            with self.subTest(name):
                self.assert_https_refused(server, https_live(server, context), good)

    def test_bad_tls_flags_exit_1(self):
        for flags in (["--grpc-use-ssl"],
                      ["--grpc-use-ssl", "--grpc-server-cert", os.path.join(TMP, "ca.key"),
                       "--grpc-server-key", os.path.join(TMP, "missing.key")],
                      ["--http-use-ssl"],
                      ["--http-use-ssl-mutual", "--http-server-cert",
                       os.path.join(TMP, "server.crt"), "--http-server-key",
                       os.path.join(TMP, "server.key")],
                      ["--http-use-ssl", "--http-server-cert", os.path.join(TMP, "ca.key"),
                       "--http-server-key", os.path.join(TMP, "missing.key")]):
            result = subprocess.run([CORTADOD, "--model-repository", REPOSITORY, "--http-port",
                                     "0", "--grpc-port", "0", "--metrics-port", "0"] + flags,
                                    capture_output=True, text=True, timeout=120)
            self.assertEqual(result.returncode, 1, result.stderr[-2000:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
