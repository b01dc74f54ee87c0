"""GET /v1/wire: the wire log read from a sequence number, with filters,
limits and long polling."""
import socket
import threading
import time
import urllib.parse

import pytest


def problem(r, status, field):
    assert r.status == status, r
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    doc = r.json()
    assert doc["status"] == status and doc["title"] and doc["detail"]
    assert field in [e["field"] for e in doc["errors"]], doc
    return doc


def wire(server, query="", **kw):
    r = server.get("/v1/wire" + (("?" + query) if query else ""), **kw)
    assert r.status == 200, r
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


@pytest.fixture
def log(server, issuer, editor):
    """Publish A (en), make a draft and a submitted release (never on the
    wire), publish B (id), correct A, publish C (ms), withdraw B."""
    rel = {}
    rel["a"] = server.publish(issuer, editor, language="en", sectors=["Business"],
                              regions=["ID"], headline="A headline")["id"]
    server.create(issuer, headline="A draft")
    sub = server.create(issuer, headline="A submitted one")["id"]
    assert server.post(f"/v1/releases/{sub}/submit", token=issuer).status == 200
    rel["b"] = server.publish(issuer, editor, language="id", sectors=["Top Story"],
                              regions=["MY"], headline="B headline",
                              body="B body that will be withdrawn")["id"]
    r = server.post(f"/v1/releases/{rel['a']}/correct", {"note": "fix", "headline": "A fixed"},
                    token=issuer)
    assert r.status == 200, r
    rel["c"] = server.publish(issuer, editor, language="ms", sectors=["Business", "Top Story"],
                              regions=["MY"], headline="C headline")["id"]
    r = server.post(f"/v1/releases/{rel['b']}/withdraw", {"reason": "error"}, token=issuer)
    assert r.status == 200, r
    return rel


def test_events_in_order_and_only_distribution_kinds(server, log):
    doc = wire(server, "after=0")
    events = doc["events"]
    assert [(e["kind"], e["release"]["id"]) for e in events] == [
        ("publish", log["a"]), ("publish", log["b"]), ("correction", log["a"]),
        ("publish", log["c"]), ("withdrawal", log["b"])]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert doc["last_seq"] == seqs[-1]
    assert doc["next_after"] == seqs[-1]
    assert [e["version"] for e in events] == [1, 1, 2, 1, 1]
    for e in events:
        assert e["at"].endswith("Z")
    # The same without after.
    assert wire(server)["events"] == events

    # after=N returns only what follows N.
    for i, seq in enumerate(seqs):
        later = wire(server, f"after={seq}")
        assert [e["seq"] for e in later["events"]] == seqs[i + 1:]
        assert later["last_seq"] == seqs[-1]
    tail = wire(server, f"after={seqs[-1] + 100}")
    assert tail["events"] == [] and tail["next_after"] == seqs[-1] + 100


def test_withdrawn_release_old_events_no_longer_carry_it(server, log):
    events = [e for e in wire(server)["events"] if e["release"]["id"] == log["b"]]
    assert [e["kind"] for e in events] == ["publish", "withdrawal"]
    for e in events:
        rel = e["release"]
        assert rel["state"] == "withdrawn"
        assert "body" not in rel and "headline" not in rel
    r = server.get("/v1/wire")
    assert b"B body that will be withdrawn" not in r.body and b"B headline" not in r.body


def test_filters(server, log):
    def ids(query):
        return [(e["kind"], e["release"]["id"]) for e in wire(server, query)["events"]]

    a, b, c = log["a"], log["b"], log["c"]
    assert ids("language=en") == [("publish", a), ("correction", a)]
    # One name repeated: any of.
    assert ids("language=en&language=ms") == [("publish", a), ("correction", a),
                                              ("publish", c)]
    # Different names: all of.
    assert ids("sector=business&language=ms") == [("publish", c)]
    assert ids("sector=business&language=id") == []
    assert ids("sector=" + urllib.parse.quote("Top Story")) == [
        ("publish", b), ("publish", c), ("withdrawal", b)]
    assert ids("region=MY&sector=top-story&language=ms") == [("publish", c)]
    assert ids("region=ID") == [("publish", a), ("correction", a)]
    assert ids("issuer=acme-test-corp&language=ms") == [("publish", c)]
    assert ids("issuer=nobody") == []

    # A filtered read still moves past what did not match.
    doc = wire(server, "language=en")
    assert doc["next_after"] == doc["last_seq"]


def test_limit_and_paging(server, log):
    full = wire(server)["events"]
    one = wire(server, "limit=1")
    assert len(one["events"]) == 1 and one["next_after"] == full[0]["seq"]
    got, after = [], 0
    for _ in range(10):
        doc = wire(server, f"after={after}&limit=2")
        if not doc["events"]:
            break
        assert len(doc["events"]) <= 2
        got += doc["events"]
        after = doc["next_after"]
    assert [e["seq"] for e in got] == [e["seq"] for e in full]

    # Filtered with a limit: next_after is the last match, so nothing is skipped.
    doc = wire(server, "language=en&limit=1")
    assert [e["kind"] for e in doc["events"]] == ["publish"]
    doc = wire(server, f"language=en&limit=1&after={doc['next_after']}")
    assert [e["kind"] for e in doc["events"]] == ["correction"]


