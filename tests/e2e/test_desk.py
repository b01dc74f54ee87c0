"""The issuer portal and the editor desk, against the real binary: write,
preview, submit, reject with a reason, schedule under embargo, publish at
the lift, correct and withdraw, all through the /desk forms with cookies
by hand; invalid input kept next to its field; CSRF; escaping; the
person's language; and every desk route with every role and with none."""
import datetime
import html
import json
import re
import time

import pytest

from conftest import Server
from test_accounts import Browser, add_user, form_csrf

ROLES = {"admin": "ada@example.com", "editor": "ed@example.com",
         "issuer": "iris@example.com", "subscriber": "sub@example.com"}
OTHER = "otto@example.com"


@pytest.fixture
def wire(tmp_path):
    s = Server(tmp_path)
    add_user(s, "admin", ROLES["admin"], "Ada Admin")
    add_user(s, "editor", ROLES["editor"], "Ed Editor")
    add_user(s, "issuer", ROLES["issuer"], "Iris Issuer", issuer="PT Kopi Gayo")
    add_user(s, "issuer", OTHER, "Otto Other", issuer="Other Company")
    add_user(s, "subscriber", ROLES["subscriber"], "Sam Subscriber")
    s.start()
    yield s
    if s.proc is not None:
        s.stop()


def person(wire, email, lang=None):
    b = Browser(wire, lang=lang)
    status, h, _ = b.login(email)
    assert status == 303, status
    return b


def release_form(**over):
    form = {"action": "save", "headline": "Kopi Gayo ekspor perdana ke Jepang",
            "subheadline": "Dua kontainer dari Takengon", "body": "Takengon mengirim **kopi**.",
            "language": "id", "translation_group": "", "dateline_place": "Takengon",
            "sectors": "business", "regions": "ID, JP",
            "contacts": "Maya Putri; maya@example.com; +62 811 000", "timing": "now", "when": ""}
    form.update(over)
    return form


def new_release(b, **over):
    token = form_csrf(b.get("/desk/new")[2])
    status, h, page = b.post("/desk/new", dict(release_form(**over), csrf=token))
    assert status == 303, (status, page[:2000])
    m = re.fullmatch(r"/desk/releases/(r[0-9a-z]+)", h["location"])
    assert m, h["location"]
    return m.group(1)


def act(b, rid, what, **fields):
    status, _, page = b.get(f"/desk/releases/{rid}")
    assert status == 200, status
    fields.pop("action", None)
    return b.post(f"/desk/releases/{rid}", dict(fields, csrf=form_csrf(page), action=what))


def state_of(b, rid):
    page = b.get(f"/desk/releases/{rid}")[2]
    m = re.search(r'id="status"[^>]*>.*?data-state="([a-z]+)"', page, re.S)
    return m and m.group(1)


def rfc3339_in(seconds):
    t = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=7))) + \
        datetime.timedelta(seconds=seconds)
    return t.replace(microsecond=0).isoformat()


# ---------------------------------------------------------------- the story

