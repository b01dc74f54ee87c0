"""What the server must withstand: malformed, oversized, slow and random
input.  Every case gets a clear 4xx (a problem+json document under /v1, an
HTML page for the pages) and never a crash, a hang or a leak: the fixtures
stop each server with SIGTERM and fail on a non-zero exit or any
AddressSanitizer/LeakSanitizer report.

Raw sockets are used wherever an HTTP client would tidy the request up."""
import json
import random
import socket
import threading
import time

import pytest

from conftest import Response

HOST = "127.0.0.1"


# -- raw HTTP -------------------------------------------------------------

def connect(server, timeout=10):
    s = socket.create_connection((HOST, server.port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_all(sock, timeout=10, limit=8 << 20):
    """Everything until the peer closes (bounded by time and size)."""
    deadline = time.time() + timeout
    data = b""
    while time.time() < deadline and len(data) < limit:
        sock.settimeout(max(0.05, deadline - time.time()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        data += chunk
    return data


def parse_responses(data):
    """Splits a byte stream into responses (Content-Length framing only)."""
    out = []
    while data:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            raise AssertionError(f"truncated response head: {data[:300]!r}")
        head = data[:end].decode("latin-1").split("\r\n")
        parts = head[0].split(" ", 2)
        assert parts[0] == "HTTP/1.1", head[0]
        status = int(parts[1])
        headers = {}
        for line in head[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        n = int(headers.get("content-length", "0"))
        body = data[end + 4:end + 4 + n]
        assert len(body) == n, f"short body: {len(body)} of {n}"
        out.append(Response(status, headers, body))
        data = data[end + 4 + n:]
    return out


def read_responses(sock, n, timeout=10):
    """Reads until n complete responses arrived or the peer closed."""
    deadline = time.time() + timeout
    data = b""
    while time.time() < deadline:
        try:
            rs = parse_responses(data)
            if len(rs) >= n:
                return rs
        except AssertionError:
            pass
        sock.settimeout(max(0.05, deadline - time.time()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return parse_responses(data)


def raw(server, data, timeout=10):
    """Sends data, reads until the server closes; returns the responses."""
    with connect(server, timeout) as s:
        try:
            s.sendall(data)
        except (ConnectionResetError, BrokenPipeError):
            pass
        return parse_responses(read_all(s, timeout))


def raw_one(server, data, timeout=10):
    rs = raw(server, data, timeout)
    assert len(rs) == 1, rs
    return rs[0]


def req_bytes(method, target, headers=(), body=b"", close=True):
    lines = [f"{method} {target} HTTP/1.1", "Host: t"]
    lines += list(headers)
    if body:
        lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def assert_problem(r, status, field=None):
    assert r.status == status, r
    assert r.headers.get("content-type", "").startswith("application/problem+json"), r.headers
    doc = json.loads(r.body)
    assert doc["status"] == status
    assert doc["type"].startswith("/problems/")
    assert doc.get("title")
    if field is not None:
        fields = [doc.get("field")] + [e.get("field") for e in doc.get("errors", [])]
        assert field in fields, doc
    return doc


def assert_html_error(r, status):
    assert r.status == status, r
    assert r.headers.get("content-type", "").startswith("text/html"), r.headers
    assert b"<html" in r.body.lower() or b"<!doctype html" in r.body.lower()
    assert str(status).encode() in r.body


def assert_4xx_clear(r, v1):
    """A rejection: 4xx, with a body that says so in the right dialect."""
    assert 400 <= r.status < 500, r
    ct = r.headers.get("content-type", "")
    if v1:
        assert ct.startswith("application/problem+json"), r.headers
        assert json.loads(r.body)["status"] == r.status
    else:
        assert ct.startswith("text/html"), r.headers
        assert str(r.status).encode() in r.body


def healthy(server):
    r = server.get("/healthz", timeout=10)
    assert r.status == 200, r
    assert r.json() == {"status": "ok"}


def post_raw_json(server, token, body, ctype="application/json", extra=()):
    return raw_one(server, req_bytes("POST", "/v1/releases",
                                     [f"Authorization: Bearer {token}",
                                      f"Content-Type: {ctype}", *extra], body))


GOOD = {"headline": "Hostile input survives", "body": "A body.", "language": "en",
        "sectors": ["Business"], "regions": ["ID"]}


# -- JSON bodies ----------------------------------------------------------

BAD_JSON = [
    b"{", b"not json", b"{\"headline\": }", b"{'headline': 'x'}", b"\xef\xbb\xbf{}",
    b"[1, 2, 3]", b"42", b"\"a string\"", b"null", b"true", b"[]",
    b"{\"headline\": \"a\", \"headline\": \"b\"}",      # duplicate key
    b"{\"headline\": \"x\"} trailing",
]


def test_bad_json_is_400_naming_body(server, issuer):
    for body in BAD_JSON:
        r = post_raw_json(server, issuer, body)
        assert r.status == 400, (body, r)
        assert_problem(r, 400, "body")
    healthy(server)


def test_empty_body_and_wrong_content_type(server, issuer):
    r = post_raw_json(server, issuer, b"")
    assert_problem(r, 400)
    r = post_raw_json(server, issuer, json.dumps(GOOD).encode(), ctype="text/plain")
    assert_problem(r, 415)
    r = post_raw_json(server, issuer, json.dumps(GOOD).encode(), ctype="application/jsonp")
    assert r.status in (201, 415), r  # a prefix match is tolerable; never a crash


WRONG_FIELDS = [
    ("headline", 1), ("headline", None), ("headline", ["x"]), ("headline", {"a": 1}),
    ("headline", ""), ("headline", "   "),
    ("subheadline", 5), ("subheadline", []),
    ("body", 3.5), ("body", False), ("body", ""),
    ("language", 7), ("language", "xx-nope"), ("language", ""), ("language", None),
    ("sectors", "Business"), ("sectors", [1]), ("sectors", [None]), ("sectors", {"a": 1}),
    ("sectors", ["No Such Sector"]), ("sectors", ["Business"] * 11),
    ("regions", "ID"), ("regions", [5]), ("regions", ["ZZZ"]), ("regions", ["zz"]),
    ("contacts", "x"), ("contacts", [1]), ("contacts", [{"name": 5}]),
    ("contacts", [{"name": "A", "email": "not-an-address"}]), ("contacts", [{"x": "y"}]),
    ("embargo_until", 5), ("embargo_until", "tomorrow"), ("embargo_until", "2001-01-01T00:00:00Z"),
    ("publish_at", True), ("publish_at", "2099-13-45T99:99:99Z"),
    ("translation_group", 7), ("translation_group", "has space"), ("translation_group", "x" * 65),
    ("dateline_place", []), ("dateline_place", "a\nb"),
    ("no_such_field", "x"),
]


def test_wrong_types_are_422_naming_the_field(server, issuer):
    for field, value in WRONG_FIELDS:
        body = dict(GOOD)
        body[field] = value
        r = server.post("/v1/releases", body, token=issuer)
        assert r.status == 422, (field, value, r)
        doc = assert_problem(r, 422)
        fields = [e["field"] for e in doc["errors"]]
        assert any(f == field or f.startswith(field + "[") or f.startswith(field + ".")
                   for f in fields), (field, value, doc)
    r = server.get("/v1/releases?state=all", token=issuer)
    assert r.json()["items"] == [], "a refused release was stored"


def test_missing_required_fields(server, issuer):
    r = server.post("/v1/releases", {}, token=issuer)
    doc = assert_problem(r, 422)
    fields = {e["field"] for e in doc["errors"]}
    assert {"headline", "body", "language"} <= fields, doc


def test_deeply_nested_json(server, issuer):
    for body in (b"[" * 10000, b"[" * 10000 + b"]" * 10000, b"{\"a\":" * 10000,
                 b"{\"headline\":" + b"[" * 10000 + b"]" * 10000 + b"}"):
        r = post_raw_json(server, issuer, body)
        assert r.status in (400, 422), r
        assert_problem(r, r.status)
    healthy(server)


def test_invalid_utf8_in_json_body(server, issuer):
    for bad in (b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\xf8\x88\x80\x80\x80"):
        body = b'{"headline": "caf' + bad + b'", "body": "x", "language": "en"}'
        r = post_raw_json(server, issuer, body)
        assert r.status == 400, (bad, r)
        assert_problem(r, 400, "body")
    # Escaped lone surrogates are not characters either.
    r = post_raw_json(server, issuer, b'{"headline": "\\ud800", "body": "x", "language": "en"}')
    assert 400 <= r.status < 500, r


def test_nul_in_strings(server, issuer):
    """An escaped NUL is refused: by the JSON parser (400 naming the body) or
    by validation (422 naming the field); never truncated and stored."""
    def refused(r, field):
        assert r.status in (400, 422), r
        doc = assert_problem(r, r.status)
        assert doc.get("field") in (field, "body"), doc
        assert "NUL" in doc["detail"] or "\\u0000" in doc["detail"], doc

    for field in ("headline", "body", "subheadline", "dateline_place", "language"):
        body = dict(GOOD)
        body[field] = "before\u0000after"
        refused(server.post("/v1/releases", body, token=issuer), field)
    refused(server.post("/v1/releases", dict(GOOD, sectors=["Busi\u0000ness"]), token=issuer),
            "sectors[0]")
    refused(server.post("/v1/releases", dict(GOOD, contacts=[{"name": "A\u0000B"}]),
                        token=issuer), "contacts[0].name")
    # A NUL in a key.
    r = post_raw_json(server, issuer, b'{"head\\u0000line": "x", "body": "x", "language": "en"}')
    assert 400 <= r.status < 500
    assert_problem(r, r.status)
    # Nothing was created along the way.
    r = server.get("/v1/releases?state=all", token=issuer)
    assert r.status == 200 and r.json()["items"] == [], r


def test_huge_headline_is_422_naming_headline(server, issuer):
    for n in (401, 5000, 200_000):
        body = dict(GOOD, headline="H" * n)
        doc = assert_problem(server.post("/v1/releases", body, token=issuer), 422, "headline")
        assert "headline" in doc["detail"]
    # Exactly the limit is fine, and multi-byte characters count in bytes.
    assert server.post("/v1/releases", dict(GOOD, headline="H" * 400), token=issuer).status == 201
    assert_problem(server.post("/v1/releases", dict(GOOD, headline="é" * 201), token=issuer),
                   422, "headline")


def test_control_characters_in_headline(server, issuer):
    for ch in ("\x01", "\x1b[31m", "\x7f", "a\r\nb"):
        r = server.post("/v1/releases", dict(GOOD, headline="x" + ch + "y"), token=issuer)
        assert_problem(r, 422, "headline")


# -- size limits ------------------------------------------------------------

def test_body_over_max_body_is_413(make_server):
    s = make_server(args=["--max-body", "4k"])
    tok = s.token("issuer", name="Big Body Corp")
    big = json.dumps(dict(GOOD, body="x" * 5000)).encode()
    r = post_raw_json(s, tok, big)
    doc = assert_problem(r, 413)
    assert doc["type"] == "/problems/content-too-large"
    assert r.headers["connection"] == "close"
    # The same size to a page: an HTML page says so.
    r = raw_one(s, req_bytes("POST", "/en/", body=b"x" * 5000))
    assert_html_error(r, 413)
    # Announced but not sent: refused from the header alone, at once.
    t0 = time.time()
    r = raw_one(s, b"POST /v1/releases HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                   b"Content-Length: 999999999999\r\n\r\n{")
    assert r.status == 413, r
    assert time.time() - t0 < 5
    # Chunked past the limit.
    chunk = b"x" * 3000
    data = (b"POST /v1/releases HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
            + (b"%x\r\n" % len(chunk) + chunk + b"\r\n") * 2 + b"0\r\n\r\n")
    assert raw_one(s, data).status == 413
    # A chunk size that would wrap around.
    data = (b"POST /v1/releases HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"ffffffffffffffff\r\nx\r\n")
    assert raw_one(s, data).status in (400, 413)
    # Just under the limit still works.
    ok = json.dumps(dict(GOOD, body="y" * 3000)).encode()
    assert len(ok) < 4096
    assert post_raw_json(s, tok, ok).status == 201
    healthy(s)


def test_header_over_max_header_is_431(make_server):
    s = make_server(args=["--max-header", "4k"])
    r = raw_one(s, req_bytes("GET", "/healthz", ["X-Big: " + "a" * 5000]))
    assert r.status == 431, r
    # Many small headers adding up.
    r = raw_one(s, req_bytes("GET", "/healthz", [f"X-H{i}: {'b' * 60}" for i in range(80)]))
    assert r.status == 431, r
    # Under the limit is fine.
    r = raw_one(s, req_bytes("GET", "/healthz", ["X-Big: " + "a" * 3000]))
    assert r.status == 200, r
    healthy(s)


def test_too_many_headers_is_431(server):
    r = raw_one(server, req_bytes("GET", "/healthz", [f"X-N{i}: v" for i in range(200)]))
    assert r.status == 431, r
    r = raw_one(server, req_bytes("GET", "/healthz", [f"X-N{i}: v" for i in range(50)]))
    assert r.status == 200, r


def test_request_line_of_100kb(server):
    r = raw_one(server, b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: t\r\n\r\n")
    assert r.status in (414, 431), r
    r = raw_one(server, b"GET /v1/releases?q=" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: t\r\n\r\n")
    assert r.status in (414, 431), r
    # A method that never ends.
    r = raw(server, b"G" * 100_000)
    assert len(r) <= 1 and all(x.status in (400, 414, 431) for x in r)
    healthy(server)


def test_huge_header_without_end_is_refused_not_buffered(server):
    """20 MB of header bytes with no CRLF: refused once the limit is read."""
    with connect(server) as s:
        t0 = time.time()
        sent = 0
        try:
            s.sendall(b"GET / HTTP/1.1\r\nX-A: ")
            while sent < 20 << 20 and time.time() - t0 < 10:
                s.sendall(b"a" * 65536)
                sent += 65536
        except (ConnectionResetError, BrokenPipeError, socket.timeout):
            pass
        data = read_all(s, 5)
    if data:
        assert data.startswith(b"HTTP/1.1 431"), data[:100]
    healthy(server)


# -- targets ------------------------------------------------------------

BAD_PATHS = [
    ("/en/%ff", False), ("/en/releases/%ff%fe", False), ("/%c0%af", False),
    ("/v1/releases/%ff", True), ("/v1/%ed%a0%80", True),
    ("/en/%zz", False), ("/en/%", False), ("/en/%4", False), ("/v1/releases/%g1", True),
    ("/en/%00", False), ("/v1/releases/r%00", True),
]


def test_bad_percent_encoding_and_utf8_in_path(server):
    for target, v1 in BAD_PATHS:
        for method in ("GET", "POST"):
            r = raw_one(server, req_bytes(method, target))
            assert r.status == 400, (target, r)
            assert_4xx_clear(r, v1)
            assert r.headers["connection"] == "close"


BAD_QUERIES = [
    "language=%ff", "language=%zz", "language=%", "language=%4", "%ff=en", "language=%00",
    "language=en%", "a=%c3%28",
]


def test_bad_query_strings(server):
    for query in BAD_QUERIES:
        for path in ("/v1/releases", "/v1/wire", "/v1/queue"):
            r = server.get(path + "?" + query)
            assert r.status == 400, (path, query, r)
            doc = assert_problem(r, 400)
            if query.startswith("language="):
                assert doc["field"] == "language", doc
        r = raw_one(server, req_bytes("GET", "/en/?" + query))
        assert r.status == 400, (query, r)
        assert_4xx_clear(r, v1=False)


def test_wire_numbers_do_not_overflow(server):
    assert_problem(server.get("/v1/wire?after=99999999999999999999999"), 400, "after")
    assert_problem(server.get("/v1/wire?limit=99999999999999999999999"), 400, "limit")


def test_problem_details_survive_names_cut_mid_character(server, issuer):
    """Field and parameter names are echoed cut to a size; a cut inside a
    multi-byte character must not cost the problem its detail or field."""
    for n in range(56, 64):
        r = server.get("/v1/releases?" + "a" * n + "%C3%A9=1")
        doc = assert_problem(r, 400)
        assert "unknown query parameter" in doc.get("detail", ""), doc
        assert doc["field"].startswith("a" * min(n, 50)), doc
        key = "b" * n + "\u00e9\u4e2d"
        r = server.post("/v1/releases", dict(GOOD, **{key: 1}), token=issuer)
        doc = assert_problem(r, 422)
        assert "unknown field" in doc.get("detail", ""), doc
        assert doc["field"].startswith("b" * min(n, 50)), doc
    # Bytes that are not UTF-8 quoted back by the JSON parser.
    r = post_raw_json(server, issuer, b"\xc3\xa9\xff\xfe")
    doc = assert_problem(r, 400, "body")
    assert doc.get("detail"), doc


def test_query_limits(server):
    assert_problem(server.get("/v1/releases?nope=1"), 400, "nope")
    assert_problem(server.get("/v1/releases?language=xx"), 400, "language")
    assert_problem(server.get("/v1/releases?limit=-1"), 400, "limit")
    assert_problem(server.get("/v1/releases?limit=99999999999999999999"), 400, "limit")
    assert_problem(server.get("/v1/releases?cursor=!!"), 400, "cursor")
    assert_problem(server.get("/v1/wire?after=-5"), 400, "after")
    assert_problem(server.get("/v1/wire?wait=100000"), 400, "wait")
    assert_problem(server.get("/v1/releases?" + "&".join(f"language=en" for _ in range(500))), 400)
    assert server.get("/v1/releases?language=en&&&").status == 200


TRAVERSALS = [
    "/../../etc/passwd", "/static/../../etc/passwd", "/%2e%2e/", "/%2e%2e/%2e%2e/etc/passwd",
    "/static/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/static/..%2f..%2fetc%2fpasswd", "//",
    "//etc/passwd", "/static//etc/passwd", "/en/./", "/en/releases/..", "/static/.",
    "/static/kawat.css/..", "/v1/../etc/passwd", "/v1/releases/../../etc/passwd",
    "/static/%2fetc%2fpasswd", "/static/\\..\\..\\etc\\passwd",
]


def test_path_traversal(server):
    for target in TRAVERSALS:
        r = raw_one(server, req_bytes("GET", target))
        assert r.status in (400, 404), (target, r)
        assert b"root:" not in r.body
        assert_4xx_clear(r, v1=target.startswith("/v1/"))


def test_absolute_form_and_odd_targets(server):
    r = raw_one(server, req_bytes("GET", "http://evil.example/../../etc/passwd"))
    assert r.status in (400, 404) and b"root:" not in r.body, r
    r = raw_one(server, req_bytes("GET", "http://t/healthz"))
    assert r.status in (200, 400), r
    r = raw_one(server, req_bytes("GET", "*"))
    assert 400 <= r.status < 500, r
    r = raw_one(server, req_bytes("OPTIONS", "*"))
    assert 400 <= r.status < 500, r
    r = raw_one(server, req_bytes("GET", "/static/" + "a" * 200))
    assert_4xx_clear(r, v1=False)
    r = raw_one(server, req_bytes("GET", "/" + "/".join(["a"] * 50)))
    assert_4xx_clear(r, v1=False)
    r = raw_one(server, req_bytes("GET", "/v1/releases/" + "r" * 300))
    assert_problem(r, 404)
    r = raw_one(server, req_bytes("GET", "/en/releases/" + "a" * 300))
    assert_4xx_clear(r, v1=False)
    healthy(server)


# -- methods and framing -----------------------------------------------------

def test_wrong_method_on_pages_is_an_html_405(server):
    for method in ("POST", "PUT", "DELETE", "PATCH", "TRACE", "OPTIONS"):
        for path in ("/", "/en/", "/static/kawat.css", "/en/releases/rnope"):
            r = raw_one(server, req_bytes(method, path, body=b"x=1"))
            assert_html_error(r, 405)
            assert r.headers["allow"] == "GET, HEAD"
        r = raw_one(server, req_bytes(method, "/v1/releases/rnope/versions"))
        assert_problem(r, 405)


def test_unknown_methods(server):
    for method in ("BREW", "TRACE", "CONNECT", "PROPFIND", "get", "G@T", "DELETE", "X" * 1000):
        target = "127.0.0.1:80" if method == "CONNECT" else "/"
        r = raw_one(server, req_bytes(method, target))
        assert r.status in (400, 405, 501), (method, r)
        r = raw_one(server, req_bytes(method, "/v1/releases"))
        assert r.status in (400, 405, 501), (method, r)
        if r.status == 405:  # a method HTTP knows, on a route that does not take it
            assert_problem(r, 405)
            assert "allow" in r.headers
        else:  # refused before the target was read: a plain error page
            assert str(r.status).encode() in r.body, r
    healthy(server)


BAD_FRAMING = [
    ["Content-Length: 5", "Transfer-Encoding: chunked"],
    ["Transfer-Encoding: chunked", "Content-Length: 5"],
    ["Content-Length: -1"],
    ["Content-Length: abc"],
    ["Content-Length: 5x"],
    ["Content-Length: 5", "Content-Length: 6"],
    ["Content-Length: 1 2"],
    ["Content-Length: 99999999999999999999999999"],
    ["Transfer-Encoding: gzip"],
    ["Transfer-Encoding: chunked, identity"],
]


def test_bad_framing_is_400(server):
    for headers in BAD_FRAMING:
        data = ("POST /v1/releases HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                + "".join(h + "\r\n" for h in headers) + "\r\n").encode() + b"hello"
        rs = raw(server, data)
        assert len(rs) == 1, (headers, rs)
        assert rs[0].status in (400, 413, 501), (headers, rs)
        assert_problem(rs[0], rs[0].status)
    healthy(server)


def test_bad_chunked_bodies(server, issuer):
    for body in (b"zz\r\nhello\r\n0\r\n\r\n", b"5\r\nhelloXX0\r\n\r\n", b"-5\r\nhello\r\n0\r\n\r\n",
                 b"5;" + b"e" * 20000 + b"\r\nhello\r\n0\r\n\r\n"):
        data = (b"POST /v1/releases HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
                b"Content-Type: application/json\r\n\r\n" + body)
        with connect(server) as c:
            c.sendall(data)
            rs = read_responses(c, 1, 10)
        assert rs and 400 <= rs[0].status < 500, (body[:20], rs)
    # Valid chunked JSON is accepted.
    payload = json.dumps(GOOD).encode()
    data = (b"POST /v1/releases HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/json\r\nConnection: close\r\n"
            b"Authorization: Bearer " + issuer.encode() + b"\r\n\r\n"
            + b"%x\r\n" % 10 + payload[:10] + b"\r\n"
            + b"%x\r\n" % (len(payload) - 10) + payload[10:] + b"\r\n0\r\nX-Trailer: y\r\n\r\n")
    assert raw_one(server, data).status == 201
    healthy(server)


ODD_LINES = [
    (b"GET /\r\n\r\n", (400,)),                       # HTTP/0.9
    (b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", (400, 505)),
    (b"GET / HTTP/3.0\r\nHost: t\r\n\r\n", (400, 505)),
    (b"GET / HTTP/0.9\r\nHost: t\r\n\r\n", (400, 505)),
    (b"GET / HTTP/1.9\r\nHost: t\r\n\r\n", (200, 400, 505)),  # a 1.x minor is 1.1
    (b"GET / HTTP/11.1\r\nHost: t\r\n\r\n", (400, 505)),
    (b"GET / FOO/1.1\r\nHost: t\r\n\r\n", (400,)),
    (b"GET  / HTTP/1.1\r\nHost: t\r\n\r\n", (200, 400)),
    (b"GET / HTTP/1.1 extra\r\nHost: t\r\n\r\n", (400,)),
    (b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", (400, 505)),
    (b"GET / HTTP/1.1\r\nHost t\r\n\r\n", (400,)),     # header without a colon
    (b"GET / HTTP/1.1\r\n Host: t\r\n\r\n", (200, 400)),   # folding before any header
    (b"GET / HTTP/1.1\r\nHo st: t\r\n\r\n", (400,)),    # not a token
    (b"GET / HTTP/1.1\r\nHost: t\x00\r\n\r\n", (400,)),
    (b"GET /\x00 HTTP/1.1\r\nHost: t\r\n\r\n", (400,)),
    (b"GET /\x7f HTTP/1.1\r\nHost: t\r\n\r\n", (400,)),
    (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", (400,)),  # a TLS ClientHello
]


def test_odd_request_lines(server):
    for line, ok in ODD_LINES:
        with connect(server) as s:
            s.sendall(line)
            t0 = time.time()
            rs = read_responses(s, 1, 8)
        assert time.time() - t0 < 7, (line, "the server neither answered nor closed")
        assert len(rs) == 1 and rs[0].status in ok, (line, rs)
        if rs[0].status >= 400:
            assert rs[0].headers["connection"] == "close"
    healthy(server)


def test_header_names_must_be_tokens(server):
    """RFC 9112: no space before the colon; a front proxy may disagree on
    what such a line means (request smuggling), so it is refused."""
    for name in ("Content-Length ", "Transfer-Encoding\t", "Content-Length\x0b", "X(y)", "X@y",
                 "", "X\xff"):
        data = (b"POST /v1/releases HTTP/1.1\r\nHost: t\r\n" + name.encode("latin-1")
                + b": 5\r\n\r\nhelloGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        rs = raw(server, data)
        assert len(rs) == 1 and rs[0].status == 400, (name, rs)
        assert_problem(rs[0], 400)
    healthy(server)


def test_pipelined_requests(server, issuer):
    body = json.dumps(dict(GOOD, headline="Pipelined")).encode()
    data = (req_bytes("GET", "/healthz", close=False)
            + req_bytes("GET", "/v1/languages", close=False)
            + req_bytes("POST", "/v1/releases", [f"Authorization: Bearer {issuer}",
                                                "Content-Type: application/json"], body, close=False)
            + req_bytes("GET", "/nope/%ff", close=False)
            + req_bytes("GET", "/healthz", close=False))
    with connect(server) as s:
        s.sendall(data)
        buf = b""
        deadline = time.time() + 15
        rs = []
        while time.time() < deadline and len(rs) < 4:
            s.settimeout(1)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            if not chunk:
                break
            buf += chunk
            try:
                rs = parse_responses(buf)
            except AssertionError:
                pass
        rest = read_all(s, 5)
    rs = parse_responses(buf + rest)
    # The bad target closes the connection: the fifth request is not answered.
    assert [r.status for r in rs] == [200, 200, 201, 400], rs
    assert rs[2].json()["headline"] == "Pipelined"
    assert rs[3].headers["connection"] == "close"
    # Pipelined in one go, many times over.
    data = req_bytes("GET", "/healthz", close=False) * 50 + req_bytes("GET", "/healthz")
    rs = raw(server, data, timeout=15)
    assert len(rs) == 51 and all(r.status == 200 for r in rs)


def test_headers_injection_does_not_reflect(server):
    r = raw_one(server, req_bytes("GET", "/en/releases/x%0d%0aSet-Cookie:%20a=b"))
    assert "set-cookie" not in r.headers
    assert 400 <= r.status < 500


def test_bad_authorization(server):
    for h in ("Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 5000,
              "Bearer kw_\xff\xfe", "bearer  ", "Bearer \t\t"):
        r = raw_one(server, req_bytes("GET", "/v1/me", ["Authorization: " + h]))
        assert_problem(r, 401)


def test_bad_idempotency_key(server, issuer):
    for key in ("", "a" * 129, "with space", "tab\tkey", "ünï"):
        r = raw_one(server, req_bytes("POST", "/v1/releases",
                                      [f"Authorization: Bearer {issuer}",
                                       "Content-Type: application/json",
                                       "Idempotency-Key: " + key],
                                      json.dumps(GOOD).encode()))
        assert_problem(r, 400, "Idempotency-Key")


def test_expect_100_continue_then_too_large(make_server):
    s = make_server(args=["--max-body", "1k"])
    with connect(s) as c:
        c.sendall(b"POST /v1/releases HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
                  b"Content-Length: 5000\r\nContent-Type: application/json\r\n\r\n")
        data = read_all(c, 10)
    assert data.startswith(b"HTTP/1.1 413"), data[:100]
    healthy(s)


# -- time limits ------------------------------------------------------------

def test_slow_loris_gets_408_and_others_are_served(make_server):
    s = make_server(args=["--header-timeout", "1s"])
    results = {}

    def loris():
        with connect(s, timeout=10) as c:
            t0 = time.time()
            head = b"GET /healthz HTTP/1.1\r\nHost: t\r\n" + b"X-Slow: " + b"a" * 200
            data = b""
            try:
                for i in range(len(head)):
                    c.sendall(head[i:i + 1])
                    c.settimeout(0.2)
                    try:
                        chunk = c.recv(4096)
                        if not chunk:
                            break
                        data += chunk
                        break
                    except socket.timeout:
                        pass
                    if time.time() - t0 > 6:
                        break
            except (ConnectionResetError, BrokenPipeError):
                pass
            data += read_all(c, 3)
            results["loris"] = (data, time.time() - t0)

    th = threading.Thread(target=loris)
    th.start()
    time.sleep(0.3)
    # Meanwhile, others are served quickly.
    for _ in range(5):
        t0 = time.time()
        assert s.get("/healthz").status == 200
        assert time.time() - t0 < 0.5
        time.sleep(0.05)
    th.join(15)
    data, took = results["loris"]
    assert data.startswith(b"HTTP/1.1 408"), data[:200]
    assert 0.8 < took < 2.5, took
    healthy(s)


def test_header_timeout_is_not_reset_by_keepalive_or_crlf(make_server):
    s = make_server(args=["--header-timeout", "1s"])
    # A fresh connection that sends nothing is dropped (no request, no answer).
    with connect(s) as c:
        t0 = time.time()
        data = read_all(c, 5)
        assert time.time() - t0 < 3
        assert data == b"" or data.startswith(b"HTTP/1.1 408"), data
    # Stray CRLFs forever do not keep a connection alive.
    with connect(s) as c:
        t0 = time.time()
        closed = False
        while time.time() - t0 < 5:
            try:
                c.sendall(b"\r\n")
            except (ConnectionResetError, BrokenPipeError):
                closed = True
                break
            c.settimeout(0.2)
            try:
                if c.recv(4096) == b"":
                    closed = True
                    break
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed = True
                break
        assert closed, "CRLF trickle kept the connection open"
        assert time.time() - t0 < 4


def test_slow_body_gets_408(make_server):
    s = make_server(args=["--body-timeout", "1s"])
    tok = s.token("issuer", name="Slow Body Corp")
    body = json.dumps(GOOD).encode()
    with connect(s) as c:
        c.sendall(b"POST /v1/releases HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  b"Authorization: Bearer " + tok.encode() + b"\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body))
        t0 = time.time()
        data = b""
        try:
            for i in range(len(body) - 1):
                c.sendall(body[i:i + 1])
                c.settimeout(0.2)
                try:
                    chunk = c.recv(4096)
                    if chunk:
                        data += chunk
                    break
                except socket.timeout:
                    pass
                if time.time() - t0 > 6:
                    break
        except (ConnectionResetError, BrokenPipeError):
            pass
        data += read_all(c, 3)
        took = time.time() - t0
    assert data.startswith(b"HTTP/1.1 408"), data[:200]
    assert took < 2.5, took
    # Nothing was created.
    r = s.get("/v1/releases?state=all", token=tok)
    assert r.json()["items"] == []


def test_idle_connections_do_not_starve_others(make_server):
    s = make_server(args=["--header-timeout", "20s", "--idle-timeout", "20s"])
    socks = []
    try:
        for i in range(500):
            c = socket.create_connection((HOST, s.port), timeout=10)
            if i % 2:
                c.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n")  # a head left hanging
            socks.append(c)
        t0 = time.time()
        for _ in range(10):
            r = s.get("/healthz", timeout=10)
            assert r.status == 200
        assert time.time() - t0 < 5
        r = s.get("/metrics")
        assert r.status == 200
        open_now = [l for l in r.text.splitlines() if l.startswith("kawat_http_connections ")]
        assert int(open_now[0].split()[1]) >= 500
    finally:
        for c in socks:
            c.close()
    healthy(s)


def test_max_connections(make_server):
    s = make_server(args=["--max-connections", "20"])
    socks = []
    try:
        for _ in range(20):
            c = socket.create_connection((HOST, s.port), timeout=10)
            socks.append(c)
            # Answered, so surely accepted (and kept alive).
            c.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            assert read_responses(c, 1, 10)[0].status == 200
        # Past the limit, a connection is closed at once, unanswered.
        for _ in range(5):
            with socket.create_connection((HOST, s.port), timeout=10) as c:
                t0 = time.time()
                try:
                    c.sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                except OSError:
                    pass
                assert read_all(c, 5) == b""
                assert time.time() - t0 < 2
        # The ones held are still served.
        socks[0].sendall(b"GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        assert read_responses(socks[0], 1, 5)[0].status == 200
    finally:
        for c in socks:
            c.close()
    # Once they are gone, service resumes.
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            if s.get("/healthz", timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.1)
    healthy(s)


def test_client_vanishes_mid_request(server, issuer):
    body = json.dumps(GOOD).encode()
    for cut in (10, 40, len(body) - 1):
        c = connect(server)
        c.sendall(b"POST /v1/releases HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  b"Authorization: Bearer " + issuer.encode() + b"\r\n"
                  b"Content-Length: %d\r\n\r\n" % len(body) + body[:cut])
        c.close()
    # Long polls whose client left.
    for _ in range(5):
        c = connect(server)
        c.sendall(req_bytes("GET", "/v1/wire?wait=30", close=False))
        time.sleep(0.05)
        c.close()
    # Reset (RST) with a response pending.
    for _ in range(5):
        c = connect(server)
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        c.sendall(req_bytes("GET", "/en/", close=False))
        c.close()
    healthy(server)
    r = server.get("/metrics")
    assert "kawat_wire_pollers 0" in r.text or "kawat_wire_pollers" in r.text


# -- fuzz ---------------------------------------------------------------------

def fuzz_cases(seed, n):
    rnd = random.Random(seed)
    pieces = [b"GET", b"POST", b"PATCH", b" ", b"/", b"/v1/releases", b"/en/", b"?", b"&", b"=",
              b"%", b"%ff", b"%00", b"HTTP/1.1", b"HTTP/1.0", b"\r\n", b"\n", b"\r", b":",
              b"Content-Length: ", b"Transfer-Encoding: chunked", b"Host: t", b"0", b"9" * 30,
              b"{", b"}", b"[", b"\"", b"\x00", b"\xff", b"Connection: close", b"\t",
              b"Expect: 100-continue", b"Upgrade: websocket", b"Connection: upgrade"]
    for _ in range(n):
        kind = rnd.random()
        if kind < 0.3:
            yield bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 600)))
        elif kind < 0.8:
            yield b"".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 40)))
        else:
            base = bytearray(req_bytes("POST", "/v1/releases", ["Content-Type: application/json"],
                                       json.dumps(GOOD).encode()))
            for _ in range(rnd.randint(1, 8)):
                i = rnd.randrange(len(base))
                op = rnd.random()
                if op < 0.4:
                    base[i] = rnd.getrandbits(8)
                elif op < 0.7:
                    del base[i]
                else:
                    base[i:i] = rnd.choice(pieces)
            yield bytes(base)


def test_random_bytes_fuzz(make_server):
    s = make_server(args=["--header-timeout", "2s", "--body-timeout", "2s"])
    cases = list(fuzz_cases(20240601, 300))
    failures = []

    def run(chunk):
        for data in chunk:
            try:
                with socket.create_connection((HOST, s.port), timeout=5) as c:
                    c.sendall(data)
                    try:
                        c.shutdown(socket.SHUT_WR)
                    except OSError:
                        pass
                    got = read_all(c, 4)
                if got:
                    answered.append(got[:12])
                    assert got.startswith(b"HTTP/1.1 "), got[:100]
                    status = int(got[9:12])
                    assert status < 500, got[:300]
            except (ConnectionResetError, BrokenPipeError):
                pass
            except Exception as e:  # noqa: BLE001 -- reported below
                failures.append((data, repr(e)))

    answered = []

    threads = [threading.Thread(target=run, args=(cases[i::6],)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads)
    assert not failures, failures[:3]
    assert len(answered) > 100, len(answered)
    healthy(s)
    tok = s.token("issuer", name="After Fuzz")
    assert s.post("/v1/releases", GOOD, token=tok).status == 201