@pytest.mark.parametrize("query,field", [
    ("after=-1", "after"), ("after=abc", "after"), ("after=", "after"), ("after=1.5", "after"),
    ("after=99999999999999999999999", "after"), ("after=%201", "after"), ("after=+1", "after"),
    ("limit=501", "limit"), ("limit=-1", "limit"), ("limit=x", "limit"),
    ("wait=61", "wait"), ("wait=-1", "wait"), ("wait=soon", "wait"),
    ("language=xx", "language"), ("sector=nope", "sector"), ("region=ZZ", "region"),
    ("issuer=", "issuer"), ("colour=red", "colour"),
])
def test_bad_parameters_are_400_naming_them(server, query, field):
    problem(server.get("/v1/wire?" + query), 400, field)


def test_long_poll_wakes_on_publish(server, issuer, editor):
    last = wire(server)["last_seq"]
    result = {}

    def poll():
        t0 = time.monotonic()
        result["r"] = server.get(f"/v1/wire?after={last}&wait=5")
        result["t"] = time.monotonic()
        result["t0"] = t0

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.5)
    assert t.is_alive(), "the poll did not wait"
    rid = server.create(issuer, headline="Wakes the poll")["id"]
    server.post(f"/v1/releases/{rid}/submit", token=issuer)
    # Nothing public happened yet: the poll still waits.
    time.sleep(0.3)
    assert t.is_alive(), "a draft or submission woke the poll"
    published = time.monotonic()
    r = server.post(f"/v1/releases/{rid}/approve", token=editor)
    assert r.status == 200, r
    t.join(6)
    assert not t.is_alive()
    # Within about a second, the approve's own round trip included.
    assert result["t"] - published < 1.5, result["t"] - published
    doc = result["r"].json()
    assert [(e["kind"], e["release"]["id"]) for e in doc["events"]] == [("publish", rid)]
    assert doc["events"][0]["release"]["headline"] == "Wakes the poll"
    assert doc["next_after"] == doc["events"][0]["seq"] == doc["last_seq"]


def test_long_poll_times_out_empty_and_ignores_other_filters(server, issuer, editor):
    last = wire(server)["last_seq"]
    result = {}

    def poll():
        t0 = time.monotonic()
        result["r"] = server.get(f"/v1/wire?after={last}&wait=2&language=de")
        result["elapsed"] = time.monotonic() - t0

    t = threading.Thread(target=poll)
    t.start()
    time.sleep(0.3)
    rid = server.publish(issuer, editor, language="en")["id"]
    t.join(10)
    assert not t.is_alive()
    assert 1.9 <= result["elapsed"] < 4.0, result["elapsed"]
    doc = result["r"].json()
    assert doc["events"] == []
    # It moved past the English event it did not want.
    assert doc["next_after"] == wire(server)["last_seq"] == last + 1
    assert wire(server, f"after={last}")["events"][0]["release"]["id"] == rid


def test_wait_without_events_is_answered_after_the_wait(server):
    t0 = time.monotonic()
    doc = wire(server, "after=0&wait=1")
    elapsed = time.monotonic() - t0
    assert 0.9 <= elapsed < 3.0, elapsed
    assert doc == {"events": [], "last_seq": 0, "next_after": 0}


def test_parked_polls_are_answered_on_stop(server):
    results = []

    def poll():
        results.append(server.get("/v1/wire?wait=30"))

    threads = [threading.Thread(target=poll) for _ in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    t0 = time.monotonic()
    server.stop()
    for t in threads:
        t.join(10)
    assert time.monotonic() - t0 < 10
    assert [r.status for r in results] == [200, 200, 200]
    assert all(r.json()["events"] == [] for r in results)


def test_polls_whose_client_left_are_harmless(server, issuer, editor):
    for _ in range(3):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall(b"GET /v1/wire?wait=3 HTTP/1.1\r\nHost: x\r\n\r\n")
        time.sleep(0.1)
        s.close()
    # An event wakes the abandoned polls; one times out later.
    server.publish(issuer, editor)
    s = socket.create_connection(("127.0.0.1", server.port))
    s.sendall(b"GET /v1/wire?wait=1&language=de HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.1)
    s.close()
    time.sleep(1.5)
    assert server.get("/healthz").status == 200


def test_wire_takes_the_streams_keyword_filter(server, issuer, editor):
    a = server.publish(issuer, editor, headline="Nickel smelter opens in Sulawesi")
    server.publish(issuer, editor, headline="Coffee harvest begins")
    b = server.publish(issuer, editor, headline="Kopi", body="Harga NICKEL naik.", language="id")
    r = server.get("/v1/wire?after=0&keyword=nickel")
    assert r.status == 200, r
    assert [e["seq"] for e in r.json()["events"]] == [a["seq"], b["seq"]]
    r = server.get("/v1/wire?after=0&keyword=nickel&language=id")
    assert [e["seq"] for e in r.json()["events"]] == [b["seq"]]
    r = server.get("/v1/wire?after=0&keyword=" + "x" * 500)
    assert r.status == 400 and r.json()["field"].startswith("keyword")


def test_wire_in_ninjs(server, issuer, editor):
    """An outlet catching up can take the wire in ninjs, as the streams
    send it; withdrawals are canceled tombstones."""
    import check_ninjs
    rel = server.publish(issuer, editor, headline="Ninjs on the wire", language="id")
    server.post(f"/v1/releases/{rel['id']}/withdraw", {"reason": "Error"}, token=issuer)
    r = server.get("/v1/wire?after=0&format=ninjs&language=id")
    assert r.status == 200, r
    events = r.json()["events"]
    assert [e["kind"] for e in events] == ["publish", "withdrawal"]
    for e in events:
        assert e["id"] == rel["id"]
        check_ninjs.validate(e["item"])
    assert events[1]["item"]["pubStatus"] == "canceled"
    assert "headlines" not in events[1]["item"]
    r = server.get("/v1/wire?format=newsml")
    assert r.status == 400 and r.json()["field"] == "format"