def test_issuer_writes_editor_rejects_then_embargoes_and_it_publishes_at_the_lift(wire):
    iris = person(wire, ROLES["issuer"])
    ed = person(wire, ROLES["editor"])
    rid = new_release(iris)
    page = iris.get(f"/desk/releases/{rid}")[2]
    assert state_of(iris, rid) == "draft"
    # the form keeps its values; the issuer's list shows the draft
    assert 'value="Kopi Gayo ekspor perdana ke Jepang"' in page
    assert "Maya Putri; maya@example.com; +62 811 000" in page
    listing = iris.get("/desk/")[2]
    assert rid in listing and 'data-state="draft"' in listing

    # the preview is the reader's article
    token = form_csrf(page)
    status, _, art = iris.post("/desk/preview", dict(release_form(), csrf=token))
    assert status == 200
    assert '<article class="release">' in art and "<strong>kopi</strong>" in art
    assert "Takengon" in art and 'lang="id"' in art

    # submit; the editor's queue has it; a reject needs its reason
    assert act(iris, rid, "submit", **release_form())[0] == 303
    assert state_of(iris, rid) == "submitted"
    queue = ed.get("/desk/")[2]
    assert f'/desk/releases/{rid}' in queue
    status, _, page = act(ed, rid, "reject", reason="")
    assert status == 422 and 'id="reason-error"' in page
    assert act(ed, rid, "reject", reason="Sebutkan kontak media.")[0] == 303
    page = iris.get("/desk/")[2]
    assert 'data-state="rejected"' in page and "Sebutkan kontak media." in page

    # fix and submit again; the editor schedules an embargo 3 s ahead
    assert act(iris, rid, "submit", **release_form(headline="Kopi Gayo ekspor ke Jepang"))[0] == 303
    lift = rfc3339_in(3)
    status, h, page = act(ed, rid, "schedule", timing="embargo", when=lift)
    assert status == 303, page[:1500]
    assert state_of(ed, rid) == "embargoed"
    cal = ed.get("/desk/")[2]
    assert 'id="calendar"' in cal and rid in cal
    assert wire.get(f"/id/releases/{rid}").status == 404
    deadline = time.time() + 10
    while time.time() < deadline and wire.get(f"/id/releases/{rid}").status != 200:
        time.sleep(0.3)
    assert wire.get(f"/id/releases/{rid}").status == 200
    assert state_of(iris, rid) == "published"
    page = iris.get(f"/desk/releases/{rid}")[2]
    assert f'/v1/releases/{rid}/report?format=html' in page
    status, _, report = iris.get(f"/v1/releases/{rid}/report?format=html")
    assert status == 200 and "<html" in report
    # the live wire on the editor's desk shows the publication
    assert re.search(rf'id="wire".*data-id="{rid}"', ed.get("/desk/")[2], re.S)


def test_correct_and_withdraw_a_published_release(wire):
    iris = person(wire, ROLES["issuer"])
    ed = person(wire, ROLES["editor"])
    rid = new_release(iris, action="submit")
    assert act(ed, rid, "approve")[0] == 303
    assert state_of(iris, rid) == "published"
    status, _, page = act(iris, rid, "correct", headline="Kopi Gayo: ekspor perdana",
                          subheadline="", body="Takengon mengirim kopi.", note="")
    assert status == 422 and 'id="note-error"' in page
    assert 'value="Kopi Gayo: ekspor perdana"' in page  # kept what was typed
    assert act(iris, rid, "correct", headline="Kopi Gayo: ekspor perdana", subheadline="",
               body="Takengon mengirim kopi.", note="Judul diperbaiki.")[0] == 303
    assert state_of(iris, rid) == "corrected"
    assert "Kopi Gayo: ekspor perdana" in wire.get(f"/id/releases/{rid}").text
    assert act(iris, rid, "withdraw", reason="Ditarik.")[0] == 303
    assert state_of(iris, rid) == "withdrawn"
    assert wire.get(f"/id/releases/{rid}").status == 410


def test_invalid_input_is_answered_next_to_the_field_keeping_what_was_typed(wire):
    iris = person(wire, ROLES["issuer"])
    token = form_csrf(iris.get("/desk/new")[2])
    form = release_form(headline="", body="Teks yang **diketik**.", sectors="no-such-sector",
                        timing="embargo", when="tomorrow", csrf=token)
    status, _, page = iris.post("/desk/new", form)
    assert status == 422
    assert 'id="headline-error"' in page and 'aria-invalid="true"' in page
    assert "Teks yang **diketik**." in page
    assert 'value="Takengon"' in page and 'value="tomorrow"' in page
    # a timing without a time
    form = release_form(timing="schedule", when="", csrf=token)
    status, _, page = iris.post("/desk/new", form)
    assert status == 422 and 'id="when-error"' in page
    # nothing was written
    assert "Kopi Gayo" not in iris.get("/desk/")[2]


def test_forms_without_their_csrf_token_change_nothing(wire):
    iris = person(wire, ROLES["issuer"])
    status, _, _ = iris.post("/desk/new", release_form())
    assert status == 403
    status, _, _ = iris.post("/desk/new", release_form(csrf="x" * 43))
    assert status == 403
    assert iris.post("/desk/preview", release_form())[0] == 403
    rid = new_release(iris)
    assert iris.post(f"/desk/releases/{rid}", {"action": "submit"})[0] == 403
    assert state_of(iris, rid) == "draft"


