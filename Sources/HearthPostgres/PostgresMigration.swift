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
        do {
            return try await upgrade(db)
        } catch let e as PostgresTransactionError {
            // A refusal of ours reads as itself, not as the driver's wrapper around it.
            if let refusal = e.closureError as? PostgresSchemaError { throw refusal }
            throw e
        }
    }

    /// Creates or upgrades the schema in one transaction; throws ``PostgresSchemaError`` (and
    /// changes nothing) for a database it cannot upgrade.
    static func upgrade(_ db: PostgresDatabase) async throws -> String {
        try await db.transaction { t in
            // One migration at a time, even from two hosts.
            try await t.execute("SELECT pg_advisory_xact_lock(\(PostgresCaseworkStore.writerLock + 1))")
            let exists = try await t.rows("SELECT to_regnamespace('hearth') IS NOT NULL AS present").first?.value("present", as: Bool.self) ?? false
            if exists {
                let version = try await t.rows("SELECT hearth.schema_version() AS v").first?.value("v", as: Int.self)
                if let version, version == 1 || version == 2 {
                    try await refuseOldConversations(t)
                    let steps = (version == 1 ? statements(PostgresSchema.v2) : []) + statements(PostgresSchema.v3)
                    for statement in steps { try await t.execute(PostgresQuery(unsafeSQL: statement)) }
                    return "upgraded schema hearth from version \(version) to \(PostgresSchema.version)"
                        + (version == 1 ? " (published transparency months, a conversation per group)" : " (a conversation per group)")
                }
                guard version == PostgresSchema.version else {
                    throw PostgresSchemaError(
                        description: "the database has schema version \(version.map(String.init) ?? "unknown"), which this build cannot upgrade")
                }
                return "schema hearth is already at version \(PostgresSchema.version); roles hearth_intake and hearth_casework present"
            }
            for statement in statements(PostgresSchema.v1) + statements(PostgresSchema.v2) + statements(PostgresSchema.v3) {
                try await t.execute(PostgresQuery(unsafeSQL: statement))
            }
            return "created schema hearth version \(PostgresSchema.version) and roles hearth_intake, hearth_casework (no passwords set)"
        }
    }

    /// Version 3 seals each group's messages under that conversation's key (SECURITY.md §3.13).
    /// Messages sealed under a record's data key, and consent wraps with no conversation wrap,
    /// cannot be carried over (only the survivor's receipt derives a conversation key), so a
    /// database that holds either is refused, changing nothing. No deployment with real people
    /// predates this.
    static func refuseOldConversations(_ t: Transaction) async throws {
        let messages = try await t.rows("SELECT count(*)::int AS n FROM hearth.messages").first?.value("n", as: Int.self) ?? 0
        let wraps = try await t.rows("SELECT count(*)::int AS n FROM hearth.consent_wraps").first?.value("n", as: Int.self) ?? 0
        guard messages == 0, wraps == 0 else {
            throw PostgresSchemaError(
                description: "the database holds \(messages) message(s) and \(wraps) consent wrap(s) written before conversations per group "
                    + "(SECURITY.md §3.13), which schema version 3 cannot open or carry over; migrate a new, empty database instead "
                    + "(no deployment with real people predates this change)")
        }
    }

    /// The statements that create the schema as an older build left it (1 or 2), for the tests
    /// that prove an upgrade. Not used by Hearth itself.
    @_spi(Inspection) public static func statements(creatingVersion version: Int) -> [String] {
        statements(PostgresSchema.v1) + (version >= 2 ? statements(PostgresSchema.v2) : [])
            + (version >= 3 ? statements(PostgresSchema.v3) : [])
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
