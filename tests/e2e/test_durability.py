"""kill -9 at any moment loses nothing that was acknowledged.

A 201 means committed (SQLite WAL, synchronous=FULL): after a SIGKILL and a
restart on the same data folder every acknowledged release is there, once;
requests that were never answered can be retried with the same
Idempotency-Key without creating a second copy; and the wire's sequence
numbers keep increasing across the crash."""
import http.client
import json
import threading
import time

import pytest

from conftest import Response

TOTAL = 500
WORKERS = 50


def release_body(i):
    return {"headline": f"Durable release number {i:04d}", "body": f"Body of release {i}.",
            "language": "en", "sectors": ["Business"], "regions": ["ID"]}


def encoded(i):
    # The same bytes every time: the Idempotency-Key is bound to the body.
    return json.dumps(release_body(i), sort_keys=True).encode()


class Client:
    """One keep-alive connection per worker."""

    def __init__(self, server, token):
        self.server = server
        self.token = token
        self.conn = None

    def post(self, path, body, key):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        try:
            self.conn.request("POST", path, body=body, headers={
                "Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                "Idempotency-Key": key})
            r = self.conn.getresponse()
            data = r.read()
            if r.getheader("Connection", "").lower() == "close":
                self.close()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, data)
        except Exception:
            self.close()
            raise

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def list_all(server, token):
    """Every release the issuer can see, following the cursor (bounded)."""
    items, cursor = [], None
    for _ in range(100):
        path = "/v1/releases?state=all&limit=100" + (f"&cursor={cursor}" if cursor else "")
        r = server.get(path, token=token)
        assert r.status == 200, r
        doc = r.json()
        items += doc["items"]
        cursor = doc.get("next_cursor")
        if not cursor:
            return items
    raise AssertionError("the list did not end within 100 pages")


@pytest.mark.parametrize("kill_after", [200, 40, 380])
def test_kill9_mid_burst_loses_no_acknowledged_release(server, kill_after):
    issuer = server.token("issuer", name="Durable Corp")
    acked = {}          # i -> id, answered 201 (or a replay 200)
    unacked = set()     # no complete answer
    other = {}          # i -> unexpected response
    lock = threading.Lock()
    next_i = iter(range(TOTAL))
    killed = threading.Event()

    def worker():
        c = Client(server, issuer)
        while True:
            with lock:
                i = next(next_i, None)
            if i is None:
                break
            try:
                r = c.post("/v1/releases", encoded(i), f"durable-{i}")
            except (OSError, http.client.HTTPException):
                with lock:
                    unacked.add(i)
                continue
            with lock:
                if r.status == 201:
                    acked[i] = r.json()["id"]
                elif r.status == 503 and killed.is_set():
                    unacked.add(i)
                else:
                    other[i] = r
        c.close()

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    deadline = time.time() + 60
    while time.time() < deadline:
        with lock:
            n = len(acked)
        if n >= kill_after:
            break
        time.sleep(0.002)
    server.kill()
    killed.set()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    assert not other, list(other.items())[:3]
    assert len(acked) >= kill_after, len(acked)
    assert len(acked) + len(unacked) == TOTAL
    assert unacked, "the kill came after the whole burst; nothing was tested mid-flight"

    server.start()
    # Every acknowledged release is there, as its issuer sees it.
    for i, rid in acked.items():
        r = server.get(f"/v1/releases/{rid}", token=issuer)
        assert r.status == 200, (i, rid, r)
        assert r.json()["headline"] == release_body(i)["headline"]
    items = list_all(server, issuer)
    headlines = [it["headline"] for it in items]
    assert len(headlines) == len(set(headlines)), "duplicate releases after the crash"
    ids = {it["id"] for it in items}
    assert set(acked.values()) <= ids
    # Some unacknowledged ones may have committed just before the kill; no more.
    assert len(items) <= TOTAL

    # Retrying the unanswered ones with their keys makes exactly one of each.
    c = Client(server, issuer)
    replayed = 0
    for i in sorted(unacked):
        r = c.post("/v1/releases", encoded(i), f"durable-{i}")
        assert r.status in (200, 201), (i, r)
        if r.status == 200:
            assert r.headers.get("idempotent-replayed") == "true"
            replayed += 1
        acked[i] = r.json()["id"]
    # A retry of an acknowledged one is a replay with the same id.
    some = sorted(acked)[:5]
    for i in some:
        r = c.post("/v1/releases", encoded(i), f"durable-{i}")
        assert r.status == 200 and r.json()["id"] == acked[i], r
    # The same key with another body is a conflict, not a second release.
    r = c.post("/v1/releases", encoded(TOTAL + 1), f"durable-{some[0]}")
    assert r.status == 409, r
    c.close()

    items = list_all(server, issuer)
    by_headline = {}
    for it in items:
        by_headline.setdefault(it["headline"], []).append(it["id"])
    assert len(items) == TOTAL, (len(items), replayed)
    for i in range(TOTAL):
        h = release_body(i)["headline"]
        assert by_headline.get(h) == [acked[i]], (i, by_headline.get(h))


def wire_seqs(server):
    r = server.get("/v1/wire?after=0&limit=500")
    assert r.status == 200, r
    return [e["seq"] for e in r.json()["events"]]


def test_wire_seq_strictly_increases_across_kill9(server):
    issuer = server.token("issuer", name="Seq Corp")
    editor = server.token("editor", name="Seq Editor")
    for i in range(3):
        server.publish(issuer, editor, headline=f"Before the crash {i}")
    before = wire_seqs(server)
    assert len(before) == 3 and before == sorted(set(before)), before
    last_before = server.get("/v1/wire?after=0").json()["last_seq"]
    assert last_before == max(before)

    server.kill()
    server.start()

    assert wire_seqs(server) == before, "published events lost or changed by the crash"
    for i in range(3):
        server.publish(issuer, editor, headline=f"After the crash {i}")
    after = wire_seqs(server)
    assert after[:3] == before
    new = after[3:]
    assert len(new) == 3 and min(new) > max(before), after
    assert after == sorted(set(after)), after

    # A kill during a burst of approvals: every acknowledged publish has its
    # event, and the log stays strictly increasing with no gaps in what was
    # acknowledged.
    drafts = []
    for i in range(40):
        rel = server.create(issuer, headline=f"Burst {i}")
        assert server.post(f"/v1/releases/{rel['id']}/submit", token=issuer).status == 200
        drafts.append(rel["id"])
    approved = {}
    lock = threading.Lock()

    def approve(chunk):
        for rid in chunk:
            try:
                r = server.post(f"/v1/releases/{rid}/approve", token=editor, timeout=10)
            except OSError:
                continue
            if r.status == 200:
                with lock:
                    approved[rid] = r.json()
            if len(approved) >= 15:
                return

    threads = [threading.Thread(target=approve, args=(drafts[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    deadline = time.time() + 30
    while time.time() < deadline and len(approved) < 10:
        time.sleep(0.002)
    server.kill()
    for t in threads:
        t.join(30)
    server.start()
    r = server.get("/v1/wire?after=0&limit=500")
    events = r.json()["events"]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs)), seqs
    on_wire = {e["release"]["id"] for e in events}
    for rid in approved:
        assert rid in on_wire, f"acknowledged approval of {rid} is not on the wire"
        assert server.get(f"/v1/releases/{rid}").status == 200
    top = max(seqs)

    # Killed again while starting up (recovering the WAL), twice: still whole.
    for delay in (0.01, 0.15):
        server.kill()
        server.start(wait=False)
        time.sleep(delay)
    server.kill()
    server.start()
    assert wire_seqs(server) == seqs
    server.publish(issuer, editor, headline="After the second crash")
    assert max(wire_seqs(server)) > top
