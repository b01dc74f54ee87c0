"""Subscribers end to end: self-service sign-up with filters and a token shown
once, validation naming each field, read/update/delete with the
subscriber's own token, the identical 404 for everyone else, `trusted` for
editors only, the editors' list, and revocation on delete."""
import pytest

DESK = {"kind": "desktop", "name": "Jakarta Trading Desk", "email": "desk@example.com",
        "filters": [{"languages": ["en", "id"], "sectors": ["Business"], "regions": ["ID"],
                     "keywords": ["coffee"]}]}


def sign_up(server, body=None, token=None):
    r = server.post("/v1/subscribers", body or DESK, token=token)
    assert r.status == 201, r
    data = r.json()
    assert set(data) == {"subscriber", "token"}
    return data["subscriber"], data["token"]


def problem(r, status):
    assert r.status == status, r
    assert r.headers["content-type"] == "application/problem+json"
    return r.json()


def fields(p):
    return [e["field"] for e in p.get("errors", [])]


def test_anonymous_sign_up_gives_a_working_token(server):
    r = server.post("/v1/subscribers", DESK)
    assert r.status == 201, r
    assert r.headers["cache-control"] == "no-store"
    sub, token = r.json()["subscriber"], r.json()["token"]
    assert r.headers["location"] == f"/v1/subscribers/{sub['id']}"
    assert token.startswith("kw_") and len(token) == 46
    assert sub["id"].startswith("s") and len(sub["id"]) == 16
    assert sub["kind"] == "desktop" and sub["name"] == DESK["name"]
    assert sub["email"] == "desk@example.com" and sub["trusted"] is False
    assert "num" not in sub and "token" not in sub
    assert sub["created_at"].endswith("Z") and sub["updated_at"] == sub["created_at"]
    # Filters come back canonical: the sector's slug.
    [f] = sub["filters"]
    assert f["sectors"] == ["business"] and f["regions"] == ["ID"]
    assert f["languages"] == ["en", "id"]

    me = server.get("/v1/me", token=token)
    assert me.status == 200, me
    me = me.json()
    assert me["role"] == "subscriber" and me["name"] == DESK["name"]
    assert me["subscriber"] == sub
    # The token is not stored in a form that could be shown again.
    assert server.get(f"/v1/subscribers/{sub['id']}", token=token).json() == sub


@pytest.mark.parametrize("kind", ["desktop", "journalist", "outlet"])
def test_every_kind_signs_up(server, kind):
    sub, _ = sign_up(server, {"kind": kind, "name": f"A {kind}", "filters": [{}]})
    assert sub["kind"] == kind and sub["email"] is None


def test_validation_names_every_field(server):
    body = {"kind": "robot", "name": "", "email": "not-an-address", "colour": "red",
            "filters": [{"languages": ["en"]}, {"sectors": ["Business", "No Such Sector"]},
                        "all", {"regions": ["ZZ"], "flavour": ["x"]}]}
    p = problem(server.post("/v1/subscribers", body), 422)
    assert p["type"] == "/problems/validation"
    got = fields(p)
    for want in ("kind", "name", "email", "colour", "filters[1].sectors[1]", "filters[2]",
                 "filters[3].regions[0]", "filters[3].flavour"):
        assert want in got, (want, got)
    assert "filters[0]" not in " ".join(got)
    assert p["field"] == got[0]

    p = problem(server.post("/v1/subscribers", {"name": "Nobody"}), 422)
    assert "kind" in fields(p) and "filters" in fields(p)
    for filters in ([], [{}] * 11, {"languages": ["en"]}, None):
        p = problem(server.post("/v1/subscribers", {"kind": "desktop", "name": "N",
                                                    "filters": filters}), 422)
        assert fields(p) == ["filters"], (filters, p)
    p = problem(server.post("/v1/subscribers", {"kind": "desktop", "name": "N", "filters": [{}],
                                                "email": 7}), 422)
    assert fields(p) == ["email"]
    # Not JSON, not an object: the usual 400/415.
    problem(server.post("/v1/subscribers", "kind=desktop",
                        headers={"Content-Type": "application/x-www-form-urlencoded"}), 415)
    problem(server.post("/v1/subscribers", "[1]", headers={"Content-Type": "application/json"}),
            400)
    # Nothing was created by any of these.
    editor = server.token("editor")
    assert server.get("/v1/subscribers", token=editor).json()["items"] == []


