import Foundation
public import Logging
import PostgresNIO

/// `hearth db migrate`: creates or upgrades the schema and the two login roles, as the database
/// owner, in one transaction. The services never run it.
public enum PostgresMigration {
    /// Migrates the database at `location`; returns a line saying what was done.
    public static func migrate(_ location: PostgresLocation, logger: Logger) async throws -> String {
        // A migration may wait behind another and rewrite large tables: minutes, not seconds.
        let db = try PostgresDatabase(location, logger: logger, deadline: .seconds(600))
        defer { db.close() }
        // Roles first, in their own short transaction: they belong to the whole cluster, and
        // creating one holds a lock every other database's migration would wait on.
        let missing =
            try await db.rows(
                "SELECT count(*)::int AS n FROM unnest(ARRAY['hearth_intake', 'hearth_casework']) r WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r)"
            ).first?.value("n", as: Int.self) ?? 2
        if missing > 0 {
            try await db.transaction { t in
                for statement in statements(PostgresSchema.roles) { try await t.execute(PostgresQuery(unsafeSQL: statement)) }
            }
        }
        return try await db.transaction { t in
            // One migration at a time, even from two hosts.
            try await t.execute("SELECT pg_advisory_xact_lock(\(PostgresCaseworkStore.writerLock + 1))")
            let exists = try await t.rows("SELECT to_regnamespace('hearth') IS NOT NULL AS present").first?.value("present", as: Bool.self) ?? false
            if exists {
                let version = try await t.rows("SELECT hearth.schema_version() AS v").first?.value("v", as: Int.self)
                if version == 1 {
                    for statement in statements(PostgresSchema.v2) { try await t.execute(PostgresQuery(unsafeSQL: statement)) }
                    return "upgraded schema hearth from version 1 to \(PostgresSchema.version) (published transparency months)"
                }
                guard version == PostgresSchema.version else {
                    throw PostgresSchemaError(
                        description: "the database has schema version \(version.map(String.init) ?? "unknown"), which this build cannot upgrade")
                }
                return "schema hearth is already at version \(PostgresSchema.version); roles hearth_intake and hearth_casework present"
            }
            for statement in statements(PostgresSchema.v1) + statements(PostgresSchema.v2) {
                try await t.execute(PostgresQuery(unsafeSQL: statement))
            }
            return "created schema hearth version \(PostgresSchema.version) and roles hearth_intake, hearth_casework (no passwords set)"
        }
    }

    /// Splits a script into statements at `;` outside `$$` bodies, quotes and `--` comments.
    static func statements(_ script: String) -> [String] {
        var out: [String] = []
        var current = ""
        var inDollar = false
        var inQuote = false
        var inComment = false
        var previous: Character = " "
        for c in script {
            if inComment {
                if c == "\n" { inComment = false }
                previous = c
                continue
            }
            if !inDollar, !inQuote, c == "-", previous == "-" {
                current.removeLast()
                inComment = true
                previous = " "
                continue
            }
            if !inQuote, c == "$", previous == "$" { inDollar.toggle() }
            if !inDollar, c == "'" { inQuote.toggle() }
            if c == ";", !inDollar, !inQuote {
                let trimmed = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !trimmed.isEmpty { out.append(trimmed) }
                current = ""
            } else {
                current.append(c)
            }
            previous = c == "$" && previous == "$" ? " " : c
        }
        let trimmed = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !trimmed.isEmpty { out.append(trimmed) }
        return out
    }
}
