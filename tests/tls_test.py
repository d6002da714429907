"""TLS on cortadod's gRPC endpoint (--grpc-use-ssl, --grpc-use-ssl-mutual), with Python's
grpc client as the peer and certificates made here by the openssl tool: a client that trusts
the right CA (and, for mutual TLS, presents a certificate that CA signed) is served; one that
trusts another CA, presents no certificate, a certificate from another CA, or speaks plaintext
is refused; the daemon stays live throughout.

usage: tls_test.py CORTADOD REPOSITORY   (run by tests/tls_test.sh)
"""
import http.client
import os
import subprocess
import sys
import tempfile
import unittest

import grpc
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


class TlsTest(unittest.TestCase):

    def start(self, mutual):
        flags = ["--model-repository", REPOSITORY,
                 "--grpc-use-ssl-mutual" if mutual else "--grpc-use-ssl",
                 "--grpc-server-cert", os.path.join(TMP, "server.crt"),
                 "--grpc-server-key", os.path.join(TMP, "server.key")]
        if mutual:
            flags += ["--grpc-root-cert", os.path.join(TMP, "ca.crt")]
        server = cortadod.start(CORTADOD, flags, os.path.join(
            LOGS, "cortadod_tls_%s.log" % ("mutual" if mutual else "server")))
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
        server = self.start(mutual=False)
        self.assertIs(live(server, credentials()), True)
        self.assert_refused(server, live(server, credentials(ca="other_ca")))  # wrong CA
        self.assert_refused(server, live(server, None))  # plaintext
        self.assertIs(live(server, credentials()), True)

    def test_mutual_tls(self):
        server = self.start(mutual=True)
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

    def test_bad_tls_flags_exit_1(self):
        for flags in (["--grpc-use-ssl"],
                      ["--grpc-use-ssl", "--grpc-server-cert", os.path.join(TMP, "ca.key"),
                       "--grpc-server-key", os.path.join(TMP, "missing.key")]):
            result = subprocess.run([CORTADOD, "--model-repository", REPOSITORY, "--http-port",
                                     "0", "--grpc-port", "0", "--metrics-port", "0"] + flags,
                                    capture_output=True, text=True, timeout=120)
            self.assertEqual(result.returncode, 1, result.stderr[-2000:])


if __name__ == "__main__":
    unittest.main(verbosity=2)