def test_read_update_delete_with_own_token(server):
    sub, token = sign_up(server)
    url = f"/v1/subscribers/{sub['id']}"
    r = server.get(url, token=token)
    assert r.status == 200 and r.json() == sub
    assert r.headers["cache-control"] == "no-store"

    change = {"name": "Jakarta Desk", "kind": "journalist", "email": None,
              "filters": [{"languages": ["ja"], "keywords": ["coffee"]},
                          {"sectors": ["business"], "keywords_all": ["Arabica", "Gayo"]}]}
    r = server.request("PATCH", url, change, token=token)
    assert r.status == 200, r
    got = r.json()
    assert got["id"] == sub["id"] and got["name"] == "Jakarta Desk"
    assert got["kind"] == "journalist" and got["email"] is None
    assert len(got["filters"]) == 2 and got["created_at"] == sub["created_at"]
    assert server.get(url, token=token).json() == got
    assert server.get("/v1/me", token=token).json()["name"] == "Jakarta Desk"

    # A bad change is refused whole, naming the fields.
    p = problem(server.request("PATCH", url, {"name": "X", "filters": [{"languages": ["xx"]}]},
                               token=token), 422)
    assert fields(p) == ["filters[0].languages[0]"]
    p = problem(server.request("PATCH", url, {"id": "s123"}, token=token), 422)
    assert fields(p) == ["id"]
    p = problem(server.request("PATCH", url, {}, token=token), 422)
    assert fields(p) == ["body"]
    assert server.get(url, token=token).json() == got

    r = server.request("DELETE", url, token=token)
    assert r.status == 204 and r.body == b""


def test_others_get_the_identical_404(server):
    sub, token = sign_up(server)
    other, other_token = sign_up(server, dict(DESK, name="Other Desk"))
    issuer = server.token("issuer", name="Acme Corp", issuer="Acme")
    plain = server.token("subscriber", name="Plain Reader")
    url = f"/v1/subscribers/{sub['id']}"
    missing = server.get("/v1/subscribers/szzzzzzzzzzzzzzz", token=token)
    baseline = problem(missing, 404)
    assert baseline == {"type": "/problems/not-found", "title": "Not found", "status": 404,
                        "detail": "No such subscriber."}
    for who in (None, other_token, issuer, plain):
        for method, body in (("GET", None), ("PATCH", {"name": "Mine now"}), ("DELETE", None),
                             ("PATCH", {"trusted": True}), ("PATCH", "not json")):
            r = server.request(method, url, body=body, token=who)
            assert r.status == 404 and r.body == missing.body, (method, who, r)
            # ...and the same for an id that does not exist or is malformed.
            for bad in ("/v1/subscribers/szzzzzzzzzzzzzzz", "/v1/subscribers/NOT-AN-ID"):
                r2 = server.request(method, bad, body=body, token=who)
                assert r2.status == 404 and r2.body == missing.body, (method, bad, r2)
    # Nothing changed, and both tokens still work.
    assert server.get(url, token=token).json() == sub
    assert server.get(f"/v1/subscribers/{other['id']}", token=other_token).json() == other


