@_spi(Inspection) import HearthPostgres
import HearthTestSupport
import Testing

/// The roles are the boundary (SECURITY.md §4): each forbidden statement is refused by
/// PostgreSQL itself (SQLSTATE 42501, insufficient privilege), not by Hearth's code, and the
/// audit tables refuse changes even from the owner.
@Suite("PostgreSQL roles: what each side cannot do", .enabled(if: TestPostgres.enabled))
struct PostgresRoleTests {
    static let tables = [
        "staff", "sessions", "records", "consent_wraps", "consent_events", "messages", "access_log", "audit", "audit_checkpoints", "audit_inbox",
        "published_months", "interviews",
    ]

    /// One try at a statement, for the matrix.
    struct Attempt: Sendable, CustomStringConvertible {
        let statement: String
        let sqlState: String?
        var description: String { "\(sqlState ?? "allowed")  \(statement)" }
    }

    /// Runs each statement in its own transaction as `role`; returns what PostgreSQL answered.
    static func attempt(_ statements: [String], as location: PostgresLocation, in db: TestPostgres) async throws -> [Attempt] {
        let pool = try db.connect(location)
        defer { pool.close() }
        var out: [Attempt] = []
        for statement in statements {
            do {
                _ = try await pool.inspect(statement)
                out.append(Attempt(statement: statement, sqlState: nil))
            } catch {
                out.append(Attempt(statement: statement, sqlState: PostgresDatabase.sqlState(of: error) ?? "error: \(error)"))
            }
        }
        return out
    }

    /// Select, insert, update, delete and truncate on `table`.
    static func everything(on table: String) -> [String] {
        [
            "SELECT * FROM hearth.\(table) LIMIT 1", "INSERT INTO hearth.\(table) DEFAULT VALUES",
            "UPDATE hearth.\(table) SET \(column[table] ?? "at") = \(column[table] ?? "at")", "DELETE FROM hearth.\(table)",
            "TRUNCATE hearth.\(table) CASCADE",
        ]
    }

    /// A column of each table that an UPDATE may name (identity columns refuse any update first).
    static let column = [
        "staff": "username", "sessions": "token_hash", "records": "status", "consent_wraps": "wrap", "audit_checkpoints": "at",
        "published_months": "figures", "interviews": "state",
    ]

    static let intakeFunctionCalls = [
        "SELECT hearth.intake_record('\\x00')", "SELECT hearth.intake_erase('\\x00', 0)", "SELECT hearth.intake_consent_history('\\x00')",
        "SELECT hearth.intake_put_consent('\\x00', 'support', 1, '\\x00', '\\x00', NULL, 0)",
        "SELECT hearth.intake_remove_consent('\\x00', 'support', 'withdrawn', 0)",
        "SELECT hearth.intake_messages('\\x00')", "SELECT hearth.intake_add_message('\\x00', 'support', '\\x00', '\\x00', 0)",
        "SELECT hearth.intake_access_log('\\x00')", "SELECT * FROM hearth.intake_published_months()",
        "SELECT hearth.intake_replace_body('\\x00', '\\x00', 0)",
        "SELECT hearth.intake_set_pause('\\x00', true, NULL, 0)", "SELECT * FROM hearth.intake_interviews('\\x00')",
        "SELECT hearth.intake_answer_interview('\\x00', '\\x00', 0, 'declined', NULL, '\\x00', 'decline', 0)",
        "SELECT hearth.intake_submit('\\x00', '\\x00', 0, NULL, '\\x00', '\\x00', '\\x00', '{}', '{}', '{}', '{}', '{}', 0)",
    ]

