"""The portal's pages as readers, crawlers and feed readers meet them: every
scope (language home, sector, region, issuer newsroom, archive, day) in
several languages, pagination, clear 400/404 pages in the reader's language,
withdrawals (410, and gone from every list at once), corrections that say
what changed, autodiscovery, OpenGraph and JSON-LD, conditional GET, and
nothing unpublished anywhere."""
import html
import html.parser
import json
import re
import time
import urllib.parse

import pytest

ISSUER_NAME = "Acme Test Corp"
ISSUER_SLUG = "acme-test-corp"
MARK = "Qx9hiddenmark"

# What each language's pages must say (src/core/core_lang.c).
LATEST = {"en": "Latest English News Today", "id": "Berita Indonesia Terbaru Hari Ini",
          "ja": "今日の最新日本語ニュース", "ar": "أحدث الأخبار العربية اليوم",
          "th": "ข่าวภาษาไทยล่าสุดวันนี้"}
NOT_FOUND = {"en": "Page not found", "id": "Halaman tidak ditemukan", "ja": "ページが見つかりません",
             "ar": "الصفحة غير موجودة", "th": "ไม่พบหน้าที่ต้องการ", "ms": "Halaman tidak ditemui",
             "de": "Seite nicht gefunden"}
BAD_REQUEST = {"en": "Bad request", "id": "Permintaan tidak valid", "ms": "Permintaan tidak sah",
               "ja": "不正なリクエスト", "ar": "طلب غير صالح"}
SECTOR_LABEL = {"en": "Sector", "id": "Sektor", "ja": "分野", "ar": "القطاع", "th": "หมวดหมู่"}
TECH_TITLE = {"en": "Technology news", "id": "Berita Teknologi"}
FEED_TYPES = {"application/rss+xml": "rss.xml", "application/atom+xml": "atom.xml",
              "application/feed+json": "feed.json"}


# ---- a small DOM, enough to ask pages questions -------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.iter()

    def find_all(self, tag=None, cls=None, **attrs):
        out = []
        for n in self.iter():
            if tag and n.tag != tag:
                continue
            if cls and cls not in n.attrs.get("class", "").split():
                continue
            if any(n.attrs.get(k.rstrip("_").replace("_", "-")) != v for k, v in attrs.items()):
                continue
            out.append(n)
        return out

    def find(self, tag=None, cls=None, **attrs):
        found = self.find_all(tag, cls, **attrs)
        return found[0] if found else None

    def ancestors(self):
        n = self.parent
        while n is not None:
            yield n
            n = n.parent


