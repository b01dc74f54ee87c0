"""Embargoes and schedules: a waiting release is invisible until its
instant, is published within a second after it (never before), exactly
once, also across a restart of the server."""
import calendar
import math
import secrets
import threading
import time

import pytest

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
LATE = 2.0  # seconds a publication may trail its instant as seen by a client polling
            # every 100 ms on a loaded machine (the server promises one)


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse(ts):
    return calendar.timegm(time.strptime(ts, "%Y-%m-%dT%H:%M:%SZ"))


def instant(ahead):
    """A whole-second instant at least `ahead` seconds from now (whole, so
    the API's second-precision times compare exactly)."""
    return math.ceil(time.time() + ahead)


def never_id():
    return "r" + "".join(secrets.choice(ALPHABET) for _ in range(15))


def events_for(server, rid):
    return [e for e in server.get("/v1/wire?limit=500").json()["events"]
            if e["release"]["id"] == rid]


def wait_published(server, rid, due, late=LATE):
    """Polls as an anonymous reader every 100 ms until the release is public.
    Never before due; at most `late` seconds after it."""
    while True:
        r = server.get(f"/v1/releases/{rid}")
        seen = time.time()
        if r.status == 200:
            assert seen >= due, f"public {due - seen:.3f} s before its instant"
            rel = r.json()
            assert rel["state"] == "published", rel
            assert due <= parse(rel["published_at"]) <= due + 1, (rel["published_at"], due)
            return rel, seen
        assert r.status == 404, r
        assert seen < due + late, f"not published {seen - due:.3f} s after its instant"
        time.sleep(0.1)


def assert_invisible(server, rid, headline, token=None):
    never = never_id()
    a = server.get(f"/v1/releases/{rid}", token=token)
    b = server.get(f"/v1/releases/{never}", token=token)
    assert (a.status, a.headers["content-type"], a.body) == \
        (b.status, b.headers["content-type"], b.body)
    for path in ("/v1/releases?limit=100", "/v1/releases?state=all", "/v1/wire", "/en/",
                 f"/en/releases/{rid}"):
        r = server.get(path, token=token)
        assert rid.encode() not in r.body and headline.encode() not in r.body, path


@pytest.mark.parametrize("field,state", [("embargo_until", "embargoed"),
                                         ("publish_at", "scheduled")])
def test_waits_invisible_then_publishes_once_on_time(server, issuer, editor, field, state):
    due = instant(2)
    headline = f"Held until {rfc3339(due)} by {field}"
    rel = server.create(issuer, headline=headline, **{field: rfc3339(due)})
    assert rel[field] == rfc3339(due)
    rid = rel["id"]
    assert server.post(f"/v1/releases/{rid}/submit", token=issuer).status == 200
    r = server.post(f"/v1/releases/{rid}/approve", token=editor)
    assert r.status == 200, r
    assert r.json()["state"] == state and r.json()["published_at"] is None

    # A follower of the wire is parked before the instant.
    polled = {}

    def follow():
        polled["r"] = server.get("/v1/wire?after=0&wait=15")
        polled["t"] = time.time()

    follower = threading.Thread(target=follow)
    follower.start()

    subscriber = server.token("subscriber", name="Reader")
    for token in (None, subscriber, server.token("issuer", name="Rival Corp")):
        assert_invisible(server, rid, headline, token)
    # Its issuer and the editors see it waiting.
    assert server.get(f"/v1/releases/{rid}", token=issuer).json()["state"] == state
    assert rid in [i["id"] for i in server.get(f"/v1/releases?state={state}",
                                               token=editor).json()["items"]]
    assert time.time() < due, "the checks above took too long to mean anything"

    pub, seen = wait_published(server, rid, due)
    assert pub["headline"] == headline
    follower.join(15)
    assert not follower.is_alive()
    assert polled["t"] >= due
    assert polled["t"] < due + LATE
    assert [(e["kind"], e["release"]["id"]) for e in polled["r"].json()["events"]] == \
        [("publish", rid)]

    time.sleep(0.5)
    (event,) = events_for(server, rid)
    assert event["kind"] == "publish" and parse(event["at"]) >= due
    assert pub["seq"] == event["seq"]
    assert server.get(f"/v1/releases/{rid}", token=issuer).json()["state"] == "published"


