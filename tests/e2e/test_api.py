"""The JSON API as an issuer, an editor and a reader use it: creating and
validating releases, the life cycle, roles, corrections, withdrawals,
idempotent retries, lists and the reference lists."""
import json
import threading
import time
import urllib.parse

import pytest


def problem(r, status, field=None):
    """Asserts r is an RFC 9457 problem document with status; if field is
    given, that one of its errors[] names it. Returns the document."""
    assert r.status == status, r
    assert r.headers["content-type"].startswith("application/problem+json"), r.headers
    doc = r.json()
    assert doc["status"] == status, doc
    for key in ("type", "title", "detail"):
        assert isinstance(doc.get(key), str) and doc[key], doc
    if field is not None:
        fields = [e["field"] for e in doc.get("errors", [])]
        assert field in fields, doc
        assert all(e["detail"] for e in doc["errors"]), doc
    return doc


def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def submit(server, rid, token):
    r = server.post(f"/v1/releases/{rid}/submit", token=token)
    assert r.status == 200, r
    return r.json()


def act(server, rid, verb, token, body=None, status=200):
    r = server.post(f"/v1/releases/{rid}/{verb}", body, token=token)
    assert r.status == status, r
    return r.json()


# ---- create and validate -------------------------------------------------

def test_create_answers_201_with_location_and_the_draft(server, issuer):
    r = server.post("/v1/releases", {"headline": "Acme opens a plant in Surabaya",
                                     "body": "Acme opened a plant.", "language": "en",
                                     "sectors": ["Business"], "regions": ["ID"]}, token=issuer)
    assert r.status == 201, r
    assert r.headers["content-type"].startswith("application/json")
    rel = r.json()
    assert r.headers["location"] == f"/v1/releases/{rel['id']}"
    assert rel["id"].startswith("r") and len(rel["id"]) == 16
    assert rel["state"] == "draft"
    assert rel["version"] == 1
    assert rel["url"] == f"{server.base}/en/releases/{rel['id']}"
    assert rel["headline"] == "Acme opens a plant in Surabaya"
    assert rel["sectors"] == ["business"] and rel["regions"] == ["ID"]
    assert rel["issuer"]["slug"] == "acme-test-corp"
    assert rel["published_at"] is None

    got = server.get(r.headers["location"], token=issuer)
    assert got.status == 200, got
    assert got.json()["headline"] == "Acme opens a plant in Surabaya"


def test_missing_fields_are_each_named(server, issuer):
    doc = problem(server.post("/v1/releases", {}, token=issuer), 422)
    fields = {e["field"] for e in doc["errors"]}
    assert {"headline", "body", "language"} <= fields, doc
    assert doc["type"].endswith("/validation")
    assert doc["instance"] == "/v1/releases"


def test_unknown_and_wrong_fields_are_named(server, issuer):
    body = {"headlne": "Typo", "headline": "H", "body": "B", "language": "xx",
            "sectors": ["Business", 7]}
    doc = problem(server.post("/v1/releases", body, token=issuer), 422)
    fields = {e["field"] for e in doc["errors"]}
    assert {"headlne", "language", "sectors[1]"} <= fields, doc
    assert "sectors[0]" not in fields
    (lang,) = [e for e in doc["errors"] if e["field"] == "language"]
    assert "xx" in lang["detail"]


@pytest.mark.parametrize("fields,field", [
    ({"headline": 5}, "headline"),
    ({"headline": "   "}, "headline"),
    ({"body": ["not", "text"]}, "body"),
    ({"language": 1}, "language"),
    ({"subheadline": 3}, "subheadline"),
    ({"sectors": "Business"}, "sectors"),
    ({"sectors": ["Business", {"x": 1}]}, "sectors[1]"),
    ({"regions": "ID"}, "regions"),
    ({"regions": ["ID", 62]}, "regions[1]"),
    ({"contacts": [{"name": "Sari", "fax": "1"}]}, "contacts[0].fax"),
    ({"contacts": [{"name": "Sari", "email": "not an address"}]}, "contacts[0].email"),
    ({"embargo_until": 1893456000}, "embargo_until"),
    ({"publish_at": True}, "publish_at"),
    ({"translation_group": "has spaces"}, "translation_group"),
])
def test_wrong_typed_fields_are_named(server, issuer, fields, field):
    body = {"headline": "H", "body": "B", "language": "en"}
    body.update(fields)
    problem(server.post("/v1/releases", body, token=issuer), 422, field)


