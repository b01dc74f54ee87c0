"""`kawat serve` as an operator sees it: graceful stop on SIGTERM/SIGINT,
the access log, /healthz and /metrics, settings from file, environment and
flags, bad settings, --help, unknown commands."""
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import KAWAT, ROOT, Response, free_port


def get_async(server, path, token=None, timeout=60):
    """Starts a GET in a thread; returns (thread, result dict)."""
    out = {}

    def run():
        t0 = time.time()
        try:
            out["r"] = server.get(path, token=token, timeout=timeout)
        except Exception as e:  # noqa: BLE001 -- reported by the test
            out["error"] = e
        out["took"] = time.time() - t0

    t = threading.Thread(target=run)
    t.start()
    return t, out


def metric(server, name):
    r = server.get("/metrics")
    assert r.status == 200, r
    for line in r.text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"no metric {name}:\n{r.text}")


def wait_for(pred, timeout=10, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


# -- graceful stop ------------------------------------------------------------

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_answers_long_poll_and_exits_0(server, sig):
    polls = [get_async(server, "/v1/wire?wait=30") for _ in range(3)]
    wait_for(lambda: metric(server, "kawat_wire_pollers") == 3, what="3 parked polls")
    # An idle keep-alive connection must not hold the stop up.
    idle = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    assert idle.recv(4096).startswith(b"HTTP/1.1 200")

    t0 = time.time()
    server.proc.send_signal(sig)
    for t, out in polls:
        t.join(10)
        assert "r" in out, out
        r = out["r"]
        assert r.status == 200, r
        assert r.json()["events"] == []
        assert r.headers.get("connection") == "close"
        assert out["took"] < 29
    assert time.time() - t0 < 3, "long polls were not answered promptly"
    rc = server.proc.wait(timeout=10)
    assert time.time() - t0 < 6, "the process took too long to exit"
    assert rc == 0, server.output()[-3000:]
    idle.settimeout(5)
    assert idle.recv(4096) == b""
    idle.close()
    name = "SIGTERM" if sig == signal.SIGTERM else "SIGINT"
    assert f"{name}: stopping" in server.output()
    assert "stopped cleanly" in server.output()
    server.stop()  # checks the log for sanitizer reports; the exit was 0
    # Nothing listens any more.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", server.port), timeout=2).close()


def test_sigterm_lets_requests_in_flight_complete(server):
    """Creates racing a SIGTERM: every request that was taken in gets its
    whole answer, and every 201 is in the store after a restart."""
    issuer = server.token("issuer", name="Inflight Corp")
    results = {}
    lock = threading.Lock()
    go = threading.Event()

    def client(w):
        go.wait()
        for i in range(w * 100, w * 100 + 100):
            body = json.dumps({"headline": f"In flight {i}", "body": "b", "language": "en"})
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=20)
            try:
                conn.request("POST", "/v1/releases", body=body, headers={
                    "Authorization": f"Bearer {issuer}", "Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
                assert len(data) == int(r.getheader("Content-Length"))
                with lock:
                    results[i] = (r.status, data)
            except (OSError, http.client.HTTPException):
                with lock:
                    results[i] = (None, None)
                return  # the server is gone
            finally:
                conn.close()

    threads = [threading.Thread(target=client, args=(w,)) for w in range(8)]
    for t in threads:
        t.start()
    go.set()
    wait_for(lambda: sum(1 for s, _ in list(results.values()) if s == 201) >= 50, 30,
             "50 creates")
    server.proc.send_signal(signal.SIGTERM)
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert server.proc.wait(timeout=15) == 0
    statuses = {s for s, _ in results.values()}
    assert statuses <= {201, 503, None}, statuses
    created = {json.loads(d)["id"] for s, d in results.values() if s == 201}
    server.stop()
    server.start()
    for rid in created:
        assert server.get(f"/v1/releases/{rid}", token=issuer).status == 200, rid


def test_sigterm_does_not_wait_for_a_client_that_does_not_read(server):
    """A response bigger than the socket buffers, to a client that never
    reads: the stop gives it a short grace, not the 60 s idle timeout."""
    issuer = server.token("issuer", name="Big Corp")
    for i in range(40):
        server.create(issuer, headline=f"Big {i}", body="x" * 200_000)
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.connect(("127.0.0.1", server.port))
    c.sendall(f"GET /v1/releases?state=all&limit=100 HTTP/1.1\r\nHost: t\r\n"
              f"Authorization: Bearer {issuer}\r\n\r\n".encode())
    time.sleep(0.5)
    t0 = time.time()
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=15) == 0
    assert time.time() - t0 < 6, time.time() - t0
    c.close()
    server.stop()


def test_sigterm_with_request_body_arriving(make_server):
    s = make_server(args=["--body-timeout", "30s"])
    c = socket.create_connection(("127.0.0.1", s.port), timeout=10)
    c.sendall(b"POST /v1/releases HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc")
    time.sleep(0.2)
    t0 = time.time()
    s.proc.send_signal(signal.SIGTERM)
    assert s.proc.wait(timeout=10) == 0
    assert time.time() - t0 < 5
    c.close()
    s.stop()


# -- access log, health, metrics --------------------------------------------------

def test_access_log_has_a_line_per_request(make_server, tmp_path):
    log = tmp_path / "access.log"
    s = make_server(args=["--access-log", str(log), "--max-body", "1k"])
    s.get("/healthz")
    s.get("/en/")
    s.get("/v1/releases/rnope")
    s.request("HEAD", "/healthz")
    s.get('/en/?x="quoted"\x7f'.replace("\x7f", "%7f"))
    with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
        c.sendall(b"POST /v1/releases HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n")
        while c.recv(4096):
            pass
    with socket.create_connection(("127.0.0.1", s.port), timeout=10) as c:
        c.sendall(b"GET /en/%ff HTTP/1.1\r\nHost: t\r\n\r\n")
        while c.recv(4096):
            pass
    s.stop()
    lines = log.read_text().splitlines()
    pat = re.compile(r'^(\S+) - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] "([^"]*)" (\d{3}) (\d+) (\d+)$')
    parsed = []
    for l in lines:
        m = pat.match(l)
        assert m, f"malformed access-log line: {l!r}"
        parsed.append((m.group(2), int(m.group(3))))
    reqs = parsed
    expect = [("GET /en/ HTTP/1.1", 200), ("GET /v1/releases/rnope HTTP/1.1", 404),
              ("HEAD /healthz HTTP/1.1", 200), ("POST /v1/releases HTTP/1.1", 413),
              ("GET /en/%ff HTTP/1.1", 400)]
    for e in expect:
        assert e in reqs, (e, lines)
    assert sum(1 for p in reqs if p[0] == "GET /healthz HTTP/1.1") >= 1
    quoted = [p for p in reqs if p[0].startswith("GET /en/?x=")]
    assert len(quoted) == 1 and '"' not in quoted[0][0]
    assert all(l.startswith("127.0.0.1 ") for l in lines)


def test_healthz(server):
    r = server.get("/healthz")
    assert r.status == 200 and r.json() == {"status": "ok"}
    assert r.headers["content-type"].startswith("application/json")
    assert "no-store" in r.headers.get("cache-control", "")
    r = server.request("HEAD", "/healthz")
    assert r.status == 200 and r.body == b""
    assert server.post("/healthz").status == 405


PROM_LINE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"]*"'
                       r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"]*")*\})? -?[0-9.eE+-]+$')


