"""Webhooks for outlets end to end: an outlet registers endpoints through
/v1/endpoints, a real receiver (a Python HTTP server on 127.0.0.1) gets
every matching wire event as a POST and verifies its Standard Webhooks
signature (HMAC-SHA256 computed here). Faults: a receiver answering 500
for a while, one that hangs past the timeout, a closed port, kill -9 of the
server during a burst; loopback URLs refused without --webhook-allow; an
endpoint that keeps failing is paused with its reason and resumes."""
import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import free_port

ALLOW = ("--webhook-allow", "127.0.0.0/8")
# Retries in fractions of a second, so that the faults play out quickly.
FAST = ("--webhook-retry-base", "100ms", "--webhook-retry-max", "400ms",
        "--webhook-timeout", "1s")


def verify(secret, headers, body):
    """Standard Webhooks verification, as a receiver does it."""
    key = base64.b64decode(secret[len("whsec_"):])
    msg_id, ts = headers["webhook-id"], headers["webhook-timestamp"]
    assert abs(int(ts) - time.time()) < 300, "timestamp too far from now"
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    want = "v1," + base64.b64encode(mac).decode()
    sigs = headers["webhook-signature"].split(" ")
    assert any(hmac.compare_digest(s, want) for s in sigs), (sigs, want)


class Receiver:
    """Records every POST (path, headers, body, time, status answered).
    behave[path] is a list of actions for the next POSTs to path ("ok",
    an int status, ("sleep", seconds)); then default[path] (or "ok")."""

    def __init__(self, port=0):
        self.lock = threading.Condition()
        self.posts = []
        self.behave = {}
        self.default = {}
        self.secrets = {}
        self.bad_signatures = []
        rcv = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                headers = {k.lower(): v for k, v in self.headers.items()}
                path = self.path
                with rcv.lock:
                    queue = rcv.behave.get(path) or []
                    action = queue.pop(0) if queue else rcv.default.get(path, "ok")
                    secret = rcv.secrets.get(path)
                if secret:
                    try:
                        verify(secret, headers, body)
                    except AssertionError as e:
                        rcv.bad_signatures.append((path, str(e)))
                if isinstance(action, tuple) and action[0] == "sleep":
                    time.sleep(action[1])
                    action = "ok"
                status = 200 if action == "ok" else action
                with rcv.lock:
                    rcv.posts.append((path, headers, body, time.time(), status))
                    rcv.lock.notify_all()
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path, host="127.0.0.1"):
        return f"http://{host}:{self.port}{path}"

    def for_path(self, path):
        with self.lock:
            return [p for p in self.posts if p[0] == path]

    def delivered(self, path):
        """webhook-ids answered 2xx, in the order they were answered."""
        return [p[1]["webhook-id"] for p in self.for_path(path) if 200 <= p[4] < 300]

    def wait(self, pred, timeout=20):
        deadline = time.time() + timeout
        with self.lock:
            while not pred():
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError(f"timed out; posts: {[(p[0], p[1].get('webhook-id'), p[4]) for p in self.posts]}")
                self.lock.wait(min(left, 0.2))

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()
    assert not r.bad_signatures, r.bad_signatures


@pytest.fixture
def wh(make_server):
    return make_server(args=ALLOW + FAST)


def outlet(server, name="Portal Berita"):
    r = server.post("/v1/subscribers", {"kind": "outlet", "name": name, "filters": [{}]})
    assert r.status == 201, r
    return r.json()["token"]


def endpoint(server, token, receiver, path, **fields):
    body = {"url": receiver.url(path)}
    body.update(fields)
    r = server.post("/v1/endpoints", body, token=token)
    assert r.status == 201, r
    ep, secret = r.json()["endpoint"], r.json()["secret"]
    receiver.secrets[path] = secret
    return ep


def seq_of(msg_id):
    return int(msg_id.split("_")[1])


def publish(server, **fields):
    issuer = server.token("issuer", name="Acme Test Corp")
    editor = server.token("editor", name="Ed Editor")
    return server.publish(issuer, editor, **fields)


def log_of(server, token, ep_id, pred=lambda items: True, timeout=10):
    """The endpoint's delivery log once pred(items) holds (the attempt
    results are written just after the receiver has answered)."""
    deadline = time.time() + timeout
    while True:
        r = server.get(f"/v1/endpoints/{ep_id}/deliveries", token=token)
        assert r.status == 200, r
        items = r.json()["items"]
        if pred(items):
            return items
        assert time.time() < deadline, items
        time.sleep(0.05)


def all_delivered(n):
    return lambda items: len(items) == n and all(d["state"] == "delivered" for d in items)


def problem_field(r, field, status=422):
    assert r.status == status, r
    p = r.json()
    assert p["field"] == field, p
    return p


