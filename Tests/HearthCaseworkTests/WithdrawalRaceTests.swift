import Foundation
import HearthApp
import HearthCore
import HearthCrypto
import HearthKeys
@_spi(Inspection) import HearthStore
import HearthTestSupport
import Testing

/// The real store, with a hook that runs just before an opening or a reply is written: the
/// moment between the access decision and the write in which a survivor may withdraw.
final class InterleavingCaseworkStore: CaseworkStore, Sendable {
    let inner: SQLiteStore
    let beforeWrite: @Sendable () async throws -> Void

    init(_ inner: SQLiteStore, beforeWrite: @escaping @Sendable () async throws -> Void) {
        self.inner = inner
        self.beforeWrite = beforeWrite
    }

    func addAccess(
        recordID: RecordID, noteID: [UInt8], role: Role, sealedReason: [UInt8], check: GrantCheck, audit: AuditEvent, at: Int64
    ) async throws -> GuardedWrite {
        try await beforeWrite()
        return try await inner.addAccess(
            recordID: recordID, noteID: noteID, role: role, sealedReason: sealedReason, check: check, audit: audit, at: at)
    }

    func addStaffReply(
        recordID: RecordID, scope: Scope, noteID: [UInt8], sealed: [UInt8], check: GrantCheck, audit: AuditEvent, at: Int64
    ) async throws
        -> GuardedWrite
    {
        try await beforeWrite()
        return try await inner.addStaffReply(recordID: recordID, scope: scope, noteID: noteID, sealed: sealed, check: check, audit: audit, at: at)
    }

    // Everything else goes straight to the real store.
    func appendAudit(_ event: AuditEvent, at: Int64) async throws { try await inner.appendAudit(event, at: at) }
    func auditHead() async throws -> (seq: Int64, hash: [UInt8])? { try await inner.auditHead() }
    func auditEntries() async throws -> [AuditEntry] { try await inner.auditEntries() }
    func auditCheckpoints() async throws -> [AuditCheckpoint] { try await inner.auditCheckpoints() }
    func auditEntries(after seq: Int64, limit: Int) async throws -> [AuditEntry] { try await inner.auditEntries(after: seq, limit: limit) }
    func auditCheckpoints(after seq: Int64, limit: Int) async throws -> [AuditCheckpoint] {
        try await inner.auditCheckpoints(after: seq, limit: limit)
    }
    func lastAuditCheckpoint() async throws -> AuditCheckpoint? { try await inner.lastAuditCheckpoint() }
    func addCheckpoint(_ checkpoint: AuditCheckpoint) async throws { try await inner.addCheckpoint(checkpoint) }
    func addStaff(
        username: String, role: Role, pseudonym: String, passwordHash: String, sealedTOTPSecret: [UInt8],
        audit: @Sendable (Int64) -> AuditEvent, at: Int64
    ) async throws -> Int64? {
        try await inner.addStaff(
            username: username, role: role, pseudonym: pseudonym, passwordHash: passwordHash, sealedTOTPSecret: sealedTOTPSecret, audit: audit,
            at: at)
    }
    func staff(username: String) async throws -> StaffRecord? { try await inner.staff(username: username) }
    func staff(id: Int64) async throws -> StaffRecord? { try await inner.staff(id: id) }
    func allStaff() async throws -> [StaffRecord] { try await inner.allStaff() }
    func recordLoginFailure(staffID: Int64?, lockUntil: Int64?, audit: AuditEvent, at: Int64) async throws {
        try await inner.recordLoginFailure(staffID: staffID, lockUntil: lockUntil, audit: audit, at: at)
    }
    func recordLoginSuccess(staffID: Int64, totpStep: Int64, sessionTokenHash: [UInt8], audit: AuditEvent, at: Int64) async throws -> Bool {
        try await inner.recordLoginSuccess(staffID: staffID, totpStep: totpStep, sessionTokenHash: sessionTokenHash, audit: audit, at: at)
    }
    func setPassword(staffID: Int64, passwordHash: String, mustChange: Bool, keepingSession: [UInt8]?, audit: AuditEvent, at: Int64) async throws {
        try await inner.setPassword(
            staffID: staffID, passwordHash: passwordHash, mustChange: mustChange, keepingSession: keepingSession, audit: audit, at: at)
    }
    func setDisabled(staffID: Int64, disabled: Bool, audit: AuditEvent, at: Int64) async throws {
        try await inner.setDisabled(staffID: staffID, disabled: disabled, audit: audit, at: at)
    }
    func resetCredentials(staffID: Int64, passwordHash: String, sealedTOTPSecret: [UInt8], audit: AuditEvent, at: Int64) async throws {
        try await inner.resetCredentials(staffID: staffID, passwordHash: passwordHash, sealedTOTPSecret: sealedTOTPSecret, audit: audit, at: at)
    }
    func session(tokenHash: [UInt8]) async throws -> StoredSession? { try await inner.session(tokenHash: tokenHash) }
    func touchSession(tokenHash: [UInt8], at: Int64) async throws { try await inner.touchSession(tokenHash: tokenHash, at: at) }
    func deleteSession(tokenHash: [UInt8], audit: AuditEvent?, at: Int64) async throws {
        try await inner.deleteSession(tokenHash: tokenHash, audit: audit, at: at)
    }
    func caseSummaries(today: Day) async throws -> [CaseSummary] { try await inner.caseSummaries(today: today) }
    func caseRecord(id: RecordID) async throws -> (record: StoredRecord, assignee: Int64?)? { try await inner.caseRecord(id: id) }
    func assign(recordID: RecordID, to staffID: Int64, audit: AuditEvent, at: Int64) async throws -> Bool {
        try await inner.assign(recordID: recordID, to: staffID, audit: audit, at: at)
    }
    func setStatus(recordID: RecordID, status: CaseStatus, audit: AuditEvent, at: Int64) async throws -> Bool {
        try await inner.setStatus(recordID: recordID, status: status, audit: audit, at: at)
    }
    func messages(recordID: RecordID, scope: Scope) async throws -> [StoredNote] { try await inner.messages(recordID: recordID, scope: scope) }