def test_metrics_is_prometheus_text(server):
    issuer = server.token("issuer", name="Metrics Corp")
    editor = server.token("editor", name="Metrics Editor")
    before = metric(server, "kawat_store_write_batches_total")
    rel = server.publish(issuer, editor, headline="Counted")
    r = server.get("/metrics")
    assert r.status == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    typed = {}
    for line in r.text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "histogram", "summary", "untyped"), line
            typed[name] = kind
        elif line.startswith("# HELP ") or line == "":
            continue
        else:
            assert PROM_LINE.match(line), f"not a sample line: {line!r}"
            base = re.split(r"[{ ]", line)[0]
            # A summary's or histogram's _sum, _count and _bucket samples
            # belong to the family its # TYPE line names.
            family = re.sub(r"_(sum|count|bucket)$", "", base)
            assert base in typed or typed.get(family) in ("summary", "histogram"), \
                f"sample without # TYPE: {line!r}"
    for name in ("kawat_http_requests_total", "kawat_store_write_batches_total",
                 "kawat_wire_last_seq"):
        assert name in typed, name
    assert typed["kawat_http_requests_total"] == "counter"
    assert typed["kawat_wire_last_seq"] == "gauge"
    assert metric(server, "kawat_store_write_batches_total") > before
    last = server.get("/v1/wire?after=0").json()["last_seq"]
    assert last >= 1 and metric(server, "kawat_wire_last_seq") == last
    assert rel["state"] == "published"
    n1 = metric(server, "kawat_http_requests_total")
    n2 = metric(server, "kawat_http_requests_total")
    assert n2 > n1


