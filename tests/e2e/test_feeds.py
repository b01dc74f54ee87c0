"""Feeds and discovery documents from the real server, checked by real
clients: Debian's feedparser reads RSS, Atom and JSON Feed with no error
flag; xmllint validates NewsML-G2 against the IPTC schema; jsonschema
validates ninjs; sitemaps parse as XML with the sitemaps.org shapes. Pages
name their feeds with autodiscovery links, and a client finds them that
way. A hostile release stays inert and intact in every format."""
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import feedparser
import pytest

import check_feeds
import check_ninjs

FEEDS = {"rss.xml": "rss", "atom.xml": "atom", "feed.json": "jsonfeed",
         "ninjs.json": "ninjs", "newsml.xml": "newsml"}
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
HOSTILE = "<script>window.__pwned=1</script> & \u202eevil\u202c " + "W" * 300


def check(kind, body):
    if kind in ("rss", "atom", "jsonfeed"):
        return check_feeds.check_feed(body, kind)
    if kind == "newsml":
        return check_feeds.check_newsml(body)
    return check_feeds.check_ninjs_list(body)


@pytest.fixture
def wire(server, issuer, editor):
    """A small wire: three languages of one release, a sector, a region,
    a correction, and a hostile release."""
    group = "launch-2026"
    rels = []
    for lang, head in [("en", "Launch of the wire"), ("id", "Peluncuran kawat"),
                       ("ja", "ワイヤーの開始")]:
        rels.append(server.publish(issuer, editor, headline=head, language=lang,
                                   translation_group=group, sectors=["Business"],
                                   regions=["ID", "JP"], dateline_place="Jakarta",
                                   body="First paragraph with a [link](https://example.com/a).\n\n"
                                        "Second paragraph."))
    r = server.post(f"/v1/releases/{rels[0]['id']}/correct",
                    {"subheadline": "Now with a subheadline", "note": "Added a subheadline"},
                    token=issuer)
    assert r.status == 200, r
    hostile = server.publish(issuer, editor, headline=HOSTILE, language="en",
                             subheadline="<b>bold</b> \u2067isolate",
                             body="[click](javascript:alert(1)) <script>alert(2)</script> "
                                  "<img src=x onerror=alert(3)> " + "Z" * 5000)
    return {"rels": rels, "hostile": hostile}


@pytest.mark.parametrize("scope", ["/", "/en/", "/id/", "/sectors/business/",
                                   "/en/sectors/business/", "/regions/JP/", "/ja/regions/JP/"])
def test_every_feed_is_valid(server, wire, scope):
    for name, kind in FEEDS.items():
        r = server.get(scope + name)
        assert r.status == 200, (scope + name, r)
        check(kind, r.body)


def test_issuer_and_day_feeds(server, wire):
    rel = wire["rels"][0]
    slug = rel["issuer"]["slug"]
    day = rel["published_at"][:10]
    for scope in [f"/issuers/{slug}/", f"/en/issuers/{slug}/", f"/en/archive/{day}/"]:
        for name, kind in FEEDS.items():
            r = server.get(scope + name)
            assert r.status == 200, (scope + name, r)
            check(kind, r.body)
            assert rel["id"] in r.text


def test_feed_contents(server, wire):
    en = wire["rels"][0]
    d = feedparser.parse(server.get("/en/atom.xml").body)
    assert not d.bozo
    ids = [e.link for e in d.entries]
    assert f"{server.base}/en/releases/{en['id']}" in ids
    links = {l["rel"]: l["href"] for l in d.feed.links}
    assert links["self"] == f"{server.base}/en/atom.xml"
    assert links["hub"] == f"{server.base}/websub"
    entry = next(e for e in d.entries if e.link.endswith(en["id"]))
    assert entry.title == "Launch of the wire"
    assert "https://example.com/a" in entry.content[0].value  # links kept
    # Only English in the English feed; every language in the global one.
    assert all("/en/releases/" in e.link for e in d.entries)
    d = feedparser.parse(server.get("/rss.xml").body)
    langs = {re.search(r"/([a-zA-Z-]+)/releases/", e.link).group(1) for e in d.entries}
    assert {"en", "id", "ja"} <= langs
    # JSON Feed: the hub for WebSub, and the same items.
    jf = json.loads(server.get("/id/feed.json").body)
    assert jf["version"] == "https://jsonfeed.org/version/1.1"
    assert {"type": "WebSub", "url": f"{server.base}/websub"} in jf["hubs"]
    assert jf["feed_url"] == f"{server.base}/id/feed.json"
    assert jf["items"][0]["url"] == f"{server.base}/id/releases/{wire['rels'][1]['id']}"
    # ninjs: the correction's version and the translations.
    nj = json.loads(server.get("/en/ninjs.json").body)
    item = next(i for i in nj["items"] if i["uri"].endswith(en["id"]))
    assert item["version"] == "2"
    assert {a["language"] for a in item["associations"]} >= {"id", "ja"}
    # NewsML-G2: the dateline, language and Media Topic subject.
    x = server.get("/en/newsml.xml").text
    assert "Jakarta" in x and 'xml:lang="en"' in x and "medtop:" in x


