"""E-mail alerts for journalists, checked with a real SMTP server on
loopback (aiosmtpd) and Python's email package: double opt-in sign-up,
MIME and headers (RFC 2047, Message-ID, RFC 8058 one-click), digests,
embargo only to trusted journalists, bounces, retries, and kill -9 in the
middle of a burst."""
import email
import email.policy
import json
import pathlib
import re
import sys
import threading
import time
import urllib.parse

import pytest
from aiosmtpd.controller import Controller

from conftest import ROOT, free_port

sys.path.insert(0, str(ROOT / "bench"))
import mail_seed  # noqa: E402


class Handler:
    """Keeps every message; answers 550 to RCPT TO for reject, 451 to the
    first tempfail[addr] attempts, and can be slowed down."""

    def __init__(self):
        self.messages = []  # (rcpt, EmailMessage)
        self.reject = set()
        self.tempfail = {}
        self.rcpt_attempts = {}
        self.delay = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.rcpt_attempts[address] = self.rcpt_attempts.get(address, 0) + 1
            if address in self.reject:
                return "550 5.1.1 <%s>: mailbox unavailable" % address
            if self.tempfail.get(address, 0) > 0:
                self.tempfail[address] -= 1
                return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            import asyncio
            await asyncio.sleep(self.delay)
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        msg.raw = envelope.content
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.messages.append((rcpt, msg))
        return "250 Message accepted"

    def to(self, addr):
        with self.lock:
            return [m for r, m in self.messages if r == addr]

    def wait(self, pred, timeout=15, what="mail"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                got = pred(list(self.messages))
            if got:
                return got
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; have "
                             f"{[(r, m['Subject']) for r, m in self.messages][-10:]}")

    def wait_to(self, addr, n=1, timeout=15):
        return self.wait(lambda ms: [m for r, m in ms if r == addr][n - 1:] and
                         [m for r, m in ms if r == addr], timeout, f"{n} mail(s) to {addr}")


@pytest.fixture
def smtp():
    handler = Handler()
    port = free_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port)
    ctl.start()
    handler.port = port
    yield handler
    ctl.stop()


def mail_server(make_server, smtp, *extra):
    return make_server(["--smtp", f"smtp://127.0.0.1:{smtp.port}",
                        "--mail-from", "alerts@wire.example", "--mail-retry-base", "200ms",
                        *extra])


def parts(msg):
    """(text, html) of a multipart/alternative message."""
    assert msg.get_content_type() == "multipart/alternative"
    kinds = [p.get_content_type() for p in msg.iter_parts()]
    assert kinds == ["text/plain", "text/html"], kinds
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    return text, html


def link(text, path):
    m = re.search(r"https?://[^\s<>\"]*" + re.escape(path) + r"\?token=[^\s<>\"]+", text)
    assert m, text
    return m.group(0)


def local(url):
    u = urllib.parse.urlsplit(url)
    return u.path + "?" + u.query


def signup(server, smtp, addr, beats, language="en", timing="immediate", name=None):
    """Signs addr up and opens the confirmation link; returns the mail."""
    body = {"email": addr, "language": language, "beats": beats, "timing": timing}
    if name:
        body["name"] = name
    r = server.post("/v1/signups", body)
    assert r.status == 202, r
    assert r.json()["status"] == "pending"
    msg = smtp.wait_to(addr)[-1]
    text, html = parts(msg)
    url = link(text, "/confirm")
    assert url in html.replace("&amp;", "&")
    r = server.get(local(url))
    assert r.status == 200, r
    assert addr in r.text
    return msg


def subscriber_id(server, addr):
    editor = server.token("editor", name="Ed Editor")
    cursor = ""
    while True:
        r = server.get("/v1/subscribers?kind=journalist&limit=100" + cursor, token=editor).json()
        for s in r["items"]:
            if s["email"] == addr:
                return s["id"]
        if not r["next_cursor"]:
            raise AssertionError(f"no subscriber {addr}")
        cursor = "&cursor=" + r["next_cursor"]


def publish(server, **fields):
    issuer = server.token("issuer", name="Acme Test Corp")
    editor = server.token("editor", name="Ed Editor")
    return server.publish(issuer, editor, **fields)


