public import HearthCore
import NIOCore
import PostgresNIO

/// The casework side's view of PostgreSQL, connected as `hearth_casework`: staff, sessions, the
/// case queue, assignment, replies, the access log, retention, re-wrapping and the audit chain.
/// It may insert audit rows and checkpoints but not change or delete them (the role has no such
/// privilege, and triggers refuse it even to the owner).
///
/// Every write takes one transaction-scoped advisory lock first, so casework writes are one at a
/// time, as with SQLite's single writer: the audit chain's head is read and extended without a
/// race, and no two writers wait on each other's rows.
public struct PostgresCaseworkStore: CaseworkStore, RetentionStore, RewrapStore {
    let db: PostgresDatabase

    /// The store over `db` (connected as `hearth_casework`, or as the owner on one host).
    public init(_ db: PostgresDatabase) { self.db = db }

    /// The advisory lock every casework write holds.
    static let writerLock: Int64 = 0x4845_4152_5448

    /// Runs `body` as the one casework writer.
    @discardableResult
    func write<T: Sendable>(_ body: @escaping @Sendable (Transaction) async throws -> T) async throws -> T {
        try await db.transaction { t in
            try await t.execute("SELECT pg_advisory_xact_lock(\(Self.writerLock))")
            return try await body(t)
        }
    }

    // MARK: The audit chain

    /// Chains the survivor events waiting in the inbox, then `events`, onto the audit trail
    /// inside `t` (which holds the writer lock). The new entries go in with one statement, so a
    /// busy intake's backlog costs one round trip, not one per entry.
    static func appendAudit(_ events: [AuditEvent], at: Int64, _ t: Transaction) async throws {
        let inbox = try await t.rows("DELETE FROM hearth.audit_inbox RETURNING seq, at, action, record_id, scope")
            .map { row in (seq: try row.value("seq", as: Int64.self), at: try row.value("at", as: Int64.self), event: try inboxEvent(row)) }
            .sorted { $0.seq < $1.seq }
        let all = inbox.map { ($0.event, $0.at) } + events.map { ($0, at) }
        guard !all.isEmpty else { return }
        let head = try await t.rows("SELECT seq, hash FROM hearth.audit ORDER BY seq DESC LIMIT 1").first
        var seq = try head?.value("seq", as: Int64.self) ?? 0
        var previous = try head?.bytes("hash") ?? AuditChain.genesis
        var rows = AuditRows()
        for (event, at) in all {
            seq += 1
            let hash = try AuditChain.hash(previous: previous, seq: seq, at: at, event: event)
            rows.append(seq: seq, at: at, event: event, previous: previous, hash: hash)
            previous = hash
        }
        try await t.execute(
            """
            INSERT INTO hearth.audit (seq, at, actor, role, action, subject, scope, outcome, previous_hash, hash)
            SELECT * FROM unnest(\(rows.seq)::bigint[], \(rows.at)::bigint[], \(rows.actor)::text[], \(rows.role)::text[],
              \(rows.action)::text[], \(rows.subject)::text[], \(rows.scope)::text[], \(rows.outcome)::text[],
              \(rows.previous)::bytea[], \(rows.hash)::bytea[])
            """)
    }

    /// New audit entries, column by column, for one `INSERT … SELECT unnest(…)`.
    struct AuditRows {
        var seq: [Int64] = [], at: [Int64] = []
        var actor: [String] = [], role: [String] = [], action: [String] = [], subject: [String] = [], scope: [String] = [], outcome: [String] = []
        var previous: [ByteBuffer] = [], hash: [ByteBuffer] = []

        mutating func append(seq: Int64, at: Int64, event: AuditEvent, previous: [UInt8], hash: [UInt8]) {
            self.seq.append(seq)
            self.at.append(at)
            actor.append(event.actor)
            role.append(event.role)
            action.append(event.action)
            subject.append(event.subject)
            scope.append(event.scope)
            outcome.append(event.outcome)
            self.previous.append(previous.bytea)
            self.hash.append(hash.bytea)
        }
    }

