"""Subscriber self-service in the browser (/me/...), against the real
binary with cookies by hand: sign-up and log-in, beats with the preview of
matching releases, e-mail timing, the live page and feed links, an
outlet's webhook endpoints and delivery log; CSRF on every form, invalid
input answered next to its field, every route with every role and none."""
import http.server
import re
import threading
import time

import pytest

from conftest import Server
from test_accounts import PASSWORD, Browser, add_user, form_csrf

ALLOW = ["--webhook-allow", "127.0.0.0/8"]


@pytest.fixture
def wire(tmp_path):
    s = Server(tmp_path)
    s.args = ["--mail-log", str(s.dir / "mail.log")] + ALLOW
    add_user(s, "admin", "ada@example.com", "Ada Admin")
    add_user(s, "editor", "ed@example.com", "Ed Editor")
    add_user(s, "issuer", "iris@example.com", "Iris Issuer", issuer="PT Kopi Gayo")
    s.start()
    yield s
    if s.proc is not None:
        s.stop()


def signup(server, kind, email, name="Dewi Lestari", lang=None):
    b = Browser(server, lang=lang)
    form = {"csrf": b.csrf("/me/signup"), "kind": kind, "name": name, "email": email,
            "password": PASSWORD}
    status, h, text = b.post("/me/signup", form)
    assert status == 303 and h["location"] == "/me/", (status, text[:400])
    assert "kawat_session" in b.cookies
    return b


def field_error(text, name):
    m = re.search(r'<span class="error" id="%s-error">(.*?)</span>' % name, text) or \
        re.search(r'<p class="error" id="%s-error">(.*?)</p>' % name, text)
    return m and m.group(1)


# ---------------------------------------------------------------- sign-up

def test_signup_logs_in_and_shows_the_page(wire):
    b = signup(wire, "journalist", "dewi@example.com")
    status, h, text = b.get("/me/")
    assert status == 200, text[:300]
    assert h["cache-control"] == "no-store"
    assert 'data-kind="journalist"' in text and "Everything" in text
    # The same person logs in again with the address and password.
    b2 = Browser(wire)
    status, h, _ = b2.login("dewi@example.com", next="/me/")
    assert status == 303 and h["location"] == "/me/"
    assert b2.get("/me/")[0] == 200


def test_signup_answers_mistakes_next_to_the_field_keeping_what_was_typed(wire):
    b = Browser(wire)
    form = {"csrf": b.csrf("/me/signup"), "kind": "desktop", "name": "<b>Ana</b>",
            "email": "not-an-address", "password": "short"}
    status, _, text = b.post("/me/signup", form)
    assert status == 422
    assert field_error(text, "email") and field_error(text, "password")
    assert 'value="not-an-address"' in text and 'value="&lt;b&gt;Ana&lt;/b&gt;"' in text
    assert "<b>Ana</b>" not in text
    assert 'value="desktop" checked' in text
    assert "kawat_session" not in b.cookies


def test_signup_refuses_a_taken_address_and_a_missing_csrf(wire):
    signup(wire, "desktop", "taken@example.com")
    b = Browser(wire)
    form = {"csrf": b.csrf("/me/signup"), "kind": "desktop", "name": "X",
            "email": "TAKEN@example.com", "password": PASSWORD}
    status, _, text = b.post("/me/signup", form)
    assert status == 409 and field_error(text, "email")
    # An editor's address is taken too.
    form["email"] = "ed@example.com"
    assert b.post("/me/signup", form)[0] == 409
    form["email"] = "fresh@example.com"
    form["csrf"] = "forged"
    assert b.post("/me/signup", form)[0] == 403
    assert "kawat_session" not in b.cookies


# ---------------------------------------------------------------- beats

