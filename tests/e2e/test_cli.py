"""The people's command line, used as a person at a terminal would: make
tokens and users, submit release files, follow the wire with `kawat tail`,
and read each command's --help. Every command runs the real binary (the
ASan build under `make e2e`) against a real server."""
import json
import os
import pathlib
import queue
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import KAWAT, ROOT, SANITIZER_MARKS, free_port

DEMO = sorted((ROOT / "demo").glob("*.md"))

# "ID STATE URL", as `kawat submit` prints one per file.
SUBMIT_LINE = re.compile(r"^(r[0-9a-z]+) (draft|submitted) (http://\S+/([A-Za-z-]+)/releases/\1)$")
# "#SEQ KIND TIME [LANGUAGE] HEADLINE — URL", as `kawat tail` prints one per event.
TAIL_LINE = re.compile(
    r"^#(\d+) (publish|correction|withdrawal) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) "
    r"\[([A-Za-z-]+)\](?: (.*))? — (http://\S+/releases/(r[0-9a-z]+))$")

RELEASE = """---
headline: {headline}
subheadline: "Shipping starts: the first containers leave Belawan"
language: {language}
sectors: [Business, Daily News]
regions:
  - ID
  - JP
dateline_place: Takengon
contacts: ["Maya Putri <maya@example.com> +62 643 555 0100"]
---
The cooperative said on Monday that it shipped 120 tonnes of
[traceable](https://example.com/trace) Arabica.
"""


def no_sanitizer_report(text):
    for mark in SANITIZER_MARKS:
        assert mark not in text, text


def run(server, *args, env=None, input=None):
    """Runs kawat without asserting success; still fails on a sanitizer report."""
    p = server.kawat(*args, env=env, input=input, check=False)
    no_sanitizer_report(p.stderr)
    return p


def wire_env(server, token=None):
    env = {"KAWAT_SERVER": server.base}
    if token:
        env["KAWAT_TOKEN"] = token
    return env


def write_release(tmp_path, name="release.md", headline="Gayo coffee ships 120 tonnes",
                  language="en", text=None):
    path = pathlib.Path(tmp_path) / name
    path.write_text(text if text is not None else RELEASE.format(headline=headline,
                                                                 language=language))
    return path


def my_releases(server, token):
    r = server.get("/v1/releases?state=all&limit=100", token=token)
    assert r.status == 200, r
    return r.json()["items"]


def me(server, token):
    return server.get("/v1/me", token=token)


