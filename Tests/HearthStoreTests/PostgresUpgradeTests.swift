@_spi(Inspection) import HearthPostgres
import HearthTestSupport
import Logging
import Testing

/// `hearth db migrate` on a database an older build made: version 1 (before the transparency
/// figures) and version 2 (before a conversation per group).
@Suite("PostgreSQL schema upgrade", .enabled(if: TestPostgres.enabled))
struct PostgresUpgradeTests {
    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Replaces the migrated schema with the one an older build made at `version`.
    static func rebuild(_ db: TestPostgres, atVersion version: Int) async throws {
        _ = try await db.asOwner("DROP SCHEMA hearth CASCADE")
        for statement in PostgresMigration.statements(creatingVersion: version) { _ = try await db.asOwner(statement) }
        #expect(try await db.count("SELECT hearth.schema_version()") == version)
    }

    @Test(
        "a version 1 or 2 database is upgraded to 3: published_months and the conversation columns appear with their grants, and a second run changes nothing",
        arguments: [1, 2])
    func upgrades(from version: Int) async throws {
        try await TestPostgres.with { db in
            try await Self.rebuild(db, atVersion: version)
            let upgraded = try await PostgresMigration.migrate(db.owner, logger: Self.quiet)
            #expect(upgraded.contains("upgraded schema hearth from version \(version) to 3"), "\(upgraded)")
            #expect(try await db.count("SELECT hearth.schema_version()") == 3)
            let casework = try db.connect(db.casework)
            defer { casework.close() }
            _ = try await casework.inspect("INSERT INTO hearth.published_months VALUES ('2026-03', '2026-04-01', '\\x7b7d')")
            _ = try await casework.inspect("UPDATE hearth.consent_wraps SET conversation_wrap = conversation_wrap WHERE false")
            let intake = try db.connect(db.intake)
            defer { intake.close() }
            #expect(try await intake.inspect("SELECT count(*) FROM hearth.intake_published_months()").first?.first == "1")
            // The survivor functions of version 3: a message names its group.
            #expect(try await intake.inspect("SELECT hearth.intake_add_message('\\x00', 'support', '\\x00', '\\x00', 0)").first?.first == "f")

            let again = try await PostgresMigration.migrate(db.owner, logger: Self.quiet)
            #expect(again.contains("already at version 3"), "\(again)")
        }
    }

    @Test("a version 2 database holding messages or consent wraps of the old format is refused, with a plain reason, and left as it was")
    func refusesOldConversations() async throws {
        try await TestPostgres.with { db in
            try await Self.rebuild(db, atVersion: 2)
            _ = try await db.asOwner(
                """
                INSERT INTO hearth.records (id, lookup, format, created_hour, commitment, body, survivor_wrap)
                VALUES ('\\x0102030405060708090a', '\\x\(String(repeating: "11", count: 32))', 1, 0, '\\x\(String(repeating: "22", count: 32))', '\\x00', '\\x00')
                """)
            _ = try await db.asOwner(
                "INSERT INTO hearth.messages (record_rid, note_id, from_survivor, at, sealed) SELECT rid, '\\x00', true, 0, '\\x00' FROM hearth.records"
            )
            await #expect {
                _ = try await PostgresMigration.migrate(db.owner, logger: Self.quiet)
            } throws: { error in
                "\(error)".contains("holds 1 message(s) and 0 consent wrap(s) written before conversations per group")
            }
            #expect(try await db.count("SELECT hearth.schema_version()") == 2, "nothing changed")
            #expect(try await db.count("SELECT count(*) FROM hearth.messages") == 1)
        }
    }
}
