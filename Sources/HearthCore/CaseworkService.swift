import HearthCrypto
import Logging

/// What an opened case shows a member of staff who is allowed to read it: the record and its thread.
@dynamicMemberLookup
public struct OpenedCase: Sendable {
    /// The record, opened.
    public let record: RecordView
    /// The thread with the survivor, oldest first.
    public let messages: [ThreadMessage]

    /// The record's fields (`reference`, `status`, `request`, …).
    public subscript<T>(dynamicMember field: KeyPath<RecordView, T>) -> T { record[keyPath: field] }
}

/// One message of a case thread, decrypted.
public struct ThreadMessage: Sendable, Equatable {
    /// `survivor` or `staff`.
    public let author: String
    /// The staff pseudonym and role, for staff messages.
    public let pseudonym: String?
    public let role: Role?
    public let at: Int64
    public let text: String
}

extension ThreadMessage {
    /// Decrypts a record's stored messages with its data key (authorship is bound into each).
    static func open(_ notes: [StoredNote], with dek: borrowing DataKey, record: StoredRecord) throws -> [ThreadMessage] {
        var out: [ThreadMessage] = []
        for note in notes {
            let text = try Envelope.openNote(
                note.sealed, kind: .message(fromSurvivor: note.author == "survivor"), with: dek, recordID: record.id, noteID: note.noteID,
                commitment: record.commitment)
            out.append(
                ThreadMessage(
                    author: note.author, pseudonym: note.pseudonym, role: note.role, at: note.at,
                    text: text.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }))
        }
        return out
    }
}

/// One line of a survivor's access log.
public struct AccessLogEntry: Sendable, Equatable {
    public let role: Role
    public let pseudonym: String
    public let at: Int64
    public let reason: String
}

/// The casework side: the case queue, assignment, consent-gated opening, replies and status.
///
/// Every decryption goes through ``AccessPolicy`` and writes exactly one audit event; every
/// refusal writes a refusal event.
public struct CaseworkService: Sendable {
    let store: any CaseworkStore
    let keys: CaseworkKeys
    let clock: any WallClock
    let random: any RandomSource
    let logger: Logger

    /// The service over `store`, holding the casework keys.
    public init(store: any CaseworkStore, keys: CaseworkKeys, clock: any WallClock, random: any RandomSource, logger: Logger) {
        self.store = store
        self.keys = keys
        self.clock = clock
        self.random = random
        self.logger = logger
    }

    var now: Int64 { clock.unixSeconds() }
    var today: Day { Day(unixSeconds: now) }

    func event(_ staff: StaffIdentity, _ action: String, _ subject: String, scope: Scope? = nil, outcome: String = "ok") -> AuditEvent {
        AuditEvent(
            actor: "staff:\(staff.id)", role: staff.role.rawValue, action: action, subject: subject, scope: scope?.rawValue ?? "", outcome: outcome)
    }

    /// The queue: supervisors see every case; reading roles see cases assigned to them; others none.
    public func queue(for staff: StaffIdentity) async throws -> [CaseSummary] {
        guard staff.role.seesQueue else {
            try await store.appendAudit(event(staff, "case.queue", "", outcome: AccessDenial.roleCannotRead.code), at: now)
            throw AccessDenial.roleCannotRead
        }
        let all = try await store.caseSummaries(today: today)
        return staff.role == .supervisor ? all : all.filter { $0.assigneeID == staff.id }
    }

    /// Assigns a case to a member of staff whose role reads records (supervisors only).
    public func assign(_ reference: RecordID, to username: String, by staff: StaffIdentity) async throws {
        guard staff.role == .supervisor else {
            try await store.appendAudit(event(staff, "case.assign", reference.reference, outcome: "role-cannot-assign"), at: now)
            throw AccessDenial(code: "role-cannot-assign", message: "only supervisors assign cases")
        }
        guard let target = try await store.staff(username: username), !target.disabled, target.identity.role.readScope != nil else {
            throw Problem(.badRequest, code: "invalid-value", "'staff' must be the username of an active caseworker, reviewer or liaison officer")
        }
        guard
            try await store.assign(
                recordID: reference, to: target.identity.id,
                audit: event(staff, "case.assign", reference.reference, outcome: "to:staff:\(target.identity.id)"),
                at: now)
        else { throw Problem(.notFound, code: "not-found", "there is no case with that reference") }
    }

    /// Runs the access policy on a case, auditing a refusal; returns the grant and the record.
    func authorise(_ reference: RecordID, staff: StaffIdentity, action: String) async throws -> (AccessGrant, StoredRecord) {
        guard let (record, assignee) = try await store.caseRecord(id: reference) else {
            throw Problem(.notFound, code: "not-found", "there is no case with that reference")
        }
        var decision = AccessPolicy.decide(staff: staff, record: record, assignee: assignee, today: today)
        // A wrap only a restored backup can still hold: its key version's private key is destroyed.
        if case .success(let grant) = decision, keys.privateKey(grant.scope, version: grant.wrap.keyVersion) == nil {
            decision = .failure(.keyRetired)
        }
        switch decision {
        case .success(let grant):
            return (grant, record)
        case .failure(let denial):
            try await store.appendAudit(event(staff, action, reference.reference, scope: staff.role.readScope, outcome: denial.code), at: now)
            refused(reference, staff: staff, denial)
            throw denial
        }
    }

