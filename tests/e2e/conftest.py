"""End-to-end test harness: starts the real kawat binary on a free loopback
port with its own data folder, and talks to it over HTTP.

KAWAT_BIN names the binary (make e2e passes the ASan+UBSan build). A server
that exits with a sanitizer report, a leak or a non-zero status on SIGTERM
fails the test that started it.
"""
import http.client
import json
import os
import pathlib
import signal
import socket
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
KAWAT = os.environ.get("KAWAT_BIN") or str(ROOT / "build" / "asan" / "kawat")

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # dict, lower-case names
        self.body = body        # bytes

    @property
    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


class Server:
    """One kawat serve process with its own data folder."""

    def __init__(self, tmp_path, args=(), env=None):
        self.dir = pathlib.Path(tmp_path)
        self.data = self.dir / "data"
        self.port = free_port()
        self.args = list(args)
        self.env = dict(os.environ)
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1")
        self.env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1")
        for k in list(self.env):
            if k.startswith("KAWAT_") and k != "KAWAT_BIN":
                del self.env[k]
        if env:
            self.env.update(env)
        self.proc = None
        self.log_path = self.dir / "server.log"
        self.base = f"http://127.0.0.1:{self.port}"
        self._tokens = {}

    # -- process --------------------------------------------------------
    def start(self, wait=True):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [KAWAT, "serve", "--listen", f"127.0.0.1:{self.port}", "--data", str(self.data)]
            + self.args,
            stdout=self.log, stderr=self.log, env=self.env, cwd=str(ROOT))
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"kawat exited {self.proc.returncode}:\n{self.output()}")
            try:
                if self.get("/healthz").status == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("kawat did not become ready:\n" + self.output())

    def output(self):
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self, check=True):
        """SIGTERM and wait: a clean stop exits 0 with no sanitizer report."""
        if self.proc is None or self.proc.poll() is not None:
            rc = self.proc.returncode if self.proc else 0
        else:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("kawat did not stop within 30 s of SIGTERM")
        self.log.close()
        if check:
            out = self.output()
            for mark in SANITIZER_MARKS:
                assert mark not in out, f"sanitizer report:\n{out[-6000:]}"
            assert rc == 0, f"kawat exited {rc}:\n{out[-4000:]}"
        self.proc = None
        return rc

    def kill(self):
        """kill -9: no chance to clean up."""
        self.proc.kill()
        self.proc.wait()
        self.log.close()
        self.proc = None

    def restart(self):
        self.stop()
        self.port = self.port
        return self.start()

    # -- people ---------------------------------------------------------
    def kawat(self, *args, input=None, check=True, env=None):
        e = dict(self.env)
        if env:
            e.update(env)
        p = subprocess.run([KAWAT, *args], input=input, capture_output=True, text=True,
                           env=e, cwd=str(ROOT), timeout=60)
        if check:
            assert p.returncode == 0, f"kawat {args}: {p.returncode}\n{p.stdout}\n{p.stderr}"
            for mark in SANITIZER_MARKS:
                assert mark not in p.stderr, p.stderr
        return p

    def token(self, role, name=None, issuer=None):
        """A new token for a new user of role (cached per (role, name))."""
        key = (role, name, issuer)
        if key not in self._tokens:
            args = ["token", "create", "--data", str(self.data), "--role", role]
            if name:
                args += ["--name", name]
            if issuer:
                args += ["--issuer", issuer]
            self._tokens[key] = self.kawat(*args).stdout.strip()
        return self._tokens[key]

    # -- HTTP -----------------------------------------------------------
    def request(self, method, path, body=None, token=None, headers=None, timeout=30):
        h = {}
        if token:
            h["Authorization"] = f"Bearer {token}"
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        elif isinstance(body, str):
            body = body.encode()
        if headers:
            h.update(headers)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    # -- releases -------------------------------------------------------
    def create(self, token, **fields):
        body = {"headline": "Kawat test release", "body": "A body with a [link](https://example.com/).",
                "language": "en", "sectors": ["Business"], "regions": ["ID"]}
        body.update(fields)
        r = self.post("/v1/releases", body, token=token)
        assert r.status == 201, r
        return r.json()

    def publish(self, issuer, editor, **fields):
        """Create, submit and approve; returns the release JSON after approve."""
        rel = self.create(issuer, **fields)
        r = self.post(f"/v1/releases/{rel['id']}/submit", token=issuer)
        assert r.status == 200, r
        r = self.post(f"/v1/releases/{rel['id']}/approve", token=editor)
        assert r.status == 200, r
        return r.json()


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path).start()
    yield s
    if s.proc is not None:
        s.stop()


@pytest.fixture
def make_server(tmp_path):
    """Factory for servers with extra arguments; all are stopped (checked) after."""
    made = []

    def make(args=(), env=None, start=True, sub=None):
        d = tmp_path / (sub or f"s{len(made)}")
        d.mkdir(exist_ok=True)
        s = Server(d, args=args, env=env)
        made.append(s)
        return s.start() if start else s

    yield make
    for s in made:
        if s.proc is not None:
            s.stop()


@pytest.fixture
def issuer(server):
    return server.token("issuer", name="Acme Test Corp")


@pytest.fixture
def editor(server):
    return server.token("editor", name="Ed Editor")