def test_api_formats(server, wire):
    rel = wire["rels"][1]
    r = server.get(f"/v1/releases/{rel['id']}?format=ninjs")
    assert r.status == 200 and r.headers["content-type"].startswith("application/json")
    check_ninjs.validate(json.loads(r.body))
    r = server.get(f"/v1/releases/{rel['id']}?format=newsml")
    assert r.status == 200
    assert r.headers["content-type"].startswith("application/vnd.iptc.g2.newsitem+xml")
    check_feeds.check_newsml(r.body)


def test_hostile_release_is_inert_and_intact(server, wire):
    hid = wire["hostile"]["id"]
    for name, kind in FEEDS.items():
        body = server.get("/en/" + name).body
        check(kind, body)
        text = body.decode("utf-8")
        assert hid in text, name
        # Never a script element in markup (JSON carries the text as a
        # string value, which no reader runs).
        if name.endswith(".xml"):
            assert "<script>" not in text, name
        assert "\u202eevil" in text or "&#8238;evil" in text or "\\u202eevil" in text, name
    d = feedparser.parse(server.get("/en/atom.xml").body)
    entry = next(e for e in d.entries if e.link.endswith(hid))
    assert entry.title.startswith("<script>window.__pwned=1</script> & \u202eevil")
    assert "W" * 300 in entry.title
    assert "javascript:" not in entry.content[0].value
    jf = json.loads(server.get("/en/feed.json").body)
    item = next(i for i in jf["items"] if i["id"].endswith(hid) or i["url"].endswith(hid))
    assert item["title"] == HOSTILE


class Alternates(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("rel") == "alternate" and a.get("type"):
            self.found.append((a["type"], a["href"]))


def test_autodiscovery_from_pages(server, wire):
    """A feed reader given a page finds its feeds and reads them."""
    rel = wire["rels"][0]
    for page in ["/en/", "/id/sectors/business/", "/ja/regions/JP/",
                 f"/en/issuers/{rel['issuer']['slug']}/", f"/en/archive/{rel['published_at'][:10]}/"]:
        p = Alternates()
        p.feed(server.get(page).text)
        types = {t for t, _ in p.found}
        assert {"application/rss+xml", "application/atom+xml",
                "application/feed+json"} <= types, page
        for t, href in p.found:
            path = href.replace(server.base, "")
            r = server.get(path)
            assert r.status == 200, (page, href)
            kind = {"application/rss+xml": "rss", "application/atom+xml": "atom",
                    "application/feed+json": "jsonfeed"}.get(t)
            if kind:
                check_feeds.check_feed(r.body, kind)


def test_sitemaps(server, wire):
    rel = wire["rels"][0]
    idx = server.get("/sitemap.xml")
    assert idx.status == 200
    check_feeds.check_sitemap(idx.body)
    root = ET.fromstring(idx.body)
    locs = [e.text for e in root.iter(SM + "loc")]
    month = rel["published_at"][:7]
    assert f"{server.base}/sitemaps/{month}.xml" in locs
    sm = server.get(f"/sitemaps/{month}.xml")
    check_feeds.check_sitemap(sm.body)
    root = ET.fromstring(sm.body)
    urls = {u.find(SM + "loc").text: u for u in root.iter(SM + "url")}
    page = f"{server.base}/en/releases/{rel['id']}"
    assert page in urls
    alts = {a.get("hreflang") for a in urls[page].iter("{http://www.w3.org/1999/xhtml}link")}
    assert {"en", "id", "ja"} <= alts
    news = server.get("/sitemap-news.xml")
    check_feeds.check_sitemap(news.body)
    root = ET.fromstring(news.body)
    n = "{http://www.google.com/schemas/sitemap-news/0.9}"
    titles = [t.text for t in root.iter(n + "title")]
    assert "Launch of the wire" in titles
    assert len(titles) == 4  # the three languages and the hostile one
    langs = {t.text for t in root.iter(n + "language")}
    assert {"en", "id", "ja"} <= langs