    /// Logs a refusal: at notice without the case reference, which goes only to a debug line (a
    /// reference next to a second-precision log time would undo the hour flooring of the record's
    /// own times; the audit trail has the refusal in full).
    func refused(_ reference: RecordID, staff: StaffIdentity, _ denial: AccessDenial) {
        logger.notice("case access refused", metadata: ["staff.id": "\(staff.id)", "access.code": "\(denial.code)"])
        logger.debug("case access refused", metadata: ["record.ref": "\(reference.reference)", "staff.id": "\(staff.id)"])
    }

    /// Turns a guarded write's outcome into the answer: a consent withdrawn or a case reassigned
    /// after the decision is refused (and audited) as if it had happened before it.
    func guarded(_ outcome: GuardedWrite, _ reference: RecordID, staff: StaffIdentity, action: String) async throws {
        let denial: AccessDenial
        switch outcome {
        case .done: return
        case .recordGone: throw Problem(.notFound, code: "not-found", "there is no case with that reference")
        case .consentGone: denial = .noConsent
        case .notAssigned: denial = .notAssigned
        }
        try await store.appendAudit(event(staff, action, reference.reference, scope: staff.role.readScope, outcome: denial.code), at: now)
        refused(reference, staff: staff, denial)
        throw denial
    }

    func dataKey(_ grant: AccessGrant, record: StoredRecord) throws -> DataKey {
        guard let key = keys.privateKey(grant.scope, version: grant.wrap.keyVersion) else {
            throw KeyFileError(
                path: "\(grant.scope.rawValue).v\(grant.wrap.keyVersion).sealed", reason: "this key version is not loaded",
                hint: "restore the key file")
        }
        return try Envelope.openScopeWrap(
            grant.wrap.wrap, with: key.key, recordID: record.id, scope: grant.scope, keyVersion: grant.wrap.keyVersion, commitment: record.commitment)
    }

    /// Opens a case: checks the gates, records the reason (sealed for the survivor to read) and
    /// exactly one audit event, then decrypts the request and thread.
    public func open(_ reference: RecordID, reason: String, by staff: StaffIdentity) async throws -> OpenedCase {
        let (grant, record) = try await authorise(reference, staff: staff, action: "case.open")
        let dek = try dataKey(grant, record: record)
        let noteID = try random.bytes(Envelope.noteIDByteCount)
        let sealedReason = try Envelope.sealNote(
            SecretBytes(copying: Array(reason.utf8)), kind: .accessReason, with: dek, recordID: record.id, noteID: noteID,
            commitment: record.commitment)
        try await guarded(
            store.addAccess(
                recordID: record.id, noteID: noteID, role: staff.role, sealedReason: sealedReason, check: GrantCheck(grant, today: today),
                audit: event(staff, "case.open", reference.reference, scope: grant.scope), at: now),
            reference, staff: staff, action: "case.open")
        logger.debug("case opened", metadata: ["record.ref": "\(reference.reference)", "staff.id": "\(staff.id)"])
        let view = try RecordView(opening: record, with: dek, liveWraps: record.wraps.filter { $0.isLive(on: today) })
        return OpenedCase(record: view, messages: try await thread(record: record, dek: dek))
    }

    func thread(record: StoredRecord, dek: borrowing DataKey) async throws -> [ThreadMessage] {
        try ThreadMessage.open(try await store.messages(recordID: record.id), with: dek, record: record)
    }

    /// Replies to the survivor: same gates as opening; the reply is sealed under the record's DEK.
    public func reply(_ reference: RecordID, text: String, by staff: StaffIdentity) async throws {
        let (grant, record) = try await authorise(reference, staff: staff, action: "case.reply")
        let dek = try dataKey(grant, record: record)
        let noteID = try random.bytes(Envelope.noteIDByteCount)
        let sealed = try Envelope.sealNote(
            SecretBytes(copying: Array(text.utf8)), kind: .message(fromSurvivor: false), with: dek, recordID: record.id, noteID: noteID,
            commitment: record.commitment)
        try await guarded(
            store.addStaffReply(
                recordID: record.id, noteID: noteID, sealed: sealed, check: GrantCheck(grant, today: today),
                audit: event(staff, "case.reply", reference.reference, scope: grant.scope), at: now),
            reference, staff: staff, action: "case.reply")
    }

    /// Changes a case's status: same gates as opening (no decryption needed, but the same rule).
    public func setStatus(_ reference: RecordID, to status: CaseStatus, by staff: StaffIdentity) async throws {
        let (grant, _) = try await authorise(reference, staff: staff, action: "case.status")
        guard
            try await store.setStatus(
                recordID: reference, status: status,
                audit: event(staff, "case.status", reference.reference, scope: grant.scope, outcome: status.rawValue),
                at: now)
        else { throw Problem(.notFound, code: "not-found", "there is no case with that reference") }
    }

    /// Signs a checkpoint of the current head if entries were added since the last one.
    @discardableResult
    public func checkpointAudit(minimumNewEntries: Int64 = 1) async throws -> AuditCheckpoint? {
        guard let head = try await store.auditHead() else { return nil }
        let last = try await store.auditCheckpoints().last?.seq ?? 0
        guard head.seq - last >= minimumNewEntries else { return nil }
        let c = keys.signCheckpoint(seq: head.seq, hash: head.hash, at: now)
        try await store.addCheckpoint(c)
        return c
    }
}