def test_metrics_only_for_loopback_or_staff(make_server):
    # Behind a trusted proxy the peer is the forwarded address: not loopback.
    s = make_server(args=["--trust-proxy"])
    r = s.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert r.status == 403, r
    assert r.headers["content-type"].startswith("application/problem+json")
    editor = s.token("editor", name="Metrics Staff")
    r = s.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}, token=editor)
    assert r.status == 200
    assert s.get("/metrics").status == 200
    # Without --trust-proxy a forwarded request still came through a proxy
    # (every proxied client is a loopback peer then): no metrics without a token.
    t = make_server()
    assert t.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status == 403
    assert t.get("/metrics", headers={"Forwarded": "for=203.0.113.9"}).status == 403
    assert t.get("/metrics").status == 200


# -- settings ----------------------------------------------------------------------

def cli_token(server, role, name):
    """A token made without the server's KAWAT_* environment."""
    p = run_kawat("token", "create", "--data", str(server.data), "--role", role, "--name", name)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def release_page(server, name):
    issuer = cli_token(server, "issuer", "Config Corp")
    editor = cli_token(server, "editor", "Config Editor")
    rel = server.publish(issuer, editor, headline=f"Config test {name}")
    r = server.get(f"/en/releases/{rel['id']}")
    assert r.status == 200, r
    m = re.search(r'<p class="disclaimer">(.*?)</p>', r.text, re.S)
    assert m, r.text[-2000:]
    return m.group(1)


def test_config_precedence(make_server, tmp_path):
    cfg = tmp_path / "kawat.conf"
    cfg.write_text("# a comment\n\nwire-name = FileWire\n")
    s = make_server(args=["--config", str(cfg)])
    assert "FileWire makes no warranty" in release_page(s, "file")
    s.stop()

    s = make_server(args=["--config", str(cfg)], env={"KAWAT_WIRE_NAME": "EnvWire"})
    d = release_page(s, "env")
    assert "EnvWire makes no warranty" in d and "FileWire" not in d
    s.stop()

    s = make_server(args=["--config", str(cfg), "--wire-name", "FlagWire"],
                    env={"KAWAT_WIRE_NAME": "EnvWire"})
    d = release_page(s, "flag")
    assert "FlagWire makes no warranty" in d and "EnvWire" not in d
    s.stop()

    # KAWAT_CONFIG names the file too; --wire-name=VALUE works as well.
    s = make_server(env={"KAWAT_CONFIG": str(cfg)})
    assert "FileWire makes no warranty" in release_page(s, "kawat_config")
    s.stop()
    s = make_server(args=["--wire-name=Equals <Wire>"])
    d = release_page(s, "equals")
    assert "Equals &lt;Wire&gt; makes no warranty" in d
    s.stop()


def test_config_file_shared_by_commands(tmp_path):
    cfg = tmp_path / "kawat.conf"
    cfg.write_text("wire-name = Shared\n")
    p = run_kawat("token", "create", "--data", str(tmp_path / "d"), "--role", "issuer",
                  "--name", "Shared Corp", env={"KAWAT_CONFIG": str(cfg)})
    assert p.returncode == 0, p.stderr


def run_kawat(*args, env=None, timeout=20):
    e = {k: v for k, v in os.environ.items() if not k.startswith("KAWAT_")}
    e.setdefault("ASAN_OPTIONS", "detect_leaks=1")
    if env:
        e.update(env)
    try:
        p = subprocess.run([KAWAT, *args], capture_output=True, text=True, env=e,
                           cwd=str(ROOT), timeout=timeout)
    except subprocess.TimeoutExpired as x:
        raise AssertionError(f"kawat {args} still running after {timeout} s: {x.stdout}")
    assert "ERROR: AddressSanitizer" not in p.stderr and "runtime error:" not in p.stderr, p.stderr
    assert "ERROR: LeakSanitizer" not in p.stderr, p.stderr
    return p


