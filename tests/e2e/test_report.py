"""Distribution reports end to end: GET /v1/releases/{id}/report counts
exactly what happened to a release on each channel -- SSE streams that
were written to, webhook endpoints (a real receiver; one answering 500),
WebSub pushes (a real subscriber) -- per language and country of the
recipients and per minute; only the issuer and the editors see it (anyone
else gets the 404 of an unknown release); the HTML form draws the first
hour as an inline SVG; and the counts survive kill -9 and a restart."""
import html.parser
import re
import time

import pytest

import test_stream as streams
import test_webhooks as webhooks
import test_websub as websub

ALLOW = ("--webhook-allow", "127.0.0.0/8")
FAST = ("--webhook-retry-base", "100ms", "--webhook-retry-max", "400ms",
        "--webhook-timeout", "1s")


@pytest.fixture
def srv(make_server):
    s = make_server(args=ALLOW + FAST)
    s.issuer_token = s.token("issuer", name="Acme Test Corp")
    s.editor_token = s.token("editor", name="Ed Editor")
    return s


@pytest.fixture
def receiver():
    r = webhooks.Receiver()
    yield r
    r.close()
    assert not r.bad_signatures, r.bad_signatures


@pytest.fixture
def subscriber():
    s = websub.Subscriber()
    yield s
    s.close()


def report(server, rid, token):
    r = server.get(f"/v1/releases/{rid}/report", token=token)
    assert r.status == 200, r
    assert r.headers["cache-control"] == "no-store"
    return r.json()


def wait_report(server, rid, token, pred, timeout=15):
    """The report once pred(report) holds (counts are flushed every second)."""
    deadline = time.time() + timeout
    while True:
        rep = report(server, rid, token)
        if pred(rep):
            return rep
        assert time.time() < deadline, rep
        time.sleep(0.1)


def counts(c):
    return {k: c[k] for k in ("matched", "delivered", "failed", "pending")}


def row(rep, channel, language, country):
    for r in rep["breakdown"]:
        if (r["channel"], r["language"], r["country"]) == (channel, language, country):
            return counts(r)
    return None


def outlet(server, name, filters):
    r = server.post("/v1/subscribers", {"kind": "outlet", "name": name, "filters": filters})
    assert r.status == 201, r
    return r.json()["token"]


# ---------------------------------------------------------------- counting


