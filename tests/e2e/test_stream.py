"""Live streams: GET /v1/stream (Server-Sent Events) and GET /v1/ws
(WebSocket), with filters, exact resume, bounded slow consumers and the
embargo rule. The clients here are plain sockets so that the tests see the
bytes; tests/browser drives real EventSource and ws clients."""
import base64
import json
import os
import socket
import struct
import threading
import time

import pytest

import check_ninjs

# -- a small SSE client ---------------------------------------------------------------


class SSE:
    def __init__(self, server, query="", token=None, last_id=None, rcvbuf=None, timeout=10):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect(("127.0.0.1", server.port))
        head = f"GET /v1/stream{('?' + query) if query else ''} HTTP/1.1\r\nHost: x\r\n" \
               "Accept: text/event-stream\r\n"
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        if last_id is not None:
            head += f"Last-Event-ID: {last_id}\r\n"
        self.sock.sendall((head + "\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed before the head: {self.buf!r}")
            self.buf += chunk
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode().split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        self.closed = False

    def body_json(self):
        """For an error answer: the problem document (Content-Length body)."""
        n = int(self.headers.get("content-length", "0"))
        while len(self.buf) < n:
            self.buf += self.sock.recv(65536)
        return json.loads(self.buf[:n])

    def event(self, timeout=10):
        """The next event as a dict {id, event, data}; comments are skipped.
        None if the server closed the stream."""
        deadline = time.time() + timeout
        while True:
            while b"\n\n" in self.buf:
                block, self.buf = self.buf.split(b"\n\n", 1)
                ev = {"data": []}
                for line in block.decode().split("\n"):
                    if not line or line.startswith(":"):
                        continue
                    k, _, v = line.partition(":")
                    v = v[1:] if v.startswith(" ") else v
                    if k == "data":
                        ev["data"].append(v)
                    else:
                        ev[k] = v
                if ev["data"] or "id" in ev or "event" in ev:
                    ev["data"] = "\n".join(ev["data"])
                    if "event" in ev or ev["data"]:
                        return ev
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError("no event")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                self.closed = True
                return None
            self.buf += chunk

    def events(self, n, timeout=10):
        out = []
        for _ in range(n):
            ev = self.event(timeout)
            assert ev is not None, f"stream closed after {len(out)} events"
            out.append(ev)
        return out

    def close(self):
        self.sock.close()


def publish(server, issuer, editor, **fields):
    return server.publish(issuer, editor, **fields)


def wait_metric(server, name, pred, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for line in server.get("/metrics").text.splitlines():
            if line.startswith(name + " ") and pred(float(line.split()[1])):
                return
        time.sleep(0.05)
    raise AssertionError(f"{name} never satisfied the condition")


def wait_streams(server, n):
    wait_metric(server, "kawat_stream_connections", lambda v: v >= n)


# -- SSE -------------------------------------------------------------------------------


def test_sse_live_filtered_ninjs(server, issuer, editor):
    s = SSE(server, "language=en&sector=Top+Story")
    assert s.status == 200
    assert s.headers["content-type"].startswith("text/event-stream")
    wait_streams(server, 1)
    publish(server, issuer, editor, headline="Not for this stream", language="id")
    publish(server, issuer, editor, headline="Wrong sector", sectors=["Sports"])
    rel = publish(server, issuer, editor, headline="Top story in English",
                  sectors=["Top Story", "Business"], subheadline="Sub", dateline_place="Jakarta")
    ev = s.event()
    assert ev["event"] == "publish"
    assert int(ev["id"]) == rel["seq"]
    d = json.loads(ev["data"])
    assert d["seq"] == rel["seq"] and d["kind"] == "publish" and d["id"] == rel["id"]
    assert d["item"]["headlines"][0]["value"] == "Top story in English"
    check_ninjs.validate(d["item"])
    s.close()


def test_resume_exactly_what_was_missed(server, issuer, editor):
    s = SSE(server, "language=en")
    wait_streams(server, 1)
    first = [publish(server, issuer, editor, headline=f"Before {i}") for i in range(3)]
    got = s.events(1)
    assert int(got[0]["id"]) == first[0]["seq"]
    s.close()  # killed mid-stream after the first event
    later = [publish(server, issuer, editor, headline=f"After {i}") for i in range(2)]
    publish(server, issuer, editor, headline="Other language", language="de")
    s2 = SSE(server, "language=en", last_id=first[0]["seq"])
    evs = s2.events(4)
    assert [int(e["id"]) for e in evs] == [r["seq"] for r in first[1:] + later]
    # Then live, with no duplicate.
    live = publish(server, issuer, editor, headline="Live again")
    ev = s2.event()
    assert int(ev["id"]) == live["seq"]
    s2.close()
    # ?after= works the same.
    s3 = SSE(server, f"language=en&after={later[0]['seq']}")
    evs = s3.events(2)
    assert [int(e["id"]) for e in evs] == [later[1]["seq"], live["seq"]]
    s3.close()


def test_resume_across_restart(server, issuer, editor):
    a = publish(server, issuer, editor, headline="Before the restart")
    server.stop()
    server.start()
    b = publish(server, issuer, editor, headline="After the restart")
    s = SSE(server, "", last_id=a["seq"])
    ev = s.event()
    assert int(ev["id"]) == b["seq"]
    s.close()


def test_replay_in_steps_when_far_behind(make_server):
    srv = make_server(args=["--stream-replay-max", "3"])
    issuer = srv.token("issuer", name="Step Corp")
    editor = srv.token("editor", name="Step Ed")
    rels = [srv.publish(issuer, editor, headline=f"R{i}") for i in range(7)]
    seen, last = [], 0
    for _ in range(5):
        s = SSE(srv, "", last_id=last)
        while True:
            ev = s.event(timeout=5)
            if ev is None:
                break
            seen.append(int(ev["id"]))
            last = int(ev["id"])
            if last == rels[-1]["seq"]:
                break
        s.close()
        if last == rels[-1]["seq"]:
            break
    assert seen == [r["seq"] for r in rels]


def test_withdrawal_and_correction_events(server, issuer, editor):
    rel = publish(server, issuer, editor, headline="Will change")
    s = SSE(server, "", last_id=rel["seq"])
    wait_streams(server, 1)
    assert server.post(f"/v1/releases/{rel['id']}/correct",
                       {"note": "Fixed a figure", "headline": "Changed"}, token=issuer).status == 200
    ev = s.event()
    assert ev["event"] == "correction"
    d = json.loads(ev["data"])
    assert d["item"]["headlines"][0]["value"] == "Changed"
    check_ninjs.validate(d["item"])
    assert server.post(f"/v1/releases/{rel['id']}/withdraw", {"reason": "Retracted"},
                       token=issuer).status == 200
    ev = s.event()
    assert ev["event"] == "withdrawal"
    d = json.loads(ev["data"])
    assert d["item"]["pubStatus"] == "canceled"
    assert "headlines" not in d["item"] and "bodies" not in d["item"]
    s.close()


def test_slow_consumer_is_cut_off_others_unaffected(make_server):
    srv = make_server(args=["--stream-max-queue", "64k", "--stream-workers", "1"])
    issuer = srv.token("issuer", name="Bulk Corp")
    editor = srv.token("editor", name="Bulk Ed")
    stuck = SSE(srv, "", rcvbuf=4096)  # never reads
    fast = SSE(srv, "")
    wait_streams(srv, 2)
    body = "Long paragraph. " * 1500  # ~24 KB per event
    lat = []
    for i in range(40):
        t0 = time.time()
        rel = srv.publish(issuer, editor, headline=f"Bulk {i}", body=body)
        ev = fast.event(timeout=10)
        lat.append(time.time() - t0)
        assert int(ev["id"]) == rel["seq"]
    wait_metric(srv, "kawat_stream_drops_total", lambda v: v >= 1)
    wait_metric(srv, "kawat_stream_connections", lambda v: v == 1)
    # The fast reader got every event, each soon after its publication.
    assert max(lat) < 5, lat
    stuck.close()
    fast.close()


def test_subscriber_token_uses_stored_filter(server, issuer, editor):
    r = server.post("/v1/subscribers", {"kind": "desktop", "name": "Desk One",
                                        "filters": [{"languages": ["id"]}]})
    assert r.status == 201, r
    tok = r.json()["token"]
    s = SSE(server, "", token=tok)
    wait_streams(server, 1)
    publish(server, issuer, editor, headline="English one")
    rel = publish(server, issuer, editor, headline="Satu", language="id")
    ev = s.event()
    assert int(ev["id"]) == rel["seq"]
    # The subscriber changes its filter: the open stream follows.
    sid = r.json()["subscriber"]["id"]
    assert server.request("PATCH", f"/v1/subscribers/{sid}", {"filters": [{"languages": ["en"]}]},
                          token=tok).status == 200
    publish(server, issuer, editor, headline="Dua", language="id")
    rel = publish(server, issuer, editor, headline="Now English", language="en")
    ev = s.event()
    assert int(ev["id"]) == rel["seq"]
    s.close()


def test_embargo_only_to_trusted_before_the_lift(server, issuer, editor):
    trusted = server.post("/v1/subscribers", {"kind": "outlet", "name": "Trusted Desk",
                                              "filters": [{}]}).json()
    untrusted = server.post("/v1/subscribers", {"kind": "outlet", "name": "Other Desk",
                                                "filters": [{}]}).json()
    sid = trusted["subscriber"]["id"]
    assert server.request("PATCH", f"/v1/subscribers/{sid}", {"trusted": True},
                          token=editor).status == 200
    st = SSE(server, "", token=trusted["token"])
    su = SSE(server, "", token=untrusted["token"])
    sa = SSE(server, "")
    wait_streams(server, 3)
    lift = time.time() + 3
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(lift)) + f".{int(lift % 1 * 1000):03d}Z"
    rel = server.create(issuer, headline="Embargoed results", embargo_until=stamp)
    server.post(f"/v1/releases/{rel['id']}/submit", token=issuer)
    r = server.post(f"/v1/releases/{rel['id']}/approve", token=editor)
    assert r.json()["state"] == "embargoed"
    ev = st.event(timeout=5)
    assert ev["event"] == "embargo" and "id" not in ev
    d = json.loads(ev["data"])
    assert d["item"]["embargoedUntil"]
    assert d["item"]["headlines"][0]["value"] == "Embargoed results"
    check_ninjs.validate(d["item"])
    # The untrusted and the anonymous get nothing until the lift, then the publish.
    for s in (su, sa):
        ev = s.event(timeout=15)
        assert ev["event"] == "publish", ev
        assert time.time() >= lift - 0.01
        assert json.loads(ev["data"])["id"] == rel["id"]
    ev = st.event(timeout=5)
    assert ev["event"] == "publish"
    for s in (st, su, sa):
        s.close()


def test_trusted_reconnect_gets_current_embargoes(server, issuer, editor):
    trusted = server.post("/v1/subscribers", {"kind": "outlet", "name": "Late Desk",
                                              "filters": [{"languages": ["en"]}]}).json()
    server.request("PATCH", f"/v1/subscribers/{trusted['subscriber']['id']}", {"trusted": True},
                   token=editor)
    rel = server.create(issuer, headline="Held until Monday",
                        embargo_until="2099-01-01T00:00:00Z")
    server.post(f"/v1/releases/{rel['id']}/submit", token=issuer)
    server.post(f"/v1/releases/{rel['id']}/approve", token=editor)
    s = SSE(server, "", token=trusted["token"])
    ev = s.event(timeout=5)
    assert ev["event"] == "embargo"
    assert json.loads(ev["data"])["id"] == rel["id"]
    s.close()
    # Nobody else sees it anywhere.
    a = SSE(server, "", last_id=0)
    with pytest.raises(TimeoutError):
        a.event(timeout=1)
    a.close()


@pytest.mark.parametrize("query,headers,field", [
    ("language=xx", {}, "language"),
    ("sector=Nope", {}, "sector"),
    ("region=ZZ", {}, "region"),
    ("colour=red", {}, "colour"),
    ("after=-1", {}, "after"),
    ("after=abc", {}, "after"),
    ("", {"Last-Event-ID": "12x"}, "Last-Event-ID"),
    ("language=%ff", {}, "language"),
])
def test_malformed_stream_requests(server, query, headers, field):
    r = server.get("/v1/stream" + ("?" + query if query else ""), headers=headers)
    assert r.status == 400, r
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] == field