# ---------------------------------------------------------------- delivery

def test_signed_delivery_to_matching_endpoints_only(wh, receiver):
    tok = outlet(wh)
    given = "whsec_" + base64.b64encode(b"k" * 32).decode()
    ep_id = endpoint(wh, tok, receiver, "/id", filter={"languages": ["id"]}, secret=given)
    assert receiver.secrets["/id"] == given
    endpoint(wh, tok, receiver, "/all-json", format="json")
    endpoint(wh, tok, receiver, "/all-newsml", format="newsml")
    en = publish(wh, headline="English only", language="en")
    idr = publish(wh, headline="Rilis berbahasa Indonesia", language="id")
    receiver.wait(lambda: len(receiver.delivered("/all-json")) == 2
                  and len(receiver.delivered("/all-newsml")) == 2
                  and len(receiver.delivered("/id")) == 1)
    time.sleep(0.3)
    [(_, h, body, _, _)] = receiver.for_path("/id")  # the English one never came
    assert h["content-type"].startswith("application/json")
    assert h["webhook-id"] == f"evt_{idr['seq']}_{ep_id['id']}"
    event = json.loads(body)
    assert event["seq"] == idr["seq"] and event["kind"] == "publish"
    assert event["item"]["headlines"][0]["value"] == "Rilis berbahasa Indonesia"
    bodies = [json.loads(p[2]) for p in receiver.for_path("/all-json")]
    assert [b["release"]["id"] for b in bodies] == [en["id"], idr["id"]]
    assert {"seq", "kind", "at", "version", "release"} <= set(bodies[0])
    for _, h, body, _, _ in receiver.for_path("/all-newsml"):
        assert h["content-type"].startswith("application/vnd.iptc.g2.newsitem+xml")
        assert ET.fromstring(body).tag.endswith("newsItem")
    # The log shows each delivery with its attempt.
    [d] = log_of(wh, tok, ep_id["id"], all_delivered(1))
    assert d["state"] == "delivered" and d["seq"] == idr["seq"] and d["attempts"] == 1
    assert d["log"][0]["status"] == 200 and d["log"][0]["error"] is None
    assert "secret" not in wh.get(f"/v1/endpoints/{ep_id['id']}", token=tok).json()


def test_corrections_and_withdrawals_are_delivered(wh, receiver):
    tok = outlet(wh)
    endpoint(wh, tok, receiver, "/n", format="newsml")
    endpoint(wh, tok, receiver, "/j")
    issuer = wh.token("issuer", name="Acme Test Corp")
    rel = publish(wh, headline="To be corrected")
    r = wh.post(f"/v1/releases/{rel['id']}/correct", {"note": "Fixed.", "body": "New body."},
                token=issuer)
    assert r.status == 200, r
    r = wh.post(f"/v1/releases/{rel['id']}/withdraw", {"reason": "In error."}, token=issuer)
    assert r.status == 200, r
    receiver.wait(lambda: len(receiver.delivered("/n")) == 3 and len(receiver.delivered("/j")) == 3)
    kinds = [json.loads(p[2])["kind"] for p in receiver.for_path("/j")]
    assert kinds == ["publish", "correction", "withdrawal"]
    last = ET.fromstring(receiver.for_path("/n")[-1][2])
    ns = {"g": "http://iptc.org/std/nar/2006-10-01/"}
    assert last.find("g:itemMeta/g:pubStatus", ns).get("qcode") == "stat:canceled"
    assert b"To be corrected" not in receiver.for_path("/n")[-1][2]


def test_500_for_a_while_then_every_event_once_in_order(wh, receiver):
    tok = outlet(wh)
    ep = endpoint(wh, tok, receiver, "/flaky")
    receiver.behave["/flaky"] = [500, 503, 500, 502]
    seqs = [publish(wh, headline=f"Burst {i}")["seq"] for i in range(4)]
    receiver.wait(lambda: len(receiver.delivered("/flaky")) == 4)
    got = [seq_of(i) for i in receiver.delivered("/flaky")]
    assert got == seqs  # once each, in order of sequence
    # Every request, failed or not, went out in sequence order: one at a time.
    tried = [seq_of(p[1]["webhook-id"]) for p in receiver.for_path("/flaky")]
    assert tried == sorted(tried)
    log = log_of(wh, tok, ep["id"], all_delivered(4))
    first = [d for d in log if d["seq"] == seqs[0]][0]
    assert first["attempts"] == 5 and [a["status"] for a in first["log"]] == [500, 503, 500, 502, 200]