def test_long_non_ascii_names_still_give_a_whole_problem(server, issuer, editor):
    # Field names are cut to a length; the cut must not split a character
    # (a problem document that is not valid UTF-8 loses its errors).
    long_name = "x" * 59 + "é"
    body = {"headline": "H", "body": "B", "language": "en", long_name: 1,
            "contacts": [{"name": "Sari", "y" * 31 + "日本": "1"}]}
    doc = problem(server.post("/v1/releases", body, token=issuer), 422)
    fields = [e["field"] for e in doc["errors"]]
    assert len(fields) == 2 and fields[0].startswith("xxx") and fields[1].startswith("contacts[0].")
    rid = server.create(issuer)["id"]
    submit(server, rid, issuer)
    doc = problem(server.post(f"/v1/releases/{rid}/reject", {long_name: "r"}, token=editor), 422)
    assert doc["errors"][0]["field"].startswith("xxx")


@pytest.mark.parametrize("fields,field", [
    ({"language": "klingon"}, "language"),
    ({"sectors": ["Business", "Basket Weaving"]}, "sectors[1]"),
    ({"regions": ["ZZ"]}, "regions[0]"),
])
def test_unknown_language_sector_region(server, issuer, fields, field):
    body = {"headline": "H", "body": "B", "language": "en"}
    body.update(fields)
    problem(server.post("/v1/releases", body, token=issuer), 422, field)


def test_bad_json_is_400_naming_the_body(server, issuer):
    for raw in (b'{"headline": "H",', b"[1, 2]", b"", b'{"a": 1, "a": 2}'):
        r = server.post("/v1/releases", raw, token=issuer,
                        headers={"Content-Type": "application/json"})
        problem(r, 400, "body")


def test_wrong_content_type_is_415(server, issuer):
    body = json.dumps({"headline": "H", "body": "B", "language": "en"})
    for ct in ("text/plain", "application/x-www-form-urlencoded", None):
        headers = {"Content-Type": ct} if ct else {}
        r = server.post("/v1/releases", body, token=issuer, headers=headers)
        problem(r, 415)


@pytest.mark.parametrize("field", ["embargo_until", "publish_at"])
def test_times_in_the_past_are_refused(server, issuer, field):
    body = {"headline": "H", "body": "B", "language": "en", field: rfc3339(time.time() - 60)}
    doc = problem(server.post("/v1/releases", body, token=issuer), 422, field)
    assert "past" in json.dumps(doc)


@pytest.mark.parametrize("value", ["2027-12-01 09:00:00Z", "2027-12-01T09:00:00",
                                   "tomorrow", "2027-02-30T09:00:00Z", "2027-12-01T25:00:00Z",
                                   "2027-12-01T09:00:00+7", "", "9999-12-31T23:59:59-01:00"])
def test_invalid_rfc3339_is_refused(server, issuer, value):
    body = {"headline": "H", "body": "B", "language": "en", "embargo_until": value}
    problem(server.post("/v1/releases", body, token=issuer), 422, "embargo_until")


def test_valid_rfc3339_with_offset_is_kept_as_utc(server, issuer):
    rel = server.create(issuer, embargo_until="2099-12-01T09:00:00+07:00")
    assert rel["embargo_until"] == "2099-12-01T02:00:00Z"


def test_sectors_by_name_or_slug(server, issuer):
    rel = server.create(issuer, sectors=["Top Story", "daily-news"])
    assert rel["sectors"] == ["top-story", "daily-news"]
    rel = server.create(issuer, sectors=["top-story", "Top Story", "TOP STORY"])
    assert rel["sectors"] == ["top-story"]


# ---- life cycle ------------------------------------------------------------

