"""Log-in for people, against the real binary: sessions in cookies (their
attributes, fixation, log-out), CSRF on every form and on cookie-
authenticated API calls, rate-limited log-in, open redirects, password
reset and invitations by e-mailed link (read from --mail-log), the person's
language, and every account route with every role and with none."""
import html
import http.client
import re
import urllib.parse

import pytest

from conftest import Server

PASSWORD = "correct horse battery staple"
LINK = re.compile(r"(http://127\.0\.0\.1:\d+)(/(?:reset|invite)/[0-9a-z]+)")


class Browser:
    """Cookies by hand: what a browser would keep and send back."""

    def __init__(self, server, lang=None):
        self.server = server
        self.cookies = {}
        self.set_cookies = []  # raw Set-Cookie lines of the last response
        self.lang = lang

    def request(self, method, path, form=None, headers=None, json_body=None):
        h = dict(headers or {})
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            h["Content-Type"] = "application/x-www-form-urlencoded"
        if json_body is not None:
            import json
            body = json.dumps(json_body).encode()
            h["Content-Type"] = "application/json"
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if self.lang:
            h.setdefault("Accept-Language", self.lang)
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            self.set_cookies = [v for k, v in r.getheaders() if k.lower() == "set-cookie"]
            for line in self.set_cookies:
                name, _, rest = line.partition("=")
                value = rest.split(";", 1)[0]
                if "Max-Age=0" in line or value == "":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
            headers = {k.lower(): v for k, v in r.getheaders()}
            return r.status, headers, data.decode("utf-8", "replace")
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, form=None, **kw):
        return self.request("POST", path, form=form, **kw)

    def csrf(self, path):
        status, _, text = self.get(path)
        assert status == 200, (path, status, text[:300])
        return form_csrf(text)

    def login(self, email, password=PASSWORD, next=None):
        form = {"csrf": self.csrf("/login"), "email": email, "password": password}
        if next is not None:
            form["next"] = next
        return self.post("/login", form)


def form_csrf(text):
    m = re.search(r'name="csrf" value="([^"]*)"', text)
    assert m, text[:500]
    return html.unescape(m.group(1))


def meta_csrf(text):
    m = re.search(r'<meta name="csrf-token" content="([^"]*)"', text)
    assert m, text[:500]
    return m.group(1)


def alert(text):
    m = re.search(r'<p class="alert" role="alert">(.*?)</p>', text, re.S)
    return m and html.unescape(m.group(1))


def add_user(server, role, email, name, issuer=None, password=PASSWORD):
    args = ["user", "add", "--data", str(server.data), "--role", role, "--name", name,
            "--email", email, "--password-stdin"]
    if issuer:
        args += ["--issuer", issuer]
    return server.kawat(*args, input=password + "\n").stdout.strip()


def mails(server):
    path = server.dir / "mail.log"
    return path.read_text(encoding="utf-8") if path.exists() else ""


def last_link(server, kind):
    found = [m for m in LINK.finditer(mails(server)) if m.group(2).startswith(f"/{kind}/")]
    assert found, mails(server)
    return found[-1].group(2)


@pytest.fixture
def wire(tmp_path):
    s = Server(tmp_path)
    s.args = ["--mail-log", str(s.dir / "mail.log")]
    add_user(s, "admin", "ada@example.com", "Ada Admin")
    add_user(s, "editor", "ed@example.com", "Ed Editor")
    add_user(s, "issuer", "iris@example.com", "Iris Issuer", issuer="PT Kopi Gayo")
    add_user(s, "subscriber", "sub@example.com", "Sam Subscriber")
    s.start()
    yield s
    if s.proc is not None:
        s.stop()


# ---------------------------------------------------------------- log-in

