import GRDB

/// The schema, as GRDB migrations: `STRICT` tables; children reference a record by its integer
/// row id; the audit tables refuse updates and deletes by trigger.
extension SQLiteStore {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1: records, consent wraps, consent events") { db in
            try db.execute(
                sql: """
                    CREATE TABLE records (
                        rid INTEGER PRIMARY KEY,
                        id BLOB NOT NULL UNIQUE CHECK (length(id) = 10),
                        lookup BLOB NOT NULL UNIQUE CHECK (length(lookup) = 32),
                        format INTEGER NOT NULL,
                        created_hour INTEGER NOT NULL,
                        region TEXT,
                        status TEXT NOT NULL DEFAULT 'new',
                        commitment BLOB NOT NULL CHECK (length(commitment) = 32),
                        body BLOB NOT NULL,
                        survivor_wrap BLOB NOT NULL,
                        no_consent_since INTEGER
                    ) STRICT;
                    CREATE TABLE consent_wraps (
                        record_rid INTEGER NOT NULL REFERENCES records(rid) ON DELETE CASCADE,
                        scope TEXT NOT NULL CHECK (scope IN ('support','review','police','prosecution')),
                        key_version INTEGER NOT NULL,
                        wrap BLOB NOT NULL,
                        expires TEXT,
                        PRIMARY KEY (record_rid, scope)
                    ) STRICT, WITHOUT ROWID;
                    CREATE INDEX consent_wraps_version ON consent_wraps(scope, key_version, record_rid);
                    CREATE INDEX consent_wraps_expires ON consent_wraps(expires) WHERE expires IS NOT NULL;
                    CREATE TABLE consent_events (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        record_rid INTEGER NOT NULL REFERENCES records(rid) ON DELETE CASCADE,
                        scope TEXT NOT NULL,
                        action TEXT NOT NULL CHECK (action IN ('granted','withdrawn','expired')),
                        expires TEXT,
                        at INTEGER NOT NULL
                    ) STRICT;
                    CREATE INDEX consent_events_record ON consent_events(record_rid);
                    CREATE INDEX records_no_consent ON records(no_consent_since) WHERE no_consent_since IS NOT NULL;
                    """)
        }
        m.registerMigration("v2: staff, sessions, assignment, messages, access log, audit trail") { db in
            try db.execute(
                sql: """
                    CREATE TABLE staff (
                        id INTEGER PRIMARY KEY,
                        username TEXT NOT NULL UNIQUE,
                        role TEXT NOT NULL,
                        pseudonym TEXT NOT NULL UNIQUE,
                        password_hash TEXT NOT NULL,
                        totp_secret BLOB NOT NULL,
                        totp_last_step INTEGER NOT NULL DEFAULT 0,
                        must_change_password INTEGER NOT NULL DEFAULT 1,
                        disabled INTEGER NOT NULL DEFAULT 0,
                        failed_logins INTEGER NOT NULL DEFAULT 0,
                        locked_until INTEGER NOT NULL DEFAULT 0,
                        created INTEGER NOT NULL
                    ) STRICT;
                    CREATE TABLE sessions (
                        token_hash BLOB PRIMARY KEY,
                        staff_id INTEGER NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
                        created INTEGER NOT NULL,
                        last_seen INTEGER NOT NULL
                    ) STRICT, WITHOUT ROWID;
                    ALTER TABLE records ADD COLUMN assignee INTEGER REFERENCES staff(id);
                    CREATE TABLE messages (
                        seq INTEGER PRIMARY KEY,
                        record_rid INTEGER NOT NULL REFERENCES records(rid) ON DELETE CASCADE,
                        note_id BLOB NOT NULL,
                        from_survivor INTEGER NOT NULL,
                        staff_id INTEGER REFERENCES staff(id),
                        at INTEGER NOT NULL,
                        sealed BLOB NOT NULL
                    ) STRICT;
                    CREATE INDEX messages_record ON messages(record_rid);
                    CREATE TABLE access_log (
                        seq INTEGER PRIMARY KEY,
                        record_rid INTEGER NOT NULL REFERENCES records(rid) ON DELETE CASCADE,
                        note_id BLOB NOT NULL,
                        staff_id INTEGER NOT NULL REFERENCES staff(id),
                        role TEXT NOT NULL,
                        at INTEGER NOT NULL,
                        sealed_reason BLOB NOT NULL
                    ) STRICT;
                    CREATE INDEX access_log_record ON access_log(record_rid);
                    CREATE TABLE audit (
                        seq INTEGER PRIMARY KEY,
                        at INTEGER NOT NULL,
                        actor TEXT NOT NULL,
                        role TEXT NOT NULL,
                        action TEXT NOT NULL,
                        subject TEXT NOT NULL,
                        scope TEXT NOT NULL,
                        outcome TEXT NOT NULL,
                        previous_hash BLOB NOT NULL,
                        hash BLOB NOT NULL
                    ) STRICT;
                    CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
                        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
                    CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
                        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
                    CREATE TABLE audit_checkpoints (
                        seq INTEGER PRIMARY KEY,
                        hash BLOB NOT NULL,
                        at INTEGER NOT NULL,
                        key_version INTEGER NOT NULL,
                        signature BLOB NOT NULL
                    ) STRICT;
                    CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
                        BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
                    CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
                        BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END;
                    """)
        }
        m.registerMigration("v3: consent wraps bound to their grant") { db in
            // Each wrap names the `granted` event it answers; existing wraps are bound to their
            // scope's latest grant.
            try db.execute(
                sql: """
                    ALTER TABLE consent_wraps ADD COLUMN grant_seq INTEGER NOT NULL DEFAULT 0;
                    UPDATE consent_wraps SET grant_seq = coalesce((SELECT max(seq) FROM consent_events e
                        WHERE e.record_rid = consent_wraps.record_rid AND e.scope = consent_wraps.scope AND e.action = 'granted'), 0);
                    CREATE INDEX consent_events_scope ON consent_events(record_rid, scope, seq);
                    """)
        }
        m.registerMigration("v4: published transparency months") { db in
            // SECURITY.md §13: a month's figures are stored once, when it closes, and never
            // changed, so later erasures cannot alter a published month or be read from one.
            try db.execute(
                sql: """
                    CREATE TABLE published_months (
                        month TEXT PRIMARY KEY CHECK (length(month) = 7),
                        computed_day TEXT NOT NULL,
                        figures BLOB NOT NULL
                    ) STRICT, WITHOUT ROWID;
                    CREATE TRIGGER published_months_no_update BEFORE UPDATE ON published_months
                        BEGIN SELECT RAISE(ABORT, 'published months are never changed'); END;
                    CREATE TRIGGER published_months_no_delete BEFORE DELETE ON published_months
                        BEGIN SELECT RAISE(ABORT, 'published months are never changed'); END;
                    """)
        }
        m.registerMigration("v5: a conversation per group, pauses of contact, interview invitations") { db in
            // SECURITY.md §3.13: each group's messages are sealed under that conversation's key,
            // whose wrap sits beside the group's consent wrap. Messages sealed under the record's
            // data key, and consent wraps without a conversation wrap, cannot be carried over
            // (only the survivor's receipt derives a conversation key), so a database holding
            // either is refused rather than silently changed. No deployment with real people
            // predates this.
            let messages = try Int.fetchOne(db, sql: "SELECT count(*) FROM messages") ?? 0
            let wraps = try Int.fetchOne(db, sql: "SELECT count(*) FROM consent_wraps") ?? 0
            if messages > 0 || wraps > 0 {
                throw SQLiteSchemaRefusal(messages: messages, wraps: wraps)
            }
            try db.execute(
                sql: """
                    ALTER TABLE consent_wraps ADD COLUMN conversation_wrap BLOB NOT NULL DEFAULT x''
                        CHECK (length(conversation_wrap) = 105);
                    ALTER TABLE messages ADD COLUMN scope TEXT NOT NULL DEFAULT 'support'
                        CHECK (scope IN ('support','review','police','prosecution'));
                    CREATE INDEX messages_conversation ON messages(record_rid, scope, seq);
                    ALTER TABLE records ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE records ADD COLUMN paused_until TEXT;
                    CREATE TABLE interviews (
                        seq INTEGER PRIMARY KEY,
                        record_rid INTEGER NOT NULL REFERENCES records(rid) ON DELETE CASCADE,
                        interview_id BLOB NOT NULL UNIQUE CHECK (length(interview_id) = 16),
                        scope TEXT NOT NULL CHECK (scope IN ('support','review','police','prosecution')),
                        staff_id INTEGER REFERENCES staff(id),
                        state TEXT NOT NULL
                            CHECK (state IN ('invited','accepted','times-proposed','question-asked','declined','withdrawn')),
                        times TEXT NOT NULL,
                        chosen INTEGER,
                        invited_at INTEGER NOT NULL,
                        answered_at INTEGER,
                        revision INTEGER NOT NULL DEFAULT 0,
                        invitation BLOB NOT NULL,
                        answer BLOB
                    ) STRICT;
                    CREATE INDEX interviews_conversation ON interviews(record_rid, scope, seq);
                    """)
        }
        return m
    }
}

/// Migration `v5` met data written in the format before conversations per group.
struct SQLiteSchemaRefusal: Error, CustomStringConvertible {
    let messages: Int
    let wraps: Int

    var description: String {
        "the database holds \(messages) message(s) and \(wraps) consent wrap(s) written before conversations per group "
            + "(SECURITY.md §3.13), which this version cannot open or carry over; start from a new, empty data directory "
            + "(no deployment with real people predates this change)"
    }
}
