import Foundation
import GRDB
import HearthCore

extension SQLiteStore: CaseworkStore {
    static func staffRecord(_ row: Row) -> StaffRecord {
        let role: String = row["role"]
        let totp: Data = row["totp_secret"]
        return StaffRecord(
            identity: StaffIdentity(id: row["id"], username: row["username"], role: Role(rawValue: role) ?? .admin, pseudonym: row["pseudonym"]),
            passwordHash: row["password_hash"], sealedTOTPSecret: Array(totp), totpLastStep: row["totp_last_step"],
            mustChangePassword: (row["must_change_password"] as Int64) != 0, disabled: (row["disabled"] as Int64) != 0,
            failedLogins: Int(row["failed_logins"] as Int64), lockedUntil: row["locked_until"])
    }

    public func addStaff(
        username: String, role: Role, pseudonym: String, passwordHash: String, sealedTOTPSecret: [UInt8],
        audit: @Sendable (Int64) -> AuditEvent, at: Int64
    ) async throws -> Int64? {
        try await pool.write { db in
            let taken = try Bool.fetchOne(db, sql: "SELECT 1 FROM staff WHERE username = ? OR pseudonym = ?", arguments: [username, pseudonym])
            guard taken == nil else { return nil }
            try db.execute(
                sql: "INSERT INTO staff (username, role, pseudonym, password_hash, totp_secret, created) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [username, role.rawValue, pseudonym, passwordHash, Data(sealedTOTPSecret), at])
            let id = db.lastInsertedRowID
            try Self.appendAudit(audit(id), at: at, db)
            return id
        }
    }

    public func staff(username: String) async throws -> StaffRecord? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM staff WHERE username = ?", arguments: [username]).map(Self.staffRecord) }
    }

    public func staff(id: Int64) async throws -> StaffRecord? {
        try await pool.read { db in try Row.fetchOne(db, sql: "SELECT * FROM staff WHERE id = ?", arguments: [id]).map(Self.staffRecord) }
    }