def test_login_sets_a_safe_session_cookie_and_shows_the_account(wire):
    b = Browser(wire)
    status, h, _ = b.login("ADA@Example.com", next="/admin/invites")
    assert status == 303 and h["location"] == "/admin/invites"
    cookie = [c for c in b.set_cookies if c.startswith("kawat_session=")]
    assert len(cookie) == 1
    attrs = [a.strip() for a in cookie[0].split(";")]
    assert len(attrs[0]) == len("kawat_session=") + 43
    assert "HttpOnly" in attrs and "SameSite=Lax" in attrs and "Path=/" in attrs
    assert "Secure" not in attrs  # the base URL is http
    status, h, text = b.get("/account")
    assert status == 200 and "no-store" in h["cache-control"]
    assert "Ada Admin" in text and 'data-role="admin"' in text and "ada@example.com" in text


def test_secure_cookies_when_the_base_url_is_https(make_server):
    s = make_server(start=False)
    s.args = ["--base-url", "https://wire.example.com"]
    add_user(s, "editor", "ed@example.com", "Ed Editor")
    s.start()
    b = Browser(s)
    assert any("Secure" in c for c in (b.get("/login")[1] and b.set_cookies))
    status, _, _ = b.login("ed@example.com")
    assert status == 303
    assert all("; Secure" in c for c in b.set_cookies if c.startswith("kawat_session="))


def test_unknown_address_and_wrong_password_get_the_same_answer(wire):
    b = Browser(wire)
    s1, _, t1 = b.login("nobody@example.com")
    s2, _, t2 = b.login("ada@example.com", password="wrong password here")
    assert s1 == s2 == 401
    assert alert(t1) == alert(t2) == "The e-mail address or the password is wrong."
    assert "kawat_session" not in b.cookies
    # what was typed is kept, except the password
    assert 'value="ada@example.com"' in t2 and "wrong password here" not in t2


def test_invalid_input_is_answered_next_to_the_field(wire):
    b = Browser(wire)
    status, _, text = b.post("/login", {"csrf": b.csrf("/login"), "email": "not-an-address<b>",
                                        "password": "x"})
    assert status == 422
    assert 'value="not-an-address&lt;b&gt;"' in text
    assert re.search(r'id="f-email"[^>]*aria-invalid="true"', text)
    assert 'id="email-error"' in text and "name@example.com" in text
    status, _, text = b.post("/login", {"csrf": b.csrf("/login"), "email": "ada@example.com"})
    assert status == 422 and 'id="password-error"' in text


def test_failed_logins_lock_the_account_for_a_while(wire):
    b = Browser(wire)
    for _ in range(5):
        assert b.login("ed@example.com", password="not the password")[0] == 401
    status, h, text = b.login("ed@example.com")  # even the right password now
    assert status == 429 and h["retry-after"] == "900"
    assert "Try again in 15 minutes" in alert(text)
    assert "kawat_session" not in b.cookies
    # another account from the same address is not locked
    assert b.login("ada@example.com")[0] == 303


def test_failed_logins_lock_the_client_address(wire):
    b = Browser(wire)
    for i in range(20):
        assert b.login(f"guess{i}@example.com")[0] == 401
    status, _, text = b.login("ada@example.com")
    assert status == 429 and "15" in alert(text)


# ---------------------------------------------------------------- CSRF, fixation, log-out

def test_forms_without_their_csrf_token_are_refused(wire):
    b = Browser(wire)
    b.get("/login")
    for form in ({"email": "ada@example.com", "password": PASSWORD},
                 {"csrf": "0" * 64, "email": "ada@example.com", "password": PASSWORD}):
        status, _, text = b.post("/login", form)
        assert status == 403 and "kawat_session" not in b.cookies
    # a token from another browser's cookie does not pass either
    other = Browser(wire)
    token = other.csrf("/login")
    assert b.post("/login", {"csrf": token, "email": "ada@example.com",
                             "password": PASSWORD})[0] == 403
    assert b.login("ada@example.com")[0] == 303
    assert b.post("/logout", {})[0] == 403
    assert b.get("/account")[0] == 200  # still logged in
    assert b.post("/admin/invites", {"email": "x@example.com", "role": "editor"})[0] == 403
    assert b.post("/reset", {"email": "ada@example.com"})[0] == 403


