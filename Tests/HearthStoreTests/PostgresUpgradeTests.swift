@_spi(Inspection) import HearthPostgres
import HearthTestSupport
import Logging
import Testing

/// `hearth db migrate` on a database at schema version 1 (before the transparency figures).
@Suite("PostgreSQL schema upgrade", .enabled(if: TestPostgres.enabled))
struct PostgresUpgradeTests {
    @Test("a version 1 database is upgraded to 2: published_months appears with its grants, and a second run changes nothing")
    func upgradesFromVersionOne() async throws {
        try await TestPostgres.with { db in
            // Back to what version 1 had.
            try await db.asOwner("DROP FUNCTION hearth.intake_published_months()")
            try await db.asOwner("DROP TABLE hearth.published_months")
            try await db.asOwner("CREATE OR REPLACE FUNCTION hearth.schema_version() RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT 1 $$")
            let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

            let upgraded = try await PostgresMigration.migrate(db.owner, logger: quiet)
            #expect(upgraded.contains("upgraded schema hearth from version 1 to 2"), "\(upgraded)")
            #expect(try await db.count("SELECT hearth.schema_version()") == 2)
            let casework = try db.connect(db.casework)
            defer { casework.close() }
            _ = try await casework.inspect("INSERT INTO hearth.published_months VALUES ('2026-03', '2026-04-01', '\\x7b7d')")
            let intake = try db.connect(db.intake)
            defer { intake.close() }
            #expect(try await intake.inspect("SELECT count(*) FROM hearth.intake_published_months()").first?.first == "1")

            let again = try await PostgresMigration.migrate(db.owner, logger: quiet)
            #expect(again.contains("already at version 2"), "\(again)")
        }
    }
}
