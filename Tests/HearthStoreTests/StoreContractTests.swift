import Foundation
import GRDB
import HearthCrypto
import HearthPostgres
@_spi(Inspection) import HearthStore
import HearthTestSupport
import Testing

@_spi(Inspection) @testable import HearthCore

/// Which implementation of the store contracts a test runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    /// Both, unless `HEARTH_SKIP_POSTGRES=1` turns PostgreSQL off. Without the cluster's
    /// environment the PostgreSQL cases fail with a hint (``TestPostgres/cluster()``), never skip.
    static var tested: [StoreKind] { TestPostgres.enabled ? allCases : [.sqlite] }
}

/// One store as the two sides of Hearth see it, reached only through the contracts, plus the
/// database owner who can change rows behind Hearth's back.
private struct Stores: Sendable {
    let intake: any IntakeStore
    let casework: any CaseworkStore & RetentionStore & RewrapStore & TransparencyStore
    let owner: Owner

    /// Runs `body` over a fresh store of `kind`: one SQLite file for both sides, or a fresh
    /// PostgreSQL database reached as `hearth_intake` and as `hearth_casework`.
    static func with(_ kind: StoreKind, _ body: (Stores) async throws -> Void) async throws {
        switch kind {
        case .sqlite:
            let f = try StoreFixture()
            try await body(Stores(intake: f.store, casework: f.store, owner: .sqlite(f.store)))
            withExtendedLifetime(f) {}
        case .postgres:
            try await TestPostgres.with { db in
                let intake = try db.connect(db.intake)
                let casework = try db.connect(db.casework)
                defer {
                    intake.close()
                    casework.close()
                }
                try await body(Stores(intake: PostgresIntakeStore(intake), casework: PostgresCaseworkStore(casework), owner: .postgres(db)))
            }
        }
    }
}

/// The database owner's raw access, for the tampering test only.
private enum Owner: Sendable {
    case sqlite(SQLiteStore)
    case postgres(TestPostgres)

    /// The consent event the stored wrap of `scope` is bound to.
    func grantSeq(of record: RecordID, _ scope: Scope) async throws -> Int64 {
        switch self {
        case .sqlite(let store):
            try await store.inspect { db in
                try Int64.fetchOne(
                    db, sql: "SELECT grant_seq FROM consent_wraps WHERE record_rid = (SELECT rid FROM records WHERE id = ?) AND scope = ?",
                    arguments: [Data(record.bytes), scope.rawValue]) ?? -1
            }
        case .postgres(let db):
            try await Self.int(
                db,
                """
                SELECT w.grant_seq::text FROM hearth.consent_wraps w JOIN hearth.records r ON r.rid = w.record_rid
                WHERE r.id = \(hex(record.bytes)) AND w.scope = '\(scope.rawValue)'
                """)
        }
    }

