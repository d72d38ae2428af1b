import Foundation
@_spi(Inspection) import HearthPostgres
import HearthTestSupport
import Testing

/// `hearth audit verify --database` on PostgreSQL catches what it catches on SQLite: an altered,
/// missing, re-ordered or truncated entry, once someone with the owner's power has switched the
/// append-only triggers off (no service role can).
@Suite("hearth audit verify on PostgreSQL", .enabled(if: TestPostgres.enabled), .timeLimit(.minutes(3)))
struct PostgresAuditTrailTests {
    enum Tampering: String, CaseIterable, Sendable {
        case altered, missing, reordered, truncated

        /// The statements, run by the owner with the triggers off, and the entry and kind verify names.
        var change: (sql: [String], entry: Int, kind: String) {
            switch self {
            case .altered: (["UPDATE audit SET subject = 'staff:99' WHERE seq = 3"], 3, "altered")
            case .missing: (["DELETE FROM audit WHERE seq = 2"], 2, "missing")
            case .reordered:
                (
                    [
                        "UPDATE audit SET seq = seq + 100 WHERE seq IN (2, 3)",
                        "UPDATE audit SET seq = CASE seq WHEN 102 THEN 3 ELSE 2 END WHERE seq IN (102, 103)",
                    ], 2, "altered"
                )
            case .truncated: (["DELETE FROM audit WHERE seq = 4"], 4, "truncated")
            }
        }
    }

    @Test("each kind of tampering is named by audit verify, at the right entry", arguments: Tampering.allCases)
    func tamperingIsNamed(_ tampering: Tampering) async throws {
        try await TestPostgres.with { db in
            let f = try await MaintenanceFixture.make()
            let url = "postgres://hearth_casework@localhost:\(db.casework.port)/\(db.name)?host=\(db.casework.socketDirectory ?? "")"
            for i in 1...4 {
                let added = try await f.run(["staff", "add", "--username", "user\(i)", "--role", "caseworker", "--json", "--database", url])
                try #require(added.succeeded, "\(added)")
            }
            let checkpoint = try await f.run(["audit", "checkpoint", "--database", url])
            try #require(checkpoint.succeeded, "\(checkpoint)")
            let intact = try await f.run(["audit", "verify", "--database", url])
            #expect(intact.succeeded && intact.stdout.contains("ok: 4 entries, 1 signed checkpoints"), "\(intact)")

            try await db.asOwner("ALTER TABLE hearth.audit DISABLE TRIGGER USER")
            for statement in tampering.change.sql { try await db.asOwner(statement) }
            try await db.asOwner("ALTER TABLE hearth.audit ENABLE TRIGGER USER")

            let outcome = try await f.run(["audit", "verify", "--database", url])
            #expect(outcome.exitedNormally && outcome.status == 1, "\(outcome)")
            #expect(outcome.stdout.contains("FAILED at entry \(tampering.change.entry): \(tampering.change.kind)"), "\(outcome)")
        }
    }
}