def test_hanging_receiver_is_retried(wh, receiver):
    tok = outlet(wh)
    ep = endpoint(wh, tok, receiver, "/slow")
    receiver.behave["/slow"] = [("sleep", 2.5)]
    rel = publish(wh, headline="Slow receiver")
    receiver.wait(lambda: len(receiver.delivered("/slow")) >= 1, timeout=20)
    [d] = log_of(wh, tok, ep["id"], all_delivered(1))
    assert d["seq"] == rel["seq"] and d["state"] == "delivered"
    assert d["log"][0]["status"] is None and d["log"][0]["error"]
    assert 900 <= d["log"][0]["elapsed_ms"] < 2500
    assert d["log"][-1]["status"] == 200


def test_refused_connection_is_retried_until_the_receiver_is_up(wh):
    port = free_port()  # nothing listens there yet
    tok = outlet(wh)
    r = wh.post("/v1/endpoints", {"url": f"http://127.0.0.1:{port}/down"}, token=tok)
    assert r.status == 201, r
    ep, secret = r.json()["endpoint"], r.json()["secret"]
    rel = publish(wh, headline="Receiver down")
    deadline = time.time() + 10
    while time.time() < deadline:
        [d] = wh.get(f"/v1/endpoints/{ep['id']}/deliveries", token=tok).json()["items"] or [None]
        if d and d["attempts"] >= 2:
            break
        time.sleep(0.1)
    assert d["state"] == "pending" and d["log"][0]["status"] is None and d["log"][0]["error"]
    receiver = Receiver(port)
    receiver.secrets["/down"] = secret
    try:
        receiver.wait(lambda: len(receiver.delivered("/down")) == 1)
        assert seq_of(receiver.delivered("/down")[0]) == rel["seq"]
        assert not receiver.bad_signatures
    finally:
        receiver.close()


def test_kill_9_during_a_burst_loses_nothing(wh, receiver):
    tok = outlet(wh)
    ep = endpoint(wh, tok, receiver, "/burst")
    receiver.default["/burst"] = ("sleep", 0.15)
    seqs = [publish(wh, headline=f"Burst {i}")["seq"] for i in range(8)]
    receiver.wait(lambda: len(receiver.for_path("/burst")) >= 2)
    wh.kill()
    wh.restart()
    receiver.default["/burst"] = "ok"
    want = {f"evt_{s}_{ep['id']}" for s in seqs}
    receiver.wait(lambda: want <= set(receiver.delivered("/burst")), timeout=30)
    # The same id always carries the same event.
    by_id = {}
    for _, h, body, _, _ in receiver.for_path("/burst"):
        by_id.setdefault(h["webhook-id"], set()).add(body)
    assert all(len(b) == 1 for b in by_id.values())
    assert set(by_id) == want
    first_success = []
    for i in receiver.delivered("/burst"):
        if i not in first_success:
            first_success.append(i)
    assert [seq_of(i) for i in first_success] == seqs


def test_paused_after_persistent_failure_and_resumed(make_server, receiver):
    server = make_server(args=ALLOW + FAST + ("--webhook-pause-after", "1s",
                                              "--webhook-pause-failures", "3"))
    tok = outlet(server)
    ep = endpoint(server, tok, receiver, "/broken")
    receiver.default["/broken"] = 500
    rels = [publish(server, headline=f"While broken {i}") for i in range(2)]
    deadline = time.time() + 15
    while time.time() < deadline:
        got = server.get(f"/v1/endpoints/{ep['id']}", token=tok).json()
        if got["state"] == "paused":
            break
        time.sleep(0.1)
    assert got["state"] == "paused", got
    assert "HTTP 500" in got["paused_reason"] and got["paused_at"]
    assert got["pending"] == 2
    metrics = server.get("/metrics").text
    assert 'kawat_webhook_endpoints{state="paused"} 1' in metrics
    n = len(receiver.for_path("/broken"))
    time.sleep(1)
    assert len(receiver.for_path("/broken")) == n  # paused: nothing more is tried
    receiver.default["/broken"] = "ok"
    other = outlet(server, "Someone else")
    assert server.post(f"/v1/endpoints/{ep['id']}/resume", token=other).status == 404
    r = server.post(f"/v1/endpoints/{ep['id']}/resume", token=tok)
    assert r.status == 200, r
    assert r.json()["state"] == "active" and r.json()["paused_reason"] is None
    receiver.wait(lambda: len(receiver.delivered("/broken")) == 2)
    assert [seq_of(i) for i in receiver.delivered("/broken")] == [r["seq"] for r in rels]


# ---------------------------------------------------------------- SSRF