def test_trusted_only_by_editors(server):
    editor = server.token("editor", name="Ed")
    admin = server.token("admin", name="Ad")
    issuer = server.token("issuer", name="Acme Corp", issuer="Acme")
    for who in (None, issuer, server.token("subscriber", name="R")):
        p = problem(server.post("/v1/subscribers", dict(DESK, trusted=True), token=who), 403)
        assert p["field"] == "trusted" and "trusted" in p["detail"]
        # Even false: the field is the editors'.
        problem(server.post("/v1/subscribers", dict(DESK, trusted=False), token=who), 403)

    sub, token = sign_up(server, dict(DESK, trusted=True), token=editor)
    assert sub["trusted"] is True
    url = f"/v1/subscribers/{sub['id']}"
    # The subscriber itself may not change its trust...
    p = problem(server.request("PATCH", url, {"trusted": False}, token=token), 403)
    assert p["field"] == "trusted"
    assert server.get(url, token=token).json()["trusted"] is True
    # ...but may change the rest, and an editor or admin may change anything.
    r = server.request("PATCH", url, {"name": "Renamed"}, token=token)
    assert r.status == 200 and r.json()["trusted"] is True
    r = server.request("PATCH", url, {"trusted": False}, token=admin)
    assert r.status == 200 and r.json()["trusted"] is False
    r = server.request("PATCH", url, {"trusted": True, "name": "Wire Partner"}, token=editor)
    assert r.status == 200 and r.json()["trusted"] is True
    assert server.get(url, token=editor).json()["name"] == "Wire Partner"
    p = problem(server.request("PATCH", url, {"trusted": "yes"}, token=editor), 422)
    assert fields(p) == ["trusted"]
    # Editors see and manage every subscriber; a missing one is 404 to them too.
    assert server.get(url, token=editor).status == 200
    problem(server.request("PATCH", "/v1/subscribers/szzzzzzzzzzzzzzz", {"name": "x"},
                           token=editor), 404)
    assert server.request("DELETE", url, token=editor).status == 204
    problem(server.get("/v1/me", token=token), 401)


def test_list_for_editors(server):
    editor = server.token("editor", name="Ed")
    made = []
    for i in range(5):
        kind = "outlet" if i % 2 else "desktop"
        sub, _ = sign_up(server, {"kind": kind, "name": f"Sub {i}", "filters": [{}]})
        made.append(sub)
    r = server.get("/v1/subscribers?limit=2", token=editor)
    assert r.status == 200, r
    seen, page = [], r.json()
    while True:
        seen += page["items"]
        if page["next_cursor"] is None:
            break
        assert len(page["items"]) == 2
        r = server.get(f"/v1/subscribers?limit=2&cursor={page['next_cursor']}", token=editor)
        assert r.status == 200, r
        page = r.json()
    assert [s["id"] for s in seen] == [s["id"] for s in reversed(made)]  # newest first
    outlets = server.get("/v1/subscribers?kind=outlet", token=editor).json()
    assert [s["name"] for s in outlets["items"]] == ["Sub 3", "Sub 1"]
    assert all("num" not in s for s in seen)

    problem(server.get("/v1/subscribers"), 401)
    _, token = sign_up(server)
    for who in (token, server.token("issuer", name="Acme Corp", issuer="Acme")):
        problem(server.get("/v1/subscribers", token=who), 403)
    for q, field in (("kind=robot", "kind"), ("limit=0", "limit"), ("cursor=-1", "cursor"),
                     ("colour=red", "colour")):
        p = problem(server.get(f"/v1/subscribers?{q}", token=editor), 400)
        assert p["field"] == field


def test_delete_revokes_the_token(server):
    sub, token = sign_up(server)
    keep, keep_token = sign_up(server, dict(DESK, name="Keeper"))
    assert server.get("/v1/me", token=token).status == 200
    r = server.request("DELETE", f"/v1/subscribers/{sub['id']}", token=token)
    assert r.status == 204, r
    p = problem(server.get("/v1/me", token=token), 401)
    assert p["detail"] == "The token is not valid."
    problem(server.get(f"/v1/subscribers/{sub['id']}", token=token), 401)
    editor = server.token("editor")
    problem(server.get(f"/v1/subscribers/{sub['id']}", token=editor), 404)
    problem(server.request("DELETE", f"/v1/subscribers/{sub['id']}", token=editor), 404)
    assert [s["id"] for s in server.get("/v1/subscribers", token=editor).json()["items"]] == \
        [keep["id"]]
    assert server.get("/v1/me", token=keep_token).status == 200


def test_methods_and_survival_across_restart(server):
    r = server.request("PUT", "/v1/subscribers")
    assert r.status == 405 and r.headers["allow"] == "GET, HEAD, POST"
    r = server.request("POST", "/v1/subscribers/sabc")
    assert r.status == 405 and r.headers["allow"] == "GET, HEAD, PATCH, DELETE"
    sub, token = sign_up(server)
    server.restart()
    assert server.get(f"/v1/subscribers/{sub['id']}", token=token).json() == sub
    assert server.get("/v1/me", token=token).json()["subscriber"]["id"] == sub["id"]