def test_full_life_cycle(server, issuer, editor):
    rel = server.create(issuer, headline="Life cycle release")
    rid = rel["id"]
    assert rel["state"] == "draft"
    # Not public yet.
    assert server.get(f"/v1/releases/{rid}").status == 404

    sub = submit(server, rid, issuer)
    assert sub["state"] == "submitted" and sub["submitted_at"]
    assert server.get(f"/v1/releases/{rid}").status == 404

    pub = act(server, rid, "approve", editor)
    assert pub["state"] == "published"
    assert pub["published_at"] and isinstance(pub["seq"], int)

    r = server.get(f"/v1/releases/{rid}")
    assert r.status == 200, r
    public = r.json()
    assert public["state"] == "published" and public["headline"] == "Life cycle release"
    # The public view leaves out what only the issuer and editors see.
    for private in ("rejection_reason", "created_at", "submitted_at", "publish_at"):
        assert private not in public, public
    # Publishing again is a state conflict.
    problem(server.post(f"/v1/releases/{rid}/approve", token=editor), 409)
    problem(server.post(f"/v1/releases/{rid}/submit", token=issuer), 409)


def test_reject_with_reason_then_edit_and_resubmit(server, issuer, editor):
    rid = server.create(issuer, headline="First try")["id"]
    submit(server, rid, issuer)

    # A reason is required.
    problem(server.post(f"/v1/releases/{rid}/reject", {}, token=editor), 422, "reason")
    problem(server.post(f"/v1/releases/{rid}/reject", {"reason": ""}, token=editor), 422,
            "reason")
    problem(server.post(f"/v1/releases/{rid}/reject", {"why": "x"}, token=editor), 422, "why")
    assert server.get(f"/v1/releases/{rid}", token=issuer).json()["state"] == "submitted"

    rej = act(server, rid, "reject", editor, {"reason": "Add a dateline."})
    assert rej["state"] == "rejected" and rej["rejection_reason"] == "Add a dateline."
    mine = server.get(f"/v1/releases/{rid}", token=issuer).json()
    assert mine["state"] == "rejected" and mine["rejection_reason"] == "Add a dateline."
    assert server.get(f"/v1/releases/{rid}").status == 404

    r = server.request("PATCH", f"/v1/releases/{rid}",
                       {"headline": "Second try", "dateline_place": "Jakarta"}, token=issuer)
    assert r.status == 200, r
    assert r.json()["state"] == "draft" and r.json()["headline"] == "Second try"

    again = submit(server, rid, issuer)
    assert again["state"] == "submitted"
    assert again["rejection_reason"] is None
    # A submitted release cannot be edited.
    problem(server.request("PATCH", f"/v1/releases/{rid}", {"headline": "x"}, token=issuer), 409)

    pub = act(server, rid, "approve", editor)
    assert pub["state"] == "published" and pub["headline"] == "Second try"


def test_reject_without_a_body_names_the_reason(server, issuer, editor):
    rid = server.create(issuer)["id"]
    submit(server, rid, issuer)
    problem(server.post(f"/v1/releases/{rid}/reject", token=editor), 422, "reason")


def test_patch_validates_like_create(server, issuer):
    rid = server.create(issuer)["id"]
    r = server.request("PATCH", f"/v1/releases/{rid}", {"headlne": "x", "regions": ["XX"]},
                       token=issuer)
    problem(r, 422, "headlne")
    assert "regions[0]" in [e["field"] for e in r.json()["errors"]]
    r = server.request("PATCH", f"/v1/releases/{rid}", {"embargo_until": rfc3339(time.time() - 5)},
                       token=issuer)
    problem(r, 422, "embargo_until")
    # Nothing changed.
    assert server.get(f"/v1/releases/{rid}", token=issuer).json()["headline"] == \
        "Kawat test release"


# ---- roles -----------------------------------------------------------------