def test_loopback_refused_without_allow(make_server, receiver):
    server = make_server(args=FAST)  # no --webhook-allow
    tok = outlet(server)
    p = problem_field(server.post("/v1/endpoints", {"url": receiver.url("/x")}, token=tok), "url")
    assert "not allowed" in p["detail"]
    for url in ("http://[::1]:9/x", "http://169.254.169.254/latest", "http://10.0.0.1/x"):
        problem_field(server.post("/v1/endpoints", {"url": url}, token=tok), "url")
    # A name is judged when connecting, for the address it resolves to.
    r = server.post("/v1/endpoints", {"url": receiver.url("/named", host="localhost")}, token=tok)
    assert r.status == 201, r
    ep = r.json()["endpoint"]
    publish(server, headline="Not for loopback")
    deadline = time.time() + 10
    d = None
    while time.time() < deadline:
        items = server.get(f"/v1/endpoints/{ep['id']}/deliveries", token=tok).json()["items"]
        if items and items[0]["log"]:
            d = items[0]
            break
        time.sleep(0.1)
    assert d and d["state"] == "pending" and d["log"][0]["error"].startswith("refused"), d
    assert receiver.for_path("/named") == []


# ---------------------------------------------------------------- API

def test_endpoint_api_validation_and_visibility(wh, receiver):
    tok = outlet(wh)
    problem_field(wh.post("/v1/endpoints", {}, token=tok), "url")
    problem_field(wh.post("/v1/endpoints", {"url": "ftp://example.com/"}, token=tok), "url")
    problem_field(wh.post("/v1/endpoints", {"url": receiver.url("/v"), "secret": "nope"},
                          token=tok), "secret")
    problem_field(wh.post("/v1/endpoints", {"url": receiver.url("/v"), "format": "rss"},
                          token=tok), "format")
    problem_field(wh.post("/v1/endpoints", {"url": receiver.url("/v"), "colour": 1},
                          token=tok), "colour")
    problem_field(wh.post("/v1/endpoints", {"url": receiver.url("/v"),
                                            "filters": [{"languages": ["xx"]}]}, token=tok),
                  "filters[0].languages[0]")
    assert wh.post("/v1/endpoints", {"url": receiver.url("/v")}).status == 401
    issuer = wh.token("issuer", name="Acme Test Corp")
    assert wh.post("/v1/endpoints", {"url": receiver.url("/v")}, token=issuer).status == 403
    desk = wh.post("/v1/subscribers", {"kind": "desktop", "name": "Desk", "filters": [{}]})
    assert wh.post("/v1/endpoints", {"url": receiver.url("/v")},
                   token=desk.json()["token"]).status == 403

    ep = endpoint(wh, tok, receiver, "/v", filters=[{"sectors": ["Business"]}])
    assert ep["state"] == "active" and ep["format"] == "ninjs" and ep["pending"] == 0
    assert ep["filters"] == [{"sectors": ["business"]}]
    r = wh.get("/v1/endpoints", token=tok)
    assert [e["id"] for e in r.json()["items"]] == [ep["id"]]
    other = outlet(wh, "Another outlet")
    assert wh.get("/v1/endpoints", token=other).json()["items"] == []
    for method, path in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("GET", "/deliveries")):
        body = {"format": "json"} if method == "PATCH" else None
        r = wh.request(method, f"/v1/endpoints/{ep['id']}{path}", body=body, token=other)
        assert r.status == 404, (method, path, r)
    assert wh.get("/v1/endpoints/wnothere", token=tok).status == 404
    editor = wh.token("editor", name="Ed Editor")
    assert ep["id"] in [e["id"] for e in wh.get("/v1/endpoints", token=editor).json()["items"]]

    r = wh.request("PATCH", f"/v1/endpoints/{ep['id']}", body={"format": "json"}, token=tok)
    assert r.status == 200 and r.json()["format"] == "json", r
    problem_field(wh.request("PATCH", f"/v1/endpoints/{ep['id']}", body={"url": "nope"},
                             token=tok), "url")
    r = wh.request("DELETE", f"/v1/endpoints/{ep['id']}", token=tok)
    assert r.status == 204, r
    assert wh.get(f"/v1/endpoints/{ep['id']}", token=tok).status == 404


def test_deleting_the_outlet_deletes_its_endpoints(wh, receiver):
    r = wh.post("/v1/subscribers", {"kind": "outlet", "name": "Short-lived", "filters": [{}]})
    tok, sid = r.json()["token"], r.json()["subscriber"]["id"]
    ep = endpoint(wh, tok, receiver, "/gone")
    editor = wh.token("editor", name="Ed Editor")
    assert wh.get(f"/v1/endpoints/{ep['id']}", token=editor).status == 200
    assert wh.request("DELETE", f"/v1/subscribers/{sid}", token=tok).status == 204
    deadline = time.time() + 5
    while wh.get(f"/v1/endpoints/{ep['id']}", token=editor).status != 404:
        assert time.time() < deadline
        time.sleep(0.05)
    publish(wh, headline="After the outlet left")
    time.sleep(0.5)
    assert receiver.for_path("/gone") == []
