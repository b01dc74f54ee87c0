#!/usr/bin/python3
"""Validate kawat's feed and discovery documents with real consumers' tools.

As a module (from pytest; run with Debian's /usr/bin/python3):

    import check_feeds
    check_feeds.check_feed(data, "rss")      # or "atom", "jsonfeed"
    check_feeds.check_newsml(data)           # newsItem or newsMessage
    check_feeds.check_ninjs_list(data)       # {"uri", "items": [ninjs 3]}
    check_feeds.check_sitemap(data)          # index, urlset or Google News
    check_feeds.check_any(data)              # guesses the kind from the content

Each takes the document as bytes (str is encoded as UTF-8), raises
FeedError naming every problem found, and returns the parsed document
(feedparser's result, an ElementTree root, or the JSON value).

    - RSS and Atom are parsed by feedparser, which must not call them
      "bozo" (ill-formed), must see the expected version, and must find the
      rel "self" and "hub" links that WebSub subscribers look for; JSON
      Feed is checked against the rules of its 1.1 spec (Debian 12's
      feedparser 6.0 does not read JSON Feed);
    - NewsML-G2 is validated against IPTC's schema with xmllint (offline:
      xml.xsd lies next to the schema);
    - each ninjs item is validated against the ninjs 3.1 schema through
      check_ninjs.py;
    - every XML document must parse with xml.etree and hold no element
      named "script" in any namespace (hostile text must arrive as text).

As a script:

    tests/e2e/check_feeds.py FILE ...        (kind guessed from the content)
    tests/e2e/check_feeds.py --kind rss FILE ...

prints one line per file and exits 1 if any is invalid.

The schemas are found as in check_ninjs.py: $KAWAT_NEWSML_SCHEMA (the .xsd
itself), $KAWAT_SHARED (the shared/ folder), or the first shared/schemas
above this file.
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import check_ninjs  # noqa: E402

import feedparser  # noqa: E402

NEWSML_SCHEMA = "NewsML-G2_2.35-spec-All-Power.xsd"
NS_NAR = "http://iptc.org/std/nar/2006-10-01/"
NS_SITEMAP = "http://www.sitemaps.org/schemas/sitemap/0.9"
NS_GNEWS = "http://www.google.com/schemas/sitemap-news/0.9"
NS_XHTML = "http://www.w3.org/1999/xhtml"

FEED_VERSIONS = {"rss": ("rss20",), "atom": ("atom10",), "jsonfeed": ("json11",)}
KINDS = ("rss", "atom", "jsonfeed", "newsml", "ninjs", "sitemap")


class FeedError(ValueError):
    """A document is not what a consumer accepts; .errors lists why."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


def _bytes(data):
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def newsml_schema_path():
    env = os.environ.get("KAWAT_NEWSML_SCHEMA")
    if env:
        return pathlib.Path(env)
    env = os.environ.get("KAWAT_SHARED")
    if env:
        return pathlib.Path(env) / "schemas" / "newsml-g2" / NEWSML_SCHEMA
    here = pathlib.Path(__file__).resolve()
    for d in here.parents:
        p = d / "shared" / "schemas" / "newsml-g2" / NEWSML_SCHEMA
        if p.is_file():
            return p
    raise FileNotFoundError("no shared/schemas/newsml-g2/%s above %s; set KAWAT_SHARED"
                            % (NEWSML_SCHEMA, here))


