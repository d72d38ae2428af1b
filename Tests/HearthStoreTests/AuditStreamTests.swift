import Foundation
import GRDB
@_spi(Inspection) import HearthCore
import HearthCrypto
@_spi(Inspection) import HearthStore
import Testing

/// `hearth audit verify` reads the trail a page at a time (issue 10). A problem anywhere, in a
/// later page than the first or spread over several, gets the verdict the verification over the
/// whole trail at once gives (entry problems first, then the first checkpoint problem by `seq`).
@Suite struct AuditStreamTests {
    static let pageSize = 4

    /// A trail of 23 entries with signed checkpoints at entries 3, 4, 9 and 23.
    /// With `forging`, also a validly signed checkpoint at that entry over a hash it does not have.
    static func trail(forging: Int64? = nil) async throws -> (StoreFixture, [UInt32: Ed25519PublicKey]) {
        let f = try StoreFixture()
        let key = try Ed25519PrivateKey.generate()
        for i in 1...23 as ClosedRange<Int64> {
            try await f.store.appendAudit(AuditEvent(actor: "admin", role: "admin", action: "case.status", subject: "case-\(i)"), at: i * 3_600)
            if [3, 4, 9, 23].contains(i) {
                let head = try #require(try await f.store.auditHead())
                try await f.store.addCheckpoint(
                    AuditCheckpoint(
                        seq: head.seq, hash: head.hash, at: i * 3_600, keyVersion: 1,
                        signature: key.signature(for: AuditChain.checkpointMessage(seq: head.seq, hash: head.hash))))
            }
        }
        if let seq = forging {
            let hash = [UInt8](repeating: 1, count: 32)
            try await f.store.addCheckpoint(
                AuditCheckpoint(
                    seq: seq, hash: hash, at: 24 * 3_600, keyVersion: 1,
                    signature: key.signature(for: AuditChain.checkpointMessage(seq: seq, hash: hash))))
        }
        return (f, [1: key.publicKey])
    }

    /// Runs `change` with the append-only triggers dropped, then expects the streamed verdict to be
    /// `kind` at `seq` and to equal the verdict over everything at once.
    func expectVerdict(
        _ kind: String, at seq: Int64, forging: Int64? = nil, after change: String..., sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let (f, keys) = try await Self.trail(forging: forging)
        if forging == nil {
            let untouched = try await AuditChain.verify(f.store, publicKeys: keys, pageSize: Self.pageSize)
            #expect(untouched.problem == nil && untouched.entries == 23 && untouched.checkpoints == 4, sourceLocation: sourceLocation)
        }
        try await f.store.tamper { db in
            let triggers = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('audit', 'audit_checkpoints')")
            for name in triggers { try db.execute(sql: "DROP TRIGGER \(name.quotedDatabaseIdentifier)") }
            for sql in change { try db.execute(sql: sql) }
        }
        let streamed = try await AuditChain.verify(f.store, publicKeys: keys, pageSize: Self.pageSize)
        let whole = try AuditChain.verify(
            entries: try await f.store.auditEntries(), checkpoints: try await f.store.auditCheckpoints(), publicKeys: keys)
        #expect(
            streamed.problem?.kind == kind && streamed.problem?.seq == seq, "\(String(describing: streamed.problem))", sourceLocation: sourceLocation)
        #expect(streamed.problem == whole, sourceLocation: sourceLocation)
    }

    @Test func anAlteredEntryInTheSecondPageIsCaught() async throws {
        try await expectVerdict("altered", at: 6, after: "UPDATE audit SET outcome = 'denied' WHERE seq = 6")
    }

    @Test func aRemovedEntryInALaterPageIsCaught() async throws {
        try await expectVerdict("missing", at: 10, after: "DELETE FROM audit WHERE seq = 10")
    }

    @Test func aReplacedEntryInALaterPageIsCaught() async throws {
        // Entry 14 rehashed over a made-up predecessor: its own hash holds, its link does not.
        let event = AuditEvent(actor: "admin", role: "admin", action: "case.status", subject: "case-14")
        let previous = [UInt8](repeating: 7, count: 32)
        let hash = try AuditChain.hash(previous: previous, seq: 14, at: 14 * 3_600, event: event)
        try await expectVerdict(
            "reordered", at: 14,
            after: "UPDATE audit SET previous_hash = X'\(AuditCheckpoint.hex(previous))', hash = X'\(AuditCheckpoint.hex(hash))' WHERE seq = 14")
    }

    @Test func aTruncatedTrailIsCaughtByItsLastCheckpoint() async throws {
        try await expectVerdict("truncated", at: 20, after: "DELETE FROM audit WHERE seq >= 20")
    }

    @Test func anEntryProblemInALaterPageComesBeforeACheckpointProblemInTheFirst() async throws {
        try await expectVerdict(
            "altered", at: 18, after: "UPDATE audit_checkpoints SET signature = zeroblob(64) WHERE seq = 4",
            "UPDATE audit SET subject = 'case-0' WHERE seq = 18")
    }

    @Test func theFirstBadCheckpointIsNamedWhenEveryEntryHolds() async throws {
        try await expectVerdict(
            "bad-checkpoint", at: 9, after: "UPDATE audit_checkpoints SET signature = zeroblob(64) WHERE seq IN (9, 23)")
    }

    @Test func aSignedCheckpointOverAnotherHashIsCaught() async throws {
        try await expectVerdict("altered", at: 13, forging: 13)
    }
}