    /// The audit event an intake function wrote into the inbox: the function chose the action,
    /// and the subject is the record it touched, so the intake cannot write any other event.
    static func inboxEvent(_ row: PostgresRandomAccessRow) throws -> AuditEvent {
        guard let id = RecordID(bytes: try row.bytes("record_id")) else {
            throw PostgresSchemaError(description: "an audit inbox entry names a malformed record id")
        }
        let scope = Scope(rawValue: try row.value("scope", as: String.self))
        switch (try row.value("action", as: String.self), scope) {
        case ("record.create", nil): return .recordCreated(id)
        case ("consent.grant", let scope?): return .consentGranted(id, scope: scope)
        case ("consent.withdraw", let scope?): return .consentWithdrawn(id, scope: scope)
        case ("consent.expire", let scope?): return .consentExpired(id, scope: scope)
        case ("record.erase", nil): return .recordErased(id)
        case ("message.write", let scope?): return .survivorMessage(id, scope: scope)
        case ("phrase.change", nil): return .verificationPhraseChanged(id)
        case ("contact.pause", nil): return .contactPaused(id)
        case ("contact.resume", nil): return .contactResumed(id)
        case (let action, _):
            return AuditEvent(actor: "survivor", action: action, subject: id.reference, scope: scope?.rawValue ?? "", outcome: "unknown")
        }
    }

    public func appendAudit(_ event: AuditEvent, at: Int64) async throws {
        try await write { t in try await Self.appendAudit([event], at: at, t) }
    }

    /// Chains whatever survivor events wait in the inbox (the checkpointer and `audit verify`
    /// call it, through ``auditHead()`` and ``auditEntries()``).
    public func chainInbox() async throws {
        try await write { t in try await Self.appendAudit([], at: 0, t) }
    }

    public func auditHead() async throws -> (seq: Int64, hash: [UInt8])? {
        try await chainInbox()
        return try await db.rows("SELECT seq, hash FROM hearth.audit ORDER BY seq DESC LIMIT 1").first.map {
            (try $0.value("seq", as: Int64.self), try $0.bytes("hash"))
        }
    }

    public func auditEntries() async throws -> [AuditEntry] {
        try await chainInbox()
        return try await db.rows("SELECT * FROM hearth.audit ORDER BY seq").map(Self.auditEntry)
    }