def _local(tag):
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _xml(data, errs):
    """Parses XML with ElementTree; the root, or None (errs extended)."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError as e:
        errs.append("not well-formed XML: %s" % e)
        return None
    for el in root.iter():
        if _local(el.tag).lower() == "script":
            errs.append("an element named script: %s" % el.tag)
    return root


def _is_abs_url(v):
    return isinstance(v, str) and (v.startswith("http://") or v.startswith("https://"))


# ---- feeds -------------------------------------------------------------

def _link_rels(links):
    return {ln.get("rel"): ln.get("href") for ln in links or []}


def check_feed(data, kind):
    """RSS 2.0 or Atom as feedparser reads it, or JSON Feed 1.1; kind is
    "rss", "atom" or "jsonfeed". Returns feedparser's result (the JSON for
    jsonfeed)."""
    if kind not in FEED_VERSIONS:
        raise ValueError("kind must be one of %s" % sorted(FEED_VERSIONS))
    data = _bytes(data)
    errs = []
    if kind == "jsonfeed":
        # Debian 12's feedparser (6.0) reads no JSON Feed (6.1 does): the
        # rules of the JSON Feed 1.1 spec are checked here instead.
        errs += _jsonfeed_errors(data)
        if errs:
            raise FeedError(errs)
        return json.loads(data)
    _xml(data, errs)
    d = feedparser.parse(data)
    if d.bozo:
        errs.append("feedparser: bozo: %r" % (d.get("bozo_exception"),))
    if d.version not in FEED_VERSIONS[kind]:
        errs.append("feedparser sees version %r, not %s" % (d.version, FEED_VERSIONS[kind]))
    rels = _link_rels(d.feed.get("links"))
    for rel in ("self", "hub"):
        if not _is_abs_url(rels.get(rel)):
            errs.append("feed: no absolute rel=%s link (links: %s)" % (rel, rels))
    if not d.feed.get("title"):
        errs.append("feed: no title")
    for i, e in enumerate(d.entries):
        where = "entry[%d]" % i
        if not e.get("title"):
            errs.append("%s: no title" % where)
        if not _is_abs_url(e.get("link")):
            errs.append("%s: no absolute link" % where)
        if not e.get("id"):
            errs.append("%s: no id/guid" % where)
        if not (e.get("published_parsed") or e.get("updated_parsed")):
            errs.append("%s: no date feedparser understands" % where)
    if errs:
        raise FeedError(errs)
    return d


def _jsonfeed_errors(data):
    """The JSON Feed 1.1 rules feedparser does not check."""
    try:
        f = json.loads(data)
    except ValueError as e:
        return ["not JSON: %s" % e]
    if not isinstance(f, dict):
        return ["a JSON Feed is an object"]
    errs = []
    if f.get("version") != "https://jsonfeed.org/version/1.1":
        errs.append("version: %r" % f.get("version"))
    if not isinstance(f.get("title"), str):
        errs.append("title: required string")
    if not _is_abs_url(f.get("feed_url")):
        errs.append("feed_url: not an absolute URL")
    hubs = f.get("hubs")
    if not (isinstance(hubs, list) and any(
            isinstance(h, dict) and h.get("type") == "WebSub" and _is_abs_url(h.get("url"))
            for h in hubs)):
        errs.append("hubs: no WebSub hub")
    items = f.get("items")
    if not isinstance(items, list):
        return errs + ["items: required array"]
    for i, it in enumerate(items):
        where = "items[%d]" % i
        if not isinstance(it, dict):
            errs.append("%s: not an object" % where)
            continue
        if not isinstance(it.get("id"), str) or not it.get("id"):
            errs.append("%s.id: required string" % where)
        if not isinstance(it.get("content_html"), str) and not isinstance(
                it.get("content_text"), str):
            errs.append("%s: content_html or content_text required" % where)
        if "url" in it and not _is_abs_url(it["url"]):
            errs.append("%s.url: not an absolute URL" % where)
        for key in ("date_published", "date_modified"):
            if key in it and not (isinstance(it[key], str) and check_ninjs._is_date_time(it[key])):
                errs.append("%s.%s: not an RFC 3339 date-time" % (where, key))
        for key in ("title", "summary", "language", "content_html", "content_text"):
            if key in it and not isinstance(it[key], str):
                errs.append("%s.%s: must be a string" % (where, key))
        if "tags" in it and not (isinstance(it["tags"], list)
                                 and all(isinstance(t, str) for t in it["tags"])):
            errs.append("%s.tags: must be an array of strings" % where)
        if "authors" in it and not (isinstance(it["authors"], list) and all(
                isinstance(a, dict) and a for a in it["authors"])):
            errs.append("%s.authors: must be an array of non-empty objects" % where)
    return errs


# ---- NewsML-G2 ---------------------------------------------------------

def check_newsml(data):
    """A newsItem or newsMessage, valid against IPTC's NewsML-G2 schema."""
    data = _bytes(data)
    errs = []
    root = _xml(data, errs)
    if root is not None and root.tag not in ("{%s}newsItem" % NS_NAR, "{%s}newsMessage" % NS_NAR):
        errs.append("root is %s, not a NewsML-G2 newsItem or newsMessage" % root.tag)
    schema = newsml_schema_path()
    with tempfile.NamedTemporaryFile(suffix=".xml") as f:
        f.write(data)
        f.flush()
        # Run from the schema's folder so that its xml.xsd import resolves
        # there and nothing is fetched.
        p = subprocess.run(["xmllint", "--noout", "--nonet", "--schema", str(schema), f.name],
                           cwd=str(schema.parent), capture_output=True, text=True)
    if p.returncode != 0:
        errs.append("xmllint --schema: " + (p.stderr.strip() or "exit %d" % p.returncode))
    if errs:
        raise FeedError(errs)
    return root