def test_report_counts_what_happened_per_channel_language_country(srv, receiver, subscriber):
    # Streams: four match an English release about Indonesia, one does not.
    sse = [streams.SSE(srv, "language=en"), streams.SSE(srv, "language=en"),
           streams.SSE(srv, "language=en&region=ID"), streams.SSE(srv),
           streams.SSE(srv, "language=id")]
    assert all(s.status == 200 for s in sse)
    # Webhooks: an English outlet in Indonesia that answers, and an outlet
    # taking everything whose receiver answers 500.
    ok = outlet(srv, "Jakarta English Daily", [{"languages": ["en"], "regions": ["ID"]}])
    webhooks.endpoint(srv, ok, receiver, "/ok")
    bad = outlet(srv, "Broken Portal", [{}])
    webhooks.endpoint(srv, bad, receiver, "/fail")
    receiver.default["/fail"] = 500
    # WebSub: the English Atom feed.
    websub.subscribe(srv, subscriber, "/en", "/en/atom.xml", 1)

    rel = srv.publish(srv.issuer_token, srv.editor_token, headline="Nickel smelter opens",
                      language="en", regions=["ID"])
    rid = rel["id"]
    for s in sse[:4]:
        ev = s.event()
        assert ev["event"] == "publish" and rid in ev["data"]
    receiver.wait(lambda: len(receiver.delivered("/ok")) == 1
                  and len(receiver.for_path("/fail")) >= 2)
    subscriber.wait("post", lambda p: len(p) >= 1)

    rep = wait_report(srv, rid, srv.issuer_token,
                      lambda r: r["channels"]["streams"]["delivered"] == 4
                      and r["channels"]["webhooks"]["delivered"] == 1
                      and r["channels"]["webhooks"]["failed"] == 1
                      and r["channels"]["websub"]["delivered"] == 1)
    ch = rep["channels"]
    assert counts(ch["streams"]) == {"matched": 4, "delivered": 4, "failed": 0, "pending": 0}
    assert counts(ch["webhooks"]) == {"matched": 2, "delivered": 1, "failed": 1, "pending": 0}
    assert ch["webhooks"]["failed_attempts"] >= 2
    assert counts(ch["websub"]) == {"matched": 1, "delivered": 1, "failed": 0, "pending": 0}
    assert counts(ch["email"]) == {"matched": 0, "delivered": 0, "failed": 0, "pending": 0}
    assert counts(rep["totals"]) == {"matched": 7, "delivered": 6, "failed": 1, "pending": 0}

    # Per language and country of the recipients (their filters).
    assert row(rep, "streams", "en", "ZZ") == {"matched": 2, "delivered": 2, "failed": 0,
                                               "pending": 0}
    assert row(rep, "streams", "en", "ID")["delivered"] == 1
    assert row(rep, "streams", "any", "ZZ")["delivered"] == 1
    assert row(rep, "webhooks", "en", "ID") == {"matched": 1, "delivered": 1, "failed": 0,
                                                "pending": 0}
    assert row(rep, "webhooks", "any", "ZZ") == {"matched": 1, "delivered": 0, "failed": 1,
                                                 "pending": 0}
    assert row(rep, "websub", "en", "ZZ")["delivered"] == 1
    assert row(rep, "streams", "id", "ZZ") is None  # never matched, never counted
    langs = {r["language"]: counts(r) for r in rep["languages"]}
    assert langs == {"en": {"matched": 5, "delivered": 5, "failed": 0, "pending": 0},
                     "any": {"matched": 2, "delivered": 1, "failed": 1, "pending": 0}}
    countries = {r["country"]: r["delivered"] for r in rep["countries"]}
    assert countries == {"ID": 2, "ZZ": 4}

    # The timeline: 60 minutes from publication, holding every delivery.
    tl = rep["timeline"]
    assert [m["minute"] for m in tl["minutes"]] == list(range(60))
    assert sum(m["delivered"] for m in tl["minutes"]) == 6
    assert sum(m["delivered"] for m in tl["minutes"][:2]) == 6
    assert sum(m["streams"] for m in tl["minutes"]) == 4
    assert tl["before_publication"] == 0 and tl["after_first_hour"] == 0
    assert rep["release_id"] == rid and rep["state"] == "published"
    assert rep["published_at"] == rel["published_at"]

    # A retry that succeeds moves the webhook from failed to delivered.
    receiver.default["/fail"] = "ok"
    rep = wait_report(srv, rid, srv.editor_token,
                      lambda r: r["channels"]["webhooks"]["delivered"] == 2)
    assert counts(rep["channels"]["webhooks"]) == {"matched": 2, "delivered": 2, "failed": 0,
                                                   "pending": 0}
    for s in sse:
        s.sock.close()


def test_failed_websub_push_then_retry(srv, subscriber):
    websub.subscribe(srv, subscriber, "/flaky", "/atom.xml", 1)
    subscriber.post_status["/flaky"] = [500]
    rel = srv.publish(srv.issuer_token, srv.editor_token, headline="Flaky callback")
    subscriber.wait("post", lambda p: len(p) >= 1)
    rep = wait_report(srv, rel["id"], srv.issuer_token,
                      lambda r: r["channels"]["websub"]["failed_attempts"] == 1)
    assert counts(rep["channels"]["websub"]) == {"matched": 1, "delivered": 0, "failed": 1,
                                                 "pending": 0}
    # The retry (after about 5 s) gets a 204: delivered, no longer failed.
    rep = wait_report(srv, rel["id"], srv.issuer_token,
                      lambda r: r["channels"]["websub"]["delivered"] == 1, timeout=20)
    assert counts(rep["channels"]["websub"]) == {"matched": 1, "delivered": 1, "failed": 0,
                                                 "pending": 0}
    assert rep["channels"]["websub"]["failed_attempts"] == 1