class Doc(html.parser.HTMLParser):
    """Parses a page and checks that every element that was opened is closed
    in order (the pages are written by hand: a lost </li> is a bug)."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.cur = self.root
        self.errors = []
        self.feed(text)
        self.close()
        if self.cur is not self.root:
            self.errors.append(f"unclosed <{self.cur.tag}>")

    def handle_starttag(self, tag, attrs):
        n = Node(tag, [(k, v if v is not None else "") for k, v in attrs], self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, [(k, v or "") for k, v in attrs], self.cur))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self.cur.tag != tag:
            self.errors.append(f"</{tag}> closes <{self.cur.tag}>")
            n = self.cur
            while n is not None and n.tag != tag:
                n = n.parent
            if n is None:
                return
            self.cur = n
        self.cur = self.cur.parent

    def handle_data(self, data):
        self.cur.children.append(data)

    # shortcuts
    def find(self, *a, **k):
        return self.root.find(*a, **k)

    def find_all(self, *a, **k):
        return self.root.find_all(*a, **k)

    @property
    def html(self):
        return self.root.find("html")

    @property
    def title(self):
        return self.root.find("title").text()

    def links(self, rel):
        return [l.attrs for l in self.find_all("link") if rel in l.attrs.get("rel", "").split()]

    def meta(self, prop):
        return [m.attrs.get("content") for m in self.find_all("meta") if m.attrs.get("property") == prop]

    def jsonld(self):
        return [json.loads(s.text()) for s in self.find_all("script")
                if s.attrs.get("type") == "application/ld+json"]

    def item_ids(self):
        ol = self.find("ol", cls="releases")
        return [li.attrs["data-id"] for li in ol.find_all("li")] if ol else []


def page(server, path, status=200, **kw):
    r = server.get(path, **kw)
    assert r.status == status, (path, r.status, r.body[:600])
    assert r.headers["content-type"] == "text/html; charset=utf-8", r.headers
    d = Doc(r.text)
    assert not d.errors, (path, d.errors[:5])
    d.response = r
    return d


def check_frame(server, d, path, lang, rtl=False):
    """What every page has: lang and dir, canonical, landmarks, headings,
    OpenGraph basics."""
    h = d.html
    assert h.attrs["lang"] == lang
    assert h.attrs["dir"] == ("rtl" if rtl else "ltr")
    body = d.find("body")
    first = next(body.iter())
    assert first.tag == "a" and first.attrs["href"] == "#main", "skip link first"
    assert d.find("header") and d.find("main", id="main") and d.find("footer")
    assert d.find("nav", cls="languages").attrs.get("aria-label")
    assert len(d.find_all("h1")) == 1
    levels = [int(n.tag[1]) for n in d.find("body").iter() if re.fullmatch(r"h[1-6]", n.tag)]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in zip(levels, levels[1:])), levels
    canon = d.links("canonical")
    assert [c["href"] for c in canon] == [server.base + path], canon
    assert d.meta("og:url") == [server.base + path]
    assert d.meta("og:site_name") == ["kawat"]
    assert d.meta("og:title") == [d.title]
    assert d.meta("og:description") and d.meta("og:description")[0]
    loc = d.meta("og:locale")
    assert len(loc) == 1 and re.fullmatch(r"[a-z]{2}(_[A-Z]{2})?", loc[0]), loc
    csp = d.response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def feed_links(d):
    return {l["type"]: l["href"] for l in d.links("alternate") if l.get("type") in FEED_TYPES}


def today():
    return time.strftime("%Y-%m-%d", time.gmtime())


# ---- fixtures -------------------------------------------------------------------

@pytest.fixture
def issuer(server):
    return server.token("issuer", name=ISSUER_NAME)


@pytest.fixture
def world(server, issuer, editor):
    """Releases in several languages, sectors and regions, one group in three
    languages."""
    rel = {}
    rel["en_tech"] = server.publish(issuer, editor, headline="Acme ships a quantum widget",
                                    sectors=["Technology"], regions=["ID"],
                                    translation_group="widget", dateline_place="Jakarta")
    rel["id_tech"] = server.publish(issuer, editor, headline="Acme mengirim widget kuantum",
                                    language="id", sectors=["Technology", "Business"],
                                    regions=["ID"], translation_group="widget",
                                    dateline_place="Jakarta")
    rel["ja_tech"] = server.publish(issuer, editor, headline="Acmeが量子ウィジェットを出荷",
                                    language="ja", sectors=["Technology"], regions=["JP"],
                                    translation_group="widget")
    rel["en_health"] = server.publish(issuer, editor, headline="Acme opens a clinic",
                                      sectors=["Health"], regions=["SG"])
    rel["ar_tech"] = server.publish(issuer, editor, headline="أكمي تطلق أداة كمومية",
                                    language="ar", sectors=["Technology"], regions=["AE"])
    rel["th_tech"] = server.publish(issuer, editor, headline="แอคมีเปิดตัวอุปกรณ์ควอนตัม",
                                    language="th", sectors=["Technology"], regions=["TH"])
    return rel


# ---- every scope, several languages ------------------------------------------------

def test_language_homes(server, world):
    for lang, rtl in (("en", False), ("id", False), ("ja", False), ("ar", True), ("th", False)):
        d = page(server, f"/{lang}/")
        check_frame(server, d, f"/{lang}/", lang, rtl)
        assert d.title == LATEST[lang]
        assert d.find("h1").text() == LATEST[lang]
        ids = d.item_ids()
        want = {k: v["id"] for k, v in world.items() if k.startswith(lang + "_")}
        assert set(ids) == set(want.values()), (lang, ids)
    # Newest first.
    assert page(server, "/en/").item_ids() == [world["en_health"]["id"], world["en_tech"]["id"]]
    # "/" is the default language's home, canonical at /en/.
    d = page(server, "/")
    assert d.html.attrs["lang"] == "en" and d.title == LATEST["en"]
    assert [c["href"] for c in d.links("canonical")] == [server.base + "/en/"]


def test_sector_pages(server, world):
    d = page(server, "/en/sectors/technology/")
    check_frame(server, d, "/en/sectors/technology/", "en")
    assert d.title == TECH_TITLE["en"]
    assert d.item_ids() == [world["en_tech"]["id"]]
    d = page(server, "/id/sectors/technology/")
    assert d.title == TECH_TITLE["id"]
    assert d.item_ids() == [world["id_tech"]["id"]]
    d = page(server, "/id/sectors/business/")
    assert d.item_ids() == [world["id_tech"]["id"]]
    d = page(server, "/ja/sectors/technology/")
    assert d.title.endswith("のニュース") and d.item_ids() == [world["ja_tech"]["id"]]
    d = page(server, "/ar/sectors/technology/")
    check_frame(server, d, "/ar/sectors/technology/", "ar", rtl=True)
    assert d.title.startswith("أخبار ") and d.item_ids() == [world["ar_tech"]["id"]]
    # An empty sector is still a page (it exists in every language).
    d = page(server, "/en/sectors/energy/")
    assert d.item_ids() == [] and d.find("p", cls="empty")


def test_region_pages(server, world):
    d = page(server, "/en/regions/ID/")
    check_frame(server, d, "/en/regions/ID/", "en")
    assert d.title == "Indonesia news"
    assert d.item_ids() == [world["en_tech"]["id"]]
    d = page(server, "/id/regions/ID/")
    assert d.title == "Berita Indonesia" and d.item_ids() == [world["id_tech"]["id"]]
    d = page(server, "/ja/regions/JP/")
    assert "日本" in d.title and d.item_ids() == [world["ja_tech"]["id"]]
    d = page(server, "/ar/regions/AE/")
    assert "الإمارات" in d.title and d.item_ids() == [world["ar_tech"]["id"]]
    assert page(server, "/en/regions/JP/").item_ids() == []


def test_issuer_newsroom(server, world, editor):
    d = page(server, f"/en/issuers/{ISSUER_SLUG}/")
    check_frame(server, d, f"/en/issuers/{ISSUER_SLUG}/", "en")
    assert d.title == f"{ISSUER_NAME} newsroom"
    assert d.item_ids() == [world["en_health"]["id"], world["en_tech"]["id"]]
    d = page(server, f"/id/issuers/{ISSUER_SLUG}/")
    assert d.title == f"Ruang berita {ISSUER_NAME}"
    # Another issuer's releases are not in this newsroom.
    rival = server.token("issuer", name="Rival Corp")
    other = server.publish(rival, editor, headline="Rival news")
    assert other["id"] not in page(server, f"/en/issuers/{ISSUER_SLUG}/").item_ids()
    assert page(server, "/en/issuers/rival-corp/").item_ids() == [other["id"]]


def test_archive_and_day_pages(server, world):
    day = today()
    d = page(server, "/en/archive/")
    check_frame(server, d, "/en/archive/", "en")
    assert d.title == "Archive"
    rows = d.find("table", cls="archive").find("tbody").find_all("tr")
    assert len(rows) == 1
    a = rows[0].find("a")
    assert a.attrs["href"] == f"/en/archive/{day}/"
    assert a.find("time").attrs["datetime"] == day
    assert rows[0].find("td").text() == "2"
    # Counts in the reader's digits: Arabic may use Arabic-Indic ones.
    d = page(server, "/ar/archive/")
    cell = d.find("table", cls="archive").find("td").text()
    assert cell.translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")) == "1", cell
    d = page(server, f"/en/archive/{day}/")
    check_frame(server, d, f"/en/archive/{day}/", "en")
    year = day[:4]
    assert d.title.startswith("Releases of ") and year in d.title
    assert set(d.item_ids()) == {world["en_tech"]["id"], world["en_health"]["id"]}
    d = page(server, f"/id/archive/{day}/")
    assert d.title.startswith("Siaran pers ") and year in d.title
    # A day with nothing is an empty page, not an error.
    assert page(server, "/en/archive/2020-01-01/").item_ids() == []


def test_listing_items(server, world):
    d = page(server, "/id/")
    li = d.find("li", data_id=world["id_tech"]["id"])
    h2 = li.find("h2")
    assert h2.find("a").attrs["href"] == f"/id/releases/{world['id_tech']['id']}"
    assert h2.text() == "Acme mengirim widget kuantum"
    meta = li.find("p", cls="meta")
    t = meta.find("time")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", t.attrs["datetime"])
    assert t.attrs["datetime"][:4] in t.text()
    assert meta.find("bdi", cls="place").text() == "Jakarta"
    issuer = meta.find("a", cls="issuer")
    assert issuer.attrs["href"] == f"/id/issuers/{ISSUER_SLUG}/"
    assert issuer.find("bdi").text() == ISSUER_NAME
    sectors = li.find("p", cls="sectors")
    assert sectors.text().startswith("Sektor:")
    hrefs = [a.attrs["href"] for a in sectors.find_all("a")]
    assert hrefs == ["/id/sectors/technology/", "/id/sectors/business/"]
    assert "?sector=" not in d.response.text


def test_language_switcher_and_hreflang(server, world):
    d = page(server, "/id/sectors/technology/")
    nav = d.find("nav", cls="languages")
    links = {a.attrs["hreflang"]: a for a in nav.find_all("a")}
    assert len(links) == 15
    assert links["ja"].attrs["href"] == "/ja/sectors/technology/"
    assert links["ar"].attrs["dir"] == "rtl" and links["ar"].attrs["lang"] == "ar"
    assert links["id"].attrs.get("aria-current") == "page"
    alt = {l["hreflang"]: l["href"] for l in d.links("alternate") if "hreflang" in l}
    assert alt["ja"] == server.base + "/ja/sectors/technology/"
    assert alt["zh-Hant"] == server.base + "/zh-Hant/sectors/technology/"
    # A release page: its translations where they exist, else the home.
    rid = world["en_tech"]["id"]
    d = page(server, f"/en/releases/{rid}")
    links = {a.attrs["hreflang"]: a.attrs["href"] for a in d.find("nav", cls="languages").find_all("a")}
    assert links["id"] == f"/id/releases/{world['id_tech']['id']}"
    assert links["ja"] == f"/ja/releases/{world['ja_tech']['id']}"
    assert links["en"] == f"/en/releases/{rid}"
    assert links["de"] == "/de/" and links["ar"] == "/ar/"
    alt = {l["hreflang"]: l["href"] for l in d.links("alternate") if "hreflang" in l}
    assert alt == {"en": f"{server.base}/en/releases/{rid}",
                   "id": f"{server.base}/id/releases/{world['id_tech']['id']}",
                   "ja": f"{server.base}/ja/releases/{world['ja_tech']['id']}"}


def test_autodiscovery_on_every_page(server, world):
    day = today()
    pages = {"/en/": "/en/", "/id/sectors/technology/": "/id/sectors/technology/",
             "/ja/regions/JP/": "/ja/regions/JP/",
             f"/en/issuers/{ISSUER_SLUG}/": f"/en/issuers/{ISSUER_SLUG}/",
             f"/en/archive/{day}/": f"/en/archive/{day}/",
             "/en/archive/": "/en/", f"/en/releases/{world['en_tech']['id']}": "/en/"}
    for path, scope in pages.items():
        d = page(server, path)
        links = feed_links(d)
        assert links == {t: f"{server.base}{scope}{f}" for t, f in FEED_TYPES.items()}, path
        for l in d.links("alternate"):
            if l.get("type") in FEED_TYPES:
                assert l.get("title"), l


def test_autodiscovered_feeds_resolve(server, world):
    """Feed readers follow the links: each must answer with its format."""
    for path in ("/id/", "/en/sectors/technology/", "/en/regions/ID/",
                 f"/en/issuers/{ISSUER_SLUG}/", f"/en/archive/{today()}/"):
        for ctype, href in feed_links(page(server, path)).items():
            r = server.get(urllib.parse.urlsplit(href).path)
            assert r.status == 200, (href, r)
            assert r.headers["content-type"].startswith(ctype), (href, r.headers)


# ---- pagination --------------------------------------------------------------------

def test_pagination(server, issuer, editor):
    made = [server.publish(issuer, editor, headline=f"Kenyataan nombor {i}", language="ms",
                           sectors=["Finance"])["id"] for i in range(45)]
    newest_first = list(reversed(made))
    seen, path, pages = [], "/ms/", 0
    while path:
        d = page(server, path)
        pages += 1
        ids = d.item_ids()
        assert len(ids) == (20 if pages < 3 else 5), (path, len(ids))
        seen += ids
        nxt = [a for a in d.find_all("a") if a.attrs.get("rel") == "next"]
        if pages > 1:
            assert [c["href"] for c in d.links("canonical")] == [server.base + path]
            newer = d.find("nav", cls="pager").find("a", cls="newer")
            assert newer.attrs["href"] == "/ms/"
        if nxt:
            href = nxt[0].attrs["href"]
            assert re.fullmatch(r"/ms/\?cursor=[0-9a-z]+", href), href
            path = href
        else:
            path = None
    assert pages == 3 and seen == newest_first
    # The same on a sector page, which keeps its scope in the link.
    d = page(server, "/ms/sectors/finance/")
    nxt = [a for a in d.find_all("a") if a.attrs.get("rel") == "next"][0].attrs["href"]
    assert nxt.startswith("/ms/sectors/finance/?cursor=")
    assert page(server, nxt).item_ids() == newest_first[20:40]


def test_pagination_errors_in_the_readers_language(server, issuer, editor):
    server.publish(issuer, editor, headline="Satu", language="ms")
    server.publish(issuer, editor, headline="Un", language="fr")
    # Past the end: 404.
    for path in ("/ms/?cursor=1", "/ms/sectors/business/?cursor=1"):
        d = page(server, path, status=404)
        assert d.html.attrs["lang"] == "ms" and NOT_FOUND["ms"] in d.title, path
    # Malformed cursors, unknown or repeated parameters: 400.
    bad = ["cursor=", "cursor=!!", "cursor=-5", "cursor=ABC", "cursor=0", "cursor=%20a",
           "cursor=1&cursor=2", "page=2", "sector=business", "cursor=" + "z" * 40, "x=%ff",
           "cursor=%zz"]
    for q in bad:
        for base in ("/ms/", "/ms/regions/MY/", "/ms/archive/"):
            d = page(server, f"{base}?{q}", status=400)
            assert d.html.attrs["lang"] == "ms" and d.title == BAD_REQUEST["ms"], (base, q)
            assert "400" in d.find("h1").text()
    # Release pages take no parameters either.
    rid = server.get("/v1/releases?language=fr").json()["items"][0]["id"]
    d = page(server, f"/fr/releases/{rid}?x=1", status=400)
    assert d.html.attrs["lang"] == "fr"
    # Error pages are never cached.
    r = server.get("/ms/?cursor=1")
    assert r.headers.get("cache-control") == "no-cache" and "etag" not in r.headers


def test_unknown_scopes_are_404_in_the_readers_language(server, world):
    cases = {"/ja/sectors/nope/": "ja", "/ar/regions/ZZ/": "ar", "/id/issuers/nobody/": "id",
             "/th/archive/2026-02-30/": "th", "/en/releases/rnotthere000000": "en",
             "/de/sectors/": "de", "/ja/releases/" + world["en_tech"]["id"]: "ja"}
    for path, lang in cases.items():
        d = page(server, path, status=404)
        assert d.html.attrs["lang"] == lang, path
        assert d.html.attrs["dir"] == ("rtl" if lang == "ar" else "ltr")
        assert NOT_FOUND[lang] in d.title, (path, d.title)
        assert d.find("meta", name="robots").attrs["content"] == "noindex"
    # No language in the address: the reader's Accept-Language.
    d = page(server, "/xx/", status=404, headers={"Accept-Language": "de-CH, en;q=0.5"})
    assert d.html.attrs["lang"] == "de" and NOT_FOUND["de"] in d.title
    d = page(server, "/xx/", status=404, headers={"Accept-Language": "zh-TW"})
    assert d.html.attrs["lang"] == "zh-Hant"
    d = page(server, "/xx/", status=404)
    assert d.html.attrs["lang"] == "en"
    # Odd addresses are never a 500.
    for path in ("/en/archive/9999-99-99/", "/en/archive/1969-12-31/", "/en/regions/id/",
                 "/en/issuers/" + "x" * 300 + "/", "/en/sectors/%E2%80%AE/", "/en/archive/x/",
                 "/en/sectors/technology/extra/", "/en/releases/"):
        r = server.get(path)
        assert r.status in (301, 308, 400, 404), (path, r)


# ---- the release page --------------------------------------------------------------

def test_release_page(server, issuer, editor):
    tr = server.publish(issuer, editor, headline="Acme launches", translation_group="launch")
    rel = server.publish(issuer, editor, headline="Acme meluncurkan", subheadline="Sub judul",
                         language="id", sectors=["Technology", "Top Story"], regions=["ID"],
                         translation_group="launch", dateline_place="Surabaya",
                         body="Paragraf **pertama** dengan [tautan](https://example.com/x).\n\nKedua.",
                         contacts=[{"name": "Rina", "email": "rina@example.com",
                                    "phone": "+62 31 555"}])
    path = f"/id/releases/{rel['id']}"
    d = page(server, path)
    check_frame(server, d, path, "id")
    art = d.find("article", cls="release")
    assert art.find("h1").text() == "Acme meluncurkan" and d.title == "Acme meluncurkan"
    assert art.find("p", cls="subheadline").text() == "Sub judul"
    dl = art.find("span", cls="dateline").text()
    assert dl.startswith("Surabaya, ") and dl.endswith("(kawat) – ") and "20" in dl
    body = art.find("div", cls="body")
    assert body.find("a").attrs["href"] == "https://example.com/x"
    assert body.find("strong", ) and "Kedua." in body.text()
    assert art.find("section", cls="contacts").find("a").attrs["href"] == "mailto:rina@example.com"
    sectors = art.find("p", cls="sectors")
    assert sectors.text() == "Sektor: Teknologi, Berita Utama"
    assert [a.attrs["href"] for a in sectors.find_all("a")] == ["/id/sectors/technology/",
                                                                "/id/sectors/top-story/"]
    assert art.find("p", cls="disclaimer").text().startswith("Artikel ini disediakan")
    meta = art.find("p", cls="meta")
    assert meta.find("a", cls="issuer").attrs["href"] == f"/id/issuers/{ISSUER_SLUG}/"
    trans = art.find("nav", cls="translations").find_all("a")
    assert [(a.attrs["hreflang"], a.attrs["href"]) for a in trans] == [("en", f"/en/releases/{tr['id']}")]
    assert d.find("section", cls="boilerplate").text().startswith("Tentang kawat")

    # OpenGraph and schema.org.
    assert d.meta("og:type") == ["article"] and d.meta("og:locale") == ["id_ID"]
    assert d.meta("og:locale:alternate") == ["en_US"]
    assert d.meta("og:description")[0].startswith("Paragraf pertama")
    (ld,) = d.jsonld()
    assert ld["@context"] == "https://schema.org" and ld["@type"] == "NewsArticle"
    assert ld["headline"] == "Acme meluncurkan" and ld["inLanguage"] == "id"
    assert ld["datePublished"] == rel["published_at"] and ld["dateModified"]
    assert ld["publisher"]["name"] == "kawat" and ld["author"]["name"] == ISSUER_NAME
    assert ld["dateline"].startswith("Surabaya, ") and ld["dateline"].endswith("(kawat) –")
    assert ld["articleSection"] == ["Teknologi", "Berita Utama"]
    assert ld["url"] == server.base + path


def test_corrected_release_shows_what_changed(server, issuer, editor):
    rel = server.publish(issuer, editor, headline="Acme ships 40 tonnes", language="en",
                         body="We ship 40 tonnes.", sectors=["Business"])
    rid = rel["id"]
    before = page(server, "/en/")
    assert rid in before.item_ids()
    r = server.post(f"/v1/releases/{rid}/correct",
                    {"note": "Corrected the tonnage.", "headline": "Acme ships 45 tonnes",
                     "body": "We ship 45 tonnes."}, token=issuer)
    assert r.status == 200, r
    d = page(server, f"/en/releases/{rid}")
    assert d.find("h1").text() == "Acme ships 45 tonnes"
    sec = d.find("section", cls="correction")
    assert sec.find("h2").text() == "Correction"
    items = sec.find_all("li")
    assert len(items) == 1
    assert items[0].find("span", cls="note").text() == "Corrected the tonnage."
    assert items[0].find("span", cls="changed").text() == "Changed: Headline, Text"
    assert items[0].find("del").text() == "Acme ships 40 tonnes"
    assert "Updated:" in d.find("p", cls="meta").text()
    (ld,) = d.jsonld()
    assert ld["correction"] == "Corrected the tonnage." and ld["dateModified"] >= ld["datePublished"]
    # The lists show the new headline at once.
    d = page(server, "/en/")
    assert d.find("li", data_id=rid).find("h2").text() == "Acme ships 45 tonnes"
    # A second correction of sectors only; newest first, localized in Indonesian.
    r = server.post(f"/v1/releases/{rid}/correct", {"note": "Sector.", "sectors": ["Finance"]},
                    token=issuer)
    assert r.status == 200, r
    items = page(server, f"/en/releases/{rid}").find("section", cls="correction").find_all("li")
    assert [i.find("span", cls="note").text() for i in items] == ["Sector.", "Corrected the tonnage."]
    assert items[0].find("span", cls="changed").text() == "Changed: Sector"
    assert items[0].find("del") is None
    idrel = server.publish(issuer, editor, headline="Lama", language="id")
    server.post(f"/v1/releases/{idrel['id']}/correct", {"note": "Judul.", "headline": "Baru"},
                token=issuer)
    sec = page(server, f"/id/releases/{idrel['id']}").find("section", cls="correction")
    assert sec.find("h2").text() == "Koreksi"
    assert sec.find("span", cls="changed").text() == "Yang berubah: Judul"
    assert "Judul sebelumnya" in sec.text()


def test_withdrawn_is_410_and_gone_from_every_list_at_once(server, issuer, editor):
    keep = server.publish(issuer, editor, headline="Stays", sectors=["Energy"], regions=["NO"])
    gone = server.publish(issuer, editor, headline="Goes away", sectors=["Energy"], regions=["NO"])
    rid = gone["id"]
    lists = ["/en/", "/", "/en/sectors/energy/", "/en/regions/NO/", f"/en/issuers/{ISSUER_SLUG}/",
             f"/en/archive/{today()}/"]
    for p in lists:  # rendered and cached
        assert rid in page(server, p).item_ids(), p
    assert page(server, "/en/archive/").find("td").text() == "2"
    assert page(server, f"/en/releases/{rid}").find("h1").text() == "Goes away"
    r = server.post(f"/v1/releases/{rid}/withdraw", {"reason": "Issued in error."}, token=issuer)
    assert r.status == 200, r
    for p in lists:
        ids = page(server, p).item_ids()
        assert rid not in ids and keep["id"] in ids, p
    assert page(server, "/en/archive/").find("td").text() == "1"
    d = page(server, f"/en/releases/{rid}", status=410)
    assert d.html.attrs["lang"] == "en"
    assert d.find("h1").text() == "This release has been withdrawn by its issuer."
    assert "Issued in error." in d.find("p", cls="withdrawal").text()
    assert "Goes away" not in d.response.text
    assert d.find("meta", name="robots").attrs["content"] == "noindex"
    # The 410 is what a revalidating browser gets too.
    etag = d.response.headers.get("etag")
    if etag:
        r = server.get(f"/en/releases/{rid}", headers={"If-None-Match": etag})
        assert r.status == 304


# ---- caching -----------------------------------------------------------------------

def test_etag_and_304(server, issuer, editor):
    rel = server.publish(issuer, editor, headline="Cached one")
    for path in ("/en/", f"/en/releases/{rel['id']}", "/en/archive/", "/en/sectors/business/"):
        r = server.get(path)
        etag, lm = r.headers.get("etag"), r.headers.get("last-modified")
        assert r.status == 200 and etag and lm, (path, r.headers)
        assert r.headers.get("cache-control") == "no-cache"
        r2 = server.get(path, headers={"If-None-Match": etag})
        assert r2.status == 304 and r2.body == b"", (path, r2)
        assert r2.headers.get("etag") == etag
        r3 = server.get(path, headers={"If-None-Match": '"something-else"'})
        assert r3.status == 200 and r3.body == r.body
    # A publish changes the home: the old ETag no longer matches.
    r = server.get("/en/")
    server.publish(issuer, editor, headline="A newer one")
    r2 = server.get("/en/", headers={"If-None-Match": r.headers["etag"]})
    assert r2.status == 200 and b"A newer one" in r2.body
    # Last-Modified of a release page revalidates too.
    r = server.get(f"/en/releases/{rel['id']}")
    r2 = server.get(f"/en/releases/{rel['id']}", headers={"If-Modified-Since": r.headers["last-modified"]})
    assert r2.status == 304


# ---- nothing unpublished -----------------------------------------------------------

def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def test_nothing_unpublished_on_any_page(server, issuer, editor):
    far = rfc3339(time.time() + 3600)
    hidden = {}

    def make(state, **fields):
        return server.create(issuer, headline=f"{MARK} {state}", body=f"{MARK} body",
                             sectors=["Technology"], regions=["ID"], language="id",
                             translation_group="grp", **fields)["id"]

    hidden["draft"] = make("draft")
    hidden["submitted"] = make("submitted")
    server.post(f"/v1/releases/{hidden['submitted']}/submit", token=issuer)
    hidden["scheduled"] = make("scheduled", publish_at=far)
    hidden["embargoed"] = make("embargoed", embargo_until=far)
    hidden["rejected"] = make("rejected")
    for s in ("scheduled", "embargoed", "rejected"):
        assert server.post(f"/v1/releases/{hidden[s]}/submit", token=issuer).status == 200
    assert server.post(f"/v1/releases/{hidden['scheduled']}/approve", token=editor).json()["state"] == "scheduled"
    assert server.post(f"/v1/releases/{hidden['embargoed']}/approve", token=editor).json()["state"] == "embargoed"
    server.post(f"/v1/releases/{hidden['rejected']}/reject", {"reason": "No."}, token=editor)
    public = server.publish(issuer, editor, headline="Public one", language="id",
                            sectors=["Technology"], regions=["ID"], translation_group="grp")
    paths = ["/", "/id/", "/id/sectors/technology/", "/id/regions/ID/",
             f"/id/issuers/{ISSUER_SLUG}/", "/id/archive/", f"/id/archive/{today()}/",
             f"/id/releases/{public['id']}", "/en/", "/id/rss.xml", "/id/atom.xml", "/id/feed.json"]
    for path in paths:
        r = server.get(path)
        assert r.status == 200, (path, r)
        assert MARK.encode() not in r.body, path
        for rid in hidden.values():
            assert rid.encode() not in r.body, (path, rid)
    # The archive counts only the public one.
    assert page(server, "/id/archive/").find("td").text() == "1"
    # Their own pages are the same 404 as an id that never existed.
    never = page(server, "/id/releases/rzzzzzzzzzzzzzzz", status=404).response.body
    for rid in hidden.values():
        r = server.get(f"/id/releases/{rid}")
        assert r.status == 404 and r.body == never.replace(b"rzzzzzzzzzzzzzzz", rid.encode())


# ---- hostile content ---------------------------------------------------------------

HOSTILE_HEADLINE = ('<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
                    '\u202eevil\u202c "quoted" & \'single\' </title></script><!--')
HUGE_WORD = "W" * 5000


def test_hostile_release_renders_inert_and_intact(server, editor):
    evil = server.token("issuer", name='<b onmouseover="x()">Evil</b> \u202eCorp')
    body = ("[click](javascript:window.__pwned=3) <script>window.__pwned=4</script>\n\n"
            "<iframe src=\"https://evil.example/\"></iframe>\n\n"
            f"A huge word: {HUGE_WORD}\n\n"
            "[data](data:text/html,<script>alert(1)</script>)")
    rel = server.publish(evil, editor, headline=HOSTILE_HEADLINE, body=body,
                         subheadline="</p><script>window.__pwned=5</script>",
                         dateline_place="<svg onload=alert(1)>", sectors=["Technology"])
    rid = rel["id"]
    for path in (f"/en/releases/{rid}", "/en/", "/en/sectors/technology/",
                 f"/en/archive/{today()}/", f"/en/issuers/{urllib.parse.quote(rel['issuer']['slug'])}/"):
        r = server.get(path)
        assert r.status == 200, (path, r)
        text = r.text
        d = Doc(text)
        assert not d.errors, (path, d.errors[:5])
        # No element a release could have made: only the page's own scripts.
        scripts = d.find_all("script")
        assert all(s.attrs.get("src") == "/static/live.js" or
                   s.attrs.get("type") == "application/ld+json" for s in scripts), path
        for s in scripts:
            assert "__pwned" not in s.attrs.get("src", "")
        assert not d.find_all("img") and not d.find_all("iframe") and not d.find_all("svg")
        assert not d.find_all("b"), path
        for n in d.root.iter():
            for k, v in n.attrs.items():
                assert not k.startswith("on"), (path, n.tag, k)
                if k in ("href", "src"):
                    assert not v.strip().lower().startswith(("javascript:", "data:")), (path, v)
        # Intact: the reader sees exactly what the issuer wrote.
        heads = [h for h in d.find_all("h1") + d.find_all("h2") if "evil" in h.text()]
        assert heads and heads[0].text() == HOSTILE_HEADLINE, path
        assert d.title == HOSTILE_HEADLINE or path != f"/en/releases/{rid}"
        issuer = [b for b in d.find_all("bdi") if "Corp" in b.text()]
        assert issuer and issuer[0].text() == '<b onmouseover="x()">Evil</b> \u202eCorp', path
    d = Doc(server.get(f"/en/releases/{rid}").text)
    assert HUGE_WORD in d.find("div", cls="body").text()
    assert d.find("p", cls="subheadline").text() == "</p><script>window.__pwned=5</script>"
    # JSON-LD cannot be closed early, and parses back to the headline.
    raw = server.get(f"/en/releases/{rid}").text
    block = raw.split('<script type="application/ld+json">', 1)[1].split("</script>", 1)[0]
    assert "<" not in block and ">" not in block
    assert json.loads(block)["headline"] == HOSTILE_HEADLINE
    # The stylesheet breaks enormous words rather than widening the page.
    css = server.get("/static/kawat.css").text
    assert "overflow-wrap:anywhere" in css


# ---- live updates and static files -------------------------------------------------

def test_live_list_and_script(server, world):
    d = page(server, "/id/")
    ol = d.find("ol", cls="releases")
    assert "data-live" in ol.attrs
    assert ol.attrs["data-stream"] == "/v1/stream?language=id"
    assert re.fullmatch(r"\d+", ol.attrs["data-after"])
    names = json.loads(ol.attrs["data-sector-names"])
    assert names["technology"] == "Teknologi" and ol.attrs["data-sector-label"] == "Sektor"
    assert [s.attrs["src"] for s in d.find_all("script") if "src" in s.attrs] == ["/static/live.js"]
    d = page(server, "/id/sectors/technology/")
    assert d.find("ol", cls="releases").attrs["data-stream"] == "/v1/stream?language=id&sector=technology"
    # Later pages and day pages are not live.
    assert "data-live" not in page(server, f"/id/archive/{today()}/").find("ol", cls="releases").attrs
    r = server.get("/static/live.js")
    assert r.status == 200 and r.headers["content-type"].startswith("text/javascript")
    assert b"textContent" in r.body and b"innerHTML" not in r.body
    assert b"EventSource" in r.body
    r = server.get("/static/kawat.css")
    assert r.status == 200 and b"inset-inline-start" in r.body and b"left:" not in r.body
    assert server.get("/static/nope.js").status == 404


def test_rtl_pages(server, world):
    d = page(server, f"/ar/releases/{world['ar_tech']['id']}")
    assert d.html.attrs["dir"] == "rtl" and d.html.attrs["lang"] == "ar"
    assert d.find("p", cls="sectors").text().startswith(SECTOR_LABEL["ar"])
    assert d.meta("og:locale")[0].startswith("ar")
    # Links to left-to-right languages say so.
    en = d.find("nav", cls="languages").find("a", hreflang="en")
    assert en.attrs["dir"] == "ltr"
