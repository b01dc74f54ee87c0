#!/usr/bin/python3
"""bench/webhooks.py -- outlet webhooks at network scale: N endpoints (6,500
by default, the reference network's outlets) on loopback, 1% of them
failing with 500; one release published; the time from the approve's answer
until every healthy endpoint has it, and what the failing ones saw.

    /usr/bin/python3 bench/webhooks.py HOST:PORT ISSUER_TOKEN EDITOR_TOKEN

bench/webhooks.sh starts kawat (with --webhook-allow 127.0.0.0/8) and
calls this. One asyncio receiver serves every endpoint, each on its own
path (/ok/N or /fail/N). Figures, never pass or fail."""
import asyncio
import http.client
import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

N = int(os.environ.get("WEBHOOK_ENDPOINTS", "6500"))
FAIL_EVERY = 100  # 1% fail
PER_OUTLET = 20   # kawat's limit of endpoints per outlet


class Receiver:
    """A minimal HTTP/1.1 server: reads a request, answers 204 on /ok/,
    500 on /fail/, keeps connections alive; records first arrivals."""

    def __init__(self):
        self.first = {}       # path -> monotonic time of the first 2xx-answered POST
        self.fails = 0
        self.requests = 0
        self.done = threading.Event()
        self.want = 0

    async def handle(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                length = 0
                for line in lines[1:]:
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                if length:
                    await reader.readexactly(length)
                self.requests += 1
                if path.startswith("/fail/"):
                    self.fails += 1
                    writer.write(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n")
                else:
                    if path not in self.first:
                        self.first[path] = time.monotonic()
                        if len(self.first) >= self.want:
                            self.done.set()
                    writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    def run(self, ready):
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        server = loop.run_until_complete(
            asyncio.start_server(self.handle, "127.0.0.1", 0, backlog=4096))
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()


def request(addr, method, path, body=None, token=None):
    host, port = addr.rsplit(":", 1)
    c = http.client.HTTPConnection(host, int(port), timeout=60)
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = f"Bearer {token}"
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, (json.loads(data) if data else None)


def main():
    addr, issuer, editor = sys.argv[1:4]
    rx = Receiver()
    ready = threading.Event()
    threading.Thread(target=rx.run, args=(ready,), daemon=True).start()
    ready.wait()

    outlets = (N + PER_OUTLET - 1) // PER_OUTLET
    t = time.monotonic()

    def make_outlet(i):
        st, body = request(addr, "POST", "/v1/subscribers",
                           {"kind": "outlet", "name": f"Bench Outlet {i}", "filters": [{}]})
        assert st == 201, (st, body)
        token = body["token"]
        made = 0
        for k in range(PER_OUTLET):
            n = i * PER_OUTLET + k
            if n >= N:
                break
            kind = "fail" if n % FAIL_EVERY == 0 else "ok"
            st, b = request(addr, "POST", "/v1/endpoints",
                            {"url": f"http://127.0.0.1:{rx.port}/{kind}/{n}",
                             "filter": {"languages": ["en"]}, "format": "ninjs"}, token)
            assert st == 201, (st, b)
            made += 1
        return made

    with ThreadPoolExecutor(32) as pool:
        made = sum(pool.map(make_outlet, range(outlets)))
    setup = time.monotonic() - t
    failing = len([n for n in range(N) if n % FAIL_EVERY == 0])
    rx.want = made - failing
    print(f"endpoints     {made} on one loopback receiver ({failing} answer 500), "
          f"{outlets} outlets; set up in {setup:.1f} s")

    st, rel = request(addr, "POST", "/v1/releases",
                      {"headline": "Webhook fan-out benchmark", "body": "Body.",
                       "language": "en", "sectors": ["Business"]}, issuer)
    assert st == 201, (st, rel)
    st, _ = request(addr, "POST", f"/v1/releases/{rel['id']}/submit", None, issuer)
    assert st == 200
    t0 = time.monotonic()
    st, _ = request(addr, "POST", f"/v1/releases/{rel['id']}/approve", None, editor)
    assert st == 200
    t_ack = time.monotonic()
    finished = rx.done.wait(120)
    got = len(rx.first)
    arrivals = sorted(v - t0 for v in rx.first.values())

    def pct(p):
        return arrivals[min(len(arrivals) - 1, int(len(arrivals) * p))] if arrivals else float("nan")

    print(f"publish       approve answered in {(t_ack - t0) * 1000:.0f} ms")
    print(f"delivered     {got}/{rx.want} healthy endpoints"
          + ("" if finished else " (gave up waiting after 120 s)"))
    print(f"time to all   {arrivals[-1]:.2f} s from the approve (aim: under 5 s)"
          if arrivals else "time to all   -")
    print(f"arrivals      p50 {pct(0.5):.2f} s  p90 {pct(0.9):.2f} s  p99 {pct(0.99):.2f} s")
    print(f"rate          {got / arrivals[-1]:.0f} deliveries/s" if arrivals else "")
    print(f"failing       {rx.fails} attempts answered 500 so far (each is retried with backoff)")


if __name__ == "__main__":
    main()