def test_stream_methods_and_upgrade(server):
    assert server.post("/v1/stream").status == 405
    r = server.get("/v1/ws")
    assert r.status == 426
    r = server.get("/v1/ws", headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                      "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
                                      "Sec-WebSocket-Version": "8"})
    assert r.status == 400 and r.json()["field"] == "Sec-WebSocket-Version"
    r = server.get("/v1/ws", headers={"Upgrade": "websocket", "Connection": "Upgrade",
                                      "Sec-WebSocket-Key": "short",
                                      "Sec-WebSocket-Version": "13"})
    assert r.status == 400 and r.json()["field"] == "Sec-WebSocket-Key"


# -- WebSocket --------------------------------------------------------------------------


class WS:
    def __init__(self, server, query="", token=None):
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        head = (f"GET /v1/ws{('?' + query) if query else ''} HTTP/1.1\r\nHost: x\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n")
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        self.sock.sendall((head + "\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            self.buf += self.sock.recv(4096)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head
        import hashlib
        want = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        assert f"Sec-WebSocket-Accept: {want}".encode() in head

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def frame(self, timeout=10):
        """(opcode, payload), skipping pings."""
        self.sock.settimeout(timeout)
        while True:
            b0, b1 = self._read(2)
            assert b1 & 0x80 == 0, "server frames are not masked"
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(n)
            op = b0 & 0x0F
            if op == 0x9:
                continue
            return op, payload

    def json(self, timeout=10):
        op, payload = self.frame(timeout)
        assert op == 1, (op, payload)
        return json.loads(payload)

    def send(self, payload, opcode=1, mask=True):
        data = payload.encode() if isinstance(payload, str) else payload
        hdr = bytes([0x80 | opcode])
        n = len(data)
        mbit = 0x80 if mask else 0
        if n < 126:
            hdr += bytes([mbit | n])
        elif n < 65536:
            hdr += bytes([mbit | 126]) + struct.pack("!H", n)
        else:
            hdr += bytes([mbit | 127]) + struct.pack("!Q", n)
        if mask:
            key = os.urandom(4)
            data = bytes(c ^ key[i % 4] for i, c in enumerate(data))
            hdr += key
        self.sock.sendall(hdr + data)

    def close(self):
        self.sock.close()


def test_ws_live_resume_and_filter_change(server, issuer, editor):
    a = publish(server, issuer, editor, headline="Old news")
    b = publish(server, issuer, editor, headline="Berita lama", language="id")
    w = WS(server, f"language=en&language=id&after={a['seq'] - 1}")
    assert [w.json()["seq"] for _ in range(2)] == [a["seq"], b["seq"]]
    c = publish(server, issuer, editor, headline="Fresh news")
    d = w.json()
    assert d["seq"] == c["seq"] and d["kind"] == "publish"
    check_ninjs.validate(d["item"])
    w.send(json.dumps({"type": "filter", "filter": {"languages": ["id"]}}))
    ack = w.json()
    assert ack["type"] == "filter" and ack["filter"]["languages"] == ["id"]
    publish(server, issuer, editor, headline="Not wanted now")
    e = publish(server, issuer, editor, headline="Diinginkan", language="id")
    assert w.json()["seq"] == e["seq"]
    w.send(json.dumps({"type": "filter", "filter": {"languages": ["xx"]}}))
    err = w.json()
    assert err["type"] == "error" and err["field"].startswith("filter.languages")
    w.send(b"\x00\x01", opcode=0x9)  # ping
    op, payload = w.frame()
    assert op == 0xA and payload == b"\x00\x01"
    w.send(struct.pack("!H", 1000), opcode=0x8)
    op, payload = w.frame()
    assert op == 0x8
    w.close()


@pytest.mark.parametrize("frame,code", [
    (lambda w: w.send("hello", mask=False), 1002),             # unmasked client frame
    (lambda w: w.send(b"\xff\xfe", opcode=1), 1007),           # invalid UTF-8 text
    (lambda w: w.send(b"abc", opcode=2), 1003),                # binary
    (lambda w: w.send("x" * 70000), 1009),                     # over the message limit
    (lambda w: w.send(b"x", opcode=0x3), 1002),                # unknown opcode
])
def test_ws_bad_frames_close_with_code(server, frame, code):
    w = WS(server)
    frame(w)
    op, payload = w.frame()
    assert op == 0x8
    assert struct.unpack("!H", payload[:2])[0] == code
    w.close()
    assert server.get("/healthz").status == 200


def test_last_event_id_wins_and_both_are_checked(server, issuer, editor):
    a = publish(server, issuer, editor, headline="One")
    b = publish(server, issuer, editor, headline="Two")
    # An EventSource opened with ?after= reconnects with both: the header wins.
    s = SSE(server, "after=0", last_id=a["seq"])
    assert int(s.event()["id"]) == b["seq"]
    s.close()
    r = server.get("/v1/stream?after=x", headers={"Last-Event-ID": "1"})
    assert r.status == 400 and r.json()["field"] == "after"
    r = server.get("/v1/stream?after=", headers={})
    assert r.status == 400 and r.json()["field"] == "after"
    r = server.get("/v1/stream?after=99999999999999999999")
    assert r.status == 400 and r.json()["field"] == "after"