    public func allStaff() async throws -> [StaffRecord] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM staff ORDER BY username").map(Self.staffRecord) }
    }

    public func recordLoginFailure(staffID: Int64?, lockUntil: Int64?, audit: AuditEvent, at: Int64) async throws {
        try await pool.write { db in
            if let staffID {
                try db.execute(
                    sql: "UPDATE staff SET failed_logins = failed_logins + 1, locked_until = max(locked_until, ?) WHERE id = ?",
                    arguments: [lockUntil ?? 0, staffID])
            }
            try Self.appendAudit(audit, at: at, db)
        }
    }

    public func recordLoginSuccess(staffID: Int64, totpStep: Int64, sessionTokenHash: [UInt8], audit: AuditEvent, at: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE staff SET totp_last_step = ?, failed_logins = 0, locked_until = 0 WHERE id = ? AND totp_last_step < ? AND disabled = 0",
                arguments: [totpStep, staffID, totpStep])
            guard db.changesCount == 1 else { return false }
            try db.execute(
                sql: "INSERT INTO sessions (token_hash, staff_id, created, last_seen) VALUES (?, ?, ?, ?)",
                arguments: [Data(sessionTokenHash), staffID, at, at])
            try Self.appendAudit(audit, at: at, db)
            return true
        }
    }

    public func setPassword(
        staffID: Int64, passwordHash: String, mustChange: Bool, keepingSession: [UInt8]?, audit: AuditEvent, at: Int64
    ) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE staff SET password_hash = ?, must_change_password = ? WHERE id = ?",
                arguments: [passwordHash, mustChange ? 1 : 0, staffID])
            if let keepingSession {
                try db.execute(
                    sql: "DELETE FROM sessions WHERE staff_id = ? AND token_hash != ?", arguments: [staffID, Data(keepingSession)])
            }
            try Self.appendAudit(audit, at: at, db)
        }
    }

    public func setDisabled(staffID: Int64, disabled: Bool, audit: AuditEvent, at: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE staff SET disabled = ? WHERE id = ?", arguments: [disabled ? 1 : 0, staffID])
            if disabled { try db.execute(sql: "DELETE FROM sessions WHERE staff_id = ?", arguments: [staffID]) }
            try Self.appendAudit(audit, at: at, db)
        }
    }

    public func resetCredentials(staffID: Int64, passwordHash: String, sealedTOTPSecret: [UInt8], audit: AuditEvent, at: Int64) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    UPDATE staff SET password_hash = ?, totp_secret = ?, totp_last_step = 0, must_change_password = 1,
                    failed_logins = 0, locked_until = 0 WHERE id = ?
                    """,
                arguments: [passwordHash, Data(sealedTOTPSecret), staffID])
            try db.execute(sql: "DELETE FROM sessions WHERE staff_id = ?", arguments: [staffID])
            try Self.appendAudit(audit, at: at, db)
        }
    }

    public func session(tokenHash: [UInt8]) async throws -> StoredSession? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT staff_id, created, last_seen FROM sessions WHERE token_hash = ?", arguments: [Data(tokenHash)]).map {
                StoredSession(staffID: $0["staff_id"], created: $0["created"], lastSeen: $0["last_seen"])
            }
        }
    }

    public func touchSession(tokenHash: [UInt8], at: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: "UPDATE sessions SET last_seen = ? WHERE token_hash = ?", arguments: [at, Data(tokenHash)])
        }
    }

    public func deleteSession(tokenHash: [UInt8], audit: AuditEvent?, at: Int64) async throws {
        try await pool.write { db in
            try db.execute(sql: "DELETE FROM sessions WHERE token_hash = ?", arguments: [Data(tokenHash)])
            if let audit, db.changesCount == 1 { try Self.appendAudit(audit, at: at, db) }
        }
    }

    public func caseSummaries(today day: Day) async throws -> [CaseSummary] {
        let today = day.description
        return try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT r.id, r.created_hour, r.region, r.status, r.assignee, s.username, r.paused,
                      CASE WHEN r.paused_until IS NULL OR r.paused_until >= ? THEN r.paused_until END AS paused_until,
                      r.paused AND (r.paused_until IS NULL OR r.paused_until >= ?) AS paused_now,
                      (SELECT group_concat(scope) FROM consent_wraps w WHERE w.record_rid = r.rid AND (w.expires IS NULL OR w.expires >= ?)
                        AND \(Self.boundWrap)) AS scopes
                    FROM records r LEFT JOIN staff s ON s.id = r.assignee ORDER BY r.created_hour, r.rid
                    """, arguments: [today, today, today]
            ).map { row in
                let id: Data = row["id"]
                let region: String? = row["region"]
                let scopes: String? = row["scopes"]
                return CaseSummary(
                    reference: RecordID(bytes: Array(id))!.reference, createdHour: row["created_hour"],
                    region: region.flatMap(Region.init(rawValue:)),
                    status: CaseStatus(rawValue: row["status"]) ?? .new,
                    liveScopes: (scopes ?? "").split(separator: ",").compactMap { Scope(rawValue: String($0)) }.sorted(),
                    assignee: row["username"], assigneeID: row["assignee"],
                    pause: row["paused_now"] as Bool? == true ? ContactPause(until: (row["paused_until"] as String?).flatMap(Day.init(iso:))) : nil)
            }
        }
    }

    public func caseRecord(id: RecordID) async throws -> (record: StoredRecord, assignee: Int64?)? {
        try await pool.read { db in try Self.record(where: "id", is: id.bytes, db) }
    }

    public func assign(recordID: RecordID, to staffID: Int64, audit: AuditEvent, at: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE records SET assignee = ? WHERE id = ?", arguments: [staffID, Data(recordID.bytes)])
            guard db.changesCount == 1 else { return false }
            try Self.appendAudit(audit, at: at, db)
            return true
        }
    }

    public func setStatus(recordID: RecordID, status: CaseStatus, audit: AuditEvent, at: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(sql: "UPDATE records SET status = ? WHERE id = ?", arguments: [status.rawValue, Data(recordID.bytes)])
            guard db.changesCount == 1 else { return false }
            try Self.appendAudit(audit, at: at, db)
            return true
        }
    }

    public func addSurvivorMessage(
        lookup: [UInt8], scope: Scope, noteID: [UInt8], sealed: [UInt8], audit: AuditEvent, at: Int64
    ) async throws -> Bool {
        try await pool.write { db in
            guard let rid = try Self.rid(lookup: lookup, db) else { return false }
            // Only to a group the survivor shares the request with on that day (UTC), as in PostgreSQL.
            let live = try Bool.fetchOne(
                db,
                sql: "SELECT 1 FROM consent_wraps w WHERE record_rid = ? AND scope = ? AND (expires IS NULL OR expires >= ?) AND \(Self.boundWrap)",
                arguments: [rid, scope.rawValue, Day(unixSeconds: at).description])
            guard live != nil else { return false }
            try db.execute(
                sql: "INSERT INTO messages (record_rid, scope, note_id, from_survivor, staff_id, at, sealed) VALUES (?, ?, ?, 1, NULL, ?, ?)",
                arguments: [rid, scope.rawValue, Data(noteID), at, Data(sealed)])
            try Self.appendAudit(audit, at: at, db)
            return true
        }
    }

    public func addStaffReply(
        recordID: RecordID, scope: Scope, noteID: [UInt8], sealed: [UInt8], check: GrantCheck, audit: AuditEvent, at: Int64
    ) async throws -> GuardedWrite {
        try await addNote(
            recordID, sql: "INSERT INTO messages (record_rid, scope, note_id, from_survivor, staff_id, at, sealed) VALUES (?, ?, ?, 0, ?, ?, ?)",
            values: [scope.rawValue, Data(noteID), check.staffID, at, Data(sealed)], check: check, audit: audit, at: at)
    }

    public func messages(recordID: RecordID, scope: Scope) async throws -> [StoredNote] {
        try await notes(of: "id", recordID.bytes, sql: Self.messagesSQL + " AND m.scope = ? ORDER BY m.seq", extra: [scope.rawValue])
    }

    public func messages(lookup: [UInt8]) async throws -> [StoredNote] {
        try await notes(of: "lookup", lookup, sql: Self.messagesSQL + " ORDER BY m.seq")
    }

    /// The messages of the record whose `{column}` is the argument (the caller adds the order).
    static let messagesSQL = """
        SELECT m.note_id, CASE WHEN m.from_survivor THEN 'survivor' ELSE 'staff' END AS author, m.at, m.sealed, s.pseudonym, s.role,
          m.scope
        FROM messages m LEFT JOIN staff s ON s.id = m.staff_id
        WHERE m.record_rid = (SELECT rid FROM records WHERE {column} = ?)
        """

    public func addAccess(
        recordID: RecordID, noteID: [UInt8], role: Role, sealedReason: [UInt8], check: GrantCheck, audit: AuditEvent, at: Int64
    ) async throws -> GuardedWrite {
        try await addNote(
            recordID, sql: "INSERT INTO access_log (record_rid, note_id, staff_id, role, at, sealed_reason) VALUES (?, ?, ?, ?, ?, ?)",
            values: [Data(noteID), check.staffID, role.rawValue, at, Data(sealedReason)], check: check, audit: audit, at: at)
    }

    public func accessLog(lookup: [UInt8]) async throws -> [StoredNote] {
        try await notes(
            of: "lookup", lookup,
            sql: """
                SELECT a.note_id, 'staff' AS author, a.at, a.sealed_reason AS sealed, s.pseudonym, a.role
                FROM access_log a JOIN staff s ON s.id = a.staff_id
                WHERE a.record_rid = (SELECT rid FROM records WHERE {column} = ?) ORDER BY a.seq
                """)
    }

    /// Inserts a sealed note (`sql` takes the record's row id, then `values`) and its audit event,
    /// in one transaction; false if the record is gone.
    func addNote(
        _ recordID: RecordID, sql: String, values: [(any DatabaseValueConvertible)?], check: GrantCheck, audit: AuditEvent, at: Int64
    ) async throws -> GuardedWrite {
        let arguments = StatementArguments(values)
        return try await pool.write { db in
            guard let rid = try Self.rid(of: recordID, db) else { return .recordGone }
            if let refusal = try Self.refusal(of: check, rid: rid, db) { return refusal }
            try db.execute(sql: sql, arguments: [rid] + arguments)
            try Self.appendAudit(audit, at: at, db)
            return .done
        }
    }

    /// Why `check` no longer holds in this transaction, or nil when it does: the same wrap (scope,
    /// version and bytes) still stored and live on the check's day, and the same assignee.
    static func refusal(of check: GrantCheck, rid: Int64, _ db: Database) throws -> GuardedWrite? {
        let w = check.wrap
        let live = try Bool.fetchOne(
            db,
            sql: """
                SELECT 1 FROM consent_wraps w WHERE record_rid = ? AND scope = ? AND key_version = ? AND wrap = ?
                AND (expires IS NULL OR expires >= ?) AND \(boundWrap)
                """, arguments: [rid, w.scope.rawValue, Int64(w.keyVersion), Data(w.wrap), check.today.description])
        guard live != nil else { return .consentGone }
        guard let row = try Row.fetchOne(db, sql: "SELECT assignee, paused, paused_until FROM records WHERE rid = ?", arguments: [rid]),
            row["assignee"] as Int64? == check.staffID
        else { return .notAssigned }
        if check.refusesPause, let pause = pause(row), pause.isActive(on: check.today) { return .contactPaused(pause) }
        return nil
    }

    /// Sealed notes selected by `sql` (columns note_id, author, at, sealed, pseudonym, role) for
    /// the record whose `column` (`id` or `lookup`, put in for `{column}`) holds `value`.
    private func notes(of column: String, _ value: [UInt8], sql: String, extra: [String] = []) async throws -> [StoredNote] {
        precondition(column == "id" || column == "lookup")
        let sql = sql.replacingOccurrences(of: "{column}", with: column)
        return try await pool.read { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments([Data(value)] + extra.map { $0 as any DatabaseValueConvertible })).map {
                row in
                let note: Data = row["note_id"]
                let sealed: Data = row["sealed"]
                let role: String? = row["role"]
                let scope: String? = row.hasColumn("scope") ? row["scope"] : nil
                return StoredNote(
                    noteID: Array(note), author: row["author"], pseudonym: row["pseudonym"], role: role.flatMap(Role.init(rawValue:)), at: row["at"],
                    sealed: Array(sealed), scope: scope.flatMap(Scope.init(rawValue:)))
            }
        }
    }

    public func appendAudit(_ event: AuditEvent, at: Int64) async throws {
        try await pool.write { db in try Self.appendAudit(event, at: at, db) }
    }

    public func auditHead() async throws -> (seq: Int64, hash: [UInt8])? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").map { row in
                let hash: Data = row["hash"]
                return (row["seq"], Array(hash))
            }
        }
    }

    public func auditEntries() async throws -> [AuditEntry] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY seq").map(Self.auditEntry) }
    }

    public func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit]).map(Self.auditEntry)
        }
    }

    public func auditCheckpoints() async throws -> [AuditCheckpoint] {
        try await pool.read { db in try Row.fetchAll(db, sql: "SELECT * FROM audit_checkpoints ORDER BY seq").map(Self.auditCheckpoint) }
    }

    public func auditCheckpoints(after seq: Int64, limit: Int) async throws -> [AuditCheckpoint] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM audit_checkpoints WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit])
                .map(Self.auditCheckpoint)
        }
    }

    public func lastAuditCheckpoint() async throws -> AuditCheckpoint? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM audit_checkpoints ORDER BY seq DESC LIMIT 1").map(Self.auditCheckpoint)
        }
    }

    static func auditEntry(_ row: Row) -> AuditEntry {
        let previous: Data = row["previous_hash"]
        let hash: Data = row["hash"]
        return AuditEntry(
            seq: row["seq"], at: row["at"],
            event: AuditEvent(
                actor: row["actor"], role: row["role"], action: row["action"], subject: row["subject"], scope: row["scope"],
                outcome: row["outcome"]),
            previousHash: Array(previous), hash: Array(hash))
    }

    static func auditCheckpoint(_ row: Row) -> AuditCheckpoint {
        let hash: Data = row["hash"]
        let signature: Data = row["signature"]
        let version: Int64 = row["key_version"]
        return AuditCheckpoint(seq: row["seq"], hash: Array(hash), at: row["at"], keyVersion: UInt32(version), signature: Array(signature))
    }

    public func addCheckpoint(_ c: AuditCheckpoint) async throws {
        try await pool.write { db in
            try db.execute(
                sql: "INSERT OR IGNORE INTO audit_checkpoints (seq, hash, at, key_version, signature) VALUES (?, ?, ?, ?, ?)",
                arguments: [c.seq, Data(c.hash), c.at, Int64(c.keyVersion), Data(c.signature)])
        }
    }
}

