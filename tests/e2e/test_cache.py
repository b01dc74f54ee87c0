"""The portal's cache and routing, against the real server: every page and
feed carries a strong ETag and Last-Modified and answers 304 to a
revalidation; a wire event (publish, correction, withdrawal) drops exactly
what it touches, so nobody is ever served a page or feed that still shows a
withdrawn release or a corrected text as it was; nothing unpublished ever
enters a page, feed, sitemap or the cache."""
import re

import pytest

FEEDS = ["rss.xml", "atom.xml", "feed.json", "ninjs.json", "newsml.xml"]


def metric(server, name):
    text = server.get("/metrics").text
    m = re.search(rf"^{re.escape(name)} (\d+)$", text, re.M)
    assert m, name
    return int(m.group(1))


def test_page_and_feed_validators(server, issuer, editor):
    server.publish(issuer, editor, headline="Validators", language="en")
    for path in ["/en/", "/en/rss.xml", "/", "/atom.xml", "/sitemap.xml", "/robots.txt"]:
        r = server.get(path)
        assert r.status == 200, (path, r)
        etag = r.headers["etag"]
        assert re.fullmatch(r'"[0-9a-f]{32}"', etag), etag
        assert r.headers["cache-control"] == "no-cache"
        lm = r.headers["last-modified"]
        assert lm.endswith(" GMT")
        # The same bytes again, from the cache: same validator.
        again = server.get(path)
        assert again.body == r.body and again.headers["etag"] == etag
        nm = server.get(path, headers={"If-None-Match": etag})
        assert nm.status == 304 and nm.body == b"", path
        assert nm.headers["etag"] == etag
        assert server.get(path, headers={"If-None-Match": f'"x", W/{etag}'}).status == 304
        assert server.get(path, headers={"If-None-Match": '"other"'}).status == 200
        assert server.get(path, headers={"If-Modified-Since": lm}).status == 304
        assert server.get(path, headers={"If-Modified-Since": "Thu, 01 Jan 1970 00:00:00 GMT"}
                          ).status == 200
        # If-None-Match decides when both are sent (RFC 9110 13.2.2).
        assert server.get(path, headers={"If-None-Match": '"other"', "If-Modified-Since": lm}
                          ).status == 200
        # A HEAD gets the headers of the cached answer, no body.
        h = server.request("HEAD", path)
        assert h.status == 200 and h.body == b"" and h.headers["etag"] == etag
    assert metric(server, "kawat_page_cache_hits_total") > 0
    assert metric(server, "kawat_page_cache_not_modified_total") > 0


def test_publish_drops_what_lists_it(server, issuer, editor):
    server.publish(issuer, editor, headline="First one", language="en", sectors=["Business"])
    watched = ["/en/", "/en/rss.xml", "/rss.xml", "/sectors/business/atom.xml",
               "/en/sectors/business/", "/regions/ID/feed.json", "/sitemap-news.xml"]
    before = {p: server.get(p) for p in watched}
    other = server.get("/ja/rss.xml")
    server.publish(issuer, editor, headline="Second one", language="en", sectors=["Business"],
                   regions=["ID"])
    for p in watched:
        r = server.get(p, headers={"If-None-Match": before[p].headers["etag"]})
        assert r.status == 200, p
        assert "Second one" in r.text, p
    # A Japanese feed does not list an English release: it stays cached.
    hits = metric(server, "kawat_page_cache_hits_total")
    assert server.get("/ja/rss.xml", headers={"If-None-Match": other.headers["etag"]}).status == 304
    assert metric(server, "kawat_page_cache_hits_total") == hits + 1