BAD_VALUES = [
    (["--max-body", "abc"], "max-body"),
    (["--max-body", "-1"], "max-body"),
    (["--max-body", "0"], "max-body"),
    (["--max-header", "12q"], "max-header"),
    (["--max-connections", "many"], "max-connections"),
    (["--max-connections", "0"], "max-connections"),
    (["--header-timeout", "5x"], "header-timeout"),
    (["--header-timeout", "0"], "header-timeout"),
    (["--header-timeout", "99999999999h"], "header-timeout"),
    (["--body-timeout", ""], "body-timeout"),
    (["--idle-timeout", "-5s"], "idle-timeout"),
    (["--longpoll-max", "1y"], "longpoll-max"),
    (["--trust-proxy=maybe"], "trust-proxy"),
    (["--default-language", "xx"], "default-language"),
    (["--listen", "nonsense"], "listen"),
    (["--listen", "127.0.0.1:99999"], "listen"),
    (["--listen", "999.1.1.1:80"], "listen"),
    (["--listen", ""], "listen"),
    (["--wire-name", ""], "wire-name"),
    (["--base-url", "javascript:alert(1)"], "base-url"),
    (["--max-body"], "max-body"),
    (["--no-such-option", "1"], "no-such-option"),
    (["stray"], "stray"),
]


def test_bad_option_values_exit_2_naming_the_option(tmp_path):
    port = free_port()
    for args, name in BAD_VALUES:
        p = run_kawat("serve", "--data", str(tmp_path / "d"), *(
            [] if args[0] == "--listen" else ["--listen", f"127.0.0.1:{port}"]), *args,
            timeout=5)
        assert p.returncode == 2, (args, p.returncode, p.stdout, p.stderr)
        assert name in p.stderr, (args, p.stderr)
        assert "serving" not in p.stdout
    # The same from the environment and from a config file.
    p = run_kawat("serve", "--data", str(tmp_path / "d"), env={"KAWAT_MAX_BODY": "lots"})
    assert p.returncode == 2 and "max-body" in p.stderr and "KAWAT_MAX_BODY" in p.stderr, p.stderr
    cfg = tmp_path / "bad.conf"
    cfg.write_text("header-timeout = soon\n")
    p = run_kawat("serve", "--data", str(tmp_path / "d"), "--config", str(cfg))
    assert p.returncode == 2 and "header-timeout" in p.stderr, p.stderr
    cfg.write_text("no-such-setting = 1\n")
    p = run_kawat("serve", "--data", str(tmp_path / "d"), "--config", str(cfg))
    assert p.returncode == 2 and "no-such-setting" in p.stderr, p.stderr
    cfg.write_text("just words\n")
    p = run_kawat("serve", "--data", str(tmp_path / "d"), "--config", str(cfg))
    assert p.returncode == 2 and "bad.conf:1" in p.stderr, p.stderr
    p = run_kawat("serve", "--data", str(tmp_path / "d"), "--config", str(tmp_path / "missing"))
    assert p.returncode == 2 and "missing" in p.stderr, p.stderr


def test_port_in_use_is_a_clear_error(server, tmp_path):
    p = run_kawat("serve", "--data", str(tmp_path / "other"), "--listen",
                  f"127.0.0.1:{server.port}")
    assert p.returncode != 0
    assert str(server.port) in p.stderr
    healthy = server.get("/healthz")
    assert healthy.status == 200


SERVE_OPTIONS = ["listen", "data", "config", "base-url", "wire-name", "default-language",
                 "access-log", "max-body", "max-header", "max-connections", "header-timeout",
                 "body-timeout", "idle-timeout", "longpoll-max", "trust-proxy", "demo"]


def env_name(opt):
    return "KAWAT_" + opt.upper().replace("-", "_")


def test_serve_help_mentions_every_option():
    p = run_kawat("serve", "--help")
    assert p.returncode == 0, p.stderr
    for opt in SERVE_OPTIONS:
        assert f"--{opt}" in p.stdout, opt
        assert env_name(opt) in p.stdout, opt
    p2 = run_kawat("serve", "-h")
    assert p2.returncode == 0 and p2.stdout == p.stdout


def test_top_level_help():
    p = run_kawat("--help")
    assert p.returncode == 0, p.stderr
    for cmd in ("serve", "submit", "tail", "user", "token", "routes", "version"):
        assert cmd in p.stdout, cmd
    assert "KAWAT_" in p.stdout and "--config" in p.stdout
    assert "serve --help" in p.stdout
    assert run_kawat("help").stdout == p.stdout


def test_top_level_help_mentions_every_option():
    p = run_kawat("--help")
    for opt in SERVE_OPTIONS:
        assert f"--{opt}" in p.stdout and env_name(opt) in p.stdout, opt


def test_unknown_command_exits_2():
    for args in (["bogus"], ["--bogus"], ["serv"], []):
        p = run_kawat(*args)
        assert p.returncode == 2, (args, p.returncode)
        assert "Usage" in p.stderr
        if args:
            assert args[0] in p.stderr