def test_beat_preview_save_and_remove(wire):
    issuer = wire.token("issuer", name="Acme Test Corp")
    editor = wire.token("editor", name="Ed")
    wire.publish(issuer, editor, headline="Kopi harvest up", language="id",
                 sectors=["Business"], regions=["ID"])
    wire.publish(issuer, editor, headline="Unrelated English news", language="en",
                 sectors=["Business"], regions=["DE"])
    b = signup(wire, "journalist", "beat@example.com")
    _, _, page = b.get("/me/")
    csrf = form_csrf(page)
    form = {"csrf": csrf, "language": "id", "sector": "business", "regions": "id",
            "keywords": "", "action": "preview"}
    status, _, text = b.post("/me/beats", form)
    assert status == 200
    preview = text.split('<section id="preview">', 1)[1].split("</section>", 1)[0]
    assert "Kopi harvest up" in preview and "Unrelated" not in preview
    assert 'value="id" checked' in text and 'value="business" checked' in text
    # An unknown country: the message next to the field, the text kept.
    bad = dict(form, regions="ZZ, id")
    status, _, text = b.post("/me/beats", bad)
    assert status == 422 and field_error(text, "regions") and 'value="ZZ, id"' in text
    # A beat naming nothing.
    status, _, text = b.post("/me/beats", {"csrf": csrf, "action": "save"})
    assert status == 422 and field_error(text, "languages")
    # Saved: the subscriber's filters, the feed nearest to it, the preview.
    status, h, _ = b.post("/me/beats", dict(form, action="save"))
    assert status == 303 and h["location"] == "/me/"
    _, _, text = b.get("/me/")
    assert "Everything" not in text.split('<section id="add-beat">')[0]
    assert "/id/sectors/business/atom.xml" in text
    matching = text.split('<section id="matching">', 1)[1].split("</section>", 1)[0]
    assert "Kopi harvest up" in matching and "Unrelated" not in matching
    status, h, _ = b.post("/me/beats/remove", {"csrf": form_csrf(text), "beat": "0"})
    assert status == 303
    assert "Everything" in b.get("/me/")[2]


def test_timing_is_for_journalists_and_needs_a_confirmed_address(wire):
    j = signup(wire, "journalist", "j@example.com")
    _, _, text = j.get("/me/")
    assert 'href="/signup"' in text  # not confirmed: how to get alerts
    status, _, _ = j.post("/me/timing", {"csrf": form_csrf(text), "timing": "daily"})
    assert status == 303
    status, _, _ = j.post("/me/timing", {"csrf": form_csrf(text), "timing": "weekly"})
    assert status == 422
    d = signup(wire, "desktop", "d@example.com")
    _, _, text = d.get("/me/")
    assert 'id="timing"' not in text
    assert d.post("/me/timing", {"csrf": form_csrf(text), "timing": "daily"})[0] == 403


def test_live_page_streams_the_subscribers_beats(wire):
    b = signup(wire, "desktop", "live@example.com", lang="ar")
    status, _, text = b.get("/me/live")
    assert status == 200
    assert '<html lang="ar" dir="rtl">' in text
    assert re.search(r'data-stream="/v1/stream\?after=\d+"', text)
    assert '<script src="/static/live.js" defer></script>' in text


# ---------------------------------------------------------------- outlets

class Receiver(http.server.BaseHTTPRequestHandler):
    got = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        Receiver.got.append(self.rfile.read(n))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *a):
        pass