    /// Puts a saved copy of a wrap back into `consent_wraps`, naming grant `seq`.
    func putBack(_ wrap: StoredWrap, on record: RecordID, grantSeq seq: Int64) async throws {
        switch self {
        case .sqlite(let store):
            try await store.tamper { db in
                try db.execute(
                    sql: """
                        INSERT INTO consent_wraps (record_rid, scope, key_version, wrap, conversation_wrap, expires, grant_seq)
                        VALUES ((SELECT rid FROM records WHERE id = ?), ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        Data(record.bytes), wrap.scope.rawValue, Int64(wrap.keyVersion), Data(wrap.wrap), Data(wrap.conversationWrap),
                        wrap.expires?.description, seq,
                    ])
            }
        case .postgres(let db):
            try await db.asOwner(
                """
                INSERT INTO hearth.consent_wraps (record_rid, scope, key_version, wrap, conversation_wrap, expires, grant_seq)
                SELECT rid, '\(wrap.scope.rawValue)', \(wrap.keyVersion), \(hex(wrap.wrap)), \(hex(wrap.conversationWrap)),
                  \(wrap.expires.map { "'\($0)'" } ?? "NULL"), \(seq)
                FROM hearth.records WHERE id = \(hex(record.bytes))
                """)
        }
    }

    /// How many wrap rows are stored for the record, bound or not.
    func wrapRows(of record: RecordID) async throws -> Int64 {
        switch self {
        case .sqlite(let store):
            try await store.inspect { db in
                try Int64.fetchOne(
                    db, sql: "SELECT count(*) FROM consent_wraps WHERE record_rid = (SELECT rid FROM records WHERE id = ?)",
                    arguments: [Data(record.bytes)]) ?? -1
            }
        case .postgres(let db):
            try await Self.int(
                db,
                """
                SELECT count(*)::text FROM hearth.consent_wraps w JOIN hearth.records r ON r.rid = w.record_rid
                WHERE r.id = \(hex(record.bytes))
                """)
        }
    }

    private static func int(_ db: TestPostgres, _ sql: String) async throws -> Int64 {
        let cell = try await db.asOwner(sql).first?.first ?? nil
        return try #require(cell.flatMap { Int64($0) }, "\(sql) gave \(cell ?? "NULL")")
    }
}

/// A `bytea` literal for SQL run as the PostgreSQL owner.
private func hex(_ bytes: [UInt8]) -> String {
    "decode('\(bytes.map { String(format: "%02x", $0) }.joined())', 'hex')"
}

/// The day the tests run on, and hours after ``testHour``.
private let today = Day(iso: "2026-11-29")!
private func h(_ n: Int64) -> Int64 { testHour + n * 3600 }

/// An audit event a casework service would pass.
private func staffEvent(_ action: String, _ subject: String = "") -> AuditEvent {
    AuditEvent(actor: "admin", role: "admin", action: action, subject: subject)
}

extension Stores {
    /// Adds a member of staff; returns their identity.
    func addStaff(_ username: String, _ role: Role = .caseworker, at: Int64 = testHour) async throws -> StaffIdentity {
        let pseudonym = "\(role.rawValue)-\(username.uppercased())"
        let id = try await casework.addStaff(
            username: username, role: role, pseudonym: pseudonym, passwordHash: "$argon2id$\(username)", sealedTOTPSecret: Array(username.utf8),
            audit: { staffEvent("staff.create", "\($0)") }, at: at)
        return StaffIdentity(id: try #require(id), username: username, role: role, pseudonym: pseudonym)
    }

    /// Assigns the case to `staff` and takes the access decision on what the store returns, as
    /// the casework service does.
    func grant(_ record: NewRecord, to staff: StaffIdentity, at: Int64 = testHour) async throws -> AccessGrant {
        #expect(try await casework.assign(recordID: record.id, to: staff.id, audit: staffEvent("case.assign", record.id.reference), at: at))
        let (stored, assignee) = try #require(try await casework.caseRecord(id: record.id))
        return try AccessPolicy.decide(staff: staff, record: stored, assignee: assignee, today: today).get()
    }

    /// Records an opening of the record under `check`.
    func open(_ record: NewRecord, _ check: GrantCheck, at: Int64 = testHour) async throws -> GuardedWrite {
        try await casework.addAccess(
            recordID: record.id, noteID: try SystemRandom.bytes(16), role: .caseworker, sealedReason: try SystemRandom.bytes(48), check: check,
            audit: staffEvent("record.open", record.id.reference), at: at)
    }

    /// Writes a staff reply under `check`.
    func reply(_ record: NewRecord, _ check: GrantCheck, at: Int64 = testHour) async throws -> GuardedWrite {
        try await casework.addStaffReply(
            recordID: record.id, scope: check.wrap.scope, noteID: try SystemRandom.bytes(16), sealed: try SystemRandom.bytes(64), check: check,
            audit: staffEvent("message.reply", record.id.reference), at: at)
    }

    /// The record's bound wraps as the intake reads them, by scope.
    func wraps(_ record: NewRecord) async throws -> [StoredWrap]? {
        try await intake.record(lookup: record.lookup)?.wraps.sorted { $0.scope < $1.scope }
    }

    /// The record's bound wraps as casework reads them, by scope.
    func caseWraps(_ record: NewRecord) async throws -> [StoredWrap]? {
        try await casework.caseRecord(id: record.id)?.record.wraps.sorted { $0.scope < $1.scope }
    }
}

/// Checks that `stored` holds exactly what `record` was inserted with.
private func expectSame(_ stored: StoredRecord, _ record: NewRecord, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(stored.id == record.id, sourceLocation: sourceLocation)
    #expect(stored.createdHour == record.createdHour, sourceLocation: sourceLocation)
    #expect(stored.region == record.region, sourceLocation: sourceLocation)
    #expect(stored.commitment == record.commitment, sourceLocation: sourceLocation)
    #expect(stored.body == record.body, sourceLocation: sourceLocation)
    #expect(stored.survivorWrap == record.survivorWrap, sourceLocation: sourceLocation)
    #expect(stored.wraps.sorted { $0.scope < $1.scope } == record.wraps.sorted { $0.scope < $1.scope }, sourceLocation: sourceLocation)
}

@Suite("Store contracts: SQLite and PostgreSQL keep the same promises")
struct StoreContractTests {
    @Test(arguments: StoreKind.tested)
    func insertedRecordReadsBackOnBothSides(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { s in
            let sealed = try SealedFixture(consents: [(.support, nil), (.police, Day(iso: "2027-01-31")), (.review, today.adding(days: -1))])
            try await s.intake.insert(sealed.record, at: testHour)

            let stored = try #require(try await s.intake.record(lookup: sealed.record.lookup))
            expectSame(stored, sealed.record)
            #expect(stored.status == .new)
            #expect(try await s.intake.record(lookup: SystemRandom.bytes(32)) == nil)

            let (record, assignee) = try #require(try await s.casework.caseRecord(id: sealed.record.id))
            expectSame(record, sealed.record)
            #expect(record.status == .new)
            #expect(assignee == nil)
            #expect(try await s.casework.caseRecord(id: RecordID.random()) == nil)
            // The review consent expired yesterday: stored, but not live today.
            #expect(
                try await s.casework.caseSummaries(today: today) == [
                    CaseSummary(
                        reference: sealed.record.id.reference, createdHour: sealed.record.createdHour, region: .london, status: .new,
                        liveScopes: [.support, .police], assignee: nil, assigneeID: nil)
                ])

            #expect(try await s.casework.setStatus(recordID: sealed.record.id, status: .inProgress, audit: staffEvent("case.status"), at: h(1)))
            #expect(try await s.intake.record(lookup: sealed.record.lookup)?.status == .inProgress)
            #expect(try await s.casework.caseSummaries(today: today).map(\.status) == [.inProgress])
            let stranger = try RecordID.random()
            #expect(try await s.casework.setStatus(recordID: stranger, status: .closed, audit: staffEvent("case.status"), at: h(1)) == false)
            #expect(try await s.casework.assign(recordID: stranger, to: 1, audit: staffEvent("case.assign"), at: h(1)) == false)
        }
    }

    @Test(arguments: StoreKind.tested)
    func consentIsGivenReplacedAndWithdrawnWithItsHistory(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { s in
            let sealed = try SealedFixture(consents: [(.support, nil)])
            let record = sealed.record
            try await s.intake.insert(record, at: testHour)

            let police = try sealed.extraWrap(.police, expires: Day(iso: "2027-03-01"))
            let support = try sealed.extraWrap(.support)
            #expect(try await s.intake.putConsent(police, for: record, at: h(1)))
            #expect(try await s.intake.putConsent(support, for: record, at: h(2)))
            #expect(try await s.wraps(record) == [support, police])
            #expect(try await s.caseWraps(record) == [support, police])

            #expect(try await s.intake.removeConsent(.police, for: record, action: .withdrawn, at: h(3)))
            #expect(try await s.wraps(record) == [support])
            let history = [
                ConsentEvent(scope: .support, action: .granted, at: testHour, expires: nil),
                ConsentEvent(scope: .police, action: .granted, at: h(1), expires: Day(iso: "2027-03-01")),
                ConsentEvent(scope: .support, action: .granted, at: h(2), expires: nil),
                ConsentEvent(scope: .police, action: .withdrawn, at: h(3), expires: nil),
            ]
            #expect(try await s.intake.consentHistory(lookup: record.lookup) == history)

            // Nothing live to remove: false, and nothing changes.
            #expect(try await s.intake.removeConsent(.review, for: record, action: .withdrawn, at: h(4)) == false)
            #expect(try await s.intake.removeConsent(.police, for: record, action: .withdrawn, at: h(4)) == false)
            #expect(try await s.intake.consentHistory(lookup: record.lookup) == history)
            #expect(try await s.wraps(record) == [support])
            #expect(try await s.casework.caseSummaries(today: today).map(\.liveScopes) == [[.support]])

            // A lookup id no receipt derives reaches nothing.
            let stranger = try SealedFixture(consents: []).record
            #expect(try await s.intake.putConsent(try sealed.extraWrap(.review), for: stranger, at: h(5)) == false)
            #expect(try await s.intake.consentHistory(lookup: stranger.lookup) == [])
            #expect(try await s.intake.record(lookup: stranger.lookup) == nil)
        }
    }

    @Test(arguments: StoreKind.tested)
    func eraseRemovesTheRecordAndEverythingHangingOffIt(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { s in
            let erased = try SealedFixture(consents: [(.support, nil), (.review, nil)]).record
            let kept = try SealedFixture(consents: [(.support, nil)]).record
            try await s.intake.insert(erased, at: testHour)
            try await s.intake.insert(kept, at: testHour)
            let alice = try await s.addStaff("alice")
            let check = GrantCheck(try await s.grant(erased, to: alice), today: today)
            #expect(
                try await s.intake.addSurvivorMessage(
                    lookup: erased.lookup, scope: .support, noteID: [1], sealed: [2], audit: .survivorMessage(erased.id, scope: .support),
                    at: h(1)))
            #expect(try await s.reply(erased, check) == .done)
            #expect(try await s.open(erased, check) == .done)
            // Positive control: there is something to erase.
            #expect(try await s.intake.messages(lookup: erased.lookup).count == 2)
            #expect(try await s.intake.accessLog(lookup: erased.lookup).count == 1)

            #expect(try await s.intake.erase(lookup: erased.lookup, audit: .recordErased(erased.id), at: h(2)))
            #expect(try await s.intake.record(lookup: erased.lookup) == nil)
            #expect(try await s.casework.caseRecord(id: erased.id) == nil)
            #expect(try await s.intake.messages(lookup: erased.lookup) == [])
            #expect(try await s.casework.messages(recordID: erased.id, scope: .support) == [])
            #expect(try await s.intake.accessLog(lookup: erased.lookup) == [])
            #expect(try await s.intake.consentHistory(lookup: erased.lookup) == [])
            #expect(try await s.casework.caseSummaries(today: today).map(\.reference) == [kept.id.reference])
            #expect(try await s.casework.wrapCounts() == [.support: [1: 1]])
            #expect(try await s.intake.erase(lookup: erased.lookup, audit: .recordErased(erased.id), at: h(3)) == false)

            expectSame(try #require(try await s.intake.record(lookup: kept.lookup)), kept)
        }
    }

    @Test(arguments: StoreKind.tested)
    func eachGroupHasItsOwnConversationAndOpeningsAreLogged(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { s in
            let record = try SealedFixture(consents: [(.support, nil), (.police, nil)]).record
            try await s.intake.insert(record, at: testHour)
            let alice = try await s.addStaff("alice")
            let check = GrantCheck(try await s.grant(record, to: alice), today: today)
            #expect(check.wrap.scope == .support)

            let first = StoredNote(noteID: [1, 1], author: "survivor", pseudonym: nil, role: nil, at: h(1), sealed: [11, 11, 11], scope: .support)
            let reply = StoredNote(
                noteID: [2, 2], author: "staff", pseudonym: alice.pseudonym, role: .caseworker, at: h(2), sealed: [22, 22], scope: .support)
            let toPolice = StoredNote(noteID: [3, 3], author: "survivor", pseudonym: nil, role: nil, at: h(3), sealed: [33], scope: .police)
            for note in [first, toPolice] {
                let scope = try #require(note.scope)
                #expect(
                    try await s.intake.addSurvivorMessage(
                        lookup: record.lookup, scope: scope, noteID: note.noteID, sealed: note.sealed,
                        audit: .survivorMessage(record.id, scope: scope),
                        at: note.at))
                if note == first {
                    #expect(
                        try await s.casework.addStaffReply(
                            recordID: record.id, scope: .support, noteID: reply.noteID, sealed: reply.sealed, check: check,
                            audit: staffEvent("message.reply"), at: reply.at) == .done)
                }
            }
            // The survivor reads every conversation; staff read one group's only.
            #expect(try await s.intake.messages(lookup: record.lookup) == [first, reply, toPolice])
            #expect(try await s.casework.messages(recordID: record.id, scope: .support) == [first, reply])
            #expect(try await s.casework.messages(recordID: record.id, scope: .police) == [toPolice])
            #expect(try await s.casework.messages(recordID: record.id, scope: .review) == [])
            // Not to a group without live consent, and not to an unknown record: nothing is written.
            #expect(
                try await s.intake.addSurvivorMessage(
                    lookup: record.lookup, scope: .review, noteID: [8], sealed: [8], audit: .survivorMessage(record.id, scope: .review), at: h(4))
                    == false)
            #expect(
                try await s.intake.addSurvivorMessage(
                    lookup: SystemRandom.bytes(32), scope: .support, noteID: [9], sealed: [9], audit: .survivorMessage(record.id, scope: .support),
                    at: h(4)) == false)
            #expect(try await s.intake.messages(lookup: record.lookup).count == 3)

            let opening = StoredNote(noteID: [4, 4], author: "staff", pseudonym: alice.pseudonym, role: .caseworker, at: h(5), sealed: [44, 44])
            #expect(
                try await s.casework.addAccess(
                    recordID: record.id, noteID: opening.noteID, role: .caseworker, sealedReason: opening.sealed, check: check,
                    audit: staffEvent("record.open"), at: opening.at) == .done)
            #expect(try await s.intake.accessLog(lookup: record.lookup) == [opening])
        }
    }

    @Test(arguments: StoreKind.tested)
    func guardedWritesRecheckTheGrantInTheirTransaction(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { s in
            let record = try SealedFixture(consents: [(.support, Day(iso: "2027-01-31"))]).record
            try await s.intake.insert(record, at: testHour)
            let alice = try await s.addStaff("alice")
            let bob = try await s.addStaff("bob")
            let grant = try await s.grant(record, to: alice)
            let check = GrantCheck(grant, today: today)
            #expect(try await s.open(record, check) == .done)
            #expect(try await s.reply(record, check) == .done)
            // The wrap must still be live on the check's day.
            #expect(try await s.open(record, GrantCheck(grant, today: try #require(Day(iso: "2027-02-01")))) == .consentGone)

            _ = try await s.casework.assign(recordID: record.id, to: bob.id, audit: staffEvent("case.assign"), at: h(1))
            #expect(try await s.open(record, check) == .notAssigned)
            #expect(try await s.reply(record, check) == .notAssigned)
            _ = try await s.casework.assign(recordID: record.id, to: alice.id, audit: staffEvent("case.assign"), at: h(2))
            #expect(try await s.open(record, check) == .done)

            #expect(try await s.intake.removeConsent(.support, for: record, action: .withdrawn, at: h(3)))
            #expect(try await s.open(record, check) == .consentGone)
            #expect(try await s.reply(record, check) == .consentGone)
            // A new consent is a new wrap: the old grant does not come back with it.
            #expect(try await s.intake.putConsent(try SealedFixture().extraWrap(.support), for: record, at: h(4)))
            #expect(try await s.open(record, check) == .consentGone)
            // Only the writes that were done were written.
            #expect(try await s.intake.accessLog(lookup: record.lookup).count == 2)
            #expect(try await s.intake.messages(lookup: record.lookup).count == 1)

            #expect(try await s.intake.erase(lookup: record.lookup, audit: .recordErased(record.id), at: h(5)))
            #expect(try await s.open(record, check) == .recordGone)
            #expect(try await s.reply(record, check) == .recordGone)
        }
    }

    @Test(arguments: StoreKind.tested)
    func aWrapPutBackAfterWithdrawalOpensForNoOne(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { s in
            let record = try SealedFixture(consents: [(.support, nil), (.review, nil)]).record
            try await s.intake.insert(record, at: testHour)
            let alice = try await s.addStaff("alice")
            let check = GrantCheck(try await s.grant(record, to: alice), today: today)
            let saved = try #require(try await s.wraps(record)?.first { $0.scope == .support })
            let grantSeq = try await s.owner.grantSeq(of: record.id, .support)

            #expect(try await s.intake.removeConsent(.support, for: record, action: .withdrawn, at: h(1)))
            try await s.owner.putBack(saved, on: record.id, grantSeq: grantSeq)
            #expect(try await s.owner.wrapRows(of: record.id) == 2, "the copy is stored")

            #expect(try await s.wraps(record)?.map(\.scope) == [.review])
            #expect(try await s.caseWraps(record)?.map(\.scope) == [.review])
            #expect(try await s.casework.caseSummaries(today: today).map(\.liveScopes) == [[.review]])
            #expect(try await s.open(record, check) == .consentGone)
            #expect(try await s.reply(record, check) == .consentGone)
            #expect(try await s.intake.accessLog(lookup: record.lookup).count == 0)

            // A real grant afterwards binds its own wrap again.
            let fresh = try SealedFixture().extraWrap(.support)
            #expect(try await s.intake.putConsent(fresh, for: record, at: h(2)))
            #expect(try await s.wraps(record)?.first == fresh)
            #expect(try await s.open(record, GrantCheck(try await s.grant(record, to: alice, at: h(3)), today: today)) == .done)
        }
    }

    @Test(arguments: StoreKind.tested)
    func retentionExpiresConsentsAndShredsRecordsWithoutAny(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { s in
            let expiring = try SealedFixture(consents: [(.support, today.adding(days: -1))]).record
            let lasting = try SealedFixture(consents: [(.support, nil), (.review, today)]).record
            let withdrawn = try SealedFixture(consents: [(.support, nil)]).record
            let empty = try SealedFixture(consents: []).record
            for record in [expiring, lasting, withdrawn, empty] { try await s.intake.insert(record, at: testHour) }

            #expect(try await s.casework.expireConsents(before: today, at: h(1)) == 1)
            #expect(try await s.wraps(expiring) == [])
            #expect(try await s.wraps(lasting)?.map(\.scope) == [.support, .review])
            #expect(
                try await s.intake.consentHistory(lookup: expiring.lookup).last
                    == ConsentEvent(scope: .support, action: .expired, at: h(1), expires: nil))
            #expect(try await s.casework.expireConsents(before: today, at: h(2)) == 0)

            #expect(try await s.intake.removeConsent(.support, for: withdrawn, action: .withdrawn, at: h(3)))
            // No consent since h(1) (expired) and since insertion (never any); `withdrawn` only since h(3).
            #expect(try await s.casework.shredRecords(withoutConsentSince: h(1), at: h(4)) == 2)
            #expect(try await s.intake.record(lookup: expiring.lookup) == nil)
            #expect(try await s.intake.record(lookup: empty.lookup) == nil)
            #expect(try await s.intake.record(lookup: withdrawn.lookup) != nil)
            #expect(try await s.intake.record(lookup: lasting.lookup) != nil)
            #expect(try await s.casework.shredRecords(withoutConsentSince: h(3), at: h(5)) == 1)
            #expect(try await s.intake.record(lookup: withdrawn.lookup) == nil)
            #expect(try await s.casework.caseSummaries(today: today).map(\.reference) == [lasting.id.reference])

            let entries = try await s.casework.auditEntries()
            #expect(entries.filter { $0.event.action == "consent.expire" }.map(\.event) == [.consentExpired(expiring.id, scope: .support)])
            let shreds = entries.filter { $0.event.action == "retention.shred" }
            #expect(Set(shreds.filter { $0.at == h(4) }.map(\.event.subject)) == [expiring.id.reference, empty.id.reference])
            #expect(shreds.filter { $0.at == h(5) }.map(\.event) == [.retentionShred(withdrawn.id)])
        }
    }

    @Test(arguments: StoreKind.tested)
    func rewrapPagesThroughAndReplacesOnlyUnchangedWraps(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { s in
            let records = try (0..<5).map { _ in try SealedFixture(consents: [(.support, nil)]).record }
            let other = try SealedFixture(consents: [(.review, nil)]).record
            for record in records + [other] { try await s.intake.insert(record, at: testHour) }
            #expect(try await s.casework.wrapCounts() == [.support: [1: 5], .review: [1: 1]])

            var pages: [[WrapToRewrap]] = []
            var cursor: RewrapCursor?
            repeat {
                let page = try await s.casework.wrapsToRewrap(scope: .support, version: 1, after: cursor, limit: 2)
                pages.append(page)
                cursor = page.last?.cursor
            } while pages.last?.isEmpty == false && pages.count < 10
            #expect(pages.map(\.count) == [2, 2, 1, 0])
            let seen = pages.flatMap { $0 }
            try #require(seen.count == 5)
            let byID = Dictionary(uniqueKeysWithValues: records.map { ($0.id, $0) })
            #expect(Set(seen.map(\.recordID)) == Set(byID.keys))
            for row in seen {
                #expect(row.scope == .support && row.keyVersion == 1)
                #expect(row.wrap == byID[row.recordID]?.wraps.first?.wrap)
                #expect(row.commitment == byID[row.recordID]?.commitment)
            }
            #expect(try await s.casework.wrapsToRewrap(scope: .support, version: 2, after: nil, limit: 10).isEmpty)

            // Meanwhile the survivor of the first replaces their consent and the second withdraws.
            let replaced = try #require(byID[seen[0].recordID])
            let newer = try SealedFixture().extraWrap(.support)
            #expect(try await s.intake.putConsent(newer, for: replaced, at: h(1)))
            #expect(try await s.intake.removeConsent(.support, for: try #require(byID[seen[1].recordID]), action: .withdrawn, at: h(1)))

            let updates = try seen.map {
                RewrappedWrap(old: $0, newVersion: 2, newWrap: try SystemRandom.bytes(105), newConversationWrap: try SystemRandom.bytes(105))
            }
            #expect(try await s.casework.replaceWraps(updates) == 3)
            #expect(try await s.casework.replaceWraps(updates) == 0)
            #expect(try await s.wraps(replaced) == [newer])
            #expect(try await s.wraps(try #require(byID[seen[1].recordID])) == [])
            for update in updates.dropFirst(2) {
                let record = try #require(byID[update.old.recordID])
                // The conversation wrap moves with the consent wrap: nothing is left at the old version.
                #expect(
                    try await s.wraps(record) == [
                        StoredWrap(
                            scope: .support, keyVersion: 2, wrap: update.newWrap, conversationWrap: update.newConversationWrap, expires: nil)
                    ])
            }
            #expect(try await s.casework.wrapCounts() == [.support: [2: 4], .review: [1: 1]])
        }
    }

    @Test(arguments: StoreKind.tested)
    func staffAccountsSignInsAndSessions(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { s in
            let c = s.casework
            let bob = try await s.addStaff("bob", .reviewer)
            let alice = try await s.addStaff("alice")
            #expect(
                try await c.addStaff(
                    username: "alice", role: .admin, pseudonym: "admin-OTHER", passwordHash: "x", sealedTOTPSecret: [1],
                    audit: { staffEvent("staff.create", "\($0)") }, at: testHour) == nil)
            let fresh = StaffRecord(
                identity: alice, passwordHash: "$argon2id$alice", sealedTOTPSecret: Array("alice".utf8), totpLastStep: 0, mustChangePassword: true,
                disabled: false, failedLogins: 0, lockedUntil: 0)
            #expect(try await c.staff(username: "alice") == fresh)
            #expect(try await c.staff(id: alice.id) == fresh)
            #expect(try await c.staff(username: "carol") == nil)
            #expect(try await c.allStaff().map(\.identity) == [alice, bob])

            try await c.recordLoginFailure(staffID: alice.id, lockUntil: nil, audit: staffEvent("login.fail"), at: h(1))
            try await c.recordLoginFailure(staffID: alice.id, lockUntil: h(2), audit: staffEvent("login.fail"), at: h(1))
            try await c.recordLoginFailure(staffID: nil, lockUntil: h(9), audit: staffEvent("login.fail"), at: h(1))
            #expect(try await c.staff(id: alice.id)?.failedLogins == 2)
            #expect(try await c.staff(id: alice.id)?.lockedUntil == h(2))
            #expect(try await c.staff(id: bob.id)?.failedLogins == 0)

            let (one, two, three) = ([UInt8](repeating: 1, count: 32), [UInt8](repeating: 2, count: 32), [UInt8](repeating: 3, count: 32))
            func signIn(step: Int64, _ token: [UInt8], at: Int64) async throws -> Bool {
                try await c.recordLoginSuccess(staffID: alice.id, totpStep: step, sessionTokenHash: token, audit: staffEvent("login"), at: at)
            }
            #expect(try await signIn(step: 100, one, at: h(3)))
            let signedIn = try #require(try await c.staff(id: alice.id))
            #expect(signedIn.totpLastStep == 100 && signedIn.failedLogins == 0 && signedIn.lockedUntil == 0)
            #expect(try await c.session(tokenHash: one) == StoredSession(staffID: alice.id, created: h(3), lastSeen: h(3)))
            // The same step again, or an older one, is refused and starts no session.
            #expect(try await signIn(step: 100, two, at: h(3)) == false)
            #expect(try await signIn(step: 99, two, at: h(3)) == false)
            #expect(try await c.session(tokenHash: two) == nil)
            #expect(try await signIn(step: 101, two, at: h(4)))
            try await c.touchSession(tokenHash: one, at: h(5))
            #expect(try await c.session(tokenHash: one)?.lastSeen == h(5))

            try await c.setPassword(
                staffID: alice.id, passwordHash: "new", mustChange: false, keepingSession: one, audit: staffEvent("password"), at: h(6))
            #expect(try await c.session(tokenHash: one) != nil)
            #expect(try await c.session(tokenHash: two) == nil)
            #expect(try await c.staff(id: alice.id)?.passwordHash == "new")
            #expect(try await c.staff(id: alice.id)?.mustChangePassword == false)

            try await c.setDisabled(staffID: alice.id, disabled: true, audit: staffEvent("disable"), at: h(7))
            #expect(try await c.session(tokenHash: one) == nil)
            #expect(try await c.staff(id: alice.id)?.disabled == true)
            #expect(try await signIn(step: 200, three, at: h(8)) == false)
            try await c.setDisabled(staffID: alice.id, disabled: false, audit: staffEvent("enable"), at: h(8))
            #expect(try await signIn(step: 201, three, at: h(8)))

            #expect(try await c.session(tokenHash: three) != nil)
            try await c.resetCredentials(staffID: alice.id, passwordHash: "reset", sealedTOTPSecret: [7, 7], audit: staffEvent("reset"), at: h(9))
            #expect(try await c.session(tokenHash: three) == nil)
            #expect(
                try await c.staff(id: alice.id)
                    == StaffRecord(
                        identity: alice, passwordHash: "reset", sealedTOTPSecret: [7, 7], totpLastStep: 0, mustChangePassword: true, disabled: false,
                        failedLogins: 0, lockedUntil: 0))
            #expect(try await signIn(step: 1, three, at: h(9)))

            let before = try await c.auditEntries().count
            try await c.deleteSession(tokenHash: three, audit: staffEvent("logout"), at: h(9))
            #expect(try await c.session(tokenHash: three) == nil)
            try await c.deleteSession(tokenHash: three, audit: staffEvent("logout"), at: h(9))
            #expect(try await c.auditEntries().count == before + 1, "only the session that existed is audited")
        }
    }

    /// `StaffService.add` retries with a fresh pseudonym when `addStaff` answers nil, so a taken
    /// pseudonym must be refused like a taken username, not thrown as a storage failure.
    @Test(arguments: StoreKind.tested)
    func aTakenPseudonymIsRefusedLikeATakenUsername(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { s in
            let alice = try await s.addStaff("alice")
            let id = try await s.casework.addStaff(
                username: "carol", role: .caseworker, pseudonym: alice.pseudonym, passwordHash: "x", sealedTOTPSecret: [1],
                audit: { staffEvent("staff.create", "\($0)") }, at: testHour)
            #expect(id == nil)
            #expect(try await s.casework.staff(username: "carol") == nil)
            #expect(try await s.casework.allStaff().map(\.identity) == [alice])
        }
    }

    @Test(arguments: StoreKind.tested)
    func auditTrailIsOneVerifiableChainOfBothSides(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { s in
            let a = try SealedFixture(consents: [(.support, nil), (.review, nil)])
            let b = try SealedFixture(consents: []).record
            let record = a.record
            let id = record.id
            try await s.intake.insert(record, at: testHour)
            let alice = try await s.addStaff("alice", at: testHour)
            #expect(try await s.intake.putConsent(try a.extraWrap(.police), for: record, at: h(1)))
            #expect(try await s.intake.removeConsent(.review, for: record, action: .withdrawn, at: h(2)))
            #expect(
                try await s.intake.addSurvivorMessage(
                    lookup: record.lookup, scope: .support, noteID: [1], sealed: [2], audit: .survivorMessage(id, scope: .support), at: h(3)))
            let check = GrantCheck(try await s.grant(record, to: alice, at: h(4)), today: today)
            #expect(try await s.open(record, check, at: h(5)) == .done)
            try await s.casework.appendAudit(staffEvent("keys.publish", "support.v1"), at: h(6))
            #expect(try await s.intake.erase(lookup: record.lookup, audit: .recordErased(id), at: h(7)))
            try await s.intake.insert(b, at: h(8))

            let expected: [(AuditEvent, Int64)] = [
                (.recordCreated(id), testHour), (.consentGranted(id, scope: .support), testHour), (.consentGranted(id, scope: .review), testHour),
                (staffEvent("staff.create", "\(alice.id)"), testHour), (.consentGranted(id, scope: .police), h(1)),
                (.consentWithdrawn(id, scope: .review), h(2)), (.survivorMessage(id, scope: .support), h(3)),
                (staffEvent("case.assign", id.reference), h(4)),
                (staffEvent("record.open", id.reference), h(5)), (staffEvent("keys.publish", "support.v1"), h(6)), (.recordErased(id), h(7)),
                (.recordCreated(b.id), h(8)),
            ]
            let entries = try await s.casework.auditEntries()
            #expect(entries.map(\.event) == expected.map(\.0))
            #expect(entries.map(\.at) == expected.map(\.1))
            #expect(entries.map(\.seq) == Array(1...Int64(expected.count)))
            #expect(try AuditChain.verify(entries: entries, checkpoints: [], publicKeys: [:]) == nil)
            let last = try #require(entries.last)
            let head = try #require(try await s.casework.auditHead())
            #expect(head.seq == last.seq && head.hash == last.hash)

            let key = try Ed25519PrivateKey.generate()
            let checkpoint = AuditCheckpoint(
                seq: head.seq, hash: head.hash, at: h(9), keyVersion: 1,
                signature: key.signature(for: AuditChain.checkpointMessage(seq: head.seq, hash: head.hash)))
            try await s.casework.addCheckpoint(checkpoint)
            try await s.casework.addCheckpoint(
                AuditCheckpoint(seq: head.seq, hash: head.hash, at: h(10), keyVersion: 2, signature: [UInt8](repeating: 0, count: 64)))
            #expect(try await s.casework.auditCheckpoints() == [checkpoint])
            #expect(
                try AuditChain.verify(entries: entries, checkpoints: try await s.casework.auditCheckpoints(), publicKeys: [1: key.publicKey]) == nil)
        }
    }

    /// The audit trail read a page at a time (issue 10): pages follow `seq` whatever the page
    /// size, the latest checkpoint is read alone, and the streamed verification over pages smaller
    /// than the trail gives the verdict and counts of the verification over everything at once.
    @Test(arguments: StoreKind.tested)
    func auditTrailIsReadAndVerifiedAPageAtATime(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { s in
            #expect(try await s.casework.lastAuditCheckpoint() == nil)
            #expect(try await s.casework.auditEntries(after: 0, limit: 4).isEmpty)
            let empty = try await AuditChain.verify(s.casework, publicKeys: [:], pageSize: 4)
            #expect(empty.problem == nil && empty.entries == 0 && empty.checkpoints == 0 && empty.lastCheckpoint == 0)

            let key = try Ed25519PrivateKey.generate()
            var signed: [AuditCheckpoint] = []
            for i in 1...23 as ClosedRange<Int64> {
                try await s.casework.appendAudit(staffEvent("case.status", "case-\(i)"), at: h(i))
                if [3, 4, 9, 23].contains(i) {
                    let head = try #require(try await s.casework.auditHead())
                    let c = AuditCheckpoint(
                        seq: head.seq, hash: head.hash, at: h(i), keyVersion: 1,
                        signature: key.signature(for: AuditChain.checkpointMessage(seq: head.seq, hash: head.hash)))
                    try await s.casework.addCheckpoint(c)
                    signed.append(c)
                }
            }
            let all = try await s.casework.auditEntries()
            #expect(try await s.casework.auditEntries(after: 10, limit: 5) == Array(all[10..<15]))
            #expect(try await s.casework.auditEntries(after: 20, limit: 5) == Array(all[20...]))
            #expect(try await s.casework.auditCheckpoints(after: 3, limit: 2) == Array(signed[1...2]))
            #expect(try await s.casework.auditCheckpoints(after: 23, limit: 2).isEmpty)
            #expect(try await s.casework.lastAuditCheckpoint() == signed.last)

            let keys = [UInt32(1): key.publicKey]
            #expect(try AuditChain.verify(entries: all, checkpoints: signed, publicKeys: keys) == nil)
            for pageSize in [1, 2, 4, 23, 10_000] {
                let v = try await AuditChain.verify(s.casework, publicKeys: keys, pageSize: pageSize)
                #expect(v.problem == nil, "pages of \(pageSize)")
                #expect(v.entries == 23 && v.checkpoints == 4 && v.lastCheckpoint == 23, "pages of \(pageSize)")
            }
            // Without the key every checkpoint is unverifiable: the first one is named, as before.
            let unkeyed = try await AuditChain.verify(s.casework, publicKeys: [:], pageSize: 4)
            #expect(try unkeyed.problem == AuditChain.verify(entries: all, checkpoints: signed, publicKeys: [:]))
            #expect(unkeyed.problem?.kind == "bad-checkpoint" && unkeyed.problem?.seq == 3)
        }
    }

    /// SECURITY.md §13: the casework side stores a closed month once; the intake reads it back
    /// exactly; an erasure afterwards, and a second attempt to store that month, change nothing.
    @Test(arguments: StoreKind.tested)
    func aClosedMonthIsStoredOnceAndTheIntakeReadsItAsStored(_ kind: StoreKind) async throws {
        try await Stores.with(kind) { s in
            let march = try #require(Month(year: 2026, month: 3))
            var fixtures: [SealedFixture] = []
            for i in 0..<12 {
                let f = try SealedFixture(consents: [(.support, nil)])
                try await s.intake.insert(f.record, at: march.start + Int64(i) * 3_600)
                fixtures.append(f)
            }
            let service = TransparencyService(store: s.casework, clock: TestClock(march.end + 7_200))
            #expect(try await s.casework.recordRegions().count == 12)
            let first = try await service.publishClosedMonths()
            #expect(first.map(\.month) == ["2026-03"])
            #expect(first.first?.requests.total == .count(10))
            #expect(first.first?.consentsLive.figure("support") == .count(10))
            #expect(first.first?.openCases.total == .count(10))
            #expect(try await s.intake.publishedMonths() == first)

            #expect(try await s.intake.erase(lookup: fixtures[0].record.lookup, audit: .recordErased(fixtures[0].record.id), at: march.end + 3_600))
            #expect(try await s.casework.recordRegions().count == 11)
            #expect(try await service.publishClosedMonths().isEmpty)
            let altered = try PublishedMonth(
                json: Array(String(decoding: try #require(first.first).json(), as: UTF8.self).replacing("2026-04-01", with: "2026-05-01").utf8))
            #expect(altered != first.first)
            try await s.casework.storePublishedMonths([altered])
            #expect(try await s.intake.publishedMonths() == first)
        }
    }
}
