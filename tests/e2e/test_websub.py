"""The WebSub hub end to end: a real subscriber (a Python HTTP server on
127.0.0.1) subscribes through POST /websub, answers the verification GET,
and receives signed pushes of the topic's document when releases are
published; language topics get only their language; a failing callback is
retried; unsubscribing stops pushes; loopback callbacks are refused unless
--webhook-allow covers them; bad requests get 400 problems naming the
field; subscriptions survive a restart."""
import hashlib
import hmac
import http.server
import re
import threading
import time
import urllib.parse

import feedparser
import pytest

ALLOW = ("--webhook-allow", "127.0.0.0/8")
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Subscriber:
    """A WebSub subscriber: answers verification GETs (echoing the challenge)
    and records every request. post_status[path] is a list of statuses the
    next POSTs to path get (then 204)."""

    def __init__(self):
        self.lock = threading.Condition()
        self.gets = []   # (path, params)
        self.posts = []  # (path, headers (lower-case), body bytes, time)
        self.post_status = {}
        self.verify_status = {}
        sub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                u = urllib.parse.urlsplit(self.path)
                params = dict(urllib.parse.parse_qsl(u.query))
                with sub.lock:
                    sub.gets.append((u.path, params))
                    sub.lock.notify_all()
                status = sub.verify_status.get(u.path, 200)
                body = params.get("hub.challenge", "").encode() if status == 200 else b"no"
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                u = urllib.parse.urlsplit(self.path)
                with sub.lock:
                    queue = sub.post_status.get(u.path) or []
                    status = queue.pop(0) if queue else 204
                    sub.posts.append((u.path, {k.lower(): v for k, v in self.headers.items()},
                                      body, time.time()))
                    sub.lock.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path, host="127.0.0.1"):
        return f"http://{host}:{self.port}{path}"

    def wait(self, what, pred, timeout=15):
        """Waits until pred(list) is true; returns the list."""
        deadline = time.time() + timeout
        with self.lock:
            while True:
                items = self.gets if what == "get" else self.posts
                if pred(items):
                    return list(items)
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError(f"timed out waiting for {what}: {items!r}")
                self.lock.wait(left)

    def gets_for(self, path):
        with self.lock:
            return [p for (q, p) in self.gets if q == path]

    def posts_for(self, path):
        with self.lock:
            return [(h, b, t) for (q, h, b, t) in self.posts if q == path]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def subscriber():
    s = Subscriber()
    yield s
    s.close()


@pytest.fixture
def hub(make_server):
    """A server whose outbound requests may reach 127.0.0.0/8, with tokens."""
    s = make_server(args=ALLOW)
    s.issuer_token = s.token("issuer", name="Acme Test Corp")
    s.editor_token = s.token("editor", name="Ed Editor")
    return s


def form(**fields):
    return urllib.parse.urlencode({f"hub.{k}": v for k, v in fields.items()})


def websub(server, **fields):
    return server.post("/websub", form(**fields), headers=FORM)


def metric(server, name):
    text = server.get("/metrics").text
    m = re.search(rf"^{name} (\d+)$", text, re.M)
    assert m, text
    return int(m.group(1))


