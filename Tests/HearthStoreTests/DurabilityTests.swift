import Foundation
import HearthCore
@_spi(Inspection) import HearthStore
import HearthTestSupport
import Testing

/// Invariant 5 (issue 10, point 5): a submission is acknowledged, `insert` returns, only after the
/// transaction holding it is durably committed. The writer's COMMIT is held or failed on purpose
/// (a hook inside SQLite's commit, before the WAL is synced), so this does not depend on timing:
/// an acknowledgement given before COMMIT would be seen while the commit is held.
@Suite("SQLite store: durability contract")
struct DurabilityTests {
    /// How long a held commit stays held while the test watches for an early acknowledgement: an
    /// acknowledgement before COMMIT resumes its caller within microseconds.
    static let watch = Duration.milliseconds(500)

    @Test func noSubmissionIsAcknowledgedWhileItsCommitIsHeld() async throws {
        let f = try StoreFixture()
        let gate = CommitGate(.holdNext)
        try await f.store.setCommitHook { try gate.willCommit() }
        let first = try SealedFixture()
        let second = try SealedFixture()
        let acknowledged = Acknowledgements()

        let firstInsert = Task {
            try await f.store.insert(first.record, at: testHour)
            acknowledged.note("first")
        }
        #expect(try await gate.waitUntilHeld(), "the insert never reached COMMIT")
        // A second submission arriving meanwhile waits for the next transaction.
        let secondInsert = Task {
            try await f.store.insert(second.record, at: testHour)
            acknowledged.note("second")
        }
        try await Task.sleep(for: Self.watch)
        #expect(acknowledged.all.isEmpty, "acknowledged before its commit was durable")
        // Readers still see the database as it was before the held transaction.
        #expect(try await f.store.record(lookup: first.record.lookup) == nil)
        #expect(try await f.int("SELECT count(*) FROM audit") == 0)

        gate.release()
        try await firstInsert.value
        try await secondInsert.value
        #expect(Set(acknowledged.all) == ["first", "second"])
        #expect(try await f.store.record(lookup: first.record.lookup)?.body == first.record.body)
        #expect(try await f.store.record(lookup: second.record.lookup)?.body == second.record.body)
        #expect(gate.held == 1)
        try await f.store.setCommitHook(nil)
    }

    @Test func aFailedCommitAcknowledgesNothingAndStoresNothing() async throws {
        let f = try StoreFixture()
        let gate = CommitGate(.failAll)
        try await f.store.setCommitHook { try gate.willCommit() }
        let refused = try SealedFixture(consents: [(.support, nil), (.review, nil)])
        await #expect(throws: CommitGate.Refused.self) {
            try await f.store.insert(refused.record, audit: [.recordCreated(refused.record.id)], at: testHour)
        }
        // The group commit tried the batch, then the record alone: both commits failed.
        #expect(gate.refused == 2)
        #expect(try await f.store.record(lookup: refused.record.lookup) == nil)
        for table in ["records", "consent_wraps", "consent_events", "audit"] {
            #expect(try await f.int("SELECT count(*) FROM \(table)") == 0, "\(table)")
        }

        // With the gate open again the same store takes submissions as before.
        gate.set(.open)
        let accepted = try SealedFixture()
        try await f.store.insert(accepted.record, audit: [.recordCreated(accepted.record.id)], at: testHour)
        #expect(try await f.store.record(lookup: accepted.record.lookup) != nil)
        #expect(try await f.int("SELECT count(*) FROM records") == 1)
        try await f.store.setCommitHook(nil)
    }
}