# ---- ninjs list --------------------------------------------------------

def check_ninjs_list(data):
    """{"uri": the feed's URL, "links"?: [...], "items": [ninjs 3 items]}."""
    try:
        doc = json.loads(_bytes(data))
    except ValueError as e:
        raise FeedError(["not JSON: %s" % e])
    if not isinstance(doc, dict):
        raise FeedError(["a ninjs list is an object"])
    errs = []
    if not _is_abs_url(doc.get("uri")):
        errs.append("uri: not an absolute URL")
    items = doc.get("items")
    if not isinstance(items, list):
        raise FeedError(errs + ["items: required array"])
    for i, it in enumerate(items):
        errs += check_ninjs.errors(it, prefix="items[%d]" % i)
    if errs:
        raise FeedError(errs)
    return doc


# ---- sitemaps ----------------------------------------------------------

def check_sitemap(data):
    """A sitemap index, a urlset (with xhtml:link alternates) or a Google
    News sitemap: well-formed, in the sitemap namespace, absolute locs."""
    errs = []
    root = _xml(_bytes(data), errs)
    if root is None:
        raise FeedError(errs)
    sm = "{%s}" % NS_SITEMAP
    if root.tag == sm + "sitemapindex":
        entries = root.findall(sm + "sitemap")
    elif root.tag == sm + "urlset":
        entries = root.findall(sm + "url")
    else:
        raise FeedError(errs + ["root is %s, not a sitemap" % root.tag])
    for i, e in enumerate(entries):
        where = "%s[%d]" % (_local(e.tag), i)
        loc = e.findtext(sm + "loc")
        if not _is_abs_url(loc):
            errs.append("%s: loc %r is not absolute" % (where, loc))
        for ln in e.findall("{%s}link" % NS_XHTML):
            if ln.get("rel") != "alternate" or not ln.get("hreflang") or not _is_abs_url(
                    ln.get("href")):
                errs.append("%s: bad xhtml:link %s" % (where, ln.attrib))
        news = e.find("{%s}news" % NS_GNEWS)
        if news is not None:
            g = "{%s}" % NS_GNEWS
            for label, path in (("publication/name", g + "publication/" + g + "name"),
                                ("publication/language", g + "publication/" + g + "language"),
                                ("publication_date", g + "publication_date"),
                                ("title", g + "title")):
                if not (news.findtext(path) or "").strip():
                    errs.append("%s: news:%s missing" % (where, label))
    if errs:
        raise FeedError(errs)
    return root


# ---- any ---------------------------------------------------------------

def guess_kind(data):
    data = _bytes(data)
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        try:
            doc = json.loads(data)
        except ValueError:
            return None
        if isinstance(doc, dict) and str(doc.get("version", "")).startswith("https://jsonfeed.org"):
            return "jsonfeed"
        return "ninjs"
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return None
    return {"rss": "rss", "feed": "atom", "newsItem": "newsml", "newsMessage": "newsml",
            "urlset": "sitemap", "sitemapindex": "sitemap"}.get(_local(root.tag))


def check_any(data, kind=None):
    kind = kind or guess_kind(data)
    if kind in FEED_VERSIONS:
        return check_feed(data, kind)
    if kind == "newsml":
        return check_newsml(data)
    if kind == "ninjs":
        return check_ninjs_list(data)
    if kind == "sitemap":
        return check_sitemap(data)
    raise FeedError(["cannot tell what kind of document this is"])


def main(argv):
    args = argv[1:]
    kind = None
    if len(args) >= 2 and args[0] == "--kind":
        kind = args[1]
        args = args[2:]
        if kind not in KINDS:
            print("check_feeds: --kind is one of %s" % ", ".join(KINDS), file=sys.stderr)
            return 2
    if not args:
        print(__doc__.split("As a script:")[1].split("The schemas")[0].strip(), file=sys.stderr)
        return 2
    bad = 0
    for name in args:
        try:
            data = sys.stdin.buffer.read() if name == "-" else open(name, "rb").read()
        except OSError as e:
            print("%s: cannot read: %s" % (name, e), file=sys.stderr)
            return 2
        k = kind or guess_kind(data)
        try:
            check_any(data, k)
            print("ok %s (%s)" % (name, k))
        except (FeedError, OSError) as e:
            bad += 1
            print("INVALID %s (%s)" % (name, k))
            for err in getattr(e, "errors", [str(e)]):
                print("  " + err)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