def wait_metric(server, name, value, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if metric(server, name) == value:
            return
        time.sleep(0.05)
    raise AssertionError(f"{name} never became {value}: {metric(server, name)}")


def subscribe(server, sub, path, topic_path, active, **extra):
    """Subscribes sub's path to the topic and waits for the verification
    and for the subscription to be active (count `active`)."""
    topic = server.base + topic_path
    before = len(sub.gets_for(path))
    r = websub(server, mode="subscribe", topic=topic, callback=sub.url(path), **extra)
    assert r.status == 202, r
    sub.wait("get", lambda g: len([1 for (q, _) in g if q == path]) > before)
    params = sub.gets_for(path)[-1]
    assert params["hub.mode"] == "subscribe"
    assert params["hub.topic"] == topic
    wait_metric(server, "kawat_websub_subscriptions", active)
    return params


def problem_field(r, field, status=400):
    assert r.status == status, r
    assert r.headers["content-type"] == "application/problem+json"
    p = r.json()
    assert p["field"] == field, p
    assert p["status"] == status
    return p


# ---- subscription and distribution ----

def test_subscribe_verify_and_signed_push(hub, subscriber):
    params = subscribe(hub, subscriber, "/all", "/atom.xml", 1, secret="s3cret-key")
    assert params["hub.lease_seconds"] == str(10 * 86400)  # the default lease
    assert len(params["hub.challenge"]) >= 16

    rel = hub.publish(hub.issuer_token, hub.editor_token, headline="Kawat WebSub push test")
    posts = subscriber.wait("post", lambda p: len(p) >= 1)
    path, headers, body, _ = posts[0]
    assert path == "/all"
    assert headers["content-type"].startswith("application/atom+xml")
    sig = hmac.new(b"s3cret-key", body, hashlib.sha256).hexdigest()
    assert headers["x-hub-signature"] == f"sha256={sig}"
    link = headers["link"]
    assert f'<{hub.base}/websub>; rel="hub"' in link
    assert f'<{hub.base}/atom.xml>; rel="self"' in link
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.bozo_exception
    assert [e.title for e in feed.entries] == ["Kawat WebSub push test"]
    assert rel["id"] in body.decode()
    assert metric(hub, "kawat_websub_pushes_total{result=\"ok\"}") >= 1


def test_lease_is_clamped_and_unsigned_without_secret(hub, subscriber):
    params = subscribe(hub, subscriber, "/short", "/en/atom.xml", 1, lease_seconds="10")
    assert params["hub.lease_seconds"] == "300"
    params = subscribe(hub, subscriber, "/long", "/en/feed.json", 2, lease_seconds="99999999999")
    assert params["hub.lease_seconds"] == str(30 * 86400)
    hub.publish(hub.issuer_token, hub.editor_token, headline="Unsigned")
    posts = subscriber.wait("post", lambda p: len(p) >= 2)
    by_path = {p[0]: p for p in posts}
    assert "x-hub-signature" not in by_path["/short"][1]
    assert by_path["/long"][1]["content-type"].startswith("application/feed+json")


def test_language_topics_get_only_their_language(hub, subscriber):
    subscribe(hub, subscriber, "/id", "/id/atom.xml", 1)
    subscribe(hub, subscriber, "/en", "/en/rss.xml", 2)
    hub.publish(hub.issuer_token, hub.editor_token, headline="English only", language="en")
    subscriber.wait("post", lambda p: any(q == "/en" for (q, *_) in p))
    hub.publish(hub.issuer_token, hub.editor_token, headline="Berita Indonesia",
                language="id")
    subscriber.wait("post", lambda p: any(q == "/id" for (q, *_) in p))
    time.sleep(1.0)  # time for a wrong push to show up
    en = subscriber.posts_for("/en")
    ids = subscriber.posts_for("/id")
    assert len(en) == 1 and len(ids) == 1, (en, ids)
    assert en[0][0]["content-type"].startswith("application/rss+xml")
    assert b"English only" in en[0][1] and b"Berita Indonesia" not in en[0][1]
    assert b"Berita Indonesia" in ids[0][1] and b"English only" not in ids[0][1]


def test_failed_push_is_retried(hub, subscriber):
    subscriber.post_status["/flaky"] = [500]
    subscribe(hub, subscriber, "/flaky", "/atom.xml", 1)
    hub.publish(hub.issuer_token, hub.editor_token, headline="Retry me")
    posts = subscriber.wait("post", lambda p: len(p) >= 2, timeout=20)
    (_, h1, b1, t1), (_, h2, b2, t2) = posts[0], posts[1]
    assert b1 == b2  # the same document again
    assert 3.5 <= t2 - t1 <= 10, t2 - t1  # about 5 s, with jitter
    wait_metric(hub, "kawat_websub_retries_pending", 0)
    assert metric(hub, "kawat_websub_pushes_total{result=\"ok\"}") == 1


def test_withdrawal_pushes_the_page_without_the_entry(hub, subscriber):
    subscribe(hub, subscriber, "/w", "/en/atom.xml", 1)
    keep = hub.publish(hub.issuer_token, hub.editor_token, headline="Stays")
    gone = hub.publish(hub.issuer_token, hub.editor_token, headline="Goes away")
    subscriber.wait("post", lambda p: len(p) >= 2)
    r = hub.post(f"/v1/releases/{gone['id']}/withdraw", {"reason": "Issued in error"},
                 token=hub.issuer_token)
    assert r.status == 200, r
    posts = subscriber.wait("post", lambda p: len(p) >= 3)
    body = posts[2][2]
    feed = feedparser.parse(body)
    assert not feed.bozo, feed.bozo_exception
    titles = [e.title for e in feed.entries]
    assert "Stays" in titles and "Goes away" not in titles
    assert keep["id"] in body.decode() and gone["id"] not in body.decode()


def test_unsubscribe_stops_pushes(hub, subscriber):
    subscribe(hub, subscriber, "/bye", "/atom.xml", 1)
    r = websub(hub, mode="unsubscribe", topic=hub.base + "/atom.xml",
               callback=subscriber.url("/bye"))
    assert r.status == 202, r
    subscriber.wait("get", lambda g: any(p.get("hub.mode") == "unsubscribe" for (_, p) in g))
    params = subscriber.gets_for("/bye")[-1]
    assert params["hub.mode"] == "unsubscribe" and "hub.challenge" in params
    wait_metric(hub, "kawat_websub_subscriptions", 0)
    hub.publish(hub.issuer_token, hub.editor_token, headline="Nobody listens")
    time.sleep(1.5)
    assert subscriber.posts_for("/bye") == []


def test_wrong_challenge_does_not_subscribe(hub, subscriber):
    subscriber.verify_status["/liar"] = 404
    r = websub(hub, mode="subscribe", topic=hub.base + "/atom.xml",
               callback=subscriber.url("/liar"))
    assert r.status == 202, r
    subscriber.wait("get", lambda g: len(g) >= 1)
    time.sleep(0.5)
    assert metric(hub, "kawat_websub_subscriptions") == 0
    hub.publish(hub.issuer_token, hub.editor_token, headline="Not for liars")
    time.sleep(1.0)
    assert subscriber.posts_for("/liar") == []


@pytest.mark.parametrize("topic_path", ["/nope/atom.xml", "/en/sectors/no-such-sector/rss.xml",
                                        "/en/", "/en/atom.xml?x=1", "/EN/atom.xml"])
def test_topic_not_served_is_denied(hub, subscriber, topic_path):
    topic = hub.base + topic_path
    r = websub(hub, mode="subscribe", topic=topic, callback=subscriber.url("/deny"))
    assert r.status == 202, r
    gets = subscriber.wait("get", lambda g: len(g) >= 1)
    params = gets[0][1]
    assert params["hub.mode"] == "denied"
    assert params["hub.topic"] == topic
    assert "hub.challenge" not in params and params.get("hub.reason")


def test_foreign_topic_is_denied(hub, subscriber):
    r = websub(hub, mode="subscribe", topic="http://example.com/feed.xml",
               callback=subscriber.url("/deny"))
    assert r.status == 202, r
    gets = subscriber.wait("get", lambda g: len(g) >= 1)
    assert gets[0][1]["hub.mode"] == "denied"


def test_subscriptions_survive_a_restart(hub, subscriber):
    subscribe(hub, subscriber, "/durable", "/en/atom.xml", 1, secret="k")
    hub.restart()
    assert metric(hub, "kawat_websub_subscriptions") == 1
    hub.publish(hub.issuer_token, hub.editor_token, headline="After the restart")
    posts = subscriber.wait("post", lambda p: len(p) >= 1)
    path, headers, body, _ = posts[0]
    assert path == "/durable" and b"After the restart" in body
    sig = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert headers["x-hub-signature"] == f"sha256={sig}"


def test_event_of_a_killed_server_is_pushed_after_restart(hub, subscriber):
    """The hub keeps its wire position in the store: what was committed
    but perhaps not pushed when the server died is pushed after the
    restart (at least once)."""
    subscribe(hub, subscriber, "/crash", "/en/atom.xml", 1)
    hub.publish(hub.issuer_token, hub.editor_token, headline="Published just before a crash")
    hub.kill()
    hub.restart()
    posts = subscriber.wait("post", lambda p: any(b"just before a crash" in x[2] for x in p),
                            timeout=40)
    assert all(x[0] == "/crash" for x in posts)
    # And nothing is pushed twice on a clean restart.
    n = len(subscriber.posts_for("/crash"))
    hub.restart()
    time.sleep(1.5)
    assert len(subscriber.posts_for("/crash")) == n


# ---- refusals ----

def test_loopback_callback_refused_without_allow(make_server, subscriber):
    server = make_server()  # no --webhook-allow
    topic = server.base + "/atom.xml"
    r = websub(server, mode="subscribe", topic=topic, callback=subscriber.url("/cb"))
    p = problem_field(r, "hub.callback")
    assert "127.0.0.1" in p["detail"]
    r = websub(server, mode="subscribe", topic=topic,
               callback=subscriber.url("/cb", host="[::ffff:127.0.0.1]"))
    problem_field(r, "hub.callback")
    # A name is judged where it leads, at connect time: accepted, never called.
    r = websub(server, mode="subscribe", topic=topic,
               callback=subscriber.url("/cb", host="localhost"))
    assert r.status == 202, r
    time.sleep(1.5)
    assert subscriber.gets == []
    assert metric(server, "kawat_websub_subscriptions") == 0


def test_bad_requests_name_the_field(hub, subscriber):
    topic = hub.base + "/atom.xml"
    cb = subscriber.url("/cb")
    problem_field(websub(hub, topic=topic, callback=cb), "hub.mode")
    problem_field(websub(hub, mode="publish", topic=topic, callback=cb), "hub.mode")
    problem_field(websub(hub, mode="subscribe", topic=topic), "hub.callback")
    problem_field(websub(hub, mode="subscribe", topic=topic, callback="ftp://x/"),
                  "hub.callback")
    problem_field(websub(hub, mode="subscribe", topic=topic, callback="not a url"),
                  "hub.callback")
    problem_field(websub(hub, mode="subscribe", topic=topic,
                         callback="http://user:pw@example.com/"), "hub.callback")
    problem_field(websub(hub, mode="subscribe", callback=cb), "hub.topic")
    problem_field(websub(hub, mode="subscribe", topic="feed.xml", callback=cb), "hub.topic")
    problem_field(websub(hub, mode="subscribe", topic=topic, callback=cb, lease_seconds="1h"),
                  "hub.lease_seconds")
    problem_field(websub(hub, mode="subscribe", topic=topic, callback=cb, lease_seconds="-5"),
                  "hub.lease_seconds")
    problem_field(websub(hub, mode="subscribe", topic=topic, callback=cb, secret="x" * 200),
                  "hub.secret")
    r = hub.post("/websub", form(mode="subscribe", topic=topic, callback=cb)
                 + "&hub.mode=unsubscribe", headers=FORM)
    problem_field(r, "hub.mode")
    r = hub.post("/websub", "hub.mode=%zz", headers=FORM)
    problem_field(r, "hub.mode")

    r = hub.post("/websub", {"hub.mode": "subscribe"})  # JSON
    assert r.status == 415, r
    assert r.headers["content-type"] == "application/problem+json"
    r = hub.post("/websub", form(mode="subscribe", topic=topic, callback=cb))  # no type
    assert r.status == 415, r
    r = hub.get("/websub")
    assert r.status == 405 and "POST" in r.headers["allow"]
    time.sleep(0.5)
    assert subscriber.gets == []  # nothing was verified
    # A secret of 199 bytes is fine.
    r = websub(hub, mode="subscribe", topic=topic, callback=cb, secret="x" * 199)
    assert r.status == 202, r


def test_stop_with_a_retry_pending_is_clean(hub, subscriber):
    subscriber.post_status["/down"] = [503] * 10
    subscribe(hub, subscriber, "/down", "/atom.xml", 1)
    hub.publish(hub.issuer_token, hub.editor_token, headline="Never delivered")
    subscriber.wait("post", lambda p: len(p) >= 1)
    wait_metric(hub, "kawat_websub_retries_pending", 1)
    assert metric(hub, "kawat_websub_pushes_total{result=\"ok\"}") == 0
    hub.stop()  # exits 0 with no sanitizer report: nothing leaked, nothing hung
