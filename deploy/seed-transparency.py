#!/usr/bin/env python3
"""Seeds a scratch Hearth SQLite store with a few thousand realistic records over several
closed months, for the transparency figures (SECURITY.md §13). Never run it on a real store.

What it writes is what the service would have written, metadata for metadata: records with a
creation hour, a region for most, a status; consent grants, withdrawals and end dates with
their wraps; erasures and retention shreds (the record row gone, its audit entries kept);
status changes and first staff replies; and every audit entry on a valid hash chain
(SECURITY.md §3.16, so `hearth audit verify` passes). The sealed parts (body, wraps, survivor
wrap) are random bytes of the right sizes: nobody can open these records, and nothing a
survivor could have written exists.

Usage: seed-transparency.py DATABASE [--months 6] [--per-month 600] [--seed 1] [--audit-only]
--audit-only writes the audit entries alone, no record rows (the figures are the same but for
regions, which then all count as "not given or erased"): the browser tests use it so that the
staff queue holds only their own cases.
DATABASE must already exist with Hearth's schema (deploy/seed-transparency.sh makes one).
"""
import argparse
import datetime
import hashlib
import os
import random
import sqlite3
import struct
import sys

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REGIONS = [("north-east", 4), ("north-west", 11), ("yorkshire-humber", 8), ("east-midlands", 7), ("west-midlands", 9),
           ("east", 9), ("london", 15), ("south-east", 13), ("south-west", 8), ("wales", 5), ("scotland", 8),
           ("northern-ireland", 3)]
SCOPES = [("support", 0.8), ("review", 0.45), ("police", 0.2), ("prosecution", 0.1)]


def reference(rid: bytes) -> str:
    n = int.from_bytes(rid, "big")
    s = "".join(CROCKFORD[(n >> (5 * (15 - i))) & 31] for i in range(16))
    return "HR-" + "-".join(s[i:i + 4] for i in range(0, 16, 4))


def field(text: str) -> bytes:
    b = text.encode()
    return struct.pack(">H", len(b)) + b


def chain_hash(previous: bytes, seq: int, at: int, actor, role, action, subject, scope, outcome) -> bytes:
    data = (b"hearth/v1/audit" + previous + struct.pack(">Q", seq) + struct.pack(">q", at)
            + field(actor) + field(role) + field(action) + field(subject) + field(scope) + field(outcome))
    return hashlib.blake2b(data, digest_size=32).digest()


def month_starts(months: int):
    today = datetime.date.today()
    y, m = today.year, today.month
    out = []
    for _ in range(months):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        out.append((y, m))
    return list(reversed(out))