def test_roles(server, issuer, editor):
    rid = server.create(issuer)["id"]
    submit(server, rid, issuer)

    # An issuer cannot approve, not even its own release.
    doc = problem(server.post(f"/v1/releases/{rid}/approve", token=issuer), 403)
    assert doc["type"].endswith("/forbidden")
    problem(server.post(f"/v1/releases/{rid}/reject", {"reason": "no"}, token=issuer), 403)
    problem(server.post(f"/v1/releases/{rid}/schedule",
                        {"publish_at": rfc3339(time.time() + 3600)}, token=issuer), 403)
    # An editor does not create releases.
    problem(server.post("/v1/releases", {"headline": "H", "body": "B", "language": "en"},
                        token=editor), 403)
    subscriber = server.token("subscriber", name="Reader")
    problem(server.post("/v1/releases", {"headline": "H", "body": "B", "language": "en"},
                        token=subscriber), 403)

    # Anonymous writes need a token.
    for path in ("/v1/releases", f"/v1/releases/{rid}/approve", f"/v1/releases/{rid}/withdraw"):
        doc = problem(server.post(path, {"headline": "H"}), 401)
        assert doc["type"].endswith("/unauthorized")
    problem(server.request("PATCH", f"/v1/releases/{rid}", {"headline": "x"}), 401)

    # A bad token is refused, not taken as anonymous.
    for auth in ("Bearer not-a-token", "Bearer kw_" + "0" * 40, "Basic dXNlcjpwYXNz", "Bearer"):
        r = server.get("/v1/releases", headers={"Authorization": auth})
        problem(r, 401)
        r = server.post("/v1/releases", {"headline": "H", "body": "B", "language": "en"},
                        headers={"Authorization": auth})
        problem(r, 401)

    # The release is still waiting for an editor.
    assert server.get(f"/v1/releases/{rid}", token=issuer).json()["state"] == "submitted"


# ---- corrections and withdrawals -------------------------------------------

def test_correction_keeps_the_earlier_version(server, issuer, editor):
    pub = server.publish(issuer, editor, headline="Profit up 10%", body="Profit rose 10%.")
    rid = pub["id"]

    problem(server.post(f"/v1/releases/{rid}/correct", {"headline": "x"}, token=issuer), 422,
            "note")
    problem(server.post(f"/v1/releases/{rid}/correct", {"note": "n", "language": "de"},
                        token=issuer), 422, "language")
    problem(server.post(f"/v1/releases/{rid}/correct", {"note": "nothing else"}, token=issuer),
            422)

    cor = act(server, rid, "correct", issuer,
              {"note": "Profit rose 12%, not 10%.", "headline": "Profit up 12%",
               "body": "Profit rose 12%."})
    assert cor["state"] == "corrected" and cor["version"] == 2
    assert cor["headline"] == "Profit up 12%"
    assert cor["correction_note"] == "Profit rose 12%, not 10%."

    public = server.get(f"/v1/releases/{rid}").json()
    assert public["state"] == "corrected" and public["version"] == 2
    assert public["headline"] == "Profit up 12%"
    assert public["published_at"] == pub["published_at"]
    assert [v["headline"] for v in public["previous_versions"]] == ["Profit up 10%"]

    r = server.get(f"/v1/releases/{rid}/versions")
    assert r.status == 200, r
    versions = r.json()
    assert versions["version"] == 2
    assert versions["current"]["headline"] == "Profit up 12%"
    assert versions["current"]["correction_note"] == "Profit rose 12%, not 10%."
    (prev,) = versions["previous"]
    assert prev["version"] == 1
    assert prev["headline"] == "Profit up 10%" and prev["body"] == "Profit rose 10%."
    assert "note" in prev and prev["at"]

    # A second correction by an editor, a second later, keeps both earlier
    # versions, each with the time it became current.
    time.sleep(max(0.0, 1.05 - (time.time() % 1.0)))
    cor3 = act(server, rid, "correct", editor, {"note": "Typo in the body.",
                                                "body": "Profit rose 12 %."})
    assert cor3["version"] == 3
    prev = server.get(f"/v1/releases/{rid}/versions").json()["previous"]
    assert [(p["version"], p["headline"], p["note"], p["at"]) for p in prev] == [
        (1, "Profit up 10%", None, pub["published_at"]),
        (2, "Profit up 12%", "Profit rose 12%, not 10%.", cor["updated_at"])]
    assert cor3["updated_at"] > cor["updated_at"]

    # Drafts are not corrected, they are edited.
    draft = server.create(issuer)["id"]
    problem(server.post(f"/v1/releases/{draft}/correct", {"note": "n", "headline": "x"},
                        token=issuer), 409)