def test_login_never_keeps_a_session_id_from_before(wire):
    b = Browser(wire)
    planted = "A" * 43
    b.cookies["kawat_session"] = planted
    assert b.login("ada@example.com")[0] == 303
    first = b.cookies["kawat_session"]
    assert first != planted
    # logging in again (with the session still live) gives a new id and
    # ends the old one
    assert b.login("ed@example.com")[0] == 303
    second = b.cookies["kawat_session"]
    assert second != first
    old = Browser(wire)
    old.cookies["kawat_session"] = first
    assert old.get("/account")[0] == 303
    status, _, text = b.get("/account")
    assert status == 200 and "Ed Editor" in text


def test_logout_ends_the_session(wire):
    b = Browser(wire)
    b.login("iris@example.com")
    cookie = b.cookies["kawat_session"]
    status, h, text = b.get("/account")
    status, h, _ = b.post("/logout", {"csrf": form_csrf(text)})
    assert status == 303 and h["location"] == "/login"
    assert any(c.startswith("kawat_session=;") and "Max-Age=0" in c for c in b.set_cookies)
    stale = Browser(wire)
    stale.cookies["kawat_session"] = cookie
    status, h, _ = stale.get("/account")
    assert status == 303 and h["location"] == "/login?next=/account"
    assert stale.get("/v1/me")[0] == 401


def test_the_api_accepts_the_cookie_with_its_csrf_header(wire):
    b = Browser(wire)
    b.login("ed@example.com")
    status, _, text = b.get("/v1/me")
    assert status == 200 and '"role":"editor"' in text
    token = meta_csrf(b.get("/account")[2])
    status, _, text = b.request("POST", "/v1/sectors", json_body={"name": "Coffee"})
    assert status == 403 and "/problems/csrf" in text
    status, _, _ = b.request("POST", "/v1/sectors", json_body={"name": "Coffee"},
                             headers={"X-CSRF-Token": "x" * 43})
    assert status == 403
    status, _, text = b.request("POST", "/v1/sectors", json_body={"name": "Coffee"},
                                headers={"X-CSRF-Token": token})
    assert status == 201, text
    # bearer tokens are unaffected: no CSRF header needed
    r = wire.post("/v1/sectors", {"name": "Tea"}, token=wire.token("editor"))
    assert r.status == 201
    # an issuer's cookie acts as the issuer
    i = Browser(wire)
    i.login("iris@example.com")
    status, _, text = i.get("/v1/me")
    assert '"role":"issuer"' in text and "PT Kopi Gayo" in text


@pytest.mark.parametrize("next_value", [
    "//evil.example/", "https://evil.example/", "/\\evil.example", "\\\\evil.example",
    "http:/evil.example", "/%2F/evil.example", " /x", "javascript:alert(1)", "/\t/evil"])
def test_next_never_leaves_the_site(wire, next_value):
    b = Browser(wire)
    status, h, _ = b.login("ada@example.com", next=next_value)
    assert status == 303 and h["location"] == "/account"


def test_next_keeps_a_path_on_the_site(wire):
    b = Browser(wire)
    status, _, text = b.get("/login?next=%2Fen%2F")
    assert 'name="next" value="/en/"' in text
    status, h, _ = b.post("/login", {"csrf": form_csrf(text), "email": "ada@example.com",
                                     "password": PASSWORD, "next": "/en/"})
    assert h["location"] == "/en/"
    status, _, text = Browser(wire).get("/login?next=//evil.example")
    assert "evil" not in text


# ---------------------------------------------------------------- reset