    func interviews(recordID: RecordID, scope: Scope) async throws -> [StoredInterview] {
        try await inner.interviews(recordID: recordID, scope: scope)
    }

    func addInterview(recordID: RecordID, _ interview: StoredInterview, check: GrantCheck, audit: AuditEvent, at: Int64) async throws -> GuardedWrite
    {
        try await beforeWrite()
        return try await inner.addInterview(recordID: recordID, interview, check: check, audit: audit, at: at)
    }
}

@Suite("Invariant 3 under races: a withdrawal or reassignment between the decision and the write wins")
struct WithdrawalRaceTests {
    /// A case with support consent, assigned to a signed-in caseworker; returns her identity.
    func assignedCase(_ h: CaseworkHarness) async throws -> (reference: String, receipt: String, alice: StaffIdentity) {
        let (reference, receipt) = try await h.submit(consents: ["support"], canary: "race-canary")
        let sue = try await h.readyStaff("sue", .supervisor)
        _ = try await h.readyStaff("alice", .caseworker)
        #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "alice"]).status == 200)
        let alice = try #require(try await h.store.staff(username: "alice")).identity
        return (reference, receipt, alice)
    }

    /// The casework service over the interleaving store, with the harness's keys and clock.
    func interleaved(_ h: CaseworkHarness, beforeWrite: @escaping @Sendable () async throws -> Void) throws -> CaseworkService {
        let keys = try CaseworkKeys(directory: h.keys, master: try h.keys.loadMasterKey(passphrase: nil))
        return CaseworkService(
            store: InterleavingCaseworkStore(h.store, beforeWrite: beforeWrite), keys: keys, clock: h.clock, random: SystemRandomSource(),
            logger: h.logs.logger())
    }