def test_every_text_is_escaped(wire):
    iris = person(wire, ROLES["issuer"])
    evil = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    rid = new_release(iris, headline=evil, subheadline=evil, dateline_place=evil,
                      body=evil + "\n\n[x](javascript:alert(3))")
    for page in (iris.get("/desk/")[2], iris.get(f"/desk/releases/{rid}")[2]):
        assert "<script>alert" not in page and "<img src=x" not in page
        assert 'href="javascript:' not in page
    token = form_csrf(iris.get("/desk/new")[2])
    art = iris.post("/desk/preview", release_form(headline=evil, body=evil, csrf=token))[2]
    assert "<script>alert" not in art and "<img src=x" not in art


def test_pages_speak_the_persons_language_and_arabic_is_right_to_left(wire):
    iris = person(wire, ROLES["issuer"], lang="ar")
    page = iris.get("/desk/")[2]
    assert 'dir="rtl"' in page and "بياناتك الصحفية" in page
    page = iris.get("/desk/new?lang=id")[2]
    assert 'lang="id"' in page and "Simpan draf" in page
    assert "Simpan draf" in iris.get("/desk/new")[2]  # the lang cookie holds
    ed = person(wire, ROLES["editor"], lang="de")
    assert "Prüfwarteschlange" in ed.get("/desk/")[2]


# The desk's own texts in Indonesian and Arabic: the Markdown toolbar's
# labels (data-md-* for desk.js), the live wire's language names and the
# errors next to the fields.
DESK_TEXTS = {
    "id": {"bold": "Tebal", "italic": "Miring", "link": "Tautan", "list": "Daftar berpoin",
           "required": "Kolom ini wajib diisi.", "sector": "Pilih sektor dari daftar.",
           "time": "Masukkan tanggal dan waktu"},
    "ar": {"bold": "غامق", "italic": "مائل", "link": "رابط", "list": "قائمة نقطية",
           "required": "هذا الحقل مطلوب.", "sector": "اختر قطاعًا من القائمة.",
           "time": "أدخل تاريخًا ووقتًا"},
}


@pytest.mark.parametrize("lang", ["id", "ar"])
def test_toolbar_wire_and_field_errors_speak_the_persons_language(wire, lang):
    texts = DESK_TEXTS[lang]
    iris = person(wire, ROLES["issuer"], lang=lang)
    ed = person(wire, ROLES["editor"], lang=lang)
    page = iris.get("/desk/new")[2]
    body = re.search(r'<textarea[^>]*id="f-body"[^>]*>', page).group(0)
    for tool in ("bold", "italic", "link", "list"):
        assert f'data-md-{tool}="{texts[tool]}"' in body, (tool, body)

    # a release in Indonesian and one in English on the live wire: each row
    # names its language in that language, and desk.js gets the same names
    rids = {}
    for rl, headline in (("id", "Kopi Gayo ekspor perdana"), ("en", "Gayo coffee ships")):
        rids[rl] = new_release(iris, action="submit", language=rl, headline=headline)
        assert act(ed, rids[rl], "approve")[0] == 303
    desk = ed.get("/desk/")[2]
    rows = re.search(r'<ol class="desk-list" id="wire"[^>]*>(.*?)</ol>', desk, re.S).group(1)
    for rl, native in (("id", "Bahasa Indonesia"), ("en", "English")):
        row = re.search(rf'<li data-id="{rids[rl]}"[^>]*>.*?</li>', rows, re.S).group(0)
        assert f'<bdi class="language" lang="{rl}">{native}</bdi>' in row, row
        assert f" · {rl} · " not in row
    names = re.search(r'id="wire"[^>]*data-language-names="([^"]*)"', desk).group(1)
    names = json.loads(html.unescape(names))
    assert names["id"] == "Bahasa Indonesia" and names["ar"] == "العربية"

    # a missing headline, an unknown sector and a malformed time: localized
    token = form_csrf(page)
    status, _, page = iris.post("/desk/new", release_form(
        headline="", sectors="no-such-sector", timing="embargo", when="tomorrow", csrf=token))
    assert status == 422
    errors = dict(re.findall(r'<span class="error" id="([a-z_]+)-error">(.*?)</span>', page, re.S))
    assert errors["headline"] == texts["required"], errors
    assert errors["sectors"] == texts["sector"], errors
    assert errors["when"].startswith(texts["time"]), errors
    for english in ("must not be empty", "unknown sector", "RFC 3339"):
        assert english not in page


