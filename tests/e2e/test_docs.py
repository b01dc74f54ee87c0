"""docs/api.md is kept true by these tests: every route the server prints
with `kawat routes` has its `### METHOD /pattern` section and every such
section is a real route; the route table matches; every JSON example
parses; and the documented responses have the shape the real server sends
for the same story, told again here against a fresh server."""
import json
import re

import pytest

from conftest import ROOT

DOC = ROOT / "docs" / "api.md"
HEADING = re.compile(r"^### ([A-Z]+) (/\S*)\s*$", re.M)
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\s*$", re.M | re.S)
REQUEST_LINE = re.compile(r"^([A-Z]+) (\S+) HTTP/1\.1$")
STATUS_LINE = re.compile(r"^HTTP/1\.1 (\d{3}) ")


@pytest.fixture(scope="module")
def doc():
    return DOC.read_text(encoding="utf-8")


def server_routes(server):
    out = server.kawat("routes").stdout
    routes = []
    for line in out.splitlines():
        method, pattern, summary = line.split(None, 2)
        routes.append((method, pattern, summary))
    assert len(routes) >= 20, out
    return routes


def pattern_regex(pattern):
    return re.compile("^" + re.sub(r"\\\{[a-z_]+\\\}", "[^/]+", re.escape(pattern)) + "$")


def route_of(routes, method, path):
    path = path.split("?", 1)[0]
    for m, pattern, _ in routes:
        if m == method and pattern_regex(pattern).match(path):
            return pattern
    return None


def sections(doc):
    """(heading line or None, text) for each '### ' or '## ' section."""
    parts = re.split(r"^(#{2,3} .*)$", doc, flags=re.M)
    out = [(None, parts[0])]
    for i in range(1, len(parts), 2):
        out.append((parts[i], parts[i + 1]))
    return out


def examples(doc):
    """Every documented exchange: request line, request JSON (or None),
    status, response JSON (or None), in document order."""
    blocks = [(m.group(1), m.group(2)) for m in FENCE.finditer(doc)]
    found = []
    i = 0
    while i < len(blocks):
        lang, text = blocks[i]
        m = REQUEST_LINE.match(text.splitlines()[0]) if lang == "http" and text else None
        if not m:
            i += 1
            continue
        method, path = m.groups()
        i += 1
        body = None
        if i < len(blocks) and blocks[i][0] == "json":
            body = json.loads(blocks[i][1])
            i += 1
        if i < len(blocks) and blocks[i][0] == "http" and STATUS_LINE.match(blocks[i][1]):
            status = int(STATUS_LINE.match(blocks[i][1]).group(1))
            i += 1
            response = None
            if i < len(blocks) and blocks[i][0] == "json":
                response = json.loads(blocks[i][1])
                i += 1
            found.append((method, path, body, status, response))
    return found