def metric(server, name):
    text = server.get("/metrics").text
    m = re.search("^" + re.escape(name) + r" (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


# ------------------------------------------------------------------ flows

def test_double_opt_in_alert_mime_and_one_click_unsubscribe(make_server, smtp):
    server = mail_server(make_server, smtp)
    conf = signup(server, smtp, "sato@example.jp", [{"sectors": ["Technology"]}], language="ja",
                  name="佐藤 花子")
    # The confirmation: in Japanese, no List-Unsubscribe yet (not a list).
    assert "メール通知" in conf["Subject"]
    assert conf["To"].addresses[0].addr_spec == "sato@example.jp"
    assert "List-Unsubscribe" not in conf
    # A second click on the link changes nothing.
    url = link(parts(conf)[0], "/confirm")
    assert server.get(local(url)).status == 200

    # Nothing for a release off the beats.
    publish(server, headline="Palm oil exports rise", sectors=["Business"])
    rel = publish(server, headline="東京のAI新興企業が資金調達", language="ja",
                  sectors=["Technology"],
                  body="発表によると[詳細はこちら](https://example.com/ai?x=1&y=2)。\n\n"
                       "Second paragraph with <b>no raw HTML</b>.")
    msg = smtp.wait_to("sato@example.jp", 2)[-1]
    assert msg["Subject"] == "[kawat] 東京のAI新興企業が資金調達"
    raw = msg.raw.decode("ascii")  # 7-bit on the wire
    assert "\r\nSubject: =?UTF-8?B?" in raw
    long = [line for line in raw.split("\r\n")
            if len(line) > 76 and not line.startswith("List-Unsubscribe:")]
    assert not long, long
    assert msg["From"].addresses[0].addr_spec == "alerts@wire.example"
    assert msg["From"].addresses[0].display_name == "kawat"
    mid = msg["Message-ID"]
    sid = subscriber_id(server, "sato@example.jp")
    assert mid == f"<{rel['id']}.{sid}@127.0.0.1>"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsub = re.fullmatch(r"<(https?://[^>]+)>", msg["List-Unsubscribe"]).group(1)
    assert msg["Content-Language"] == "ja"
    assert msg["Date"].datetime.tzinfo is not None
    text, html = parts(msg)
    assert "https://example.com/ai?x=1&y=2" in text
    assert 'href="https://example.com/ai?x=1&amp;y=2"' in html
    assert "<b>" not in html and f"/ja/releases/{rel['id']}" in html
    assert 'lang="ja"' in html
    assert unsub in text and unsub.replace("&", "&amp;") in html
    # No mail for the off-beat release.
    assert len(smtp.to("sato@example.jp")) == 2

    # The unsubscribe page asks first, in the recipient's language.
    r = server.get(local(unsub))
    assert r.status == 200 and "sato@example.jp" in r.text and "<form" in r.text
    assert 'lang="ja"' in r.text
    # RFC 8058: a POST with List-Unsubscribe=One-Click, no cookie, no page.
    r = server.post(local(unsub), "List-Unsubscribe=One-Click",
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 200, r
    publish(server, headline="日本のロボット", language="ja", sectors=["Technology"])
    time.sleep(1.0)
    assert len(smtp.to("sato@example.jp")) == 2
    assert metric(server, 'kawat_mail_recipients{state="unsubscribed"}') == 1


def test_forged_links_and_malformed_signups_are_refused(make_server, smtp):
    server = mail_server(make_server, smtp)
    for path in ["/confirm?token=nonsense", "/confirm?token=gabc.9999999999." + "0" * 32,
                 "/confirm", "/unsubscribe?token=sabc.0." + "f" * 32,
                 "/unsubscribe?token=x"]:
        r = server.get(path)
        assert r.status == 400, (path, r)
        assert "text/html" in r.headers["content-type"]
    r = server.post("/unsubscribe?token=sabc.0." + "f" * 32, "List-Unsubscribe=One-Click")
    assert r.status == 400
    # A real link with its signature changed is forged too.
    conf = signup(server, smtp, "desk@example.com", [{}])
    good = link(parts(conf)[0], "/confirm")
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert server.get(local(bad)).status == 400
    # ... and a confirmation link for another id with this signature.
    other = re.sub(r"token=g[0-9a-z]+", "token=g" + "0" * 15, good)
    assert server.get(local(other)).status == 400

    cases = [
        ({"email": "not-an-address", "language": "en", "beats": [{}], "timing": "daily"}, "email"),
        ({"email": "a@example.com", "language": "xx", "beats": [{}], "timing": "daily"},
         "language"),
        ({"email": "a@example.com", "language": "en", "timing": "daily"}, "beats"),
        ({"email": "a@example.com", "language": "en", "beats": [{"sectors": ["Nope"]}],
          "timing": "daily"}, "beats[0].sectors[0]"),
        ({"email": "a@example.com", "language": "en", "beats": [{}], "timing": "weekly"},
         "timing"),
        ({"email": "a@example.com", "language": "en", "beats": [{}], "timing": "daily",
          "trusted": True}, "trusted"),
    ]
    for body, field in cases:
        r = server.post("/v1/signups", body)
        assert r.status == 422, (body, r)
        assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert server.post("/v1/signups", "{",
                       headers={"Content-Type": "application/json"}).status == 400
    assert server.post("/v1/signups", "x", headers={"Content-Type": "text/plain"}).status == 415
    assert server.get("/v1/signups").status == 405
    # The address's hourly limit.
    body = {"email": "often@example.com", "language": "en", "beats": [{}], "timing": "daily"}
    assert [server.post("/v1/signups", body).status for _ in range(4)] == [202, 202, 202, 429]


def test_signup_page(make_server, smtp):
    server = mail_server(make_server, smtp)
    r = server.get("/signup?lang=ar")
    assert r.status == 200 and 'lang="ar" dir="rtl"' in r.text
    assert 'name="email"' in r.text and 'value="technology"' in r.text
    form = "lang=de&email=kaputt&name=Erika+M%C3%BCller&language=de&sector=technology&timing=daily"
    h = {"Content-Type": "application/x-www-form-urlencoded"}
    r = server.post("/signup", form, headers=h)
    assert r.status == 422
    assert 'value="kaputt"' in r.text and 'value="Erika Müller"' in r.text
    assert 'id="email-error"' in r.text and 'aria-invalid="true"' in r.text
    assert 'value="technology" checked' in r.text and 'value="daily" checked' in r.text
    r = server.post("/signup", form.replace("kaputt", "erika%40example.de") + "&regions=DE%2C+AT",
                    headers=h)
    assert r.status == 202, r
    assert "erika@example.de" in r.text
    msg = smtp.wait_to("erika@example.de")[-1]
    assert msg["Content-Language"] == "de"
    assert server.get(local(link(parts(msg)[0], "/confirm"))).status == 200
    assert server.request("DELETE", "/signup").status == 405


def test_hourly_digest_in_arabic(make_server, smtp):
    server = mail_server(make_server, smtp, "--mail-digest-every", "3s")
    signup(server, smtp, "layla@example.com", [{"sectors": ["Business"]}], language="ar",
           timing="hourly")
    signup(server, smtp, "now@example.com", [{"sectors": ["Business"]}])
    a = publish(server, headline="First digest item", sectors=["Business"])
    b = publish(server, headline="Second digest item",
                body="See [the report](https://example.org/report.pdf).", sectors=["Business"])
    smtp.wait_to("now@example.com", 3)  # confirmation + two immediate alerts
    msg = smtp.wait_to("layla@example.com", 2, timeout=12)[-1]
    assert len(smtp.to("layla@example.com")) == 2  # one digest, not two alerts
    assert "2" in msg["Subject"] and msg["Subject"].startswith("[kawat] ")
    assert re.fullmatch(r"<dh\d+\.s[0-9a-z]+@127\.0\.0\.1>", msg["Message-ID"])
    text, html = parts(msg)
    assert 'lang="ar" dir="rtl"' in html
    assert text.index("First digest item") < text.index("Second digest item")
    for rel in (a, b):
        assert f"/en/releases/{rel['id']}" in html
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_embargo_only_to_trusted_journalists(make_server, smtp):
    server = mail_server(make_server, smtp)
    signup(server, smtp, "trusted@example.com", [{"sectors": ["Business"]}])
    signup(server, smtp, "plain@example.com", [{"sectors": ["Business"]}])
    editor = server.token("editor", name="Ed Editor")
    issuer = server.token("issuer", name="Acme Test Corp")
    sid = subscriber_id(server, "trusted@example.com")
    assert server.request("PATCH", f"/v1/subscribers/{sid}", {"trusted": True},
                          token=editor).status == 200
    lift = time.time() + 4
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(lift)) + "Z"
    rel = server.create(issuer, headline="Quarterly results", embargo_until=stamp)
    server.post(f"/v1/releases/{rel['id']}/submit", token=issuer)
    assert server.post(f"/v1/releases/{rel['id']}/approve", token=editor).json()["state"] == \
        "embargoed"
    msg = smtp.wait_to("trusted@example.com", 2)[-1]
    assert time.time() < lift
    assert "EMBARGOED until" in msg["Subject"] and "Quarterly results" in msg["Subject"]
    assert msg["Message-ID"] == f"<{rel['id']}.e.{sid}@127.0.0.1>"
    assert "EMBARGOED until" in parts(msg)[0]
    assert len(smtp.to("plain@example.com")) == 1  # only the confirmation
    # At the lift both get the publication.
    smtp.wait_to("plain@example.com", 2, timeout=15)
    assert time.time() >= lift - 1
    last = smtp.wait_to("trusted@example.com", 3)[-1]
    assert "EMBARGOED" not in last["Subject"]


def test_550_marks_the_address_and_451_is_retried(make_server, smtp):
    server = mail_server(make_server, smtp)
    signup(server, smtp, "gone@example.com", [{}])
    signup(server, smtp, "busy@example.com", [{}])
    smtp.reject.add("gone@example.com")
    smtp.tempfail["busy@example.com"] = 2
    first = publish(server, headline="First after the bounce")
    msgs = smtp.wait_to("busy@example.com", 2)
    assert "First after the bounce" in msgs[-1]["Subject"]
    assert smtp.rcpt_attempts["busy@example.com"] == 4  # confirm + 2 x 451 + success
    smtp.wait(lambda _: metric(server, 'kawat_mail_recipients{state="bounced"}') == 1,
              what="the bounce recorded")
    attempts = smtp.rcpt_attempts["gone@example.com"]
    publish(server, headline="Second after the bounce")
    smtp.wait_to("busy@example.com", 3)
    time.sleep(0.5)
    assert smtp.rcpt_attempts["gone@example.com"] == attempts  # nothing more to it
    assert metric(server, 'kawat_mail_failures_total{kind="permanent"}') == 1
    # The distribution report counts what happened: two matched, one
    # delivered after two temporary failures, one refused for good.
    issuer = server.token("issuer", name="Acme Test Corp")

    def email():
        r = server.get(f"/v1/releases/{first['id']}/report", token=issuer)
        assert r.status == 200, r
        return r.json()["channels"]["email"]
    smtp.wait(lambda _: email()["delivered"] == 1 and email()["failed"] == 1,
              what="the report's e-mail counts")
    got = email()
    assert (got["matched"], got["delivered"], got["failed"], got["pending"]) == (2, 1, 1, 0)
    assert got["failed_attempts"] == 3


def test_kill_9_during_a_burst_resends_with_the_same_message_id(make_server, smtp):
    server = mail_server(make_server, smtp, "--mail-connections", "4")
    server.stop()
    n = 300
    mail_seed.seed(server.data, n, prefix="burst", filters=[{"sectors": ["Business"]}])
    server.start()
    smtp.delay = 0.01
    rel = publish(server, headline="Burst", sectors=["Business"])
    smtp.wait(lambda ms: len(ms) >= 60, what="the burst to begin")
    server.kill()
    before = len(smtp.messages)
    assert before < n, "the burst ended before the kill: make it slower"
    smtp.delay = 0
    server.start()
    addrs = {f"burst{i}@example.com" for i in range(n)}
    smtp.wait(lambda ms: addrs <= {r for r, _ in ms}, timeout=40, what="every address")
    ids = {}
    for r, m in smtp.messages:
        ids.setdefault(r, set()).add(m["Message-ID"])
    assert all(len(v) == 1 for v in ids.values()), "a recipient got two Message-IDs"
    assert all(next(iter(v)).startswith(f"<{rel['id']}.s") for v in ids.values())