    /// The first page (`after` 0) chains the inbox first, as ``auditEntries()`` does.
    public func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry] {
        if seq == 0 { try await chainInbox() }
        return try await db.rows("SELECT * FROM hearth.audit WHERE seq > \(seq) ORDER BY seq LIMIT \(Int64(limit))").map(Self.auditEntry)
    }

    public func auditCheckpoints() async throws -> [AuditCheckpoint] {
        try await db.rows("SELECT * FROM hearth.audit_checkpoints ORDER BY seq").map(Self.auditCheckpoint)
    }

    public func auditCheckpoints(after seq: Int64, limit: Int) async throws -> [AuditCheckpoint] {
        try await db.rows("SELECT * FROM hearth.audit_checkpoints WHERE seq > \(seq) ORDER BY seq LIMIT \(Int64(limit))").map(Self.auditCheckpoint)
    }

    public func lastAuditCheckpoint() async throws -> AuditCheckpoint? {
        try await db.rows("SELECT * FROM hearth.audit_checkpoints ORDER BY seq DESC LIMIT 1").first.map(Self.auditCheckpoint)
    }

    static func auditEntry(_ row: PostgresRandomAccessRow) throws -> AuditEntry {
        AuditEntry(
            seq: try row.value("seq"), at: try row.value("at"),
            event: AuditEvent(
                actor: try row.value("actor"), role: try row.value("role"), action: try row.value("action"), subject: try row.value("subject"),
                scope: try row.value("scope"), outcome: try row.value("outcome")),
            previousHash: try row.bytes("previous_hash"), hash: try row.bytes("hash"))
    }

    static func auditCheckpoint(_ row: PostgresRandomAccessRow) throws -> AuditCheckpoint {
        AuditCheckpoint(
            seq: try row.value("seq"), hash: try row.bytes("hash"), at: try row.value("at"),
            keyVersion: UInt32(try row.value("key_version", as: Int64.self)), signature: try row.bytes("signature"))
    }

    public func addCheckpoint(_ c: AuditCheckpoint) async throws {
        try await write { t in
            try await t.execute(
                """
                INSERT INTO hearth.audit_checkpoints (seq, hash, at, key_version, signature)
                VALUES (\(c.seq), \(c.hash.bytea), \(c.at), \(Int64(c.keyVersion)), \(c.signature.bytea)) ON CONFLICT (seq) DO NOTHING
                """)
        }
    }

    // MARK: Staff and sessions

    static func staffRecord(_ row: PostgresRandomAccessRow) throws -> StaffRecord {
        StaffRecord(
            identity: StaffIdentity(
                id: try row.value("id"), username: try row.value("username"), role: Role(rawValue: try row.value("role")) ?? .admin,
                pseudonym: try row.value("pseudonym")),
            passwordHash: try row.value("password_hash"), sealedTOTPSecret: try row.bytes("totp_secret"),
            totpLastStep: try row.value("totp_last_step"), mustChangePassword: try row.value("must_change_password"),
            disabled: try row.value("disabled"), failedLogins: try row.value("failed_logins", as: Int.self),
            lockedUntil: try row.value("locked_until"))
    }

    public func addStaff(
        username: String, role: Role, pseudonym: String, passwordHash: String, sealedTOTPSecret: [UInt8],
        audit: @Sendable (Int64) -> AuditEvent, at: Int64
    ) async throws -> Int64? {
        // The write finishes (or is cancelled and awaited) before this returns: `audit` does not escape.
        try await withoutActuallyEscaping(audit) { audit in
            try await addStaffNow(username, role, pseudonym, passwordHash, sealedTOTPSecret, audit, at)
        }
    }

    private func addStaffNow(
        _ username: String, _ role: Role, _ pseudonym: String, _ passwordHash: String, _ sealedTOTPSecret: [UInt8],
        _ audit: @escaping @Sendable (Int64) -> AuditEvent, _ at: Int64
    ) async throws -> Int64? {
        try await write { t in
            let taken = try await t.rows("SELECT 1 FROM hearth.staff WHERE username = \(username) OR pseudonym = \(pseudonym)")
            guard taken.isEmpty else { return nil }
            guard
                let id = try await t.rows(
                    """
                    INSERT INTO hearth.staff (username, role, pseudonym, password_hash, totp_secret, created)
                    VALUES (\(username), \(role.rawValue), \(pseudonym), \(passwordHash), \(sealedTOTPSecret.bytea), \(at)) RETURNING id
                    """
                ).first?.value("id", as: Int64.self)
            else { return nil }
            try await Self.appendAudit([audit(id)], at: at, t)
            return id
        }
    }

    public func staff(username: String) async throws -> StaffRecord? {
        try await db.rows("SELECT * FROM hearth.staff WHERE username = \(username)").first.map(Self.staffRecord)
    }

    public func staff(id: Int64) async throws -> StaffRecord? {
        try await db.rows("SELECT * FROM hearth.staff WHERE id = \(id)").first.map(Self.staffRecord)
    }

    public func allStaff() async throws -> [StaffRecord] {
        try await db.rows("SELECT * FROM hearth.staff ORDER BY username").map(Self.staffRecord)
    }

    public func recordLoginFailure(staffID: Int64?, lockUntil: Int64?, audit: AuditEvent, at: Int64) async throws {
        try await write { t in
            if let staffID {
                try await t.execute(
                    """
                    UPDATE hearth.staff SET failed_logins = failed_logins + 1, locked_until = greatest(locked_until, \(lockUntil ?? 0))
                    WHERE id = \(staffID)
                    """)
            }
            try await Self.appendAudit([audit], at: at, t)
        }
    }

    public func recordLoginSuccess(staffID: Int64, totpStep: Int64, sessionTokenHash: [UInt8], audit: AuditEvent, at: Int64) async throws -> Bool {
        try await write { t in
            let accepted = try await t.execute(
                """
                UPDATE hearth.staff SET totp_last_step = \(totpStep), failed_logins = 0, locked_until = 0
                WHERE id = \(staffID) AND totp_last_step < \(totpStep) AND NOT disabled RETURNING 1
                """)
            guard accepted == 1 else { return false }
            try await t.execute(
                "INSERT INTO hearth.sessions (token_hash, staff_id, created, last_seen) VALUES (\(sessionTokenHash.bytea), \(staffID), \(at), \(at))")
            try await Self.appendAudit([audit], at: at, t)
            return true
        }
    }

    public func setPassword(
        staffID: Int64, passwordHash: String, mustChange: Bool, keepingSession: [UInt8]?, audit: AuditEvent, at: Int64
    ) async throws {
        try await write { t in
            try await t.execute(
                "UPDATE hearth.staff SET password_hash = \(passwordHash), must_change_password = \(mustChange) WHERE id = \(staffID)")
            if let keepingSession {
                try await t.execute("DELETE FROM hearth.sessions WHERE staff_id = \(staffID) AND token_hash <> \(keepingSession.bytea)")
            }
            try await Self.appendAudit([audit], at: at, t)
        }
    }

    public func setDisabled(staffID: Int64, disabled: Bool, audit: AuditEvent, at: Int64) async throws {
        try await write { t in
            try await t.execute("UPDATE hearth.staff SET disabled = \(disabled) WHERE id = \(staffID)")
            if disabled { try await t.execute("DELETE FROM hearth.sessions WHERE staff_id = \(staffID)") }
            try await Self.appendAudit([audit], at: at, t)
        }
    }

    public func resetCredentials(staffID: Int64, passwordHash: String, sealedTOTPSecret: [UInt8], audit: AuditEvent, at: Int64) async throws {
        try await write { t in
            try await t.execute(
                """
                UPDATE hearth.staff SET password_hash = \(passwordHash), totp_secret = \(sealedTOTPSecret.bytea), totp_last_step = 0,
                  must_change_password = true, failed_logins = 0, locked_until = 0 WHERE id = \(staffID)
                """)
            try await t.execute("DELETE FROM hearth.sessions WHERE staff_id = \(staffID)")
            try await Self.appendAudit([audit], at: at, t)
        }
    }

    public func session(tokenHash: [UInt8]) async throws -> StoredSession? {
        try await db.rows("SELECT staff_id, created, last_seen FROM hearth.sessions WHERE token_hash = \(tokenHash.bytea)").first.map {
            StoredSession(staffID: try $0.value("staff_id"), created: try $0.value("created"), lastSeen: try $0.value("last_seen"))
        }
    }

    public func touchSession(tokenHash: [UInt8], at: Int64) async throws {
        _ = try await db.rows("UPDATE hearth.sessions SET last_seen = \(at) WHERE token_hash = \(tokenHash.bytea)")
    }

    public func deleteSession(tokenHash: [UInt8], audit: AuditEvent?, at: Int64) async throws {
        try await write { t in
            let ended = try await t.execute("DELETE FROM hearth.sessions WHERE token_hash = \(tokenHash.bytea) RETURNING 1")
            if let audit, ended == 1 { try await Self.appendAudit([audit], at: at, t) }
        }
    }

    // MARK: Cases

    /// Record columns with the record's bound wraps (one row per wrap, or one with NULL wrap
    /// columns), for ``PostgresRecords/record(from:)``.
    static let recordWithWraps = """
        SELECT r.id, r.created_hour, r.region, r.status, r.commitment, r.body, r.survivor_wrap, r.assignee, r.paused, r.paused_until,
               w.scope, w.key_version, w.wrap, w.conversation_wrap, w.expires
        FROM hearth.records r LEFT JOIN hearth.consent_wraps w
          ON w.record_rid = r.rid AND hearth.wrap_is_bound(w.record_rid, w.scope, w.grant_seq)
        """

    public func caseSummaries(today: Day) async throws -> [CaseSummary] {
        try await db.rows(
            """
            SELECT r.id, r.created_hour, r.region, r.status, r.assignee, s.username, r.paused_until,
              r.paused AND (r.paused_until IS NULL OR r.paused_until >= \(today.description)) AS paused_now,
              (SELECT string_agg(w.scope, ',') FROM hearth.consent_wraps w WHERE w.record_rid = r.rid
                 AND (w.expires IS NULL OR w.expires >= \(today.description))
                 AND hearth.wrap_is_bound(w.record_rid, w.scope, w.grant_seq)) AS scopes
            FROM hearth.records r LEFT JOIN hearth.staff s ON s.id = r.assignee ORDER BY r.created_hour, r.rid
            """
        ).map { row in
            guard let id = RecordID(bytes: try row.bytes("id")) else { throw PostgresSchemaError(description: "a stored record id is malformed") }
            return CaseSummary(
                reference: id.reference, createdHour: try row.value("created_hour"),
                region: try row.value("region", as: String?.self).flatMap(Region.init(rawValue:)),
                status: CaseStatus(rawValue: try row.value("status")) ?? .new,
                liveScopes: (try row.value("scopes", as: String?.self) ?? "").split(separator: ",").compactMap { Scope(rawValue: String($0)) }
                    .sorted(),
                assignee: try row.value("username", as: String?.self), assigneeID: try row.value("assignee", as: Int64?.self),
                pause: try row.value("paused_now", as: Bool.self)
                    ? ContactPause(until: try row.value("paused_until", as: String?.self).flatMap(Day.init(iso:))) : nil)
        }
    }

    public func caseRecord(id: RecordID) async throws -> (record: StoredRecord, assignee: Int64?)? {
        try PostgresRecords.record(from: try await db.rows("\(unescaped: Self.recordWithWraps) WHERE r.id = \(id.bytes.bytea) ORDER BY w.scope"))
    }

    /// The record with this id (maintenance and tests).
    public func record(id: RecordID) async throws -> StoredRecord? { try await caseRecord(id: id)?.record }

    public func assign(recordID: RecordID, to staffID: Int64, audit: AuditEvent, at: Int64) async throws -> Bool {
        try await updateCase(recordID, "UPDATE hearth.records SET assignee = \(staffID) WHERE id = \(recordID.bytes.bytea) RETURNING 1", audit, at)
    }

    public func setStatus(recordID: RecordID, status: CaseStatus, audit: AuditEvent, at: Int64) async throws -> Bool {
        try await updateCase(
            recordID, "UPDATE hearth.records SET status = \(status.rawValue) WHERE id = \(recordID.bytes.bytea) RETURNING 1", audit, at)
    }

    private func updateCase(_ recordID: RecordID, _ update: PostgresQuery, _ audit: AuditEvent, _ at: Int64) async throws -> Bool {
        try await write { t in
            guard try await t.execute(update) == 1 else { return false }
            try await Self.appendAudit([audit], at: at, t)
            return true
        }
    }

    public func messages(recordID: RecordID, scope: Scope) async throws -> [StoredNote] {
        try await db.rows(
            """
            SELECT m.note_id, CASE WHEN m.from_survivor THEN 'survivor' ELSE 'staff' END AS author, m.at, m.sealed, s.pseudonym, s.role,
                   m.scope
            FROM hearth.messages m LEFT JOIN hearth.staff s ON s.id = m.staff_id
            WHERE m.record_rid = (SELECT rid FROM hearth.records WHERE id = \(recordID.bytes.bytea)) AND m.scope = \(scope.rawValue)
            ORDER BY m.seq
            """
        ).map(PostgresRecords.note)
    }

    public func addStaffReply(
        recordID: RecordID, scope: Scope, noteID: [UInt8], sealed: [UInt8], check: GrantCheck, audit: AuditEvent, at: Int64
    ) async throws -> GuardedWrite {
        try await guarded(recordID, check: check, audit: audit, at: at) { rid in
            """
            INSERT INTO hearth.messages (record_rid, scope, note_id, from_survivor, staff_id, at, sealed)
            VALUES (\(rid), \(scope.rawValue), \(noteID.bytea), false, \(check.staffID), \(at), \(sealed.bytea))
            """
        }
    }

    public func addAccess(
        recordID: RecordID, noteID: [UInt8], role: Role, sealedReason: [UInt8], check: GrantCheck, audit: AuditEvent, at: Int64
    ) async throws -> GuardedWrite {
        try await guarded(recordID, check: check, audit: audit, at: at) { rid in
            """
            INSERT INTO hearth.access_log (record_rid, note_id, staff_id, role, at, sealed_reason)
            VALUES (\(rid), \(noteID.bytea), \(check.staffID), \(role.rawValue), \(at), \(sealedReason.bytea))
            """
        }
    }

    public func interviews(recordID: RecordID, scope: Scope) async throws -> [StoredInterview] {
        try await db.rows(
            """
            SELECT i.interview_id, i.scope, i.state, i.times, i.chosen, i.invited_at, i.answered_at, i.revision, i.invitation, i.answer,
                   s.pseudonym, s.role
            FROM hearth.interviews i LEFT JOIN hearth.staff s ON s.id = i.staff_id
            WHERE i.record_rid = (SELECT rid FROM hearth.records WHERE id = \(recordID.bytes.bytea)) AND i.scope = \(scope.rawValue)
            ORDER BY i.seq
            """
        ).map(PostgresRecords.interview)
    }

    public func addInterview(
        recordID: RecordID, _ interview: StoredInterview, check: GrantCheck, audit: AuditEvent, at: Int64
    ) async throws -> GuardedWrite {
        try await guarded(recordID, check: check, audit: audit, at: at) { rid in
            """
            INSERT INTO hearth.interviews (record_rid, interview_id, scope, staff_id, state, times, invited_at, invitation)
            VALUES (\(rid), \(interview.interviewID.bytea), \(interview.scope.rawValue), \(check.staffID), 'invited', \(interview.times),
                    \(interview.invitedAt), \(interview.sealedInvitation.bytea))
            """
        }
    }

    /// Runs `insert` (given the record's row id) and appends `audit`, only if `check` still holds
    /// in the same transaction, with the record's row locked against a concurrent withdrawal.
    private func guarded(
        _ recordID: RecordID, check: GrantCheck, audit: AuditEvent, at: Int64, insert: @escaping @Sendable (Int64) -> PostgresQuery
    ) async throws -> GuardedWrite {
        try await write { t in
            guard
                let row = try await t.rows(
                    "SELECT rid, assignee, paused, paused_until FROM hearth.records WHERE id = \(recordID.bytes.bytea) FOR SHARE"
                ).first
            else { return .recordGone }
            let rid = try row.value("rid", as: Int64.self)
            let w = check.wrap
            let live = try await t.rows(
                """
                SELECT 1 FROM hearth.consent_wraps w WHERE record_rid = \(rid) AND scope = \(w.scope.rawValue)
                  AND key_version = \(Int64(w.keyVersion)) AND wrap = \(w.wrap.bytea)
                  AND (expires IS NULL OR expires >= \(check.today.description)) AND hearth.wrap_is_bound(w.record_rid, w.scope, w.grant_seq)
                """)
            guard !live.isEmpty else { return .consentGone }
            guard try row.value("assignee", as: Int64?.self) == check.staffID else { return .notAssigned }
            if check.refusesPause, try row.value("paused", as: Bool.self) {
                let pause = ContactPause(until: try row.value("paused_until", as: String?.self).flatMap(Day.init(iso:)))
                if pause.isActive(on: check.today) { return .contactPaused(pause) }
            }
            try await t.execute(insert(rid))
            try await Self.appendAudit([audit], at: at, t)
            return .done
        }
    }

    // MARK: Retention

    public func expireConsents(before today: Day, at hour: Int64) async throws -> Int {
        try await write { t in
            let expired = try await t.rows(
                """
                DELETE FROM hearth.consent_wraps w USING hearth.records r
                WHERE r.rid = w.record_rid AND w.expires IS NOT NULL AND w.expires < \(today.description)
                RETURNING w.record_rid, w.scope, r.id, hearth.wrap_is_bound(w.record_rid, w.scope, w.grant_seq) AS bound
                """
            ).filter { try $0.value("bound", as: Bool.self) }
            var audit: [AuditEvent] = []
            for row in expired {
                let rid = try row.value("record_rid", as: Int64.self)
                let scopeName = try row.value("scope", as: String.self)
                guard let id = RecordID(bytes: try row.bytes("id")), let scope = Scope(rawValue: scopeName) else { continue }
                try await t.execute(
                    "INSERT INTO hearth.consent_events (record_rid, scope, action, at) VALUES (\(rid), \(scopeName), 'expired', \(hour))")
                try await t.execute(
                    """
                    UPDATE hearth.records SET no_consent_since = \(hour)
                    WHERE rid = \(rid) AND NOT EXISTS (SELECT 1 FROM hearth.consent_wraps WHERE record_rid = \(rid))
                    """)
                audit.append(.consentExpired(id, scope: scope))
            }
            try await Self.appendAudit(audit, at: hour, t)
            return expired.count
        }
    }

    public func shredRecords(withoutConsentSince cutoff: Int64, at: Int64) async throws -> Int {
        try await write { t in
            let shredded = try await t.rows(
                "DELETE FROM hearth.records WHERE no_consent_since IS NOT NULL AND no_consent_since <= \(cutoff) RETURNING id")
            let audit = try shredded.compactMap { RecordID(bytes: try $0.bytes("id")) }.map(AuditEvent.retentionShred)
            try await Self.appendAudit(audit, at: at, t)
            return shredded.count
        }
    }

    // MARK: Re-wrapping

    public func wrapsToRewrap(scope: Scope, version: UInt32, after cursor: RewrapCursor?, limit: Int) async throws -> [WrapToRewrap] {
        try await db.rows(
            """
            SELECT w.record_rid, r.id, r.commitment, w.wrap, w.conversation_wrap
            FROM hearth.consent_wraps w JOIN hearth.records r ON r.rid = w.record_rid
            WHERE w.scope = \(scope.rawValue) AND w.key_version = \(Int64(version)) AND w.record_rid > \(cursor?.position ?? 0)
            ORDER BY w.record_rid LIMIT \(limit)
            """
        ).compactMap { row in
            guard let id = RecordID(bytes: try row.bytes("id")) else { return nil }
            return WrapToRewrap(
                cursor: RewrapCursor(position: try row.value("record_rid")), recordID: id, commitment: try row.bytes("commitment"), scope: scope,
                keyVersion: version, wrap: try row.bytes("wrap"), conversationWrap: try row.bytes("conversation_wrap"))
        }
    }

    public func replaceWraps(_ updates: [RewrappedWrap]) async throws -> Int {
        try await write { t in
            var n = 0
            for u in updates {
                n += try await t.execute(
                    """
                    UPDATE hearth.consent_wraps
                    SET wrap = \(u.newWrap.bytea), conversation_wrap = \(u.newConversationWrap.bytea), key_version = \(Int64(u.newVersion))
                    WHERE record_rid = \(u.old.cursor.position) AND scope = \(u.old.scope.rawValue)
                      AND key_version = \(Int64(u.old.keyVersion)) AND wrap = \(u.old.wrap.bytea) RETURNING 1
                    """)
            }
            return n
        }
    }

    public func wrapCounts() async throws -> [Scope: [UInt32: Int]] {
        var out: [Scope: [UInt32: Int]] = [:]
        for row in try await db.rows("SELECT scope, key_version, count(*) AS n FROM hearth.consent_wraps GROUP BY scope, key_version") {
            if let scope = Scope(rawValue: try row.value("scope")) {
                out[scope, default: [:]][UInt32(try row.value("key_version", as: Int64.self))] = try row.value("n", as: Int.self)
            }
        }
        return out
    }

    /// Number of records (status and tests).
    public func recordCount() async throws -> Int {
        try await db.rows("SELECT count(*) AS n FROM hearth.records").first?.value("n", as: Int.self) ?? 0
    }
}