    @Test("survivor withdraws support consent while a caseworker opens: no-consent, no plaintext, no access entry, the refusal audited")
    func withdrawalDuringOpen() async throws {
        try await CaseworkHarness.with { h in
            let c = try await assignedCase(h)
            let intake = h.intake
            let service = try interleaved(h) {
                let r = try await intake.send(.DELETE, "/api/v1/me/consents/support", receipt: c.receipt)
                #expect(r.status == 200)
            }
            var opened: OpenedCase?
            await #expect(throws: AccessDenial.noConsent) {
                opened = try await service.open(RecordID(reference: c.reference)!, reason: "first contact", by: c.alice)
            }
            #expect(opened == nil, "no plaintext came back")
            #expect(try await h.count("SELECT count(*) FROM access_log") == 0)
            #expect(try await h.auditRows().contains { $0.action == "case.open" && $0.outcome == "no-consent" })
            #expect(!(try await h.auditRows().contains { $0.action == "case.open" && $0.outcome == "ok" }))
        }
    }

    @Test("a supervisor reassigns the case while the caseworker replies: not-assigned, no message stored")
    func reassignmentDuringReply() async throws {
        try await CaseworkHarness.with { h in
            let c = try await assignedCase(h)
            _ = try await h.readyStaff("bob", .caseworker)
            let sue = try #require(try await h.store.staff(username: "sue")).identity
            let casework = h.casework
            let service = try interleaved(h) {
                try await casework.assign(RecordID(reference: c.reference)!, to: "bob", by: sue)
            }
            await #expect(throws: AccessDenial.notAssigned) {
                try await service.reply(RecordID(reference: c.reference)!, text: "hello", by: c.alice)
            }
            #expect(try await h.count("SELECT count(*) FROM messages") == 0)
            #expect(try await h.auditRows().contains { $0.action == "case.reply" && $0.outcome == "not-assigned" })
        }
    }

    @Test("survivor withdraws support consent while a caseworker replies: no-consent, no message stored")
    func withdrawalDuringReply() async throws {
        try await CaseworkHarness.with { h in
            let c = try await assignedCase(h)
            let intake = h.intake
            let service = try interleaved(h) {
                let r = try await intake.send(.DELETE, "/api/v1/me/consents/support", receipt: c.receipt)
                #expect(r.status == 200)
            }
            await #expect(throws: AccessDenial.noConsent) {
                try await service.reply(RecordID(reference: c.reference)!, text: "hello", by: c.alice)
            }
            #expect(try await h.count("SELECT count(*) FROM messages") == 0)
            #expect(try await h.auditRows().contains { $0.action == "case.reply" && $0.outcome == "no-consent" })
        }
    }

    @Test("the survivor pauses contact while a caseworker replies, or a reviewer invites: contact-paused, nothing stored, the refusal audited")
    func pauseDuringReplyAndInvitation() async throws {
        try await CaseworkHarness.with { h in
            let c = try await assignedCase(h)
            let intake = h.intake
            let pause: @Sendable () async throws -> Void = {
                let r = try await intake.send(.PUT, "/api/v1/me/pause", json: ["until": NSNull()], receipt: c.receipt)
                #expect(r.status == 200)
            }
            await #expect(throws: Problem.contactPaused(ContactPause(until: nil))) {
                try await interleaved(h, beforeWrite: pause).reply(RecordID(reference: c.reference)!, text: "hello", by: c.alice)
            }
            #expect(try await h.count("SELECT count(*) FROM messages") == 0)
            #expect(try await h.auditRows().contains { $0.action == "case.reply" && $0.outcome == "contact-paused" })

            // The same for an invitation, from a reviewer (the pause is lifted first, then set again mid-write).
            #expect(try await intake.send(.DELETE, "/api/v1/me/pause", receipt: c.receipt).status == 204)
            #expect(try await intake.send(.POST, "/api/v1/me/consents", json: ["scope": "review"], receipt: c.receipt).status == 200)
            _ = try await h.readyStaff("rita", .reviewer)
            let sue = try #require(try await h.store.staff(username: "sue")).identity
            try await h.casework.assign(RecordID(reference: c.reference)!, to: "rita", by: sue)
            let rita = try #require(try await h.store.staff(username: "rita")).identity
            let invitation = InterviewInvitation(purpose: "a review interview", form: .phone, times: [])
            await #expect(throws: Problem.contactPaused(ContactPause(until: nil))) {
                _ = try await interleaved(h, beforeWrite: pause).invite(RecordID(reference: c.reference)!, invitation, by: rita)
            }
            #expect(try await h.count("SELECT count(*) FROM interviews") == 0)
            #expect(try await h.auditRows().contains { $0.action == "interview.invite" && $0.outcome == "contact-paused" })
        }
    }

    @Test("a supervisor reassigns the case while the caseworker opens it: not-assigned, no plaintext, no access entry")
    func reassignmentDuringOpen() async throws {
        try await CaseworkHarness.with { h in
            let c = try await assignedCase(h)
            _ = try await h.readyStaff("bob", .caseworker)
            let sue = try #require(try await h.store.staff(username: "sue")).identity
            let casework = h.casework
            let service = try interleaved(h) {
                try await casework.assign(RecordID(reference: c.reference)!, to: "bob", by: sue)
            }
            var opened: OpenedCase?
            await #expect(throws: AccessDenial.notAssigned) {
                opened = try await service.open(RecordID(reference: c.reference)!, reason: "first contact", by: c.alice)
            }
            #expect(opened == nil, "no plaintext came back")
            #expect(try await h.count("SELECT count(*) FROM access_log") == 0)
        }
    }

    @Test("with nothing in between, the same open succeeds through the interleaving store")
    func nothingInBetween() async throws {
        try await CaseworkHarness.with { h in
            let c = try await assignedCase(h)
            let service = try interleaved(h) {}
            let opened = try await service.open(RecordID(reference: c.reference)!, reason: "first contact", by: c.alice)
            #expect(opened.request.account?.contains("race-canary") == true)
            #expect(try await h.count("SELECT count(*) FROM access_log") == 1)
        }
    }
}