extension SQLiteStore: RewrapStore {
    // The cursor is the record's row id: the (scope, key_version, record_rid) index serves the scan.
    public func wrapsToRewrap(scope: Scope, version: UInt32, after cursor: RewrapCursor?, limit: Int) async throws -> [WrapToRewrap] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT w.record_rid, r.id, r.commitment, w.wrap, w.conversation_wrap FROM consent_wraps w JOIN records r ON r.rid = w.record_rid
                    WHERE w.scope = ? AND w.key_version = ? AND w.record_rid > ? ORDER BY w.record_rid LIMIT ?
                    """, arguments: [scope.rawValue, Int64(version), cursor?.position ?? 0, limit]
            ).map { row in
                let id: Data = row["id"]
                let commitment: Data = row["commitment"]
                let wrap: Data = row["wrap"]
                let conversation: Data = row["conversation_wrap"]
                return WrapToRewrap(
                    cursor: RewrapCursor(position: row["record_rid"]), recordID: RecordID(bytes: Array(id))!, commitment: Array(commitment),
                    scope: scope, keyVersion: version, wrap: Array(wrap), conversationWrap: Array(conversation))
            }
        }
    }

    public func replaceWraps(_ updates: [RewrappedWrap]) async throws -> Int {
        try await pool.write { db in
            var n = 0
            let statement = try db.cachedStatement(
                sql: """
                    UPDATE consent_wraps SET wrap = ?, conversation_wrap = ?, key_version = ?
                    WHERE record_rid = ? AND scope = ? AND key_version = ? AND wrap = ?
                    """)
            for u in updates {
                try statement.execute(arguments: [
                    Data(u.newWrap), Data(u.newConversationWrap), Int64(u.newVersion), u.old.cursor.position, u.old.scope.rawValue,
                    Int64(u.old.keyVersion), Data(u.old.wrap),
                ])
                n += db.changesCount
            }
            return n
        }
    }

    public func wrapCounts() async throws -> [Scope: [UInt32: Int]] {
        try await pool.read { db in
            var out: [Scope: [UInt32: Int]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT scope, key_version, count(*) AS n FROM consent_wraps GROUP BY scope, key_version") {
                let scope: String = row["scope"]
                let version: Int64 = row["key_version"]
                if let s = Scope(rawValue: scope) { out[s, default: [:]][UInt32(version)] = row["n"] }
            }
            return out
        }
    }
}