def test_outlet_manages_endpoints_and_reads_the_delivery_log(wire):
    httpd = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        o = signup(wire, "outlet", "desk@outlet.example", name="Harian Test")
        status, _, text = o.get("/me/endpoints")
        assert status == 200 and "None yet." in text
        csrf = form_csrf(text)
        status, _, text = o.post("/me/endpoints", {"csrf": csrf, "url": "ftp://x", "format": "ninjs"})
        assert status == 422 and field_error(text, "url") and 'value="ftp://x"' in text
        url = f"http://127.0.0.1:{httpd.server_port}/hook"
        status, _, text = o.post("/me/endpoints", {"csrf": csrf, "url": url, "format": "ninjs"})
        assert status == 201, text[:400]
        assert re.search(r"<code>whsec_[A-Za-z0-9+/=]+</code>", text)
        ep = re.search(r'data-endpoint="(w[a-z0-9]+)"', text).group(1)

        issuer = wire.token("issuer", name="Acme Test Corp")
        editor = wire.token("editor", name="Ed")
        rel = wire.publish(issuer, editor, headline="For the outlet")
        deadline = time.time() + 15
        while time.time() < deadline:
            _, _, text = o.get(f"/me/endpoints/{ep}")
            if rel["id"] in text and 'data-state="delivered"' in text:
                break
            time.sleep(0.2)
        assert rel["id"] in text and 'data-state="delivered"' in text, text[-1500:]
        assert Receiver.got

        status, h, _ = o.post(f"/me/endpoints/{ep}", {"csrf": csrf, "action": "pause"})
        assert status == 303 and h["location"] == f"/me/endpoints/{ep}"
        assert 'id="endpoint" data-state="paused"' in o.get(f"/me/endpoints/{ep}")[2]
        o.post(f"/me/endpoints/{ep}", {"csrf": csrf, "action": "resume"})
        assert 'id="endpoint" data-state="active"' in o.get(f"/me/endpoints/{ep}")[2]

        # Another outlet sees nothing of it and changes nothing.
        other = signup(wire, "outlet", "other@outlet.example")
        _, _, t2 = other.get("/me/endpoints")
        assert ep not in t2
        assert other.get(f"/me/endpoints/{ep}")[0] == 404
        assert other.post(f"/me/endpoints/{ep}", {"csrf": form_csrf(t2), "action": "delete"})[0] == 404
        # Without the CSRF token nothing happens.
        assert o.post(f"/me/endpoints/{ep}", {"action": "delete"})[0] == 403
        status, h, _ = o.post(f"/me/endpoints/{ep}", {"csrf": csrf, "action": "delete"})
        assert status == 303 and h["location"] == "/me/endpoints"
        assert o.get(f"/me/endpoints/{ep}")[0] == 404
    finally:
        httpd.shutdown()


# ---------------------------------------------------------------- roles

ROUTES = [("GET", "/me/"), ("POST", "/me/beats"), ("POST", "/me/beats/remove"),
          ("POST", "/me/timing"), ("GET", "/me/live"), ("GET", "/me/endpoints"),
          ("POST", "/me/endpoints"), ("GET", "/me/endpoints/wnotthereatall00"),
          ("POST", "/me/endpoints/wnotthereatall00")]


def session_for(wire, who):
    if who in ("journalist", "desktop", "outlet"):
        return signup(wire, who, f"{who}@roles.example")
    b = Browser(wire)
    if who != "none":
        email = {"admin": "ada@example.com", "editor": "ed@example.com",
                 "issuer": "iris@example.com"}[who]
        assert b.login(email)[0] == 303
    return b


def test_every_route_with_every_role_and_none(wire):
    for who in ["none", "admin", "editor", "issuer", "journalist", "desktop", "outlet"]:
        b = session_for(wire, who)
        csrf = form_csrf(b.get("/me/signup")[2]) if who == "none" else None
        if who in ("admin", "editor", "issuer"):
            csrf = form_csrf(b.get("/account")[2])
        elif who not in ("none",):
            csrf = form_csrf(b.get("/me/")[2])
        for method, path in ROUTES:
            form = {"csrf": csrf, "timing": "daily", "beat": "0", "action": "preview",
                    "language": "en", "url": "https://example.com/h", "format": "ninjs"}
            status, h, _ = b.request(method, path, form=form if method == "POST" else None)
            if who == "none":
                want = 303 if method == "GET" else 403
            elif who in ("admin", "editor", "issuer"):
                want = 403
            elif path.startswith("/me/endpoints") and who != "outlet":
                want = 403
            elif path == "/me/timing" and who != "journalist":
                want = 403
            elif path.startswith("/me/endpoints/"):
                want = 404
            else:
                want = {"/me/": 200, "/me/beats": 200, "/me/beats/remove": 303,
                        "/me/timing": 303, "/me/live": 200, "/me/endpoints": 200}[path]
                if path == "/me/endpoints" and method == "POST":
                    want = 201
            assert status == want, (who, method, path, status)
            if who == "none" and method == "GET":
                assert h["location"] == "/login?next=" + path
        # /me/signup: anyone without a session; a subscriber goes to /me/.
        status, h, _ = b.get("/me/signup")
        want = {"none": 200, "admin": 403, "editor": 403, "issuer": 403}.get(who, 303)
        assert status == want, (who, status)
    # Methods a route does not take.
    b = Browser(wire)
    assert b.request("PUT", "/me/")[0] == 405
    assert b.get("/me/beats")[0] == 405
    assert b.get("/me")[0] == 301