def epoch(y, m, d=1):
    return int(datetime.datetime(y, m, d, tzinfo=datetime.timezone.utc).timestamp())


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("database")
    p.add_argument("--months", type=int, default=6)
    p.add_argument("--per-month", type=int, default=600)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--audit-only", action="store_true")
    a = p.parse_args()
    if not os.path.exists(a.database):
        sys.exit(f"seed-transparency: failed to open '{a.database}': no such database\nhint: run deploy/seed-transparency.sh")
    rng = random.Random(a.seed)
    db = sqlite3.connect(a.database)
    db.execute("PRAGMA foreign_keys = ON")
    if db.execute("SELECT count(*) FROM records").fetchone()[0] or db.execute("SELECT count(*) FROM audit").fetchone()[0] > 50:
        sys.exit("seed-transparency: refusing: this store already holds records (seed only a scratch store)")
    staff = [(i, role) for i, role in enumerate(["caseworker"] * 6 + ["reviewer"] * 2 + ["supervisor"], start=1)]
    audit = []  # (at, actor, role, action, subject, scope, outcome)
    rows = []   # records kept: (id, created_hour, region, status, consents[(scope, grant_at, live, expires)])
    now = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
    months = month_starts(a.months)
    growth = 1.0
    for (y, m) in months:
        start = epoch(y, m)
        end = epoch(y + (m == 12), m % 12 + 1)
        count = int(a.per_month * growth * rng.uniform(0.85, 1.15))
        growth *= 1.08
        for _ in range(count):
            rid = os.urandom(10)
            ref = reference(rid)
            hour = start + rng.randrange(0, end - start) // 3600 * 3600
            region = rng.choices([r for r, _ in REGIONS], [w for _, w in REGIONS])[0] if rng.random() < 0.7 else None
            audit.append((hour, "survivor", "", "record.create", ref, "", "ok"))
            consents = []
            for scope, chance in SCOPES:
                if rng.random() < chance:
                    audit.append((hour, "survivor", "", "consent.grant", ref, scope, "ok"))
                    consents.append([scope, hour, True, None])
            status = "new"
            caseworker = rng.choice(staff[:6])
            if consents and consents[0][0] == "support" and rng.random() < 0.85:
                # First reply: most within days, a long tail.
                delay = int(rng.lognormvariate(11.4, 0.9))
                reply_at = hour + max(600, delay)
                if reply_at < now - 3600:
                    audit.append((reply_at, f"staff:{caseworker[0]}", "caseworker", "case.reply", ref, "support", "ok"))
                    status = "in-progress"
                    audit.append((reply_at + 60, f"staff:{caseworker[0]}", "caseworker", "case.status", ref, "support", status))
                    later = reply_at + rng.randrange(86400 * 5, 86400 * 80)
                    if later < now - 3600:
                        status = rng.choice(["waiting", "closed", "in-progress", "closed"])
                        audit.append((later, f"staff:{caseworker[0]}", "caseworker", "case.status", ref, "support", status))
            for c in consents:
                if rng.random() < 0.07:
                    at = (c[1] + rng.randrange(86400, 86400 * 120)) // 3600 * 3600
                    if at < now - 3600:
                        audit.append((at, "survivor", "", "consent.withdraw", ref, c[0], "ok"))
                        c[2] = False
            ended = None
            r = rng.random()
            if r < 0.025:
                ended = ((hour + rng.randrange(3600, 86400 * 90)) // 3600 * 3600, "survivor", "record.erase")
            elif r < 0.04 and not any(c[2] for c in consents):
                ended = ((hour + 86400 * 91) // 3600 * 3600, "system", "retention.shred")
            if ended and ended[0] < now - 3600:
                audit.append((ended[0], ended[1], "", ended[2], ref, "", "ok"))
            else:
                rows.append((rid, hour, region, status, consents))
    audit.sort(key=lambda e: e[0])
    with db:
        last = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        seq, previous = (last[0], last[1]) if last else (0, bytes(32))
        for (at, actor, role, action, subject, scope, outcome) in audit:
            seq += 1
            h = chain_hash(previous, seq, at, actor, role, action, subject, scope, outcome)
            db.execute("INSERT INTO audit (seq, at, actor, role, action, subject, scope, outcome, previous_hash, hash) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", (seq, at, actor, role, action, subject, scope, outcome, previous, h))
            previous = h
        for (rid, hour, region, status, consents) in ([] if a.audit_only else rows):
            live = [c for c in consents if c[2]]
            cur = db.execute(
                "INSERT INTO records (id, lookup, format, created_hour, region, status, commitment, body, survivor_wrap, no_consent_since) "
                "VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?)",
                (rid, os.urandom(32), hour, region, status, os.urandom(32), os.urandom(rng.choice([1064, 2088, 4136])), os.urandom(73),
                 None if live else hour))
            rrid = cur.lastrowid
            for scope, at, is_live, _ in consents:
                g = db.execute("INSERT INTO consent_events (record_rid, scope, action, at) VALUES (?, ?, 'granted', ?)", (rrid, scope, at))
                if is_live:
                    db.execute("INSERT INTO consent_wraps (record_rid, scope, key_version, wrap, conversation_wrap, grant_seq) "
                               "VALUES (?, ?, 1, ?, ?, ?)", (rrid, scope, os.urandom(105), os.urandom(105), g.lastrowid))
                else:
                    db.execute("INSERT INTO consent_events (record_rid, scope, action, at) VALUES (?, ?, 'withdrawn', ?)", (rrid, scope, at + 86400))
    created = sum(1 for e in audit if e[3] == "record.create")
    print(f"seeded {created} requests over {a.months} months ({months[0][0]}-{months[0][1]:02d} to {months[-1][0]}-{months[-1][1]:02d}); "
          f"{len(rows)} records held, {len(audit)} audit entries")


if __name__ == "__main__":
    main()
