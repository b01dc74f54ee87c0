"""The first promise: nothing unpublished is visible to anyone but its issuer
and the editors, anywhere. For everyone else an unpublished release answers
exactly as an id that never existed."""
import secrets
import time

import pytest

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
MARK = "Zq7secretmark"  # in every hidden headline and body


def never_id():
    return "r" + "".join(secrets.choice(ALPHABET) for _ in range(15))


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def same_answer(a, b, hidden_id, never):
    """Status, content type and body are identical, except where the
    request path itself is echoed back."""
    assert a.status == b.status, (a, b)
    assert a.headers.get("content-type") == b.headers.get("content-type")
    assert a.headers.get("cache-control") == b.headers.get("cache-control")
    assert a.body.replace(hidden_id.encode(), never.encode()) == b.body, (a, b)


@pytest.fixture
def hidden(server, issuer, editor):
    """One release of the issuer in each unpublished state, plus one
    published release so the lists are not trivially empty."""
    out = {}
    far = rfc3339(time.time() + 3600)

    def make(state, **fields):
        return server.create(issuer, headline=f"{MARK} {state} headline",
                             body=f"{MARK} {state} body", **fields)["id"]

    out["draft"] = make("draft")
    out["submitted"] = make("submitted")
    server.post(f"/v1/releases/{out['submitted']}/submit", token=issuer)
    out["scheduled"] = make("scheduled", publish_at=far)
    out["embargoed"] = make("embargoed", embargo_until=far)
    out["rejected"] = make("rejected")
    for state in ("scheduled", "embargoed", "rejected"):
        r = server.post(f"/v1/releases/{out[state]}/submit", token=issuer)
        assert r.status == 200, r
    assert server.post(f"/v1/releases/{out['scheduled']}/approve",
                       token=editor).json()["state"] == "scheduled"
    assert server.post(f"/v1/releases/{out['embargoed']}/approve",
                       token=editor).json()["state"] == "embargoed"
    r = server.post(f"/v1/releases/{out['rejected']}/reject", {"reason": "No."}, token=editor)
    assert r.json()["state"] == "rejected"
    # A release pulled back from review to draft.
    out["pulled"] = make("pulled")
    server.post(f"/v1/releases/{out['pulled']}/submit", token=issuer)
    assert server.post(f"/v1/releases/{out['pulled']}/withdraw",
                       token=issuer).json()["state"] == "draft"
    server.publish(issuer, editor, headline="A public release", body="Public body.")
    return out


@pytest.fixture
def outsiders(server):
    return {"anonymous": None,
            "subscriber": server.token("subscriber", name="Desk Reader"),
            "other issuer": server.token("issuer", name="Rival Corp")}


def test_get_answers_as_for_an_id_that_never_existed(server, hidden, outsiders):
    for who, token in outsiders.items():
        for state, rid in hidden.items():
            never = never_id()
            for suffix in ("", "/versions"):
                a = server.get(f"/v1/releases/{rid}{suffix}", token=token)
                b = server.get(f"/v1/releases/{never}{suffix}", token=token)
                assert a.status == 404, (who, state, a)
                same_answer(a, b, rid, never)
                assert MARK.encode() not in a.body
            for lang in ("en", "id"):
                a = server.get(f"/{lang}/releases/{rid}", token=token)
                b = server.get(f"/{lang}/releases/{never}", token=token)
                assert a.status == 404, (who, state, a)
                same_answer(a, b, rid, never)
                assert MARK.encode() not in a.body
            # HEAD too.
            a = server.request("HEAD", f"/v1/releases/{rid}", token=token)
            b = server.request("HEAD", f"/v1/releases/{never}", token=token)
            assert (a.status, a.headers.get("content-length")) == \
                (b.status, b.headers.get("content-length"))