def test_password_reset_by_link(wire):
    old = Browser(wire)
    old.login("iris@example.com")
    b = Browser(wire)
    status, _, known = b.post("/reset", {"csrf": b.csrf("/reset"), "email": "Iris@example.com"})
    assert status == 200
    status, _, unknown = b.post("/reset", {"csrf": b.csrf("/reset"),
                                           "email": "nobody@example.com"})
    assert status == 200 and known == unknown and "one hour" in known
    text = mails(wire)
    assert text.count("To: ") == 1 and "To: iris@example.com" in text
    assert "Subject: Reset your kawat password" in text
    link = last_link(wire, "reset")
    # a forged or altered token is no link
    assert b.get(link[:-1] + ("0" if link[-1] != "0" else "1"))[0] == 404
    assert b.get("/reset/" + "a" * 64)[0] == 404
    status, _, page = b.get(link)
    assert status == 200 and 'autocomplete="new-password"' in page
    status, _, page = b.post(link, {"csrf": form_csrf(page), "password": "short"})
    assert status == 422 and 'id="password-error"' in page and "12" in page
    status, _, page = b.post(link, {"csrf": form_csrf(page), "password": "a new long passphrase"})
    assert status == 200 and "log in now" in page
    # every session of the user ended; the old password is gone
    assert old.get("/account")[0] == 303
    assert Browser(wire).login("iris@example.com")[0] == 401
    assert Browser(wire).login("iris@example.com", "a new long passphrase")[0] == 303
    # single use
    assert b.get(link)[0] == 410


def test_reset_requests_are_answered_alike_and_limited(wire):
    b = Browser(wire)
    for _ in range(5):
        status, _, _ = b.post("/reset", {"csrf": b.csrf("/reset"), "email": "ed@example.com"})
        assert status == 200
    assert mails(wire).count("To: ed@example.com") == 3
    status, _, text = b.post("/reset", {"csrf": b.csrf("/reset"), "email": "nope"})
    assert status == 422 and 'value="nope"' in text


# ---------------------------------------------------------------- invitations

def test_admin_invites_an_issuer_who_accepts(wire):
    admin = Browser(wire)
    admin.login("ada@example.com")
    status, _, page = admin.get("/admin/invites")
    assert status == 200
    form = {"csrf": form_csrf(page), "email": "Maya@Example.com", "role": "issuer",
            "organization": "PT <Kopi> \"Lestari\"", "name": ""}
    status, _, page = admin.post("/admin/invites", form)
    assert status == 200, page
    assert "on its way to maya@example.com" in page
    assert "PT &lt;Kopi&gt; &quot;Lestari&quot;" in page and "<Kopi>" not in page
    # the same address again is answered next to the field
    status, _, again = admin.post("/admin/invites", dict(form, csrf=form_csrf(page)))
    assert status == 409 and 'id="email-error"' in again and 'value="Maya@Example.com"' in again
    # an issuer needs its organization
    status, _, bad = admin.post("/admin/invites", {"csrf": form_csrf(page), "email":
                                                   "x@example.com", "role": "issuer"})
    assert status == 422 and 'id="organization-error"' in bad
    text = mails(wire)
    assert "To: maya@example.com" in text and "as Issuer" in text
    link = last_link(wire, "invite")

    maya = Browser(wire)
    status, _, page = maya.get(link)
    assert status == 200 and "maya@example.com" in page and "&lt;Kopi&gt;" in page
    status, _, page = maya.post(link, {"csrf": form_csrf(page), "name": "", "password": "short"})
    assert status == 422 and 'id="name-error"' in page and 'id="password-error"' in page
    status, h, _ = maya.post(link, {"csrf": form_csrf(page), "name": "Maya Putri",
                                    "password": "kopi gayo lestari 2026"})
    assert status == 303 and h["location"] == "/account"
    status, _, page = maya.get("/account")
    assert "Maya Putri" in page and 'data-role="issuer"' in page
    status, _, me = maya.get("/v1/me")
    assert '"role":"issuer"' in me
    assert maya.get(link)[0] == 410
    # the invitation shows as accepted; log-out and in again works
    assert "Accepted" in admin.get("/admin/invites")[2]
    maya.post("/logout", {"csrf": form_csrf(page)})
    assert Browser(wire).login("maya@example.com", "kopi gayo lestari 2026")[0] == 303