def shape(value):
    """The structure of a JSON value: object keys and nesting, the first
    element of arrays; scalars (including null) are all alike."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return "scalar"


# ---------------------------------------------------------------- routes

def test_every_route_has_its_section(server, doc):
    documented = HEADING.findall(doc)
    routes = {(m, p) for m, p, _ in server_routes(server)}
    missing = sorted(routes - set(documented))
    assert not missing, "routes without a '### METHOD /path' section in docs/api.md: " + ", ".join(
        f"{m} {p}" for m, p in missing)


def test_every_section_is_a_real_route(server, doc):
    documented = HEADING.findall(doc)
    routes = {(m, p) for m, p, _ in server_routes(server)}
    extra = sorted(set(documented) - routes)
    assert not extra, "docs/api.md documents routes the server does not have: " + ", ".join(
        f"{m} {p}" for m, p in extra)
    dups = sorted({h for h in documented if documented.count(h) > 1})
    assert not dups, f"routes documented twice: {dups}"


def test_route_table_matches_kawat_routes(server, doc):
    rows = re.findall(r"^\| ([A-Z]+) \| \[`(/[^`]*)`\]\(#[^)]*\) \| (.*) \|$", doc, re.M)
    assert rows == [tuple(r) for r in server_routes(server)], \
        "the table under '## Routes' differs from `kawat routes`"


def test_route_table_links_reach_their_sections(doc):
    anchors = set()
    for heading in re.findall(r"^#{1,3} (.+)$", doc, re.M):
        anchors.add(re.sub(r"[^a-z0-9 -]", "", heading.lower()).replace(" ", "-"))
    links = re.findall(r"\]\(#([^)]+)\)", doc)
    assert links
    broken = sorted({a for a in links if a not in anchors})
    assert not broken, f"links to sections that do not exist: {broken}"


def test_each_route_section_shows_an_exchange(server, doc):
    routes = server_routes(server)
    for heading, text in sections(doc):
        m = HEADING.match(heading or "")
        if not m:
            continue
        method, pattern = m.groups()
        shown = [(meth, path) for meth, path, _, _, _ in examples(text)]
        assert any(meth == method and route_of(routes, meth, path) == pattern
                   for meth, path in shown), \
            f"'{heading}' has no example request and response for its own route"


# ---------------------------------------------------------------- examples

def test_json_examples_parse(doc):
    blocks = [(m.start(), m.group(2)) for m in FENCE.finditer(doc) if m.group(1) == "json"]
    assert len(blocks) >= 40
    for start, text in blocks:
        line = doc.count("\n", 0, start) + 1
        try:
            json.loads(text)
        except ValueError as e:
            pytest.fail(f"docs/api.md line {line}: the JSON example does not parse: {e}")


def test_problem_examples_are_rfc9457(doc):
    for method, path, _, status, response in examples(doc):
        if status >= 400 and response is not None and "state" not in response:
            # (a withdrawn release answers 410 with its tombstone, not a problem)
            assert response["status"] == status, (method, path)
            assert response["type"].startswith("/problems/") and response["title"], (method, path)
            for e in response.get("errors", []):
                assert set(e) == {"field", "detail"}
            if "errors" in response:
                assert response["field"] == response["errors"][0]["field"]


def release_table_fields(doc):
    section = doc.split("## The release object", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", section, re.M)


class Recorder:
    """Runs requests against the server and keeps every JSON answer by
    (method, route pattern, status)."""

    def __init__(self, server, routes):
        self.server = server
        self.routes = routes
        self.samples = {}

    def __call__(self, method, path, body=None, token=None, headers=None, raw=None):
        if raw is not None:
            r = self.server.request(method, path, body=raw, token=token,
                                    headers={"Content-Type": "application/json", **(headers or {})})
        else:
            r = self.server.request(method, path, body=body, token=token, headers=headers)
        pattern = route_of(self.routes, method, path) or path
        data = None
        if r.headers.get("content-type", "").startswith(("application/json",
                                                          "application/problem+json")):
            data = r.json()
            self.samples.setdefault((method, pattern, r.status), []).append(data)
        return r.status, data


def tell_the_story(server, rec):
    """The story docs/api.md tells, step by step."""
    iss = server.token("issuer", name="Maya Putri", issuer="PT Kopi Gayo Lestari")
    ed = server.token("editor", name="Rina Editor")
    rec("GET", "/healthz")
    rec("GET", "/v1/me", token=iss)
    rec("GET", "/v1/me", token=ed)
    rec("GET", "/v1/me")
    rec("GET", "/v1/me", headers={"Authorization": "Bearer kw_not_a_real_token"})
    rec("POST", "/v1/sectors", {"name": "Coffee & Tea", "media_topic": "20000244"}, token=ed)
    rec("POST", "/v1/sectors", {"name": "Coffee & Tea"}, token=ed)
    body = {"headline": "Gayo Lestari ships 120 tonnes of traceable Arabica",
            "subheadline": "Every sack carries a code that leads back to its farm",
            "body": "The cooperative said on Monday that its first containers left Belawan.",
            "language": "en", "translation_group": "gayo-2026", "dateline_place": "Takengon",
            "sectors": ["Business", "Coffee & Tea"], "regions": ["ID", "JP", "DE"],
            "contacts": [{"name": "Maya Putri", "email": "maya@example.com",
                          "phone": "+62 643 555 0100"}]}
    key = {"Idempotency-Key": "gayo-2026-en"}
    status, a = rec("POST", "/v1/releases", body, token=iss, headers=key)
    assert status == 201, a
    rec("POST", "/v1/releases", body, token=iss, headers=key)
    rec("POST", "/v1/releases", dict(body, headline="Another"), token=iss, headers=key)
    rec("POST", "/v1/releases", {"headlne": "x", "language": "xx", "sectors": ["Nope"],
                                 "regions": ["ZZ"], "body": "Text"}, token=iss)
    rec("POST", "/v1/releases", token=iss, raw=b'{"headline": ')
    rid = a["id"]
    rec("GET", f"/v1/releases/{rid}")
    rec("PATCH", f"/v1/releases/{rid}", {"subheadline": "Each sack carries a farm code"},
        token=iss)
    rec("POST", f"/v1/releases/{rid}/approve", token=ed)
    rec("POST", f"/v1/releases/{rid}/submit", token=iss)
    rec("GET", "/v1/queue", token=ed)
    rec("POST", f"/v1/releases/{rid}/reject",
        {"reason": "Please add the export volume per country."}, token=ed)
    rec("PATCH", f"/v1/releases/{rid}", {"body": "80 tonnes go to Japan and 40 to Germany."},
        token=iss)
    rec("POST", f"/v1/releases/{rid}/submit", token=iss)
    rec("POST", f"/v1/releases/{rid}/approve", token=ed)
    rec("GET", f"/v1/releases/{rid}")
    rec("POST", f"/v1/releases/{rid}/correct",
        {"note": "Corrected the tonnage for Germany.",
         "body": "80 tonnes go to Japan and 45 to Germany."}, token=iss)
    rec("GET", f"/v1/releases/{rid}/versions")
    embargoed = dict(body, language="id", headline="Gayo Lestari kirim 120 ton Arabika",
                     subheadline=None, embargo_until="2030-01-01T09:00:00+07:00")
    _, x = rec("POST", "/v1/releases", embargoed, token=iss)
    rec("POST", f"/v1/releases/{x['id']}/submit", token=iss)
    rec("POST", f"/v1/releases/{x['id']}/approve", token=ed)
    _, y = rec("POST", "/v1/releases", dict(body, language="ms", subheadline=None,
                                            headline="Gayo Lestari hantar 120 tan Arabika"),
               token=iss)
    rec("POST", f"/v1/releases/{y['id']}/submit", token=iss)
    rec("POST", f"/v1/releases/{y['id']}/schedule", {"publish_at": "2030-02-01T08:00:00Z"},
        token=ed)
    rec("POST", f"/v1/releases/{y['id']}/withdraw", {"reason": "The date moved."}, token=iss)
    rec("GET", "/v1/releases?limit=1")
    rec("GET", "/v1/releases?state=draft,submitted,embargoed&limit=2", token=iss)
    rec("GET", "/v1/wire?after=0&limit=5")
    rec("GET", "/v1/wire?after=0&language=id&wait=1")
    rec("POST", f"/v1/releases/{rid}/withdraw", {"reason": "Published in error."}, token=iss)
    rec("GET", f"/v1/releases/{rid}")
    rec("GET", f"/v1/releases/{rid}/versions")
    rec("GET", "/v1/wire?after=2")
    rec("DELETE", f"/v1/releases/{rid}", token=iss)
    rec("GET", "/v1/nothing")
    rec("POST", "/v1/releases", token=iss, headers={"Content-Type": "text/plain"})
    rec("GET", "/v1/languages")
    rec("GET", "/v1/sectors")
    rec("GET", "/v1/regions")
    # Private views of a withdrawn release, for the field table.
    rec("GET", f"/v1/releases/{rid}", token=iss)
    # Subscribers: sign-up, its mistakes, its own views and changes, the list.
    _, made = rec("POST", "/v1/subscribers", {
        "kind": "journalist", "name": "Sari Wartawan", "email": "sari@example.com",
        "filters": [{"languages": ["id", "en"], "sectors": ["Business", "Coffee & Tea"],
                     "regions": ["ID"]},
                    {"keywords": ["Arabica", "kopi gayo"]}]})
    sub, stok = made["subscriber"]["id"], made["token"]
    rec("POST", "/v1/subscribers", {"kind": "newsroom", "name": "", "filters": [
        {"languages": ["en"]}, {"sectors": ["Gardening"], "regions": ["ZZ"]}]})
    rec("POST", "/v1/subscribers", {"kind": "outlet", "name": "Portal Berita", "trusted": True,
                                    "filters": [{}]})
    rec("GET", "/v1/me", token=stok)
    rec("GET", "/v1/stream?language=xx")
    rec("GET", f"/v1/subscribers/{sub}", token=stok)
    rec("GET", f"/v1/subscribers/{sub}")
    rec("PATCH", f"/v1/subscribers/{sub}", {"filters": [
        {"languages": ["id"], "sectors": ["coffee-tea"]},
        {"languages": ["en", "ja"], "keywords_all": ["Gayo", "export"]}]}, token=stok)
    rec("PATCH", f"/v1/subscribers/{sub}", {"trusted": True}, token=stok)
    rec("PATCH", f"/v1/subscribers/{sub}", {"trusted": True}, token=ed)
    rec("POST", "/v1/subscribers", {"kind": "desktop", "name": "Meja Pasar Modal",
                                    "filters": [{"languages": ["id"], "sectors": ["Business"]}]})
    rec("GET", "/v1/subscribers?limit=1", token=ed)
    rec("DELETE", f"/v1/subscribers/{sub}", token=stok)
    rec("GET", "/v1/me", token=stok)
    tell_the_webhooks_story(server, rec, iss, ed)


def tell_the_webhooks_story(server, rec, iss, ed):
    """Webhook endpoints: an outlet registers one, reads it and its log,
    changes, resumes and deletes it. (No --webhook-allow here: the second
    endpoint's name resolves to loopback, so its attempt is refused at
    once, which fills the log without a receiver.)"""
    import time
    _, o = rec("POST", "/v1/subscribers", {"kind": "outlet", "name": "Portal Berita Nusantara",
                                           "filters": [{}]})
    otok = o["token"]
    _, made = rec("POST", "/v1/endpoints", {
        "url": "https://news.example.com/hooks/kawat",
        "filter": {"languages": ["id", "en"], "sectors": ["Business"]}, "format": "ninjs"},
        token=otok)
    eid = made["endpoint"]["id"]
    rec("POST", "/v1/endpoints", {"url": "http://127.0.0.1:8080/hook", "secret": "whsec_c2hvcnQ=",
                                  "format": "rss"}, token=otok)
    rec("GET", "/v1/endpoints", token=otok)
    _, local = rec("POST", "/v1/endpoints", {"url": "http://localhost:9/hook"}, token=otok)
    rec("GET", f"/v1/endpoints/{eid}", token=otok)
    rec("GET", f"/v1/endpoints/{eid}")
    rec("PATCH", f"/v1/endpoints/{eid}", {"format": "json"}, token=otok)
    rec("POST", f"/v1/endpoints/{eid}/resume", token=otok)
    server.publish(iss, ed, headline="Gayo Lestari opens a roastery in Takengon")
    lid = local["endpoint"]["id"]
    for _ in range(100):
        _, log = rec("GET", f"/v1/endpoints/{lid}/deliveries?limit=1", token=otok)
        if log["items"] and log["items"][0]["log"]:
            break
        time.sleep(0.05)
    rec("DELETE", f"/v1/endpoints/{eid}", token=otok)


@pytest.fixture
def story(server):
    rec = Recorder(server, server_routes(server))
    tell_the_story(server, rec)
    return rec


def test_examples_have_the_shape_the_server_sends(story, doc):
    checked = 0
    for method, path, _, status, response in examples(doc):
        if response is None:
            continue
        pattern = route_of(story.routes, method, path) or path.split("?")[0]
        real = story.samples.get((method, pattern, status), [])
        assert real, f"{method} {path} -> {status}: the server never answered this in the story"
        want = shape(response)
        shapes = [shape(r) for r in real]
        assert want in shapes, (
            f"{method} {path} -> {status}: documented shape differs from the server's\n"
            f"documented: {json.dumps(want, sort_keys=True)}\n"
            f"real:       {json.dumps(shapes[0], sort_keys=True)}")
        checked += 1
    assert checked >= 30


def test_release_table_lists_every_field(story, doc):
    documented = release_table_fields(doc)
    assert len(documented) == len(set(documented)), "a field is listed twice"
    real = set()
    for (method, pattern, status), answers in story.samples.items():
        if pattern.startswith("/v1/releases") and status in (200, 201, 410):
            for a in answers:
                for item in a.get("items", [a]):
                    if "state" in item:
                        real |= set(item)
    assert set(documented) == real, (
        f"undocumented: {sorted(real - set(documented))}; "
        f"documented but never sent: {sorted(set(documented) - real)}")


def test_documented_request_bodies_are_accepted(server, doc):
    """The request bodies shown for creating releases really create them."""
    issuer = server.token("issuer", name="Maya Putri", issuer="PT Kopi Gayo Lestari")
    editor = server.token("editor")
    assert server.post("/v1/sectors", {"name": "Coffee & Tea"}, token=editor).status == 201
    bodies = [b for m, p, b, s, _ in examples(doc)
              if m == "POST" and p == "/v1/releases" and s == 201 and b is not None]
    assert bodies
    for b in bodies:
        r = server.post("/v1/releases", b, token=issuer)
        assert r.status == 201, r


@pytest.mark.parametrize("route", ["/v1/wire", "/v1/releases", "/v1/subscribers"])
def test_documented_query_parameters_are_accepted(server, doc, route):
    section = doc.split(f"### GET {route}\n", 1)[1].split("\n### ", 1)[0]
    params = re.findall(r"^\| `([a-z_]+)` \|", section, re.M)
    assert params
    values = {"after": "0", "limit": "1", "wait": "0", "language": "id", "sector": "business",
              "region": "ID", "issuer": "acme", "state": "published", "cursor": "1",
              "kind": "outlet", "keyword": "nickel", "format": "ninjs"}
    token = server.token("editor") if route == "/v1/subscribers" else None
    for p in params:
        r = server.get(f"{route}?{p}={values[p]}", token=token)
        assert r.status == 200, (p, r)
    r = server.get(f"{route}?undocumented=1", token=token)
    assert r.status == 400 and r.json()["field"] == "undocumented"