def test_withdrawal_leaves_a_tombstone(server, issuer, editor):
    secret = "Merger with Globex agreed"
    pub = server.publish(issuer, editor, headline=secret, body="The secret body text.")
    rid = pub["id"]
    w = act(server, rid, "withdraw", issuer, {"reason": "Issued in error."})
    assert w["state"] == "withdrawn"

    for token in (None, server.token("subscriber", name="Reader")):
        r = server.get(f"/v1/releases/{rid}", token=token)
        assert r.status == 410, r
        tomb = r.json()
        assert tomb["id"] == rid and tomb["state"] == "withdrawn"
        assert tomb["withdrawal_reason"] == "Issued in error." and tomb["withdrawn_at"]
        assert "headline" not in tomb and "body" not in tomb
        assert secret.encode() not in r.body and b"secret body" not in r.body
        r = server.get(f"/v1/releases/{rid}/versions", token=token)
        assert r.status == 410 and secret.encode() not in r.body, r

    items = server.get("/v1/releases").json()["items"]
    assert rid not in [i["id"] for i in items]
    problem(server.post(f"/v1/releases/{rid}/withdraw", token=issuer), 409)
    problem(server.post(f"/v1/releases/{rid}/correct", {"note": "n", "headline": "x"},
                        token=issuer), 409)


def test_withdrawing_a_submitted_release_pulls_it_back_to_draft(server, issuer, editor):
    rid = server.create(issuer)["id"]
    submit(server, rid, issuer)
    w = act(server, rid, "withdraw", issuer)
    assert w["state"] == "draft"
    assert server.get(f"/v1/releases/{rid}").status == 404
    assert server.get("/v1/wire").json()["events"] == []
    # It can be submitted again.
    assert submit(server, rid, issuer)["state"] == "submitted"
    # A draft cannot be withdrawn.
    act(server, rid, "withdraw", issuer)
    problem(server.post(f"/v1/releases/{rid}/withdraw", token=issuer), 409)


def test_translations_link_the_issuers_public_language_versions(server, issuer, editor):
    en = server.publish(issuer, editor, headline="Launch", translation_group="launch-2026")
    ms = server.publish(issuer, editor, headline="Pelancaran", language="ms",
                        translation_group="launch-2026")
    de = server.create(issuer, headline="Start", language="de", translation_group="launch-2026")
    # Another issuer naming the same group is not a language version of it.
    rival = server.token("issuer", name="Rival Corp")
    fake = server.publish(rival, editor, headline="Fake", language="id",
                          translation_group="launch-2026")

    tr = server.get(f"/v1/releases/{en['id']}").json()["translations"]
    assert tr == [{"language": "ms", "id": ms["id"],
                   "url": f"{server.base}/ms/releases/{ms['id']}"}]
    tr = server.get(f"/v1/releases/{de['id']}", token=issuer).json()["translations"]
    assert [t["id"] for t in tr] == [en["id"], ms["id"]]
    assert server.get(f"/v1/releases/{fake['id']}").json()["translations"] == []
    page = server.get(f"/en/releases/{en['id']}")
    assert page.status == 200
    assert ms["id"] in page.text and de["id"] not in page.text and fake["id"] not in page.text

    # Withdrawn versions drop out.
    act(server, ms["id"], "withdraw", issuer)
    assert server.get(f"/v1/releases/{en['id']}").json()["translations"] == []


# ---- idempotent retries -----------------------------------------------------

def test_idempotency_key_same_body_is_one_release(server, issuer):
    body = json.dumps({"headline": "Once only", "body": "B", "language": "en"})
    h = {"Idempotency-Key": "create-0001", "Content-Type": "application/json"}
    first = server.post("/v1/releases", body, token=issuer, headers=h)
    assert first.status == 201, first
    assert "idempotent-replayed" not in first.headers
    second = server.post("/v1/releases", body, token=issuer, headers=h)
    assert second.status == 200, second
    assert second.headers.get("idempotent-replayed") == "true"
    assert second.json()["id"] == first.json()["id"]
    assert second.headers["location"] == first.headers["location"]

    other = json.dumps({"headline": "Something else", "body": "B", "language": "en"})
    doc = problem(server.post("/v1/releases", other, token=issuer, headers=h), 409)
    assert "Idempotency-Key" in doc["detail"]

    mine = server.get("/v1/releases?state=all&limit=100", token=issuer).json()["items"]
    assert [i["headline"] for i in mine] == ["Once only"]

    # The same key from another user is theirs alone.
    other_issuer = server.token("issuer", name="Other Corp")
    r = server.post("/v1/releases", body, token=other_issuer, headers=h)
    assert r.status == 201 and r.json()["id"] != first.json()["id"]

    for bad in ("", "x" * 129, "has space"):
        r = server.post("/v1/releases", body, token=issuer,
                        headers={"Idempotency-Key": bad, "Content-Type": "application/json"})
        problem(r, 400, "Idempotency-Key")