ACTIONS = [
    ("PATCH", "", {"headline": "Hijacked"}),
    ("PATCH", "", {"headlne": "typo"}),
    ("POST", "/submit", None),
    ("POST", "/approve", None),
    ("POST", "/reject", {"reason": "x"}),
    ("POST", "/reject", None),
    ("POST", "/schedule", {"publish_at": "2099-01-01T00:00:00Z"}),
    ("POST", "/correct", {"note": "n", "headline": "x"}),
    ("POST", "/withdraw", None),
    ("POST", "/withdraw", {"reason": "x"}),
    ("POST", "/withdraw", {"bogus": 1}),
]


def test_actions_by_others_answer_as_for_an_id_that_never_existed(server, issuer, hidden,
                                                                  outsiders):
    before = {rid: server.get(f"/v1/releases/{rid}", token=issuer).body
              for rid in hidden.values()}
    for who, token in outsiders.items():
        for state, rid in hidden.items():
            for method, suffix, body in ACTIONS:
                never = never_id()
                a = server.request(method, f"/v1/releases/{rid}{suffix}", body, token=token)
                b = server.request(method, f"/v1/releases/{never}{suffix}", body, token=token)
                assert a.status in (401, 404), (who, state, method, suffix, a)
                same_answer(a, b, rid, never)
    # Nothing changed.
    for rid, body in before.items():
        assert server.get(f"/v1/releases/{rid}", token=issuer).body == body


def test_not_in_any_list_page_or_wire(server, hidden, outsiders):
    paths = ["/v1/releases", "/v1/releases?limit=100", "/v1/releases?state=all",
             "/v1/releases?state=draft,submitted,scheduled,embargoed,rejected",
             "/v1/releases?state=draft", "/v1/releases?issuer=acme-test-corp",
             "/v1/releases?language=en&sector=business", "/v1/wire", "/v1/wire?after=0&limit=500",
             "/", "/en/", "/id/", "/en/issuers/acme-test-corp/", "/v1/queue",
             "/en/archive/", "/en/sectors/business/", "/en/regions/ID/", "/rss.xml",
             "/en/atom.xml", "/en/feed.json", "/en/ninjs.json", "/en/newsml.xml",
             "/issuers/acme-test-corp/rss.xml", "/sitemap.xml", "/sitemap-news.xml"]
    for who, token in outsiders.items():
        for path in paths:
            r = server.get(path, token=token)
            assert r.status in (200, 401, 403), (who, path, r)
            assert MARK.encode() not in r.body, (who, path)
            for rid in hidden.values():
                assert rid.encode() not in r.body, (who, path)
    # Counts: an outsider's view of the list is the same as with nothing hidden.
    for who, token in outsiders.items():
        items = server.get("/v1/releases?state=all", token=token).json()["items"]
        if who == "other issuer":
            assert items == []
        else:
            assert [i["headline"] for i in items] == ["A public release"]
        r = server.get("/v1/wire", token=token).json()
        assert len(r["events"]) == 1 and r["last_seq"] == 1


def test_owner_and_editors_see_it(server, issuer, editor, hidden):
    admin = server.token("admin", name="Root")
    another_editor = server.token("editor", name="Second Desk")
    for token in (issuer, editor, admin, another_editor):
        for state, rid in hidden.items():
            r = server.get(f"/v1/releases/{rid}", token=token)
            assert r.status == 200, (state, r)
            rel = r.json()
            assert rel["state"] == {"pulled": "draft"}.get(state, state)
            assert MARK in rel["headline"]
    mine = server.get("/v1/releases?state=all&limit=100", token=issuer).json()["items"]
    assert set(hidden.values()) <= {i["id"] for i in mine}
    queue = server.get("/v1/queue", token=editor).json()["items"]
    assert [i["id"] for i in queue] == [hidden["submitted"]]
    every = server.get("/v1/releases?state=all&limit=100", token=editor).json()["items"]
    assert set(hidden.values()) <= {i["id"] for i in every}
    # A colleague of the issuer (same organisation) sees it too.
    colleague = server.token("issuer", name="Colleague", issuer="Acme Test Corp")
    r = server.get(f"/v1/releases/{hidden['draft']}", token=colleague)
    assert r.status == 200, r


