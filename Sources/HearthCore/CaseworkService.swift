import HearthCrypto
import Logging

/// What an opened case shows a member of staff who is allowed to read it: the record and the
/// conversation between the survivor and the staff member's own group.
@dynamicMemberLookup
public struct OpenedCase: Sendable {
    /// The record, opened.
    public let record: RecordView
    /// The group whose conversation this is (the staff member's own).
    public let group: Scope
    /// The survivor's pause of all contact, when it holds today: replies are refused meanwhile.
    public let pause: ContactPause?
    /// That group's conversation with the survivor, oldest first.
    public let messages: [ThreadMessage]
    /// That group's invitations to interviews and the survivor's answers, oldest first.
    public let interviews: [Interview]

    /// The record's fields (`reference`, `status`, `request`, …).
    public subscript<T>(dynamicMember field: KeyPath<RecordView, T>) -> T { record[keyPath: field] }
}

/// One message of a conversation, decrypted.
public struct ThreadMessage: Sendable, Equatable {
    /// `survivor` or `staff`.
    public let author: String
    /// The group the conversation is with.
    public let group: Scope
    /// The staff pseudonym and role, for staff messages.
    public let pseudonym: String?
    public let role: Role?
    public let at: Int64
    public let text: String
}

extension ThreadMessage {
    /// Decrypts one stored message of the conversation with `scope` (authorship, group and note id are bound into each).
    static func open(_ note: StoredNote, scope: Scope, with key: borrowing ConversationKey, recordID: RecordID) throws -> ThreadMessage {
        let text = try Envelope.openMessage(
            note.sealed, fromSurvivor: note.author == "survivor", with: key, recordID: recordID, scope: scope, noteID: note.noteID)
        return ThreadMessage(
            author: note.author, group: scope, pseudonym: note.pseudonym, role: note.role, at: note.at,
            text: text.withUnsafeBytes { String(decoding: $0, as: UTF8.self) })
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

    /// Now, in Unix seconds (from the service's clock).
    public var now: Int64 { clock.unixSeconds() }
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
        case .contactPaused(let pause):
            // The survivor paused contact after the decision: refused like a pause seen before it.
            try await refusedWhilePaused(reference, staff: staff, action: action, scope: staff.role.readScope, pause)
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
        let key = try conversationKey(grant, record: record)
        return OpenedCase(
            record: view, group: grant.scope, pause: record.pause.flatMap { $0.isActive(on: today) ? $0 : nil },
            messages: try await store.messages(recordID: record.id, scope: grant.scope).map {
                try ThreadMessage.open($0, scope: grant.scope, with: key, recordID: record.id)
            },
            interviews: try await store.interviews(recordID: record.id, scope: grant.scope).map {
                try Interview.open($0, with: key, recordID: record.id)
            })
    }

    /// The conversation key of the grant's group, from the conversation wrap stored beside the
    /// consent wrap the grant opened (the same key version).
    func conversationKey(_ grant: AccessGrant, record: StoredRecord) throws -> ConversationKey {
        guard let key = keys.privateKey(grant.scope, version: grant.wrap.keyVersion) else {
            throw KeyFileError(
                path: "\(grant.scope.rawValue).v\(grant.wrap.keyVersion).sealed", reason: "this key version is not loaded",
                hint: "restore the key file")
        }
        return try Envelope.openConversationWrap(
            grant.wrap.conversationWrap, with: key.key, recordID: record.id, scope: grant.scope, keyVersion: grant.wrap.keyVersion)
    }

    /// Replies to the survivor in the conversation with the staff member's own group: same gates
    /// as opening; the reply is sealed under that conversation's key.
    public func reply(_ reference: RecordID, text: String, by staff: StaffIdentity) async throws {
        let (grant, record) = try await authorise(reference, staff: staff, action: "case.reply")
        if let pause = record.pause, pause.isActive(on: today) {
            try await refusedWhilePaused(reference, staff: staff, action: "case.reply", scope: grant.scope, pause)
        }
        let key = try conversationKey(grant, record: record)
        let noteID = try random.bytes(Envelope.noteIDByteCount)
        let sealed = try Envelope.sealMessage(
            SecretBytes(copying: Array(text.utf8)), fromSurvivor: false, with: key, recordID: record.id, scope: grant.scope, noteID: noteID)
        // The pause is checked again inside the write: a pause committed meanwhile wins.
        try await guarded(
            store.addStaffReply(
                recordID: record.id, scope: grant.scope, noteID: noteID, sealed: sealed, check: GrantCheck(grant, today: today, refusesPause: true),
                audit: event(staff, "case.reply", reference.reference, scope: grant.scope), at: now),
            reference, staff: staff, action: "case.reply")
    }

    /// The survivor said "not now": refused, audited without content, nothing sealed or stored.
    func refusedWhilePaused(_ reference: RecordID, staff: StaffIdentity, action: String, scope: Scope?, _ pause: ContactPause) async throws -> Never {
        try await store.appendAudit(event(staff, action, reference.reference, scope: scope, outcome: "contact-paused"), at: now)
        logger.notice("case write refused: contact paused", metadata: ["staff.id": "\(staff.id)", "case.action": "\(action)"])
        logger.debug("case write refused: contact paused", metadata: ["record.ref": "\(reference.reference)", "staff.id": "\(staff.id)"])
        throw Problem.contactPaused(pause)
    }

    /// Invites the survivor to an interview, in the conversation with the staff member's own
    /// group: reviewers and liaison officers only, with the same gates as opening, refused while
    /// contact is paused. The invitation is sealed under that conversation's key; its times are
    /// also kept in clear. Returns the new invitation's id.
    public func invite(_ reference: RecordID, _ invitation: InterviewInvitation, by staff: StaffIdentity) async throws -> String {
        guard staff.role.invitesToInterview else {
            let denial = AccessDenial(
                code: "role-cannot-invite",
                message: "only reviewers, police liaison officers and prosecution liaison officers invite survivors to interviews")
            try await store.appendAudit(
                event(staff, "interview.invite", reference.reference, scope: staff.role.readScope, outcome: denial.code), at: now)
            refused(reference, staff: staff, denial)
            throw denial
        }
        let (grant, record) = try await authorise(reference, staff: staff, action: "interview.invite")
        if let pause = record.pause, pause.isActive(on: today) {
            try await refusedWhilePaused(reference, staff: staff, action: "interview.invite", scope: grant.scope, pause)
        }
        let key = try conversationKey(grant, record: record)
        let id = try random.bytes(Envelope.interviewIDByteCount)
        let at = now - now % 60
        let stored = StoredInterview(
            interviewID: id, scope: grant.scope, state: .invited, times: invitation.times, chosen: nil, invitedAt: at, answeredAt: nil, revision: 0,
            sealedInvitation: try Interview.seal(invitation, with: key, recordID: record.id, scope: grant.scope, interviewID: id), sealedAnswer: nil)
        try await guarded(
            store.addInterview(
                recordID: record.id, stored, check: GrantCheck(grant, today: today, refusesPause: true),
                audit: .interviewInvited(staff, record.id, scope: grant.scope), at: now),
            reference, staff: staff, action: "interview.invite")
        logger.debug("interview invitation stored", metadata: ["record.ref": "\(reference.reference)", "staff.id": "\(staff.id)"])
        return Interview.text(of: id)
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
        let last = try await store.lastAuditCheckpoint()?.seq ?? 0
        guard head.seq - last >= minimumNewEntries else { return nil }
        let c = keys.signCheckpoint(seq: head.seq, hash: head.hash, at: now)
        try await store.addCheckpoint(c)
        return c
    }
}