def test_concurrent_retries_with_one_key_make_one_release(server, issuer):
    body = json.dumps({"headline": "Retried in a storm", "body": "B", "language": "en"})
    h = {"Idempotency-Key": "storm-42", "Content-Type": "application/json"}
    results = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def go():
        start.wait()
        r = server.post("/v1/releases", body, token=issuer, headers=h)
        with lock:
            results.append(r)

    threads = [threading.Thread(target=go) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 8
    assert sorted(r.status for r in results) == [200] * 7 + [201], results
    assert len({r.json()["id"] for r in results}) == 1
    assert sum(1 for r in results if r.headers.get("idempotent-replayed") == "true") == 7
    mine = server.get("/v1/releases?state=all", token=issuer).json()["items"]
    assert len(mine) == 1


# ---- lists -------------------------------------------------------------------

def test_list_newest_first_with_cursor_pages(server, issuer, editor):
    ids = [server.publish(issuer, editor, headline=f"Release {i}")["id"] for i in range(7)]
    # An unpublished one is not listed.
    server.create(issuer, headline="Unpublished")

    seen, cursor, pages = [], None, 0
    while True:
        q = "/v1/releases?limit=3" + (f"&cursor={cursor}" if cursor else "")
        r = server.get(q)
        assert r.status == 200, r
        page = r.json()
        pages += 1
        assert len(page["items"]) <= 3
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10
    assert pages == 3
    assert seen == list(reversed(ids))  # newest first, no duplicates, no gaps

    # Publishing more while paging does not shift the pages already handed out.
    first = server.get("/v1/releases?limit=3").json()
    server.publish(issuer, editor, headline="Newer")
    second = server.get(f"/v1/releases?limit=3&cursor={first['next_cursor']}").json()
    assert [i["id"] for i in second["items"]] == list(reversed(ids))[3:6]


def test_own_list_pages_across_everyone_elses_activity(server, issuer, editor):
    other = server.token("issuer", name="Globex Holdings")
    mine = []
    for i in range(5):
        mine.append(server.create(issuer, headline=f"Mine {i}")["id"])
        server.create(other, headline=f"Theirs {i}")
    submit(server, mine[1], issuer)
    seen, cursor = [], None
    for _ in range(5):
        q = "/v1/releases?state=all&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = server.get(q, token=issuer).json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        # New releases while paging do not disturb the pages handed out.
        server.create(issuer, headline="Later")
        server.create(other, headline="Later")
    assert seen == list(reversed(mine))
    subs = server.get("/v1/releases?state=submitted", token=issuer).json()["items"]
    assert [i["id"] for i in subs] == [mine[1]]
    # Editors page through everyone's.
    every = server.get("/v1/releases?state=draft&limit=100", token=editor).json()["items"]
    assert len(every) == 10 - 1 + 2 * 2


def test_list_filters(server, issuer, editor):
    other = server.token("issuer", name="Globex Holdings")
    a = server.publish(issuer, editor, language="en", sectors=["Top Story"], regions=["ID"])["id"]
    b = server.publish(issuer, editor, language="id", sectors=["Business"], regions=["MY"])["id"]
    c = server.publish(other, editor, language="en", sectors=["Business", "Daily News"],
                       regions=["ID", "SG"])["id"]

    def ids(q):
        r = server.get("/v1/releases?" + q)
        assert r.status == 200, r
        return {i["id"] for i in r.json()["items"]}

    assert ids("") == {a, b, c}
    assert ids("language=en") == {a, c}
    assert ids("language=id") == {b}
    assert ids("language=de") == set()
    assert ids("sector=business") == {b, c}
    assert ids("sector=" + urllib.parse.quote("Top Story")) == {a}
    assert ids("region=ID") == {a, c}
    assert ids("region=SG") == {c}
    assert ids("issuer=acme-test-corp") == {a, b}
    assert ids("issuer=globex-holdings") == {c}
    assert ids("issuer=no-such-issuer") == set()
    assert ids("language=en&sector=business&region=SG") == {c}


@pytest.mark.parametrize("query,field", [
    ("limit=0", "limit"), ("limit=101", "limit"), ("limit=ten", "limit"), ("limit=", "limit"),
    ("limit=+5", "limit"), ("limit=%205", "limit"), ("limit=99999999999999999999", "limit"),
    ("cursor=!!", "cursor"), ("cursor=-5", "cursor"), ("cursor=%205", "cursor"),
    ("cursor=zzzzzzzzzzzzzzzzzzzz", "cursor"), ("colour=red", "colour"),
    ("language=xx", "language"), ("sector=nope", "sector"), ("region=Mars", "region"),
    ("state=bogus", "state"),
])
def test_list_bad_parameters_are_400_naming_them(server, query, field):
    doc = problem(server.get("/v1/releases?" + query), 400, field)
    assert doc["field"] == field


def test_queue_is_for_editors(server, issuer, editor):
    a = server.create(issuer, headline="Waiting")["id"]
    submit(server, a, issuer)
    server.create(issuer, headline="Still a draft")
    r = server.get("/v1/queue", token=editor)
    assert r.status == 200, r
    items = r.json()["items"]
    assert [(i["id"], i["state"]) for i in items] == [(a, "submitted")]
    assert items[0]["headline"] == "Waiting"
    problem(server.get("/v1/queue"), 401)
    problem(server.get("/v1/queue", token=issuer), 403)
    problem(server.get("/v1/queue", token=server.token("subscriber", name="R")), 403)


# ---- reference lists and identity -------------------------------------------

def test_languages(server):
    r = server.get("/v1/languages")
    assert r.status == 200, r
    items = r.json()["items"]
    tags = [i["tag"] for i in items]
    assert set(tags) >= {"en", "ko", "ja", "ar", "zh-Hans", "zh-Hant", "vi", "th", "id", "ms",
                         "de", "ru", "fr", "es", "pt"}
    assert len(tags) == len(set(tags)) >= 15
    for i in items:
        assert i["direction"] == ("rtl" if i["tag"] == "ar" else "ltr"), i
        assert i["name"] and i["native"]


def test_sectors_and_adding_one(server, issuer, editor):
    items = server.get("/v1/sectors").json()["items"]
    names = {i["name"]: i["slug"] for i in items}
    assert names["Top Story"] == "top-story" and names["Daily News"] == "daily-news"
    assert "Business" in names

    problem(server.post("/v1/sectors", {"name": "Space Economy"}, token=issuer), 403)
    problem(server.post("/v1/sectors", {"name": "Space Economy"}), 401)
    problem(server.post("/v1/sectors", {"nom": "x"}, token=editor), 422, "nom")
    rel_body = {"headline": "H", "body": "B", "language": "en", "sectors": ["Space Economy"]}
    problem(server.post("/v1/releases", rel_body, token=issuer), 422, "sectors[0]")

    r = server.post("/v1/sectors", {"name": "Space Economy"}, token=editor)
    assert r.status == 201, r
    assert r.json()["slug"] == "space-economy"
    problem(server.post("/v1/sectors", {"name": "space economy"}, token=editor), 409)
    assert "space-economy" in [i["slug"] for i in server.get("/v1/sectors").json()["items"]]

    rel = server.create(issuer, sectors=["Space Economy"])
    assert rel["sectors"] == ["space-economy"]


def test_me(server, issuer, editor):
    me = server.get("/v1/me", token=issuer).json()
    assert me["role"] == "issuer" and me["name"] == "Acme Test Corp"
    assert me["issuer"]["slug"] == "acme-test-corp"
    me = server.get("/v1/me", token=editor).json()
    assert me["role"] == "editor" and "issuer" not in me
    problem(server.get("/v1/me"), 401)
