"""Starting and stopping a real cortadod for the end-to-end tests and drivers.

start(cortadod, args, log_path) runs the daemon with every port 0 on 127.0.0.1 (it binds free
ones and logs them), its stdout and stderr both into log_path, waits until GET /v2/health/ready
answers 200 (over HTTPS with the ssl_context given, for --http-use-ssl), and returns a Server
with the addresses it logged. If it exits or is not ready within
the timeout, start kills it and raises RuntimeError with the end of the log.

Standard library only, so that drivers run by /usr/bin/python3 (server/reload_under_load.py) can
use it as well as the tests in the tools/setup.sh virtual environment. Not thread-safe: one
thread starts and stops a Server.
"""
import http.client
import re
import subprocess
import time

_PORTS = ["--http-address", "127.0.0.1", "--http-port", "0", "--grpc-address", "127.0.0.1",
          "--grpc-port", "0", "--metrics-address", "127.0.0.1", "--metrics-port", "0"]


class Server:
    """A started cortadod. http_url, grpc_url and metrics_url are "127.0.0.1:PORT" (None for an
    endpoint the log did not announce); the *_port attributes are the same ports as ints."""

    def __init__(self, process, log_path, http_port, grpc_port, metrics_port):
        self.process = process
        self.log_path = log_path
        self.http_port = http_port
        self.grpc_port = grpc_port
        self.metrics_port = metrics_port
        self.http_url, self.grpc_url, self.metrics_url = (
            None if p is None else "127.0.0.1:%d" % p for p in (http_port, grpc_port, metrics_port))
        self.killed = False  # set when stop() had to SIGKILL it

    def log(self):
        with open(self.log_path) as f:
            return f.read()

    def poll(self):
        """None while it runs, else its exit status."""
        return self.process.poll()

    def stop(self, timeout=30):
        """SIGTERM, then the exit status (it drains requests and exits 0); SIGKILL after timeout
        seconds (then killed is True and the status is -9)."""
        self.process.terminate()
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.killed = True
            self.process.kill()
            return self.process.wait()


def _port(pattern, text):
    m = re.search(pattern, text)
    return int(m.group(1)) if m else None


def _ready(port, ssl_context):
    conn = (http.client.HTTPConnection("127.0.0.1", port, timeout=5) if ssl_context is None else
            http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=ssl_context))
    try:
        conn.request("GET", "/v2/health/ready")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def start(cortadod, args, log_path, timeout=120, ssl_context=None):
    """Runs cortadod with the free-port flags, then args; see the module comment."""
    with open(log_path, "w") as log:
        process = subprocess.Popen([cortadod] + _PORTS + list(args), stdout=log,
                                   stderr=subprocess.STDOUT)
    deadline = time.monotonic() + timeout
    http_port = None
    while time.monotonic() < deadline and process.poll() is None:
        if http_port is None:
            with open(log_path) as f:
                http_port = _port(r"HTTP endpoint: https?://\S+:(\d+)", f.read())
        if http_port is not None and _ready(http_port, ssl_context):
            # The metrics and gRPC endpoints come up (and are logged) before the HTTP one.
            with open(log_path) as f:
                text = f.read()
            return Server(process, log_path, http_port,
                          _port(r"gRPC endpoint: \S+:(\d+)", text),
                          _port(r"metrics endpoint: http://\S+:(\d+)", text))
        time.sleep(0.2)
    status = process.poll()
    if status is None:
        process.kill()
        process.wait()
    with open(log_path) as f:
        raise RuntimeError("cortadod did not become ready (%s):\n---- cortadod log ----\n%s"
                           "---- end of log ----" % (
                               "not ready after %s s" % timeout if status is None
                               else "exit %s" % status, f.read()[-20000:]))
