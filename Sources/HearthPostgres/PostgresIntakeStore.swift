public import HearthCore
public import HearthMetrics
import NIOCore
import PostgresNIO

/// The intake's view of PostgreSQL: it connects as `hearth_intake`, which may only execute the
/// survivor functions (SECURITY.md §4). Each function reaches one record by its receipt's lookup
/// id and writes its own audit event into the inbox, so the `audit` events passed here are not
/// sent: the database writes the same ones (``AuditInboxEvent``).
public struct PostgresIntakeStore: IntakeStore {
    let db: PostgresDatabase
    let metrics: HearthMetrics

    /// The store over `db` (connected as `hearth_intake`, or as the owner on one host); each
    /// submission's transaction time and count go to `metrics`.
    public init(_ db: PostgresDatabase, metrics: HearthMetrics = .disabled) {
        self.db = db
        self.metrics = metrics
    }

    public func insert(_ r: NewRecord, audit: [AuditEvent], at hour: Int64) async throws {
        let start = ContinuousClock.now
        try await submit(r, at: hour)
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        metrics.postgresInsertSeconds.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        metrics.submissions.increment()
    }

    /// One call of `hearth.intake_submit`: one transaction.
    private func submit(_ r: NewRecord, at hour: Int64) async throws {
        let scopes = r.wraps.map(\.scope.rawValue)
        let versions = r.wraps.map { Int64($0.keyVersion) }
        let wraps = r.wraps.map(\.wrap.bytea)
        let conversations = r.wraps.map(\.conversationWrap.bytea)
        let expires = r.wraps.map { $0.expires?.description ?? "" }
        _ = try await db.rows(
            """
            SELECT hearth.intake_submit(\(r.id.bytes.bytea), \(r.lookup.bytea), \(r.createdHour), \(r.region?.rawValue),
              \(r.commitment.bytea), \(r.body.bytea), \(r.survivorWrap.bytea), \(scopes), \(versions), \(wraps), \(conversations), \(expires),
              \(hour))
            """)
    }

    public func record(lookup: [UInt8]) async throws -> StoredRecord? {
        let rows = try await db.rows("SELECT * FROM hearth.intake_record(\(lookup.bytea))")
        return try PostgresRecords.record(from: rows)?.record
    }

    public func putConsent(_ wrap: StoredWrap, lookup: [UInt8], audit: AuditEvent, at hour: Int64) async throws -> Bool {
        try await call(
            """
            SELECT hearth.intake_put_consent(\(lookup.bytea), \(wrap.scope.rawValue), \(Int64(wrap.keyVersion)), \(wrap.wrap.bytea),
              \(wrap.conversationWrap.bytea), \(wrap.expires?.description), \(hour))
            """)
    }

    public func removeConsent(_ scope: Scope, lookup: [UInt8], action: ConsentEvent.Action, audit: AuditEvent, at hour: Int64) async throws -> Bool {
        try await call("SELECT hearth.intake_remove_consent(\(lookup.bytea), \(scope.rawValue), \(action.rawValue), \(hour))")
    }

    public func consentHistory(lookup: [UInt8]) async throws -> [ConsentEvent] {
        try await db.rows("SELECT * FROM hearth.intake_consent_history(\(lookup.bytea))").map(PostgresRecords.consentEvent)
    }

    public func erase(lookup: [UInt8], audit: AuditEvent, at: Int64) async throws -> Bool {
        try await call("SELECT hearth.intake_erase(\(lookup.bytea), \(at))")
    }

    public func messages(lookup: [UInt8]) async throws -> [StoredNote] {
        try await db.rows("SELECT * FROM hearth.intake_messages(\(lookup.bytea))").map(PostgresRecords.note)
    }

    public func addSurvivorMessage(
        lookup: [UInt8], scope: Scope, noteID: [UInt8], sealed: [UInt8], audit: AuditEvent, at: Int64
    ) async throws -> Bool {
        try await call("SELECT hearth.intake_add_message(\(lookup.bytea), \(scope.rawValue), \(noteID.bytea), \(sealed.bytea), \(at))")
    }

    public func replaceBody(lookup: [UInt8], body: [UInt8], audit: AuditEvent, at: Int64) async throws -> Bool {
        try await call("SELECT hearth.intake_replace_body(\(lookup.bytea), \(body.bytea), \(at))")
    }

    public func setPause(_ pause: ContactPause?, lookup: [UInt8], audit: AuditEvent, at: Int64) async throws -> Bool {
        try await call("SELECT hearth.intake_set_pause(\(lookup.bytea), \(pause != nil), \(pause?.until?.description), \(at))")
    }

    public func interviews(lookup: [UInt8]) async throws -> [StoredInterview] {
        try await db.rows("SELECT * FROM hearth.intake_interviews(\(lookup.bytea))").map(PostgresRecords.interview)
    }