def test_owner_public_list_does_not_mix_in_drafts(server, issuer, hidden):
    # Without a state the list is the public one, for the owner too.
    items = server.get("/v1/releases", token=issuer).json()["items"]
    assert [i["headline"] for i in items] == ["A public release"]


HOSTILE = [
    "/v1/releases/..%2F..%2Fetc%2Fpasswd",
    "/v1/releases/%2e%2e",
    "/v1/releases/../releases",
    "/v1/releases/" + "a" * 5000,
    "/v1/releases/" + "r" * 41,
    "/v1/releases/RABCDEFGHJKMNPQ",
    "/v1/releases/r%00abc",
    "/v1/releases/r%00",
    "/v1/releases/%ff%fe",
    "/v1/releases/r'%20OR%201=1--",
    "/v1/releases/%25",
    "/v1/releases/r%2Fx/versions",
    "/v1/releases/rabc/%2e%2e/approve",
    "/en/releases/..%2F..%2Fetc%2Fpasswd",
    "/en/releases/" + "a" * 5000,
    "/en/releases/RABC",
    "/en/releases/r%00abc",
    "/xx/releases/rabc",
    "/v1/releases/%c0%ae%c0%ae",
]


@pytest.mark.parametrize("path", HOSTILE)
def test_hostile_ids_are_clean_404_or_400(server, issuer, path):
    for token in (None, issuer):
        for method in ("GET", "POST", "PATCH"):
            r = server.request(method, path, {} if method != "GET" else None, token=token)
            assert r.status in (400, 404, 405), (method, path, r)
            assert server.get("/healthz").status == 200


def _history(s, hidden_between):
    """Two published releases and an outsider's own two drafts, with or
    without other issuers' hidden releases created in between."""
    iss = s.token("issuer", name="Acme Test Corp")
    ed = s.token("editor", name="Ed")
    rival = s.token("issuer", name="Rival Corp")

    def hide(n):
        for _ in range(n if hidden_between else 0):
            s.create(iss, headline=MARK)

    hide(3)
    s.publish(iss, ed, headline="First public")
    s.create(rival, headline="Rival draft one")
    hide(4)
    s.publish(iss, ed, headline="Second public")
    hide(2)
    s.create(rival, headline="Rival draft two")
    hide(3)
    return rival


def test_cursors_do_not_count_hidden_releases(make_server):
    """What an outsider sees, cursors included, is the same whether or not
    others created unpublished releases in between: a cursor that numbered
    every release would tell how many exist."""
    quiet, busy = make_server(), make_server()
    rivals = [_history(quiet, False), _history(busy, True)]
    queries = ["/v1/releases?limit=1", "/v1/releases?state=published&limit=1",
               "/v1/releases?state=all&limit=1", "/v1/releases?state=published,corrected&limit=1",
               "/v1/releases?state=draft&limit=1", "/v1/wire?limit=1"]

    def view(s, token):
        out = []
        for q in queries:
            r = s.get(q, token=token)
            assert r.status == 200, r
            doc = r.json()
            items = doc.get("items", doc.get("events"))
            out.append((q, [i.get("headline", i.get("release", {}).get("headline"))
                            for i in items], doc.get("next_cursor"), doc.get("next_after"),
                        doc.get("last_seq")))
            if doc.get("next_cursor"):
                r = s.get(q + "&cursor=" + doc["next_cursor"], token=token)
                assert r.status == 200, r
                out.append((q, [i["headline"] for i in r.json()["items"]],
                            r.json()["next_cursor"]))
        return out

    for s, rival in zip((quiet, busy), rivals):
        s.subscriber = s.token("subscriber", name="Reader")
    for who in ("anonymous", "subscriber", "rival"):
        seen = []
        for s, rival in zip((quiet, busy), rivals):
            token = {"anonymous": None, "subscriber": s.subscriber, "rival": rival}[who]
            seen.append(view(s, token))
        assert seen[0] == seen[1], who
