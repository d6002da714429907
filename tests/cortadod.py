"""Starting and stopping a real cortadod for the end-to-end tests.

start(cortadod, args, log_path) runs the daemon with every port 0 (it binds free ones and logs
them), waits until /v2/health/ready answers, and returns a Server with the HTTP address.
"""
import re
import subprocess
import time

import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException


class Server:
    def __init__(self, process, http_url, log_path):
        self.process = process
        self.http_url = http_url
        self.log_path = log_path

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        """SIGTERM, then the exit status (it drains requests and exits 0)."""
        self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def start(cortadod, args, log_path, timeout=120):
    ports = ["--http-address", "127.0.0.1", "--http-port", "0", "--grpc-address", "127.0.0.1",
             "--grpc-port", "0", "--metrics-address", "127.0.0.1", "--metrics-port", "0"]
    with open(log_path, "w") as log:
        process = subprocess.Popen([cortadod] + ports + list(args), stdout=log,
                                   stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    url = client = None
    while time.monotonic() < deadline and process.poll() is None:
        if url is None:
            with open(log_path) as f:
                m = re.search(r"HTTP endpoint: http://\S+:(\d+)", f.read())
            if m:
                url = "127.0.0.1:%s" % m.group(1)
                client = httpclient.InferenceServerClient(url)
        if client is not None:
            try:
                if client.is_server_ready():
                    return Server(process, url, log_path)
            except (InferenceServerException, ConnectionError, OSError):
                pass
        time.sleep(0.2)
    process.kill()
    with open(log_path) as f:
        raise RuntimeError("cortadod did not become ready (exit %s):\n%s" %
                           (process.poll(), f.read()[-5000:]))
