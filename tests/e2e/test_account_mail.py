"""Password-reset and invitation mails sent for real: the server runs with
--smtp to an aiosmtpd server on loopback, and the links in the mails that
arrive work. These "notice" mails go through the e-mail engine's durable
outbox: plain text, a fresh Message-ID each, not a list, and a 5xx for
one never marks a journalist's address bounced."""
import re
import time

from test_accounts import PASSWORD, Browser, add_user, form_csrf
from test_mail import mail_server, metric, publish, signup, smtp  # noqa: F401

LINK = re.compile(r"http://127\.0\.0\.1:(\d+)(/(?:reset|invite)/[0-9a-z]+)")


def account_server(make_server, smtp, *users):
    """A server sending mail to smtp, with users ((role, email, name)...)."""
    server = mail_server(make_server, smtp)
    server.stop()
    for role, addr, name in users:
        add_user(server, role, addr, name)
    server.start()
    return server


def plain(msg):
    """The text of a notice: one text/plain part, UTF-8, not a list."""
    assert msg.get_content_type() == "text/plain", msg.get_content_type()
    assert msg.get_content_charset() == "utf-8"
    assert msg["List-Unsubscribe"] is None and msg["List-Id"] is None
    assert msg["From"].addresses[0].addr_spec == "alerts@wire.example"
    assert re.fullmatch(r"<n[0-9a-z]{20}@127\.0\.0\.1>", msg["Message-ID"]), msg["Message-ID"]
    return msg.get_content()


def mailed_link(server, text, kind):
    found = [m for m in LINK.finditer(text) if m.group(2).startswith(f"/{kind}/")]
    assert found, text
    assert int(found[-1].group(1)) == server.port
    return found[-1].group(2)


def test_password_reset_mail_arrives_and_its_link_works(make_server, smtp):
    server = account_server(make_server, smtp, ("issuer", "iris@example.com", "Iris Issuer"))
    b = Browser(server)
    status, _, page = b.post("/reset", {"csrf": b.csrf("/reset"), "email": "Iris@example.com"})
    assert status == 200 and "one hour" in page
    msg = smtp.wait_to("iris@example.com")[-1]
    assert msg["To"].addresses[0].addr_spec == "iris@example.com"
    assert msg["Subject"] == "Reset your kawat password"
    assert msg["Content-Language"] == "en"
    link = mailed_link(server, plain(msg), "reset")
    status, _, page = b.get(link)
    assert status == 200 and 'autocomplete="new-password"' in page
    status, _, page = b.post(link, {"csrf": form_csrf(page), "password": "a new long passphrase"})
    assert status == 200 and "log in now" in page
    assert Browser(server).login("iris@example.com", "a new long passphrase")[0] == 303
    # nothing went to the mail log or to standard error instead
    assert not (server.dir / "mail.log").exists()

    # another request: another mail, another Message-ID; the subject in
    # the person's language, RFC 2047 encoded
    ar = Browser(server, lang="ar")
    ar.post("/reset", {"csrf": ar.csrf("/reset"), "email": "iris@example.com"})
    msgs = smtp.wait_to("iris@example.com", 2)
    again = msgs[-1]
    assert again["Message-ID"] != msg["Message-ID"]
    assert again["Content-Language"] == "ar"
    assert again["Subject"] == "إعادة تعيين كلمة مرور kawat"
    assert b"=?UTF-8?B?" in again.raw
    second = mailed_link(server, plain(again), "reset")
    assert second != link and b.get(second)[0] == 200
    assert smtp.rcpt_attempts["iris@example.com"] == 2


def test_invitation_mail_arrives_and_its_link_works(make_server, smtp):
    server = account_server(make_server, smtp, ("admin", "ada@example.com", "Ada Admin"))
    admin = Browser(server)
    assert admin.login("ada@example.com", PASSWORD)[0] == 303
    status, _, page = admin.post("/admin/invites", {
        "csrf": form_csrf(admin.get("/admin/invites")[2]), "email": "rina@example.com",
        "role": "editor", "name": "Rina"})
    assert status == 200 and "on its way to rina@example.com" in page
    msg = smtp.wait_to("rina@example.com")[-1]
    text = plain(msg)
    assert "as Editor" in text
    link = mailed_link(server, text, "invite")
    rina = Browser(server)
    status, _, page = rina.get(link)
    assert status == 200 and "rina@example.com" in page and 'value="Rina"' in page
    status, h, _ = rina.post(link, {"csrf": form_csrf(page), "name": "Rina Editor",
                                    "password": "twelve chars!"})
    assert status == 303 and h["location"] == "/account"
    assert 'data-role="editor"' in rina.get("/account")[2]


def test_a_refused_notice_is_no_bounce_of_a_journalist(make_server, smtp):
    """The address of a journalist with alerts refuses an invitation (550):
    the notice fails for good, the journalist stays active and still gets
    alerts once the address works again."""
    server = account_server(make_server, smtp, ("admin", "ada@example.com", "Ada Admin"))
    signup(server, smtp, "jo@example.com", [{}])
    smtp.reject.add("jo@example.com")
    admin = Browser(server)
    admin.login("ada@example.com", PASSWORD)
    status, _, _ = admin.post("/admin/invites", {
        "csrf": form_csrf(admin.get("/admin/invites")[2]), "email": "jo@example.com",
        "role": "editor", "name": "Jo"})
    assert status == 200
    smtp.wait(lambda _: metric(server, 'kawat_mail_failures_total{kind="permanent"}') == 1,
              what="the refused invitation")
    assert smtp.rcpt_attempts["jo@example.com"] == 2  # confirmation + the invitation, once
    assert metric(server, 'kawat_mail_recipients{state="bounced"}') == 0
    assert metric(server, 'kawat_mail_recipients{state="active"}') == 1
    smtp.reject.discard("jo@example.com")
    publish(server, headline="Still news for Jo")
    msgs = smtp.wait_to("jo@example.com", 2)
    assert "Still news for Jo" in msgs[-1]["Subject"]
    time.sleep(0.3)
    assert metric(server, "kawat_mail_pending") == 0