def test_a_release_nobody_got_reports_zeros(srv):
    rel = srv.publish(srv.issuer_token, srv.editor_token, headline="Nobody listens")
    time.sleep(1.5)  # a flush interval: nothing may appear
    rep = report(srv, rel["id"], srv.issuer_token)
    assert counts(rep["totals"]) == {"matched": 0, "delivered": 0, "failed": 0, "pending": 0}
    assert rep["languages"] == [] and rep["countries"] == [] and rep["breakdown"] == []
    assert len(rep["timeline"]["minutes"]) == 60
    # A draft has a report too (for its issuer): empty, not yet published.
    draft = srv.create(srv.issuer_token, headline="Still a draft")
    rep = report(srv, draft["id"], srv.issuer_token)
    assert rep["published_at"] is None and rep["state"] == "draft"
    assert rep["totals"]["matched"] == 0


def test_a_stream_that_catches_up_counts_when_it_does(srv):
    rel = srv.publish(srv.issuer_token, srv.editor_token, headline="Read later", language="id")
    time.sleep(1.2)
    assert report(srv, rel["id"], srv.issuer_token)["channels"]["streams"]["matched"] == 0
    s = streams.SSE(srv, "language=id", last_id=0)  # resumes from the start: the replay
    ev = s.event()
    assert ev["id"] == str(rel["seq"]) and rel["id"] in ev["data"]
    rep = wait_report(srv, rel["id"], srv.issuer_token,
                      lambda r: r["channels"]["streams"]["delivered"] == 1)
    assert counts(rep["channels"]["streams"]) == {"matched": 1, "delivered": 1, "failed": 0,
                                                  "pending": 0}
    assert row(rep, "streams", "id", "ZZ")["delivered"] == 1
    s.sock.close()
    # Resuming after it: nothing is sent again, nothing is counted again.
    s = streams.SSE(srv, "language=id", last_id=rel["seq"])
    time.sleep(1.5)
    rep = report(srv, rel["id"], srv.issuer_token)
    assert rep["channels"]["streams"]["delivered"] == 1
    s.sock.close()


def test_trusted_early_delivery_counts_before_publication(srv):
    r = srv.post("/v1/subscribers", {"kind": "desktop", "name": "Trusted desk",
                                     "filters": [{"languages": ["en"]}]})
    assert r.status == 201, r
    sub, tok = r.json()["subscriber"]["id"], r.json()["token"]
    r = srv.request("PATCH", f"/v1/subscribers/{sub}", {"trusted": True},
                    token=srv.editor_token)
    assert r.status == 200, r
    s = streams.SSE(srv, token=tok)
    rel = srv.create(srv.issuer_token, headline="Embargoed results",
                     embargo_until="2030-01-01T00:00:00Z")
    assert srv.post(f"/v1/releases/{rel['id']}/submit", token=srv.issuer_token).status == 200
    assert srv.post(f"/v1/releases/{rel['id']}/approve", token=srv.editor_token).status == 200
    ev = s.event()
    assert ev["event"] == "embargo"
    rep = wait_report(srv, rel["id"], srv.editor_token,
                      lambda r: r["channels"]["streams"]["delivered"] == 1)
    assert rep["state"] == "embargoed" and rep["published_at"] is None
    assert rep["timeline"]["before_publication"] == 1
    assert row(rep, "streams", "en", "ZZ")["delivered"] == 1
    s.sock.close()


# ---------------------------------------------------------------- who sees it


def test_only_the_issuer_and_editors_see_the_report(srv):
    rel = srv.publish(srv.issuer_token, srv.editor_token, headline="Private numbers")
    rid = rel["id"]
    unknown = srv.get("/v1/releases/rzzzzzzzzzzzzzzz/report", token=srv.editor_token)
    assert unknown.status == 404
    other = srv.token("issuer", name="Rival Corp", issuer="Rival Corp")
    r = srv.post("/v1/subscribers", {"kind": "desktop", "name": "Desk", "filters": [{}]})
    subscriber_token = r.json()["token"]
    for token in (None, other, subscriber_token):
        r = srv.get(f"/v1/releases/{rid}/report", token=token)
        assert r.status == 404, (token, r)
        assert r.body == unknown.body  # the same bytes as an id that never existed
        assert r.headers["content-type"] == "application/problem+json"
    for token in (srv.issuer_token, srv.editor_token, srv.token("admin", name="Root")):
        assert srv.get(f"/v1/releases/{rid}/report", token=token).status == 200
    # HTML too, and nothing else.
    r = srv.get(f"/v1/releases/{rid}/report?format=html", token=other)
    assert r.status == 404 and r.body == unknown.body
    r = srv.get(f"/v1/releases/{rid}/report?format=xml", token=srv.issuer_token)
    assert r.status == 400 and r.json()["field"] == "format"
    r = srv.get(f"/v1/releases/{rid}/report?days=1", token=srv.issuer_token)
    assert r.status == 400 and r.json()["field"] == "days"
    r = srv.post(f"/v1/releases/{rid}/report", token=srv.issuer_token)
    assert r.status == 405 and "GET" in r.headers["allow"]
    assert srv.request("HEAD", f"/v1/releases/{rid}/report",
                       token=srv.issuer_token).status == 200