@pytest.mark.parametrize("cache", ["64m", "0"])
def test_withdrawal_leaves_every_page_and_feed_at_once(make_server, cache):
    server = make_server(args=("--page-cache", cache))
    iss = server.token("issuer", name="Acme Test Corp")
    ed = server.token("editor", name="Ed")
    rel = server.publish(iss, ed, headline="Soon withdrawn headline", language="id",
                         sectors=["Business"], regions=["ID"])
    slug = rel["issuer"]["slug"]
    day = rel["published_at"][:10]
    month = rel["published_at"][:7]
    paths = ["/id/", "/id/sectors/business/", "/id/regions/ID/", f"/id/issuers/{slug}/",
             f"/id/archive/{day}/", "/sitemap-news.xml", f"/sitemaps/{month}.xml"]
    for scope in ["/", "/id/", "/sectors/business/", "/regions/ID/", f"/issuers/{slug}/",
                  "/id/sectors/business/", f"/id/archive/{day}/"]:
        paths += [scope + f for f in FEEDS]
    for p in paths:
        r = server.get(p)
        assert r.status == 200, (p, r)
        assert rel["id"] in r.text, p
    page = server.get(f"/id/releases/{rel['id']}")
    assert page.status == 200
    r = server.post(f"/v1/releases/{rel['id']}/withdraw", {"reason": "Sent in error"}, token=iss)
    assert r.status == 200, r
    # No wait: the withdrawal's answer came after the cache dropped it.
    for p in paths:
        r = server.get(p)
        assert rel["id"] not in r.text and "Soon withdrawn" not in r.text, p
    gone = server.get(f"/id/releases/{rel['id']}",
                      headers={"If-None-Match": page.headers["etag"]})
    assert gone.status == 410 and "Soon withdrawn" not in gone.text


def test_correction_is_served_at_once(server, issuer, editor):
    rel = server.publish(issuer, editor, headline="Before the fix", language="en")
    for p in ["/en/", "/en/atom.xml", f"/en/releases/{rel['id']}", "/en/feed.json"]:
        assert "Before the fix" in server.get(p).text
    r = server.post(f"/v1/releases/{rel['id']}/correct",
                    {"headline": "After the fix", "note": "Headline typo"}, token=issuer)
    assert r.status == 200, r
    for p in ["/en/", "/en/atom.xml", f"/en/releases/{rel['id']}", "/en/feed.json"]:
        t = server.get(p).text
        assert "After the fix" in t and "Before the fix" not in t.split("<article")[0], p


def test_nothing_unpublished_anywhere(server, issuer, editor):
    server.publish(issuer, editor, headline="Public one", language="en")
    draft = server.create(issuer, headline="Secret draft words", language="en")
    sub = server.create(issuer, headline="Secret submitted words", language="en")
    server.post(f"/v1/releases/{sub['id']}/submit", token=issuer)
    emb = server.create(issuer, headline="Secret embargo words", language="en",
                        embargo_until="2099-01-01T00:00:00Z")
    server.post(f"/v1/releases/{emb['id']}/submit", token=issuer)
    assert server.post(f"/v1/releases/{emb['id']}/approve", token=editor).status == 200
    paths = ["/", "/en/", "/en/archive/", "/sitemap.xml", "/sitemap-news.xml", "/robots.txt"]
    paths += ["/" + f for f in FEEDS] + ["/en/" + f for f in FEEDS]
    paths += ["/en/sectors/business/", "/en/regions/ID/", "/sectors/business/rss.xml"]
    for p in paths:
        r = server.get(p)
        assert r.status == 200, (p, r)
        assert "Secret" not in r.text, p
        for x in (draft, sub, emb):
            assert x["id"] not in r.text, p
    for x in (draft, sub, emb):
        assert server.get(f"/en/releases/{x['id']}").status == 404
        assert server.get(f"/v1/releases/{x['id']}?format=ninjs").status == 404
        assert server.get(f"/v1/releases/{x['id']}?format=newsml").status == 404
    # The issuer sees its draft, but it has no syndicated form yet.
    r = server.get(f"/v1/releases/{draft['id']}?format=ninjs", token=issuer)
    assert r.status == 409 and r.json()["field"] == "format"