    public func answerInterview(
        lookup: [UInt8], interviewID: [UInt8], revision: Int, action: InterviewAction, chosen: Int64?, sealed: [UInt8], audit: AuditEvent,
        at: Int64
    ) async throws -> InterviewWrite {
        // The function writes the audit event itself (`interview.<action>`), from the action named here.
        let outcome = try await db.rows(
            """
            SELECT hearth.intake_answer_interview(\(lookup.bytea), \(interviewID.bytea), \(Int32(revision)), \(action.state.rawValue), \(chosen),
              \(sealed.bytea), \(action.rawValue), \(at)) AS outcome
            """
        ).first?.value("outcome", as: String.self)
        switch outcome {
        case "done": return .done
        case "stale": return .stale
        case "consent-gone": return .consentGone
        default: return .gone
        }
    }

    public func accessLog(lookup: [UInt8]) async throws -> [StoredNote] {
        try await db.rows("SELECT * FROM hearth.intake_access_log(\(lookup.bytea))").map(PostgresRecords.note)
    }

    /// Calls a function that answers true or false.
    private func call(_ query: PostgresQuery) async throws -> Bool {
        try await db.rows(query).first?[0].decode(Bool.self) ?? false
    }
}

/// Row decoding shared by both sides.
enum PostgresRecords {
    /// A record from rows of record columns joined with its wraps (scope NULL when it has none):
    /// id, created_hour, region, status, commitment, body, survivor_wrap, scope, key_version,
    /// wrap, expires, and optionally assignee.
    static func record(from rows: [PostgresRandomAccessRow]) throws -> (record: StoredRecord, assignee: Int64?)? {
        guard let first = rows.first else { return nil }
        var wraps: [StoredWrap] = []
        for row in rows {
            guard let scope = try row.value("scope", as: String?.self).flatMap(Scope.init(rawValue:)) else { continue }
            wraps.append(
                StoredWrap(
                    scope: scope, keyVersion: UInt32(try row.value("key_version", as: Int64.self)), wrap: try row.bytes("wrap"),
                    conversationWrap: try row.bytes("conversation_wrap"), expires: try row.value("expires", as: String?.self).flatMap(Day.init(iso:)))
            )
        }
        guard let id = RecordID(bytes: try first.bytes("id")) else { throw PostgresSchemaError(description: "a stored record id is malformed") }
        let record = StoredRecord(
            SealedRecord(
                id: id, createdHour: try first.value("created_hour"),
                region: try first.value("region", as: String?.self).flatMap(Region.init(rawValue:)), commitment: try first.bytes("commitment"),
                body: try first.bytes("body"), survivorWrap: try first.bytes("survivor_wrap"), wraps: wraps),
            status: CaseStatus(rawValue: try first.value("status")) ?? .new,
            pause: try first.value("paused", as: Bool.self)
                ? ContactPause(until: try first.value("paused_until", as: String?.self).flatMap(Day.init(iso:))) : nil)
        let assignee = first.contains("assignee") ? try first.value("assignee", as: Int64?.self) : nil
        return (record, assignee)
    }

    static func consentEvent(_ row: PostgresRandomAccessRow) throws -> ConsentEvent {
        guard let scope = Scope(rawValue: try row.value("scope")), let action = ConsentEvent.Action(rawValue: try row.value("action")) else {
            throw PostgresSchemaError(description: "a stored consent event is malformed")
        }
        return ConsentEvent(
            scope: scope, action: action, at: try row.value("at"), expires: try row.value("expires", as: String?.self).flatMap(Day.init(iso:)))
    }

    /// An invitation from columns interview_id, scope, state, times, chosen, invited_at,
    /// answered_at, revision, invitation, answer, pseudonym and role.
    static func interview(_ row: PostgresRandomAccessRow) throws -> StoredInterview {
        guard let scope = Scope(rawValue: try row.value("scope")), let state = InterviewState(rawValue: try row.value("state")) else {
            throw PostgresSchemaError(description: "a stored interview invitation is malformed")
        }
        return StoredInterview(
            interviewID: try row.bytes("interview_id"), scope: scope, state: state, times: try row.value("times", as: [Int64].self),
            chosen: try row.value("chosen", as: Int64?.self), invitedAt: try row.value("invited_at"),
            answeredAt: try row.value("answered_at", as: Int64?.self), revision: Int(try row.value("revision", as: Int32.self)),
            sealedInvitation: try row.bytes("invitation"), sealedAnswer: try row.optionalBytes("answer"),
            pseudonym: try row.value("pseudonym", as: String?.self), role: try row.value("role", as: String?.self).flatMap(Role.init(rawValue:)))
    }

    /// A sealed note from columns note_id, author, at, sealed, pseudonym, role and, for messages, scope.
    static func note(_ row: PostgresRandomAccessRow) throws -> StoredNote {
        StoredNote(
            noteID: try row.bytes("note_id"), author: try row.value("author"), pseudonym: try row.value("pseudonym", as: String?.self),
            role: try row.value("role", as: String?.self).flatMap(Role.init(rawValue:)), at: try row.value("at"), sealed: try row.bytes("sealed"),
            scope: row.contains("scope") ? Scope(rawValue: try row.value("scope", as: String.self)) : nil)
    }
}