# ---------------------------------------------------------------- the page


class Page(html.parser.HTMLParser):
    """Collects the tags (with attributes) and text of a page."""

    def __init__(self):
        super().__init__()
        self.tags = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_html_report_draws_the_first_hour(srv):
    s = streams.SSE(srv, "language=en")
    rel = srv.publish(srv.issuer_token, srv.editor_token,
                      headline="Smelter <opens> & hires", language="en")
    s.event()
    wait_report(srv, rel["id"], srv.issuer_token,
                lambda r: r["channels"]["streams"]["delivered"] == 1)
    r = srv.get(f"/v1/releases/{rel['id']}/report?format=html", token=srv.issuer_token)
    assert r.status == 200, r
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["cache-control"] == "no-store"
    text = r.text
    assert text.startswith("<!doctype html>")
    assert "Smelter &lt;opens&gt; &amp; hires" in text and "<opens>" not in text
    assert "<script" not in text  # drawn by kawat, no JS library
    page = Page()
    page.feed(text)
    svgs = [a for t, a in page.tags if t == "svg"]
    assert len(svgs) == 1 and svgs[0]["role"] == "img"
    bars = [a for t, a in page.tags if t == "rect" and a.get("class") == "bar"]
    assert len(bars) == 60
    assert [int(b["data-minute"]) for b in bars] == list(range(60))
    assert sum(int(b["data-delivered"]) for b in bars) == 1
    tall = [b for b in bars if float(b["height"]) > 0]
    assert len(tall) == 1 and int(tall[0]["data-delivered"]) == 1
    tables = [a for t, a in page.tags if t == "table"]
    assert len(tables) >= 4  # channels, languages, countries, breakdown
    assert re.search(r"Streams \(SSE, WebSocket\)</th><td>1</td><td>1</td>", text)
    s.sock.close()


# ---------------------------------------------------------------- durability


def test_counts_survive_kill_and_restart(srv, receiver):
    streams_open = [streams.SSE(srv, "language=en") for _ in range(3)]
    tok = outlet(srv, "Durable Outlet", [{"languages": ["en"]}])
    webhooks.endpoint(srv, tok, receiver, "/durable")
    rel = srv.publish(srv.issuer_token, srv.editor_token, headline="Durable counts")
    for s in streams_open:
        s.event()
    rep = wait_report(srv, rel["id"], srv.issuer_token,
                      lambda r: r["channels"]["streams"]["delivered"] == 3
                      and r["channels"]["webhooks"]["delivered"] == 1)
    for s in streams_open:
        s.sock.close()
    srv.kill()  # what the report showed was already committed
    srv.start()
    again = report(srv, rel["id"], srv.issuer_token)
    assert again["channels"] == rep["channels"]
    assert again["breakdown"] == rep["breakdown"]
    assert again["timeline"] == rep["timeline"]
    # A graceful stop writes what is held: a stream delivery counted just
    # before SIGTERM is there after the restart.
    s = streams.SSE(srv, "language=en")
    srv.post(f"/v1/releases/{rel['id']}/correct", {"note": "Typo.", "body": "Fixed body."},
             token=srv.issuer_token)
    assert s.event()["event"] == "correction"
    s.sock.close()
    srv.stop()
    srv.start()
    rep = report(srv, rel["id"], srv.issuer_token)
    assert rep["channels"]["streams"]["delivered"] == 4