class Follower:
    """`kawat tail` in the background, its lines collected by a thread."""

    def __init__(self, server, *args, env=None):
        e = dict(server.env)
        e.update(env if env is not None else wire_env(server))
        self.proc = subprocess.Popen([KAWAT, "tail", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=e, cwd=str(ROOT))
        self.lines = queue.Queue()
        self.seen = []
        self.stderr = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))

    def next_line(self, timeout=10):
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"kawat tail printed nothing within {timeout}s; "
                                 f"so far {self.seen}")
        self.seen.append(line)
        return line

    def quiet_for(self, seconds):
        """Asserts that nothing more is printed for a while."""
        try:
            line = self.lines.get(timeout=seconds)
        except queue.Empty:
            return
        raise AssertionError(f"kawat tail printed an unexpected line: {line!r}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("kawat tail did not stop within 10 s of SIGTERM")
        self.stderr = self.proc.stderr.read()
        self.proc.stderr.close()
        self.proc.stdout.close()
        no_sanitizer_report(self.stderr)
        return rc


def stream_count(server):
    m = re.search(r"^kawat_stream_connections (\d+)$", server.get("/metrics").text, re.M)
    return int(m.group(1)) if m else 0


def wait_for_streams(server, n, timeout=10, exactly=False):
    """Waits until n streams are open on the server (exactly n, or at
    least n): a tail started before then might not yet hold its stream."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = stream_count(server)
        if got == n or (got > n and not exactly):
            return
        time.sleep(0.05)
    raise AssertionError(f"{n} stream(s) never reached the server (now {stream_count(server)})")


class CuttableProxy:
    """A TCP proxy in front of the server whose connections the test can
    cut, and which can refuse new ones for a while: a dropped network."""

    def __init__(self, server):
        self.upstream = ("127.0.0.1", server.port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.refusing = False
        self.accepted = 0
        self.conns = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
                if self.refusing:
                    c.close()
                    continue
                u = socket.create_connection(self.upstream)
                self.conns += [c, u]
            threading.Thread(target=self._pump, args=(c, u), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self, refuse):
        """Drops every open connection; refuses new ones while refuse."""
        with self.lock:
            self.refusing = refuse
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()
            self.conns = []

    def close(self):
        self.cut(True)
        self.sock.close()


# ---------------------------------------------------------------- tokens, users

def test_token_create_prints_a_token_that_works(server):
    p = server.kawat("token", "create", "--data", str(server.data), "--role", "issuer",
                     "--name", "Acme")
    token = p.stdout.strip()
    assert p.stdout == token + "\n", "exactly one line: the token"
    assert re.fullmatch(r"[A-Za-z0-9_-]{20,}", token), token
    r = me(server, token)
    assert r.status == 200, r
    body = r.json()
    assert body["role"] == "issuer" and body["name"] == "Acme"
    assert body["issuer"]["name"] == "Acme" and body["issuer"]["slug"] == "acme"


@pytest.mark.parametrize("role", ["admin", "editor", "subscriber"])
def test_token_create_for_each_role(server, role):
    token = server.kawat("token", "create", "--data", str(server.data), "--role", role,
                         "--name", f"A {role}").stdout.strip()
    body = me(server, token).json()
    assert body["role"] == role and body["name"] == f"A {role}"
    assert "issuer" not in body


def test_token_create_options_from_environment(server):
    token = server.kawat("token", "create", env={
        "KAWAT_DATA": str(server.data), "KAWAT_USER_ROLE": "editor",
        "KAWAT_USER_NAME": "Env Editor"}).stdout.strip()
    assert me(server, token).json()["name"] == "Env Editor"


def test_issuer_users_share_their_organization(server):
    a = server.kawat("token", "create", "--data", str(server.data), "--role", "issuer",
                     "--name", "Maya Putri", "--issuer", "PT Kopi Gayo").stdout.strip()
    b = server.kawat("token", "create", "--data", str(server.data), "--role", "issuer",
                     "--name", "Budi Santoso", "--issuer", "PT Kopi Gayo").stdout.strip()
    ia, ib = me(server, a).json()["issuer"], me(server, b).json()["issuer"]
    assert ia == ib and ia["name"] == "PT Kopi Gayo"
    # Both see the organization's drafts.
    rel = server.create(a)
    assert server.get(f"/v1/releases/{rel['id']}", token=b).status == 200


def test_user_add_prints_an_id_for_token_create(server):
    p = server.kawat("user", "add", "--data", str(server.data), "--role", "editor",
                     "--name", "Eve Editor", "--email", "eve@example.com")
    uid = p.stdout.strip()
    assert p.stdout == uid + "\n" and re.fullmatch(r"u[0-9a-z]+", uid), p.stdout
    token = server.kawat("token", "create", "--data", str(server.data),
                         "--user", uid).stdout.strip()
    body = me(server, token).json()
    assert body == {"user_id": uid, "name": "Eve Editor", "role": "editor"}
    # A second token for the same person works alongside the first.
    token2 = server.kawat("token", "create", "--data", str(server.data),
                          "--user", uid).stdout.strip()
    assert token2 != token and me(server, token2).json()["user_id"] == uid
    assert me(server, token).status == 200


def test_user_add_with_password_from_stdin(server):
    p = server.kawat("user", "add", "--data", str(server.data), "--role", "editor",
                     "--name", "Pat", "--password-stdin", input="correct horse battery\n")
    assert re.fullmatch(r"u[0-9a-z]+\n", p.stdout)
    short = run(server, "user", "add", "--data", str(server.data), "--role", "editor",
                "--name", "Pat", "--password-stdin", input="short\n")
    assert short.returncode != 0 and "at least 10 characters" in short.stderr
    assert short.stdout == ""


@pytest.mark.parametrize("command", [["token", "create"], ["user", "add"]])
def test_bad_role_is_refused_with_a_clear_message(server, command):
    p = run(server, *command, "--data", str(server.data), "--role", "boss", "--name", "X")
    assert p.returncode != 0
    assert p.stdout == ""
    assert "--role" in p.stderr and "admin, editor, issuer or subscriber" in p.stderr, p.stderr


def test_missing_role_is_refused(server):
    p = run(server, "token", "create", "--data", str(server.data), "--name", "X")
    assert p.returncode != 0 and "--role" in p.stderr and p.stdout == ""


def test_user_add_needs_a_name(server):
    p = run(server, "user", "add", "--data", str(server.data), "--role", "editor")
    assert p.returncode != 0 and "--name" in p.stderr and p.stdout == ""


def test_token_for_an_unknown_user_is_refused(server):
    p = run(server, "token", "create", "--data", str(server.data), "--user", "unosuchuser00000")
    assert p.returncode != 0 and p.stdout == ""
    assert "--user" in p.stderr and "unosuchuser00000" in p.stderr, p.stderr


def test_unknown_option_is_a_usage_error(server):
    p = run(server, "token", "create", "--data", str(server.data), "--role", "editor",
            "--colour", "red")
    assert p.returncode == 2 and "--colour" in p.stderr and p.stdout == ""


# ---------------------------------------------------------------- submit

def test_submit_creates_and_submits(server, issuer, tmp_path):
    path = write_release(tmp_path)
    p = server.kawat("submit", str(path), env=wire_env(server, issuer))
    m = SUBMIT_LINE.match(p.stdout.rstrip("\n"))
    assert m and p.stdout.count("\n") == 1, p.stdout
    rid, state, url, lang = m.groups()
    assert state == "submitted" and lang == "en"
    assert url == f"{server.base}/en/releases/{rid}"
    rel = server.get(f"/v1/releases/{rid}", token=issuer).json()
    assert rel["state"] == "submitted"
    assert rel["headline"] == "Gayo coffee ships 120 tonnes"
    assert rel["subheadline"] == "Shipping starts: the first containers leave Belawan"
    assert rel["sectors"] == ["business", "daily-news"] and rel["regions"] == ["ID", "JP"]
    assert rel["dateline_place"] == "Takengon"
    assert rel["contacts"] == [{"name": "Maya Putri", "email": "maya@example.com",
                                "phone": "+62 643 555 0100"}]
    assert rel["body"].startswith("The cooperative said on Monday")
    assert "[traceable](https://example.com/trace)" in rel["body"]
    # Submitted is not published: nobody else can see it.
    assert server.get(f"/v1/releases/{rid}").status == 404
    # It waits in the editors' queue.
    queue_ids = [r["id"] for r in server.get("/v1/queue",
                                             token=server.token("editor")).json()["items"]]
    assert rid in queue_ids


def test_submit_with_flags_instead_of_environment(server, issuer, tmp_path):
    path = write_release(tmp_path)
    p = server.kawat("submit", "--server", server.base + "/", f"--token={issuer}", str(path))
    assert SUBMIT_LINE.match(p.stdout.strip()), p.stdout
    # Flags win over the environment.
    p2 = server.kawat("submit", f"--server={server.base}", "--token", issuer,
                      str(write_release(tmp_path, "b.md", headline="Second one")),
                      env={"KAWAT_SERVER": "http://127.0.0.1:1", "KAWAT_TOKEN": "kw_wrong"})
    assert SUBMIT_LINE.match(p2.stdout.strip()), p2.stdout
    assert len(my_releases(server, issuer)) == 2


def test_submit_draft_only_creates(server, issuer, tmp_path):
    path = write_release(tmp_path)
    p = server.kawat("submit", "--draft", str(path), env=wire_env(server, issuer))
    rid, state, _, _ = SUBMIT_LINE.match(p.stdout.strip()).groups()
    assert state == "draft"
    assert server.get(f"/v1/releases/{rid}", token=issuer).json()["state"] == "draft"
    queue_ids = [r["id"] for r in server.get("/v1/queue",
                                             token=server.token("editor")).json()["items"]]
    assert rid not in queue_ids
    # Submitting the same file later submits that draft, not a new release.
    p2 = server.kawat("submit", str(path), env=wire_env(server, issuer))
    rid2, state2, _, _ = SUBMIT_LINE.match(p2.stdout.strip()).groups()
    assert (rid2, state2) == (rid, "submitted")
    assert len(my_releases(server, issuer)) == 1


def test_submit_again_does_not_duplicate(server, issuer, tmp_path):
    path = write_release(tmp_path)
    env = wire_env(server, issuer)
    first = server.kawat("submit", str(path), env=env).stdout
    again = server.kawat("submit", str(path), env=env).stdout
    assert first == again, (first, again)
    assert len(my_releases(server, issuer)) == 1
    # A changed file is a new release.
    path.write_text(path.read_text().replace("120 tonnes", "121 tonnes"))
    changed = server.kawat("submit", str(path), env=env).stdout
    assert changed.split()[0] != first.split()[0]
    assert len(my_releases(server, issuer)) == 2


def test_submit_again_after_publication_changes_nothing(server, issuer, editor, tmp_path):
    path = write_release(tmp_path)
    env = wire_env(server, issuer)
    rid = server.kawat("submit", str(path), env=env).stdout.split()[0]
    assert server.post(f"/v1/releases/{rid}/approve", token=editor).status == 200
    p = server.kawat("submit", str(path), env=env)
    assert p.stdout.split()[:2] == [rid, "published"]
    assert len(my_releases(server, issuer)) == 1
    assert server.get("/v1/wire?after=0").json()["last_seq"] == 1


def test_submit_from_standard_input(server, issuer):
    text = RELEASE.format(headline="From a pipe", language="id")
    p = server.kawat("submit", "-", input=text, env=wire_env(server, issuer))
    rid, state, _, lang = SUBMIT_LINE.match(p.stdout.strip()).groups()
    assert (state, lang) == ("submitted", "id")
    assert server.get(f"/v1/releases/{rid}", token=issuer).json()["headline"] == "From a pipe"


def test_submit_dry_run_sends_nothing(server, issuer, tmp_path):
    path = write_release(tmp_path)
    p = server.kawat("submit", "--dry-run", str(path), env={"KAWAT_SERVER": server.base})
    body = json.loads(p.stdout)
    assert body["headline"] == "Gayo coffee ships 120 tonnes"
    assert body["sectors"] == ["Business", "Daily News"] and body["regions"] == ["ID", "JP"]
    assert body["contacts"][0]["email"] == "maya@example.com"
    assert "issuer" not in body
    assert my_releases(server, issuer) == []


@pytest.mark.parametrize("front, field, message", [
    ("headlin: Typo in a key", "headlin", "unknown front-matter key 'headlin'"),
    ("sectors: [Business, Basket Weaving]", "sectors[1]", "unknown sector"),
    ("regions: [ID, XX]", "regions[1]", "ISO 3166-1"),
    ("language: klingon", "language", "unknown language"),
    ("embargo_until: tomorrow morning", "embargo_until", "RFC 3339"),
    ("embargo_until: 2001-01-01T00:00:00Z", "embargo_until", "in the past"),
    ("translation_group: not a group!", "translation_group", "letters, digits"),
    ("contacts: [\"Maya <maya@example.com\"]", "contacts[0]", "'<' without '>'"),
    ("contacts: [\"Maya <not-an-address>\"]", "contacts[0].email", "not an e-mail address"),
])
def test_submit_names_the_bad_field(server, issuer, tmp_path, front, field, message):
    text = f"---\nheadline: A release\nlanguage: en\n{front}\n---\nBody.\n"
    if front.startswith("language:"):
        text = f"---\nheadline: A release\n{front}\n---\nBody.\n"
    path = write_release(tmp_path, "bad.md", text=text)
    p = run(server, "submit", str(path), env=wire_env(server, issuer))
    assert p.returncode == 1, p
    assert p.stdout == ""
    assert str(path) in p.stderr and field in p.stderr and message in p.stderr, p.stderr
    assert my_releases(server, issuer) == []


@pytest.mark.parametrize("text, line, message", [
    ("---\nheadline: \"never closed\nlanguage: en\n---\nBody\n", 2, "unterminated"),
    ("---\nheadline: A: B\nlanguage: en\n---\nBody\n", 2, "':' followed by a space"),
    ("---\nheadline: A\nlanguage: en\nlanguage: id\n---\nBody\n", 4, "duplicate key"),
    ("---\nheadline: A\nlanguage: en\nsectors:\n  - Business\n    - Daily News\n---\nB\n", 6,
     "indented alike"),
    ("---\nheadline: A\nlanguage: en\n", 1, "not closed"),
    ("---\nheadline: A\n\tlanguage: en\n---\nBody\n", 3, "tab"),
    ("---\nheadline: |\n  text\n---\nBody\n", 2, "multi-line"),
])
def test_submit_bad_front_matter_names_the_line(server, issuer, tmp_path, text, line, message):
    path = write_release(tmp_path, "bad.md", text=text)
    p = run(server, "submit", str(path), env=wire_env(server, issuer))
    assert p.returncode == 1 and p.stdout == ""
    assert f"{path}: line {line}: " in p.stderr and message in p.stderr, p.stderr
    assert my_releases(server, issuer) == []


def test_submit_without_headline_names_it(server, issuer, tmp_path):
    path = write_release(tmp_path, "bad.md", text="---\nlanguage: en\n---\nBody.\n")
    p = run(server, "submit", str(path), env=wire_env(server, issuer))
    assert p.returncode == 1 and "headline: is required" in p.stderr, p.stderr


def test_submit_continues_past_a_bad_file(server, issuer, tmp_path):
    good1 = write_release(tmp_path, "1.md", headline="First")
    bad = write_release(tmp_path, "2.md", text="---\nheadline: x\nfoo: bar\n---\nB\n")
    good2 = write_release(tmp_path, "3.md", headline="Third")
    p = run(server, "submit", str(good1), str(bad), str(good2), env=wire_env(server, issuer))
    assert p.returncode == 1
    lines = p.stdout.splitlines()
    assert len(lines) == 2 and all(SUBMIT_LINE.match(x) for x in lines), p.stdout
    assert "2.md" in p.stderr and "'foo'" in p.stderr
    assert sorted(r["headline"] for r in my_releases(server, issuer)) == ["First", "Third"]


def test_submit_missing_file(server, issuer, tmp_path):
    p = run(server, "submit", str(tmp_path / "nope.md"), env=wire_env(server, issuer))
    assert p.returncode == 1 and "nope.md" in p.stderr and "No such file" in p.stderr


def test_submit_needs_a_token(server, tmp_path):
    p = run(server, "submit", str(write_release(tmp_path)), env={"KAWAT_SERVER": server.base})
    assert p.returncode == 2 and "token" in p.stderr and "KAWAT_TOKEN" in p.stderr


def test_submit_with_a_wrong_token(server, tmp_path):
    p = run(server, "submit", str(write_release(tmp_path)),
            env=wire_env(server, "kw_" + "x" * 43))
    assert p.returncode == 1 and "Unauthorized" in p.stderr, p.stderr


def test_submit_as_an_editor_is_refused(server, editor, tmp_path):
    p = run(server, "submit", str(write_release(tmp_path)), env=wire_env(server, editor))
    assert p.returncode == 1 and "Only issuers create releases" in p.stderr, p.stderr


def test_submit_to_a_dead_server(server, issuer, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}"
    p = run(server, "submit", str(write_release(tmp_path)),
            env={"KAWAT_SERVER": dead, "KAWAT_TOKEN": issuer})
    assert p.returncode == 1 and "cannot reach" in p.stderr and dead in p.stderr, p.stderr


def test_submit_needs_a_file(server, issuer):
    p = run(server, "submit", env=wire_env(server, issuer))
    assert p.returncode == 2 and "no FILE" in p.stderr


def test_submit_every_demo_file(server, issuer, editor):
    assert len(DEMO) >= 20
    p = server.kawat("submit", *map(str, DEMO), env=wire_env(server, issuer))
    lines = p.stdout.splitlines()
    assert len(lines) == len(DEMO), p.stdout + p.stderr
    for path, line in zip(DEMO, lines):
        m = SUBMIT_LINE.match(line)
        assert m and m.group(2) == "submitted", line
        front = path.read_text().split("---")[1]
        lang = re.search(r"^language: (\S+)$", front, re.M).group(1)
        assert m.group(4) == lang, (path.name, line)
        rel = server.get(f"/v1/releases/{m.group(1)}", token=issuer).json()
        headline = re.search(r"^headline: (.+)$", front, re.M).group(1).strip('"')
        assert rel["headline"] == headline
        assert rel["sectors"] and rel["regions"] and rel["contacts"]
    # The editors publish them all; the translation groups link up.
    for line in lines:
        rid = line.split()[0]
        assert server.post(f"/v1/releases/{rid}/approve", token=editor).status == 200
    en = server.get(f"/v1/releases/{lines[0].split()[0]}").json()
    assert en["translation_group"] == "kawat-launch"
    assert {t["language"] for t in en["translations"]} >= {"id", "ms", "ar", "ja", "zh-Hans"}


# ---------------------------------------------------------------- tail

def test_tail_once_from_start_prints_the_wire(server, issuer, editor):
    a = server.publish(issuer, editor, headline="Kawat opens its wire", language="en")
    b = server.publish(issuer, editor, headline="Kawat membuka layanannya", language="id")
    p = server.kawat("tail", "--once", "--from-start", env=wire_env(server))
    lines = p.stdout.splitlines()
    assert len(lines) == 2, p.stdout
    got = [TAIL_LINE.match(x) for x in lines]
    assert all(got), lines
    assert [(m.group(1), m.group(2), m.group(4), m.group(5), m.group(7)) for m in got] == [
        ("1", "publish", "en", "Kawat opens its wire", a["id"]),
        ("2", "publish", "id", "Kawat membuka layanannya", b["id"])]
    assert got[0].group(6) == a["url"] and got[1].group(6) == b["url"]
    assert got[0].group(3) == a["published_at"]


def test_tail_once_after_and_filters(server, issuer, editor):
    server.publish(issuer, editor, headline="One", language="en", sectors=["Technology"])
    server.publish(issuer, editor, headline="Dua", language="id", regions=["MY"])
    server.publish(issuer, editor, headline="Three", language="en", regions=["SG", "JP"])
    env = wire_env(server)

    def heads(*args):
        out = server.kawat("tail", "--once", *args, env=env).stdout.splitlines()
        return [TAIL_LINE.match(x).group(5) for x in out]

    assert heads("--after", "1") == ["Dua", "Three"]
    assert heads("--after=2") == ["Three"]
    assert heads("--after", "3") == []
    assert heads() == []  # without --from-start only what comes next
    assert heads("--from-start", "--language", "id") == ["Dua"]
    assert heads("--from-start", "--language", "en") == ["One", "Three"]
    assert heads("--from-start", "--sector", "technology") == ["One"]
    assert heads("--from-start", "--sector", "Business") == ["Dua", "Three"]
    assert heads("--from-start", "--region", "MY", "--region", "SG") == ["Dua", "Three"]
    assert heads("--from-start", "--language", "en", "--region", "JP") == ["Three"]
    slug = me(server, issuer).json()["issuer"]["slug"]
    assert heads("--from-start", "--issuer", slug) == ["One", "Dua", "Three"]
    assert heads("--from-start", "--issuer", "someone-else") == []


def test_tail_json_lines_parse(server, issuer, editor):
    a = server.publish(issuer, editor, headline="Json one")
    r = server.post(f"/v1/releases/{a['id']}/correct",
                    {"note": "Fixed the headline.", "headline": "Json one, corrected"},
                    token=issuer)
    assert r.status == 200, r
    assert server.post(f"/v1/releases/{a['id']}/withdraw", {"reason": "Wrong."},
                       token=issuer).status == 200
    p = server.kawat("tail", "--once", "--from-start", "--json", env=wire_env(server))
    events = [json.loads(x) for x in p.stdout.splitlines()]
    assert [(e["seq"], e["kind"], e["version"]) for e in events] == [
        (1, "publish", 1), (2, "correction", 2), (3, "withdrawal", 2)]
    for e in events:
        assert e["release"]["id"] == a["id"] and e["at"].endswith("Z")
    # The same events as text: a withdrawal has no headline.
    text = server.kawat("tail", "--once", "--from-start", env=wire_env(server)).stdout
    kinds = [TAIL_LINE.match(x).group(2, 5) for x in text.splitlines()]
    assert kinds[2] == ("withdrawal", None)


def test_tail_pages_through_a_long_wire(server, issuer, editor, tmp_path):
    files = [write_release(tmp_path, f"{i}.md", headline=f"Release {i}") for i in range(105)]
    ids = server.kawat("submit", *map(str, files), env=wire_env(server, issuer)).stdout.split()
    ids = ids[::3]  # "ID STATE URL" lines: every third word is an id
    for rid in ids:
        assert server.post(f"/v1/releases/{rid}/approve", token=editor).status == 200
    out = server.kawat("tail", "--once", "--from-start", env=wire_env(server)).stdout
    seqs = [int(TAIL_LINE.match(x).group(1)) for x in out.splitlines()]
    assert seqs == list(range(1, 106))


def test_tail_follows_the_wire_live(server, issuer, editor):
    everything = Follower(server)
    indonesian = Follower(server, "--language", "id")
    try:
        wait_for_streams(server, 2)
        t0 = time.time()
        en = server.publish(issuer, editor, headline="Live in English", language="en")
        line = everything.next_line(timeout=5)
        assert time.time() - t0 < 5
        m = TAIL_LINE.match(line)
        assert m and m.group(2, 4, 5, 7) == ("publish", "en", "Live in English", en["id"]), line
        idr = server.publish(issuer, editor, headline="Langsung dalam bahasa Indonesia",
                             language="id")
        assert TAIL_LINE.match(everything.next_line(timeout=5)).group(7) == idr["id"]
        # The filtered tail's first line is the Indonesian one: the English
        # release, published before it, was not printed.
        m = TAIL_LINE.match(indonesian.next_line(timeout=5))
        assert m.group(4, 7) == ("id", idr["id"])
        indonesian.quiet_for(0.5)
    finally:
        assert everything.stop() == 0, everything.stderr
        assert indonesian.stop() == 0, indonesian.stderr


def test_tail_json_follows_live(server, issuer, editor):
    f = Follower(server, "--json", "--sector", "technology")
    try:
        wait_for_streams(server, 1)
        server.publish(issuer, editor, headline="Not technology", sectors=["Health"])
        rel = server.publish(issuer, editor, headline="Technology", sectors=["Technology"])
        ev = json.loads(f.next_line(timeout=5))
        assert ev["kind"] == "publish" and ev["release"]["id"] == rel["id"] and ev["seq"] == 2
    finally:
        assert f.stop() == 0


def test_tail_is_not_bound_by_the_long_poll_limit(make_server):
    # tail holds the stream, not long polls: a short --longpoll-max is no
    # reason to stop or to fail.
    s = make_server(args=["--longpoll-max", "3s"])
    issuer, editor = s.token("issuer", name="Acme"), s.token("editor")
    f = Follower(s)
    try:
        wait_for_streams(s, 1)
        rel = s.publish(issuer, editor, headline="Short polls")
        assert TAIL_LINE.match(f.next_line(timeout=10)).group(7) == rel["id"]
        time.sleep(3.5)  # past a whole long poll: tail keeps going
        rel2 = s.publish(issuer, editor, headline="Still here")
        assert TAIL_LINE.match(f.next_line(timeout=10)).group(7) == rel2["id"]
    finally:
        assert f.stop() == 0, f.stderr
    assert "HTTP 400" not in f.stderr, f.stderr


def test_tail_resumes_after_the_server_restarts(server, issuer, editor):
    f = Follower(server)
    try:
        wait_for_streams(server, 1)
        a = server.publish(issuer, editor, headline="Before the restart")
        assert TAIL_LINE.match(f.next_line()).group(7) == a["id"]
        server.restart()
        b = server.publish(issuer, editor, headline="After the restart")
        # tail retries with backoff (1, 2, 4 s ...), then prints what it missed.
        assert TAIL_LINE.match(f.next_line(timeout=20)).group(7) == b["id"]
    finally:
        assert f.stop() == 0
    assert "answers again" in f.stderr, f.stderr


def test_tail_resumes_a_dropped_connection_exactly(server, issuer, editor):
    # The network drops: tail reconnects with Last-Event-ID and prints what
    # it missed, each event once, in order, then follows live again.
    proxy = CuttableProxy(server)
    f = Follower(server, env={"KAWAT_SERVER": proxy.base})
    try:
        wait_for_streams(server, 1)
        a = server.publish(issuer, editor, headline="Before the drop")
        assert TAIL_LINE.match(f.next_line()).group(7) == a["id"]
        proxy.cut(refuse=True)
        missed = [server.publish(issuer, editor, headline=f"Missed {i}") for i in range(3)]
        time.sleep(1.5)  # tail tries (and fails) to come back meanwhile
        proxy.cut(refuse=False)
        got = [TAIL_LINE.match(f.next_line(timeout=20)) for _ in missed]
        assert [m.group(7) for m in got] == [r["id"] for r in missed]
        assert [int(m.group(1)) for m in got] == [2, 3, 4]
        b = server.publish(issuer, editor, headline="After the drop")
        m = TAIL_LINE.match(f.next_line(timeout=10))
        assert m.group(1, 7) == ("5", b["id"])
        f.quiet_for(0.5)
    finally:
        assert f.stop() == 0, f.stderr
        proxy.close()
    assert proxy.accepted >= 2 and "answers again" in f.stderr, f.stderr


def test_tail_resumes_a_replay_cut_in_parts(make_server):
    # The server sends a long replay in parts of --stream-replay-max events
    # and closes the stream; tail picks up each rest at once and quietly.
    s = make_server(args=["--stream-replay-max", "2"])
    issuer, editor = s.token("issuer", name="Acme"), s.token("editor")
    rels = [s.publish(issuer, editor, headline=f"Release {i}") for i in range(5)]
    f = Follower(s, "--from-start")
    try:
        got = [TAIL_LINE.match(f.next_line(timeout=10)) for _ in rels]
        assert [m.group(7) for m in got] == [r["id"] for r in rels]
        assert [int(m.group(1)) for m in got] == [1, 2, 3, 4, 5]
        wait_for_streams(s, 1)
        live = s.publish(issuer, editor, headline="Live after the replay")
        assert TAIL_LINE.match(f.next_line(timeout=10)).group(1, 7) == ("6", live["id"])
        f.quiet_for(0.5)
    finally:
        assert f.stop() == 0, f.stderr
    assert f.stderr == "", f.stderr


def test_tail_after_replays_then_follows(server, issuer, editor):
    server.publish(issuer, editor, headline="One")
    two = server.publish(issuer, editor, headline="Two", language="id")
    f = Follower(server, "--after", "1")
    try:
        m = TAIL_LINE.match(f.next_line())
        assert m.group(1, 4, 5, 7) == ("2", "id", "Two", two["id"])
        wait_for_streams(server, 1)
        three = server.publish(issuer, editor, headline="Three")
        assert TAIL_LINE.match(f.next_line()).group(1, 7) == ("3", three["id"])
    finally:
        assert f.stop() == 0, f.stderr


def test_tail_keyword_filter(server, issuer, editor):
    f = Follower(server, "--keyword", "arabica", "--keyword", "luwak")
    try:
        wait_for_streams(server, 1)
        server.publish(issuer, editor, headline="Tea harvest starts early",
                       body="Nothing about that bean here.")
        rel = server.publish(issuer, editor, headline="Gayo ships ARABICA to Japan")
        rel2 = server.publish(issuer, editor, headline="Ekspor naik", language="id",
                              body="Permintaan kopi luwak naik tajam.")
        assert TAIL_LINE.match(f.next_line()).group(7) == rel["id"]
        assert TAIL_LINE.match(f.next_line()).group(7) == rel2["id"]
        f.quiet_for(0.5)
    finally:
        assert f.stop() == 0, f.stderr


def test_tail_prints_embargoes_for_a_trusted_subscriber(server, issuer, editor):
    trusted = server.post("/v1/subscribers", {"kind": "outlet", "name": "Trusted Desk",
                                              "filters": [{"languages": ["en"]}]}).json()
    sid = trusted["subscriber"]["id"]
    assert server.request("PATCH", f"/v1/subscribers/{sid}", {"trusted": True},
                          token=editor).status == 200
    untrusted = server.post("/v1/subscribers", {"kind": "outlet", "name": "Other Desk",
                                                "filters": [{"languages": ["en"]}]}).json()
    t = Follower(server, env=wire_env(server, trusted["token"]))
    u = Follower(server, "--json", env=wire_env(server, untrusted["token"]))
    try:
        wait_for_streams(server, 2)
        rel = server.create(issuer, headline="Results under embargo",
                            embargo_until="2099-01-01T00:00:00Z")
        server.post(f"/v1/releases/{rel['id']}/submit", token=issuer)
        r = server.post(f"/v1/releases/{rel['id']}/approve", token=editor)
        assert r.json()["state"] == "embargoed", r
        line = t.next_line(timeout=5)
        assert re.fullmatch(r"EMBARGOED until 2099-01-01T00:00:00(\.000)?Z \[en\] "
                            r"Results under embargo — http://\S+/en/releases/" + rel["id"],
                            line), line
        u.quiet_for(1)
        pub = server.publish(issuer, editor, headline="Public now")
        assert TAIL_LINE.match(t.next_line()).group(7) == pub["id"]
        ev = json.loads(u.next_line())
        assert ev["release"]["id"] == pub["id"] and ev["kind"] == "publish"
        assert ev["item"]["headlines"][0]["value"] == "Public now"
    finally:
        assert t.stop() == 0, t.stderr
        assert u.stop() == 0, u.stderr


def test_tail_stops_promptly_on_a_signal(server):
    for sig in (signal.SIGTERM, signal.SIGINT):
        # The first tail's stream may still be counted until the server
        # notices that it closed.
        wait_for_streams(server, 0, exactly=True)
        f = Follower(server)
        wait_for_streams(server, 1)
        t0 = time.time()
        f.proc.send_signal(sig)
        assert f.proc.wait(timeout=5) == 0
        assert time.time() - t0 < 3
        f.stop()


def test_tail_against_a_dead_server_once(server):
    dead = f"http://127.0.0.1:{free_port()}"
    p = run(server, "tail", "--once", "--from-start", "--server", dead)
    assert p.returncode == 1 and p.stdout == ""
    assert "cannot reach" in p.stderr and dead in p.stderr, p.stderr


def test_tail_rejects_a_bad_filter(server):
    p = run(server, "tail", "--once", "--from-start", "--language", "klingon",
            env=wire_env(server))
    assert p.returncode == 1 and "language" in p.stderr and "HTTP 400" in p.stderr, p.stderr


@pytest.mark.parametrize("args, message", [
    (["--after", "x"], "--after needs a sequence number"),
    (["--after", "1", "--from-start"], "one of --after and --from-start"),
    (["--language"], "needs a value"),
    (["--json=yes"], "takes no value"),
    (["--follow"], "unknown option '--follow'"),
    (["somewhere"], "unexpected argument"),
])
def test_tail_usage_errors(server, args, message):
    p = run(server, "tail", *args, env=wire_env(server))
    assert p.returncode == 2 and message in p.stderr, p.stderr


# ---------------------------------------------------------------- help

@pytest.mark.parametrize("args, words", [
    (["--help"], ["serve", "submit", "tail", "user add", "token create", "routes"]),
    (["help"], ["serve", "submit", "tail"]),
    (["submit", "--help"], ["FILE.md", "--server", "--token", "--draft", "--dry-run",
                            "KAWAT_SERVER", "KAWAT_TOKEN", "Idempotency-Key", "headline",
                            "sectors", "Exit status"]),
    (["submit", "-h"], ["--server", "--draft"]),
    (["tail", "--help"], ["--server", "--token", "--after", "--from-start", "--language",
                          "--sector", "--region", "--issuer", "--keyword", "--json", "--once",
                          "KAWAT_SERVER", "#SEQ", "EMBARGOED until", "Last-Event-ID",
                          "Exit status"]),
    (["token", "--help"], ["token create", "--data", "--role", "--name", "--issuer", "--user",
                           "KAWAT_DATA", "Bearer"]),
    (["token", "create", "--help"], ["--data", "--role", "--name", "--user", "KAWAT_DATA"]),
    (["user", "--help"], ["user add", "--data", "--role", "--name", "--email",
                          "--password-stdin"]),
    (["serve", "--help"], ["--listen", "--data", "--longpoll-max", "KAWAT_LISTEN"]),
])
def test_help_explains_the_options(server, args, words):
    p = server.kawat(*args)
    assert p.stderr == ""
    for w in words:
        assert w in p.stdout, f"{w!r} missing from kawat {' '.join(args)}:\n{p.stdout}"


def test_unknown_command_is_a_usage_error(server):
    p = run(server, "sumbit", "x.md")
    assert p.returncode == 2 and "unknown command" in p.stderr and "Usage" in p.stderr
    assert run(server).returncode == 2


def test_version(server):
    assert re.fullmatch(r"kawat \d+\.\d+\.\d+\n", server.kawat("version").stdout)