def test_pages_are_localized(wire):
    b = signup(wire, "outlet", "lang@example.com")
    for tag, word in [("id", "Langganan Anda"), ("ar", "اشتراكك"), ("ja", "購読設定")]:
        status, _, text = b.get(f"/me/?lang={tag}")
        assert status == 200 and word in text, tag
    assert 'dir="rtl"' in b.get("/me/endpoints?lang=ar")[2]


# ---------------------------------------------------------------- confirmed journalists

from test_mail import mail_server, smtp  # noqa: E402,F401  (smtp is a fixture)
from test_mail import signup as mail_signup  # noqa: E402


def test_a_confirmed_journalist_gets_a_password_by_reset_and_sets_timing(make_server, smtp,
                                                                          tmp_path):
    log = tmp_path / "people-mail.log"
    server = mail_server(make_server, smtp, "--mail-log", str(log))
    mail_signup(server, smtp, "sari@example.com", [{"sectors": ["Business"]}], timing="immediate")
    b = Browser(server)
    status, _, _ = b.post("/reset", {"csrf": b.csrf("/reset"), "email": "sari@example.com"})
    assert status == 200
    # With --smtp, mails to people go out over SMTP (the engine's send_mail),
    # not to --mail-log: the confirmation, then the reset.
    mail = smtp.wait_to("sari@example.com", 2)[-1]
    assert not log.exists()
    link = re.search(r"/reset/[0-9a-z]+", mail.get_content()).group(0)
    _, _, page = b.get(link)
    status, _, _ = b.post(link, {"csrf": form_csrf(page), "password": PASSWORD})
    assert status == 200
    status, h, _ = b.login("sari@example.com", next="/me/")
    assert status == 303 and h["location"] == "/me/"
    _, _, text = b.get("/me/")
    assert 'data-kind="journalist"' in text
    assert 'name="timing" value="immediate" checked' in text
    status, _, _ = b.post("/me/timing", {"csrf": form_csrf(text), "timing": "daily"})
    assert status == 303
    assert 'name="timing" value="daily" checked' in b.get("/me/")[2]
    # The /account page links the subscriber's own page.
    assert 'href="/me/"' in b.get("/account")[2]


def test_a_browser_journalist_confirming_alerts_gets_them_on_its_own_subscriber(make_server, smtp):
    server = mail_server(make_server, smtp)
    b = signup(server, "journalist", "rina@example.com", name="Rina")
    _, _, text = b.get("/me/")
    assert 'id="timing"' in text and 'name="timing"' not in text  # not confirmed yet
    mail_signup(server, smtp, "rina@example.com", [{"sectors": ["Business"]}], timing="hourly")
    _, _, text = b.get("/me/")
    assert 'name="timing" value="hourly" checked' in text
    assert "Rina" in text
    assert b.post("/me/timing", {"csrf": form_csrf(text), "timing": "immediate"})[0] == 303
    assert 'name="timing" value="immediate" checked' in b.get("/me/")[2]
    # One subscriber, not two.
    editor = server.token("editor", name="Ed")
    subs = server.get("/v1/subscribers?kind=journalist", token=editor).json()["items"]
    assert [s["email"] for s in subs] == ["rina@example.com"]