def test_schedule_by_an_editor(server, issuer, editor):
    rid = server.create(issuer, headline="Scheduled by the desk")["id"]
    first = instant(1.5)
    # Only submitted releases are scheduled, and only by editors.
    r = server.post(f"/v1/releases/{rid}/schedule", {"publish_at": rfc3339(first + 60)},
                    token=editor)
    assert r.status == 409, r
    assert server.post(f"/v1/releases/{rid}/submit", token=issuer).status == 200
    r = server.post(f"/v1/releases/{rid}/schedule", {"publish_at": rfc3339(first)}, token=issuer)
    assert r.status == 403, r
    for body, field in (({"publish_at": rfc3339(time.time() - 10)}, "publish_at"),
                        ({"publish_at": "next tuesday"}, "publish_at"),
                        ({"headline": "sneaky"}, "headline"),
                        ({}, "publish_at"), (None, "publish_at")):
        r = server.post(f"/v1/releases/{rid}/schedule", body, token=editor)
        assert r.status == 422, (body, r)
        assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert server.get(f"/v1/releases/{rid}", token=issuer).json()["state"] == "submitted"

    r = server.post(f"/v1/releases/{rid}/schedule", {"publish_at": rfc3339(first)}, token=editor)
    assert r.status == 200, r
    assert r.json()["state"] == "scheduled" and r.json()["publish_at"] == rfc3339(first)

    # Moved later before it fell due: the first instant publishes nothing.
    later = first + 1
    r = server.post(f"/v1/releases/{rid}/schedule", {"publish_at": rfc3339(later)},
                    token=editor)
    assert r.status == 200, r
    assert r.json()["state"] == "scheduled" and r.json()["publish_at"] == rfc3339(later)
    while time.time() < first + 0.5:
        assert server.get(f"/v1/releases/{rid}").status == 404
        time.sleep(0.1)
    wait_published(server, rid, later)
    assert len(events_for(server, rid)) == 1


def test_rejected_or_pulled_back_releases_are_not_published(server, issuer, editor):
    due = instant(1.5)
    ids = {}
    for name, field in (("rejected", "publish_at"), ("pulled", "embargo_until")):
        rid = server.create(issuer, headline=f"Never public: {name}",
                            **{field: rfc3339(due)})["id"]
        assert server.post(f"/v1/releases/{rid}/submit", token=issuer).status == 200
        assert server.post(f"/v1/releases/{rid}/approve", token=editor).json()["state"] in (
            "scheduled", "embargoed")
        ids[name] = rid
    r = server.post(f"/v1/releases/{ids['rejected']}/reject", {"reason": "Hold it."},
                    token=editor)
    assert r.json()["state"] == "rejected", r
    r = server.post(f"/v1/releases/{ids['pulled']}/withdraw", token=issuer)
    assert r.json()["state"] == "draft", r
    # A control released at the same instant shows the scheduler ran.
    control = server.create(issuer, headline="Control", publish_at=rfc3339(due))["id"]
    server.post(f"/v1/releases/{control}/submit", token=issuer)
    server.post(f"/v1/releases/{control}/approve", token=editor)
    wait_published(server, control, due)
    time.sleep(0.5)
    assert server.get(f"/v1/releases/{ids['rejected']}", token=issuer).json()["state"] == \
        "rejected"
    assert server.get(f"/v1/releases/{ids['pulled']}", token=issuer).json()["state"] == "draft"
    for rid in ids.values():
        assert server.get(f"/v1/releases/{rid}").status == 404
        assert events_for(server, rid) == []
    assert [e["release"]["id"] for e in server.get("/v1/wire").json()["events"]] == [control]


def test_restart_across_the_instant(server, issuer, editor):
    first = instant(2.5)
    # b is approved first but falls due later than a; c falls due after the restart.
    plan = [("b", first + 1), ("a", first), ("c", first + 3)]
    ids = {}
    for name, due in plan:
        rid = server.create(issuer, headline=f"Release {name}", publish_at=rfc3339(due))["id"]
        assert server.post(f"/v1/releases/{rid}/submit", token=issuer).status == 200
        assert server.post(f"/v1/releases/{rid}/approve",
                           token=editor).json()["state"] == "scheduled"
        ids[name] = rid
    assert time.time() < first
    server.stop()
    time.sleep(max(0.0, first + 1.3 - time.time()))
    server.start()
    started = time.time()

    a, seen_a = wait_published(server, ids["a"], first, late=started - first + LATE)
    b, seen_b = wait_published(server, ids["b"], first + 1, late=started - first - 1 + LATE)
    assert seen_a - started < LATE and seen_b - started < LATE
    # Published once each, in due order, not in approval order.
    events = server.get("/v1/wire").json()["events"]
    assert [(e["kind"], e["release"]["id"]) for e in events] == [
        ("publish", ids["a"]), ("publish", ids["b"])]
    assert a["seq"] < b["seq"]
    # Not c: it is not due yet; the restarted scheduler publishes it on time.
    assert server.get(f"/v1/releases/{ids['c']}", token=issuer).json()["state"] == "scheduled"
    wait_published(server, ids["c"], first + 3)

    server.restart()
    time.sleep(0.3)
    events = server.get("/v1/wire").json()["events"]
    assert [e["release"]["id"] for e in events] == [ids["a"], ids["b"], ids["c"]]
    assert [e["kind"] for e in events] == ["publish"] * 3
    for name in "abc":
        assert server.get(f"/v1/releases/{ids[name]}").json()["state"] == "published"