def test_admin_invites_an_editor(wire):
    admin = Browser(wire)
    admin.login("ada@example.com")
    status, _, page = admin.post("/admin/invites", {"csrf": form_csrf(admin.get(
        "/admin/invites")[2]), "email": "rina@example.com", "role": "editor", "name": "Rina"})
    assert status == 200
    link = last_link(wire, "invite")
    b = Browser(wire)
    b.login("sub@example.com")  # a browser that had another session
    before = b.cookies["kawat_session"]
    page = b.get(link)[2]
    assert 'value="Rina"' in page
    status, _, _ = b.post(link, {"csrf": form_csrf(page), "name": "Rina Editor",
                                 "password": "twelve chars!"})
    assert status == 303 and b.cookies["kawat_session"] != before
    assert 'data-role="editor"' in b.get("/account")[2]
    stale = Browser(wire)
    stale.cookies["kawat_session"] = before
    assert stale.get("/account")[0] == 303


# ---------------------------------------------------------------- language

def test_pages_speak_the_persons_language(wire):
    b = Browser(wire, lang="ar,en;q=0.5")
    status, _, text = b.get("/login")
    assert '<html lang="ar" dir="rtl">' in text and "تسجيل الدخول" in text
    status, _, text = b.get("/login?lang=de")
    assert '<html lang="de" dir="ltr">' in text and "Anmelden" in text
    assert any(c.startswith("lang=de;") for c in b.set_cookies)
    status, _, text = b.get("/reset")  # the cookie now wins over Accept-Language
    assert '<html lang="de"' in text
    status, _, text = b.login("nobody@example.com")
    assert alert(text) == "E-Mail-Adresse oder Passwort ist falsch."


# ---------------------------------------------------------------- every route, every role

ROLES = {"admin": "ada@example.com", "editor": "ed@example.com", "issuer": "iris@example.com",
         "subscriber": "sub@example.com"}


def test_every_account_route_with_every_role_and_none(wire):
    browsers = {"none": Browser(wire)}
    browsers["none"].get("/login")
    for role, email in ROLES.items():
        b = Browser(wire)
        assert b.login(email)[0] == 303, role
        browsers[role] = b
    for who, b in browsers.items():
        logged_in = who != "none"
        status, h, page = b.get("/account")
        if logged_in:
            assert status == 200 and f'data-role="{who}"' in page, who
            token = form_csrf(page)
        else:
            assert status == 303 and h["location"] == "/login?next=/account"
            token = form_csrf(b.get("/login")[2])
        status, h, page = b.get("/admin/invites")
        expect = 200 if who == "admin" else 303 if who == "none" else 403
        assert status == expect, (who, status)
        if who not in ("admin", "none"):
            assert "may not open this page" in page
        status, _, page = b.post("/admin/invites", {"csrf": token, "email": "z@example.com",
                                                    "role": "nope"})
        assert status == (422 if who == "admin" else 403), (who, status)
        assert b.get("/login")[0] == 200 and b.get("/reset")[0] == 200
        assert b.get("/reset/" + "b" * 64)[0] == 404 and b.get("/invite/" + "b" * 64)[0] == 404
        assert b.post("/reset/" + "b" * 64, {"csrf": token})[0] == 404
        assert b.post("/invite/" + "b" * 64, {"csrf": token})[0] == 404
        assert b.post("/login", {})[0] == 403
        assert b.post("/reset", {})[0] == 403
        status, h, _ = b.post("/logout", {"csrf": token})
        assert status == 303 and h["location"] == "/login"
        assert b.get("/account")[0] == 303
    assert "z@example.com" not in mails(wire)
    # methods the pages do not take
    r = wire.request("PUT", "/login")
    assert r.status == 405 and "POST" in r.headers["allow"]
    assert wire.get("/logout").status == 405
    assert wire.post("/account").status == 405
    assert wire.request("HEAD", "/login").status == 200
