#!/usr/bin/env python3
"""Seeds a stopped kawat's store with N confirmed journalists for e-mail
alerts (bench/mail.sh and tests/e2e/test_mail.py): one transaction of the
rows a confirmation makes (user, journalist subscriber, active recipient),
so that 86,000 of them take seconds instead of 86,000 sign-ups and clicks.
The server must have run once (the schema exists) and be stopped.

    mail_seed.py DATA_DIR N [--prefix j] [--domain example.com]
                 [--filters '[{"sectors":["business"]}]'] [--timing immediate]
"""
import argparse
import json
import secrets
import sqlite3
import time

ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


def rid(prefix):
    return prefix + "".join(secrets.choice(ALPHABET) for _ in range(15))


def seed(data_dir, n, prefix="j", domain="example.com", filters=None, timing="immediate",
         language="en", trusted=False):
    """Adds n journalists <prefix><i>@<domain>; returns their subscriber ids."""
    filters = json.dumps(filters if filters is not None else [{}])
    now = int(time.time() * 1000)
    db = sqlite3.connect(f"{data_dir}/kawat.db", timeout=30)
    last = db.execute("SELECT COALESCE(MAX(seq), 0) FROM wire").fetchone()[0]
    ids = []
    users, subs, recips = [], [], []
    for i in range(n):
        uid, sid = rid("u"), rid("s")
        email = f"{prefix}{i}@{domain}"
        users.append((uid, f"Journalist {prefix}{i}", "subscriber", now))
        subs.append((sid, "journalist", f"Journalist {prefix}{i}", email, 1 if trusted else 0,
                     filters, uid, now, now))
        recips.append((sid, email, language, timing, last, now, now))
        ids.append(sid)
    with db:
        db.executemany("INSERT INTO users (id, name, role, created_at) VALUES (?, ?, ?, ?)", users)
        db.executemany("INSERT INTO subscribers (id, kind, name, email, trusted, filters, user_id, "
                       "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", subs)
        db.executemany("INSERT INTO mail_recipients (subscriber_id, email, language, timing, state, "
                       "after_seq, created_at, updated_at) VALUES (?, ?, ?, ?, 'active', ?, ?, ?)",
                       recips)
    db.close()
    return ids


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir")
    ap.add_argument("n", type=int)
    ap.add_argument("--prefix", default="j")
    ap.add_argument("--domain", default="example.com")
    ap.add_argument("--filters", default='[{}]')
    ap.add_argument("--timing", default="immediate")
    a = ap.parse_args()
    seed(a.data_dir, a.n, a.prefix, a.domain, json.loads(a.filters), a.timing)


if __name__ == "__main__":
    main()
