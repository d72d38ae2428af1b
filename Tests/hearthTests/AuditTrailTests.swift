import Foundation
import GRDB
import HearthCore
import HearthKeys
import HearthTestSupport
import Testing

/// Invariant 6 end to end: the real `hearth` writes the audit trail, SQLite refuses to change it,
/// and `hearth audit verify` names the first altered, removed or re-ordered entry when someone
/// changes the file behind its back.
@Suite("hearth audit", .timeLimit(.minutes(1)))
struct AuditTrailTests {
    /// `hearth audit checkpoint --json`.
    struct PrintedCheckpoint: Decodable {
        let seq: Int64
        let hash: String
        let at: String
        let keyVersion: UInt32
        let signature: String
    }

    /// Every stored entry with its hashes, read straight from SQLite.
    static func entries(_ db: Database) throws -> [AuditEntry] {
        try Row.fetchAll(db, sql: "SELECT * FROM audit ORDER BY seq").map { row in
            let previous: Data = row["previous_hash"]
            let hash: Data = row["hash"]
            return AuditEntry(
                seq: row["seq"], at: row["at"],
                event: AuditEvent(
                    actor: row["actor"], role: row["role"], action: row["action"], subject: row["subject"], scope: row["scope"],
                    outcome: row["outcome"]),
                previousHash: Array(previous), hash: Array(hash))
        }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] })
    }

    static func unhex(_ s: String) -> [UInt8]? {
        let chars = Array(s)
        guard chars.count % 2 == 0 else { return nil }
        var out: [UInt8] = []
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let b = UInt8(String(chars[i...i + 1]), radix: 16) else { return nil }
            out.append(b)
        }
        return out
    }

    /// A fixture with `count` staff adds (one audit entry each) and a signed checkpoint of the head.
    static func checkpointedTrail(_ count: Int = 4) async throws -> MaintenanceFixture {
        let f = try await MaintenanceFixture.make()
        for i in 1...count {
            let c = try await f.addStaff("user\(i)", role: i % 2 == 0 ? "reviewer" : "caseworker")
            #expect(c.otpauthURI.hasPrefix("otpauth://totp/") && c.otpauthURI.contains(c.totpSecret), "\(c.otpauthURI)")
        }
        let checkpoint = try await f.run(["audit", "checkpoint"])
        try #require(checkpoint.succeeded, "\(checkpoint)")
        #expect(checkpoint.stdout.hasPrefix("entry \(count) hash "), "\(checkpoint.stdout)")
        return f
    }

    /// Copies the data directory (its WAL checkpointed into the main file first) into a fresh
    /// owner-only directory, and runs `change` on the copy with the append-only triggers (on `audit`
    /// and `audit_checkpoints`) dropped.
    static func tamperedCopy(of f: MaintenanceFixture, named name: String, _ change: (Database) throws -> Void) throws -> String {
        let original = try DatabaseQueue(path: f.database())
        try original.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try original.close()

        let copy = f.work.file(name)
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        try FileManager.default.copyItem(atPath: f.database(), toPath: f.database(in: copy))

        let queue = try DatabaseQueue(path: f.database(in: copy))
        try queue.write { db in
            let triggers = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('audit', 'audit_checkpoints')")
            #expect(triggers.contains("audit_no_update") && triggers.contains("audit_no_delete"), "\(triggers)")
            for name in triggers { try db.execute(sql: "DROP TRIGGER \(name.quotedDatabaseIdentifier)") }
            try change(db)
        }
        try queue.close()
        return copy
    }

    /// Expects `hearth audit verify` to fail, naming `entry` and the kind of problem.
    static func expectVerifyNames(
        _ f: MaintenanceFixture, data: String, entry: Int, kind: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let outcome = try await f.run(["audit", "verify"], data: data)
        #expect(outcome.exitedNormally && outcome.status == 1, "\(what): \(outcome)", sourceLocation: sourceLocation)
        #expect(outcome.stdout.contains("FAILED at entry \(entry): \(kind)"), "\(what): \(outcome)", sourceLocation: sourceLocation)
        #expect(
            outcome.stderr.contains("entry \(entry) ") || outcome.stderr.contains("entries \(entry) "), "\(what): \(outcome.stderr)",
            sourceLocation: sourceLocation)
        #expect(!outcome.stdout.contains("ok:"), sourceLocation: sourceLocation)
    }

    @Test("staff adds and a signed checkpoint make a trail that `hearth audit verify` accepts (exit 0)")
    func intactTrailVerifies() async throws {
        let f = try await Self.checkpointedTrail(4)
        let verify = try await f.run(["audit", "verify"])
        #expect(verify.succeeded, "\(verify)")
        #expect(verify.stdout.contains("ok: 4 entries, 1 signed checkpoints, last checkpoint at entry 4"), "\(verify.stdout)")

        let queue = try DatabaseQueue(path: f.database())
        defer { try? queue.close() }
        let (entries, checkpoints) = try await queue.read { db in
            (try Self.entries(db), try Int.fetchOne(db, sql: "SELECT count(*) FROM audit_checkpoints"))
        }
        #expect(entries.map(\.seq) == [1, 2, 3, 4])
        #expect(entries.allSatisfy { $0.event.actor == "cli" && $0.event.action == "staff.add" })
        #expect(checkpoints == 1)
    }

    @Test("audit checkpoint --json prints the head's seq, hash and signature as hex, the signature checks out, and verify still passes")
    func checkpointJSONIsVerifiable() async throws {
        let f = try await MaintenanceFixture.make()
        for name in ["alice", "bob", "carol"] { _ = try await f.addStaff(name) }

        let first = try await f.run(["audit", "checkpoint", "--json"])
        #expect(first.succeeded, "\(first)")
        let printed = try JSONDecoder().decode(PrintedCheckpoint.self, from: Data(first.stdout.utf8))
        #expect(printed.seq == 3)
        #expect(printed.keyVersion == 1)
        #expect(printed.hash.wholeMatch(of: /[0-9a-f]{64}/) != nil, "\(printed.hash)")
        #expect(printed.signature.wholeMatch(of: /[0-9a-f]{128}/) != nil, "\(printed.signature)")
        #expect(printed.at.wholeMatch(of: /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/) != nil, "\(printed.at)")

        // The printed checkpoint, kept elsewhere, verifies against the stored trail and the audit public key alone.
        let entries = try await DatabaseQueue(path: f.database()).read { try Self.entries($0) }
        #expect(Self.hex(entries[2].hash) == printed.hash)
        let kept = AuditCheckpoint(
            seq: printed.seq, hash: try #require(Self.unhex(printed.hash)), at: 0, keyVersion: printed.keyVersion,
            signature: try #require(Self.unhex(printed.signature)))
        let publicKeys = [UInt32(1): try KeyDirectory(path: f.keys).loadAuditPublicKey(version: 1)]
        #expect(try AuditChain.verify(entries: entries, checkpoints: [kept], publicKeys: publicKeys) == nil)
        let forged = AuditCheckpoint(seq: 2, hash: entries[1].hash, at: 0, keyVersion: 1, signature: kept.signature)
        #expect(try AuditChain.verify(entries: entries, checkpoints: [forged], publicKeys: publicKeys)?.kind == "bad-checkpoint")

        let verify = try await f.run(["audit", "verify"])
        #expect(verify.succeeded, "\(verify)")

        // Nothing new: the same checkpoint again, none added.
        let again = try await f.run(["audit", "checkpoint", "--json"])
        #expect(again.succeeded, "\(again)")
        #expect(try JSONDecoder().decode(PrintedCheckpoint.self, from: Data(again.stdout.utf8)).signature == printed.signature)

        // A new entry, a second checkpoint; the second verify passes with both.
        _ = try await f.addStaff("dave")
        let second = try await f.run(["audit", "checkpoint", "--json"])
        let next = try JSONDecoder().decode(PrintedCheckpoint.self, from: Data(second.stdout.utf8))
        #expect(next.seq == 4)
        #expect(next.hash != printed.hash)
        let verifyAgain = try await f.run(["audit", "verify"])
        #expect(verifyAgain.succeeded, "\(verifyAgain)")
        #expect(verifyAgain.stdout.contains("ok: 4 entries, 2 signed checkpoints, last checkpoint at entry 4"), "\(verifyAgain.stdout)")
    }

    @Test("SQLite refuses UPDATE and DELETE on the audit table; the trail is unchanged and still verifies")
    func triggersRefuseUpdateAndDelete() async throws {
        let f = try await Self.checkpointedTrail(3)
        let queue = try DatabaseQueue(path: f.database())
        let before = try await queue.read { try Self.entries($0) }

        let statements = [
            "UPDATE audit SET outcome = 'denied' WHERE seq = 2",
            "UPDATE audit SET actor = actor",
            "DELETE FROM audit WHERE seq = 3",
            "DELETE FROM audit",
        ]
        for sql in statements {
            let error = #expect(throws: DatabaseError.self, "\(sql)") { try queue.write { db in try db.execute(sql: sql) } }
            #expect(error?.message?.contains("append-only") == true, "\(sql): \(String(describing: error))")
        }
        // The refusal holds outside an explicit transaction too.
        #expect(throws: DatabaseError.self) {
            try queue.writeWithoutTransaction { db in try db.execute(sql: "DELETE FROM audit WHERE seq = 1") }
        }
        let after = try await queue.read { try Self.entries($0) }
        #expect(after == before)
        try queue.close()

        let verify = try await f.run(["audit", "verify"])
        #expect(verify.succeeded, "\(verify)")
    }

    @Test(
        "with the triggers dropped, changing any field of entry 3 is named by audit verify",
        arguments: [
            ("actor", "UPDATE audit SET actor = 'staff:9' WHERE seq = 3"),
            ("role", "UPDATE audit SET role = 'admin' WHERE seq = 3"),
            ("action", "UPDATE audit SET action = 'staff.disable' WHERE seq = 3"),
            ("subject", "UPDATE audit SET subject = 'staff:1' WHERE seq = 3"),
            ("scope", "UPDATE audit SET scope = 'supervisor' WHERE seq = 3"),
            ("outcome", "UPDATE audit SET outcome = 'denied' WHERE seq = 3"),
            ("at", "UPDATE audit SET at = at - 3600 WHERE seq = 3"),
        ])
    func alteredEntryIsNamed(field: String, sql: String) async throws {
        let f = try await Self.checkpointedTrail(4)
        let copy = try Self.tamperedCopy(of: f, named: "altered-\(field)") { db in
            try db.execute(sql: sql)
            #expect(db.changesCount == 1)
        }
        try await Self.expectVerifyNames(f, data: copy, entry: 3, kind: "altered", "entry 3's \(field) changed")
        // The original is untouched and still verifies.
        #expect(try await f.run(["audit", "verify"]).succeeded)
    }

    @Test("with the triggers dropped, removing, swapping, truncating, forging or re-hashing entries is named by audit verify")
    func removedReorderedAndTruncatedEntriesAreNamed() async throws {
        let f = try await Self.checkpointedTrail(4)
        let columns = "at, actor, role, action, subject, scope, outcome, previous_hash, hash"

        let removed = try Self.tamperedCopy(of: f, named: "removed") { db in
            try db.execute(sql: "DELETE FROM audit WHERE seq = 2")
        }
        try await Self.expectVerifyNames(f, data: removed, entry: 2, kind: "missing", "entry 2 deleted")

        let swapped = try Self.tamperedCopy(of: f, named: "swapped") { db in
            try db.execute(
                sql: """
                    CREATE TEMP TABLE saved AS SELECT seq, \(columns) FROM audit WHERE seq IN (2, 3);
                    UPDATE audit SET (\(columns)) = (SELECT \(columns) FROM saved WHERE saved.seq = 5 - audit.seq) WHERE seq IN (2, 3);
                    """)
            let subjects = try String.fetchAll(db, sql: "SELECT subject FROM audit ORDER BY seq")
            #expect(subjects.count == 4)
            #expect(subjects[1] != subjects[2])
        }
        try await Self.expectVerifyNames(f, data: swapped, entry: 2, kind: "altered", "entries 2 and 3 swapped, seq kept")

        // The signed checkpoint covers entry 4: removing it is truncation, named at 4.
        let truncated = try Self.tamperedCopy(of: f, named: "truncated") { db in
            try db.execute(sql: "DELETE FROM audit WHERE seq = 4")
        }
        try await Self.expectVerifyNames(f, data: truncated, entry: 4, kind: "truncated", "the last entry deleted under a checkpoint")

        let truncatedMore = try Self.tamperedCopy(of: f, named: "truncated-more") { db in
            try db.execute(sql: "DELETE FROM audit WHERE seq >= 3")
        }
        try await Self.expectVerifyNames(f, data: truncatedMore, entry: 3, kind: "truncated", "entries 3 and 4 deleted under a checkpoint")

        // Appending is allowed by the triggers, but an appended entry must chain: a forged one is named.
        let forged = try Self.tamperedCopy(of: f, named: "forged") { db in
            try db.execute(
                sql: """
                    INSERT INTO audit (seq, at, actor, role, action, subject, scope, outcome, previous_hash, hash)
                    SELECT 5, at, 'cli', '', 'staff.add', 'staff:99', 'admin', 'ok', hash, zeroblob(32) FROM audit WHERE seq = 4
                    """)
        }
        try await Self.expectVerifyNames(f, data: forged, entry: 5, kind: "altered", "a forged entry appended")

        // Entry 2 rewritten and the chain re-hashed from there (no key needed): the signed checkpoint at 4 catches it.
        let rehashed = try Self.tamperedCopy(of: f, named: "rehashed") { db in
            let entries = try Self.entries(db)
            var previous = entries[0].hash
            for i in 1..<entries.count {
                let e = entries[i]
                let event =
                    i == 1
                    ? AuditEvent(
                        actor: e.event.actor, role: e.event.role, action: e.event.action, subject: e.event.subject, scope: "admin",
                        outcome: e.event.outcome)
                    : e.event
                let hash = try AuditChain.hash(previous: previous, seq: e.seq, at: e.at, event: event)
                try db.execute(
                    sql: "UPDATE audit SET scope = ?, previous_hash = ?, hash = ? WHERE seq = ?",
                    arguments: [event.scope, Data(previous), Data(hash), e.seq])
                previous = hash
            }
        }
        try await Self.expectVerifyNames(f, data: rehashed, entry: 4, kind: "altered", "entries re-hashed after rewriting entry 2")

        // A checkpoint whose signature was tampered with.
        let badSignature = try Self.tamperedCopy(of: f, named: "bad-signature") { db in
            try db.execute(sql: "UPDATE audit_checkpoints SET signature = zeroblob(64)")
            #expect(db.changesCount == 1)
        }
        try await Self.expectVerifyNames(f, data: badSignature, entry: 4, kind: "bad-checkpoint", "checkpoint signature zeroed")

        #expect(try await f.run(["audit", "verify"]).succeeded, "the original is untouched")
    }

    @Test("entry k rewritten and re-hashed, k+1 left alone, no checkpoint over them: verify names entry k+1 (the link check)")
    func rehashedEntryBreaksTheNextLink() async throws {
        let f = try await Self.checkpointedTrail(4)
        // Two entries past the signed checkpoint at 4, so only the chain's links guard them.
        _ = try await f.addStaff("user5", role: "caseworker")
        _ = try await f.addStaff("user6", role: "reviewer")
        #expect(try await f.run(["audit", "verify"]).succeeded)
        let relinked = try Self.tamperedCopy(of: f, named: "relinked") { db in
            let e = try #require(try Self.entries(db).first { $0.seq == 5 })
            let event = AuditEvent(
                actor: e.event.actor, role: e.event.role, action: e.event.action, subject: e.event.subject, scope: "admin", outcome: e.event.outcome)
            let hash = try AuditChain.hash(previous: e.previousHash, seq: e.seq, at: e.at, event: event)
            try db.execute(sql: "UPDATE audit SET scope = ?, hash = ? WHERE seq = 5", arguments: [event.scope, Data(hash)])
            #expect(db.changesCount == 1)
        }
        try await Self.expectVerifyNames(f, data: relinked, entry: 6, kind: "reordered", "entry 5 rewritten and re-hashed alone")
    }
}