def test_routing_answers(server, issuer, editor):
    rel = server.publish(issuer, editor, headline="Routing", language="zh-Hans")
    r = server.get("/en")
    assert r.status == 301 and r.headers["location"] == "/en/"
    r = server.get("/EN/rss.xml")
    assert r.status == 301 and r.headers["location"] == "/en/rss.xml"
    r = server.get("/zh-hans/sectors/business?x=1")
    assert r.status == 301 and r.headers["location"] == "/zh-Hans/sectors/business?x=1"
    r = server.get(r.headers["location"])
    assert r.status == 301 and r.headers["location"] == "/zh-Hans/sectors/business/?x=1"
    assert server.get("/en/sectors/business").headers["location"] == "/en/sectors/business/"
    for p, status in [("/xx/", 404), ("/en/sectors/nope/", 404), ("/en/regions/id/", 404),
                      ("/en/regions/XX/", 404), ("/en/issuers/nobody/", 404),
                      ("/en/archive/2026-02-30/", 404), ("/en/archive/2026-13-01/", 404),
                      ("/en/archive/2026-11-28/x/", 404), ("/en/podcast.xml", 404),
                      ("/en/archive/rss.xml", 404), ("/sectors/business/", 404),
                      ("/en/sectors/", 404), ("/en/rss.xml?x=1", 400), ("/rss.xml/", 404),
                      ("/sitemaps/1999-01.xml", 404), ("/sitemaps/2026-1.xml", 404),
                      (f"/en/releases/{rel['id']}", 404), ("/en/releases/../", 400)]:
        r = server.get(p)
        assert r.status == status, (p, r.status)
        if status >= 400:
            assert r.headers["content-type"].startswith("text/html"), p
            assert "etag" not in r.headers, p  # errors are never cached
    assert server.get(f"/zh-Hans/releases/{rel['id']}").status == 200
    ctypes = {"rss.xml": "application/rss+xml", "atom.xml": "application/atom+xml",
              "feed.json": "application/feed+json", "ninjs.json": "application/json",
              "newsml.xml": "application/vnd.iptc.g2.newsmessage+xml"}
    for f, ct in ctypes.items():
        r = server.get("/zh-Hans/" + f)
        assert r.status == 200 and r.headers["content-type"].startswith(ct), f
        link = r.headers["link"]
        assert f'<{server.base}/websub>; rel="hub"' in link, link
        assert f'<{server.base}/zh-Hans/{f}>; rel="self"' in link, link
    robots = server.get("/robots.txt").text
    assert f"Sitemap: {server.base}/sitemap.xml" in robots and "Disallow: /v1/" in robots
    r = server.get(f"/v1/releases/{rel['id']}?format=rss")
    assert r.status == 400 and r.json()["field"] == "format"
    r = server.get(f"/v1/releases/{rel['id']}?formats=ninjs")
    assert r.status == 400


def test_bad_page_cache_option(make_server):
    s = make_server(args=("--page-cache", "lots"), start=False)
    p = s.kawat("serve", "--data", str(s.data), "--listen", "127.0.0.1:0", "--page-cache", "lots",
                check=False)
    assert p.returncode != 0 and "page-cache" in p.stderr


def test_shared_links_with_tracking_tags_reach_the_page(server, issuer, editor):
    """Links shared in mail and social posts carry utm_*, fbclid…: the
    reader is sent to the same page without them (never a 400, and no
    cache entry per campaign); other parameters are kept and judged."""
    rel = server.publish(issuer, editor, headline="Shared widely", language="en")
    page = f"/en/releases/{rel['id']}"
    for path, location in [
            (page + "?utm_source=newsletter&utm_medium=email", page),
            (page + "?fbclid=IwAR0abc", page),
            ("/en/?utm_campaign=launch&cursor=0", "/en/?cursor=0"),
            ("/en/rss.xml?utm_source=x%20y", "/en/rss.xml"),
            ("/id/sectors/business/?gclid=1&utm_term", "/id/sectors/business/")]:
        r = server.get(path)
        assert r.status == 301 and r.headers["location"] == location, (path, r)
        assert "etag" not in r.headers
    assert server.get(page).status == 200
    assert server.get("/en/?cursor=0").status == 400     # the kept parameter is judged
    assert server.get("/en/?%zz=1").status == 400         # malformed: not a tracking tag
    assert server.get("/en/?utm=1").status == 400         # not a tracking tag