def test_desk_script_is_served(wire):
    r = wire.get("/static/desk.js")
    assert r.status == 200 and "javascript" in r.headers["content-type"]
    assert "EventSource" in r.text and "Intl" in r.text


# ---------------------------------------------------------------- who may open what

def test_every_desk_route_with_every_role_and_none(wire):
    iris = person(wire, ROLES["issuer"])
    mine = new_release(iris)
    otto = person(wire, OTHER)
    theirs = new_release(otto, action="submit")
    browsers = {"none": Browser(wire)}
    for role, email in ROLES.items():
        browsers[role] = person(wire, email)
    for who, b in browsers.items():
        logged = who != "none"
        if logged:
            token = form_csrf(b.get("/account")[2])
        else:
            token = "x" * 43
        # the home page
        status, h, page = b.get("/desk/")
        expect = {"none": 303, "subscriber": 403}.get(who, 200)
        assert status == expect, (who, status)
        if who == "none":
            assert h["location"] == "/login?next=/desk/"
        if who == "issuer":
            assert mine in page and theirs not in page
        if who in ("editor", "admin"):
            assert theirs in page and mine not in page  # the queue holds submitted ones
        # the form
        status, h, _ = b.get("/desk/new")
        assert status == {"none": 303, "issuer": 200}.get(who, 403), (who, status)
        status, _, _ = b.post("/desk/new", release_form(csrf=token))
        assert status == {"none": 403, "issuer": 303}.get(who, 403), (who, status)
        status, _, _ = b.post("/desk/preview", release_form(csrf=token))
        assert status == {"none": 403, "subscriber": 403}.get(who, 200), (who, status)
        # one release: an issuer sees its own only; the others 404
        for rid, owner in ((mine, "issuer"), (theirs, "otto")):
            status, _, page = b.get(f"/desk/releases/{rid}")
            if who == "none":
                assert status == 303
            elif who == "subscriber":
                assert status == 403
            elif who == "issuer":
                assert status == (200 if owner == "issuer" else 404), (who, rid, status)
            else:
                assert status == 200, (who, rid, status)
            status, _, _ = b.post(f"/desk/releases/{rid}", {"csrf": token, "action": "approve"})
            if who == "none" or who == "subscriber":
                assert status == 403
            elif who == "issuer":
                assert status in (403, 409) if owner == "issuer" else status == 404
    # the other issuer's release was approved by the editor (first to try)
    assert wire.get(f"/v1/releases/{theirs}").status == 200
    # methods the pages do not take
    r = wire.request("PUT", "/desk/new")
    assert r.status == 405 and "POST" in r.headers["allow"]
    assert wire.post("/desk/").status == 405
    assert wire.get("/desk/preview").status == 405
    assert wire.get("/desk").status == 301
    assert wire.get(f"/desk/releases/{mine}/x").status == 404


def test_the_login_redirect_never_carries_a_header(wire):
    b = Browser(wire)
    status, h, _ = b.get("/desk/releases/%0d%0aSet-Cookie:%20x=1")
    assert status == 303 and h["location"] == "/login?next=/desk/"
    assert not any(c.startswith("x=") for c in b.set_cookies)
    status, h, _ = b.get("/desk/releases/r0000000000000000")
    assert status == 303 and h["location"] == "/login?next=/desk/releases/r0000000000000000"


def test_a_scheduled_release_waits_in_the_calendar_and_can_be_pulled_back(wire):
    iris = person(wire, ROLES["issuer"])
    ed = person(wire, ROLES["editor"])
    at = rfc3339_in(3600)
    rid = new_release(iris, action="submit", timing="schedule", when=at)
    page = iris.get(f"/desk/releases/{rid}")[2]
    assert state_of(iris, rid) == "submitted" and "<time" in page
    assert act(ed, rid, "approve")[0] == 303
    assert state_of(ed, rid) == "scheduled"
    cal = ed.get("/desk/")[2]
    assert re.search(rf'id="calendar".*<h3>.*data-id="{rid}"', cal, re.S)
    # the issuer pulls it back: a draft again, off the calendar
    assert act(iris, rid, "withdraw")[0] == 303
    assert state_of(iris, rid) == "draft"
    assert rid not in ed.get("/desk/")[2]
    # and the form still holds the time it was scheduled for
    page = iris.get(f"/desk/releases/{rid}")[2]
    assert 'value="schedule" checked' in page