    @Test("hearth_intake touches no table: every select, insert, update, delete and truncate on every table is refused; DDL too")
    func intakeTouchesNoTable() async throws {
        try await TestPostgres.with { db in
            let statements =
                Self.tables.flatMap(Self.everything) + ["CREATE TABLE hearth.intruder (x int)", "SELECT hearth.wrap_is_bound(1, 'support', 1)"]
            let attempts = try await Self.attempt(statements, as: db.intake, in: db)
            for a in attempts { #expect(a.sqlState == "42501", "\(a)") }
            print("hearth_intake:\n" + attempts.map { "  \($0)" }.joined(separator: "\n"))
        }
    }

    @Test("hearth_intake can call only the survivor functions: an unknown lookup id reaches nothing")
    func intakeCallsOnlySurvivorFunctions() async throws {
        try await TestPostgres.with { db in
            let attempts = try await Self.attempt(Array(Self.intakeFunctionCalls.dropLast()), as: db.intake, in: db)
            for a in attempts { #expect(a.sqlState == nil, "\(a)") }
            #expect(try await db.count("SELECT count(*) FROM audit_inbox") == 0, "nothing happened to a record that is not there")
        }
    }

    /// What `hearth_casework` may do, table by table (SECURITY.md §4.2): an operation, or for an
    /// update the columns it may set. Everything else on these tables must be refused.
    static let caseworkMay: [String: (ops: Set<String>, columns: Set<String>)] = [
        "staff": (["SELECT", "INSERT", "UPDATE"], []), "sessions": (["SELECT", "INSERT", "UPDATE", "DELETE"], []),
        "records": (["SELECT", "DELETE"], ["status", "assignee", "no_consent_since"]),
        "consent_wraps": (["SELECT", "DELETE"], ["wrap", "conversation_wrap", "key_version"]), "consent_events": (["SELECT", "INSERT"], []),
        "messages": (["SELECT", "INSERT"], []), "access_log": (["SELECT", "INSERT"], []), "audit": (["SELECT", "INSERT"], []),
        "audit_checkpoints": (["SELECT", "INSERT"], []), "audit_inbox": (["SELECT", "DELETE"], []),
        "published_months": (["SELECT", "INSERT"], []), "interviews": (["SELECT", "INSERT"], []),
    ]

    /// Every column of every table, as the owner sees them (identity columns left out: PostgreSQL
    /// refuses to update those before it checks privileges).
    static func columns(_ db: TestPostgres) async throws -> [String: [String]] {
        let rows = try await db.asOwner(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'hearth' AND is_identity = 'NO' ORDER BY 1, 2")
        return Dictionary(grouping: rows.compactMap { r in r[0].flatMap { t in r[1].map { (t, $0) } } }, by: \.0).mapValues { $0.map(\.1) }
    }

    @Test("hearth_casework: every operation on every table and every column outside its grants is refused by PostgreSQL; those inside are not")
    func caseworkPrivilegeMatrix() async throws {
        try await TestPostgres.with { db in
            let columns = try await Self.columns(db)
            var forbidden: [String] = ["CREATE TABLE hearth.intruder (x int)"] + Self.intakeFunctionCalls
            var allowed: [String] = []
            for table in Self.tables {
                let may = try #require(Self.caseworkMay[table])
                let whole: [(String, String)] = [
                    ("SELECT", "SELECT * FROM hearth.\(table) LIMIT 1"), ("INSERT", "INSERT INTO hearth.\(table) DEFAULT VALUES"),
                    ("DELETE", "DELETE FROM hearth.\(table) WHERE false"), ("TRUNCATE", "TRUNCATE hearth.\(table) CASCADE"),
                ]
                for (op, sql) in whole { if may.ops.contains(op) { allowed.append(sql) } else { forbidden.append(sql) } }
                for column in try #require(columns[table]) {
                    let sql = "UPDATE hearth.\(table) SET \(column) = \(column) WHERE false"
                    if may.ops.contains("UPDATE") || may.columns.contains(column) { allowed.append(sql) } else { forbidden.append(sql) }
                }
            }
            let refused = try await Self.attempt(forbidden, as: db.casework, in: db)
            for a in refused { #expect(a.sqlState == "42501", "\(a)") }
            let permitted = try await Self.attempt(allowed, as: db.casework, in: db)
            for a in permitted { #expect(a.sqlState != "42501", "\(a)") }
            #expect(refused.count > 60 && permitted.count > 30, "\(refused.count) refused, \(permitted.count) permitted")
            print("hearth_casework refused:\n" + refused.map { "  \($0)" }.joined(separator: "\n"))
        }
    }

    @Test("even the owner cannot update, delete or truncate audit entries or checkpoints: the triggers refuse")
    func auditIsAppendOnlyForTheOwner() async throws {
        try await TestPostgres.with { db in
            try await db.asOwner(
                "INSERT INTO hearth.audit VALUES (1, 0, 'a', 'r', 'x', 's', '', 'ok', '\\x00', '\\x01')")
            try await db.asOwner("INSERT INTO hearth.audit_checkpoints VALUES (1, '\\x01', 0, 1, '\\x02')")
            let attempts = try await Self.attempt(
                [
                    "UPDATE hearth.audit SET outcome = 'x'", "DELETE FROM hearth.audit", "TRUNCATE hearth.audit",
                    "UPDATE hearth.audit_checkpoints SET at = 1", "DELETE FROM hearth.audit_checkpoints", "TRUNCATE hearth.audit_checkpoints",
                ], as: db.owner, in: db)
            for a in attempts { #expect(a.sqlState == "P0001", "\(a)") }
            #expect(try await db.count("SELECT count(*) FROM audit") == 1)
            #expect(try await db.count("SELECT count(*) FROM audit_checkpoints") == 1)
        }
    }

    @Test("even the owner cannot update, delete or truncate a published month: a month is stored once (SECURITY.md §13)")
    func publishedMonthsAreInsertOnlyForTheOwner() async throws {
        try await TestPostgres.with { db in
            try await db.asOwner("INSERT INTO hearth.published_months VALUES ('2026-03', '2026-04-01', '\\x7b7d')")
            let attempts = try await Self.attempt(
                [
                    "UPDATE hearth.published_months SET figures = '\\x00'", "DELETE FROM hearth.published_months",
                    "TRUNCATE hearth.published_months",
                ], as: db.owner, in: db)
            for a in attempts { #expect(a.sqlState == "P0001", "\(a)") }
            #expect(try await db.count("SELECT count(*) FROM published_months") == 1)
        }
    }
}
