import Foundation
public import HearthCore
public import Logging
import PostgresNIO

/// What `hearth backup` and `hearth restore` need of PostgreSQL besides `pg_dump` and
/// `pg_restore` themselves: an exported snapshot the dump reads, the figures of that snapshot,
/// libpq's connection settings for the child processes, and the checks around a restore
/// (SECURITY.md §3.20, §4.2).
public enum PostgresBackup {
    /// The identity counters are not in the dump (`hearth_casework` may not read sequences): a
    /// restore sets each to one past the highest value its column holds.
    public static let sequenceDataExclusion = "hearth.*_seq"

    /// Opens a `REPEATABLE READ READ ONLY` transaction at `location`, exports its snapshot,
    /// reads the figures in it, and runs `body` with the snapshot's name while the transaction
    /// stays open (the dump must attach to it before it ends). No deadline: a dump may take minutes.
    public static func withExportedSnapshot<T: Sendable>(
        _ location: PostgresLocation, logger: Logger, _ body: @escaping @Sendable (String, BackupFigures) async throws -> T
    ) async throws -> T {
        let db = try PostgresDatabase(location, logger: logger)
        defer { db.close() }
        return try await db.client.withConnection { connection in
            func rows(_ sql: String) async throws -> [PostgresRandomAccessRow] {
                try await connection.query(PostgresQuery(unsafeSQL: sql), logger: logger).collect().map { $0.makeRandomAccess() }
            }
            _ = try await rows("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            do {
                // The first statement fixes the snapshot; the figures below read the same one.
                guard let snapshot = try await rows("SELECT pg_export_snapshot() AS s").first?.value("s", as: String.self) else {
                    throw PostgresSchemaError(description: "the server exported no snapshot")
                }
                let version = try await rows("SELECT hearth.schema_version() AS v").first?.value("v", as: Int.self) ?? 0
                let records = try await rows("SELECT count(*)::bigint AS n FROM hearth.records").first?.value("n", as: Int.self) ?? 0
                var wraps: [Scope: [UInt32: Int]] = [:]
                for row in try await rows("SELECT scope, key_version, count(*)::bigint AS n FROM hearth.consent_wraps GROUP BY scope, key_version") {
                    if let scope = Scope(rawValue: try row.value("scope")) {
                        wraps[scope, default: [:]][UInt32(try row.value("key_version", as: Int64.self))] = try row.value("n", as: Int.self)
                    }
                }
                let result = try await body(snapshot, BackupFigures(schemaVersion: version, recordCount: records, wraps: wraps))
                _ = try await rows("COMMIT")
                return result
            } catch {
                _ = try? await rows("ROLLBACK")
                throw error
            }
        }
    }

    /// libpq's environment for `pg_dump`/`pg_restore` reaching `location`: host or socket
    /// directory, port, user, database, `sslmode` and `sslrootcert`. A password goes into a
    /// password file (`PGPASSFILE`, 0600, created exclusively in `privateDirectory`), never on a
    /// command line or in the environment.
    public static func libpqEnvironment(_ location: PostgresLocation, privateDirectory: String) throws -> [String: String] {
        var env: [String: String] = [
            "PGHOST": location.socketDirectory ?? location.host ?? "",
            "PGPORT": String(location.port),
            "PGUSER": location.user,
            "PGDATABASE": location.database,
            "PGSSLMODE": location.socketDirectory != nil ? "disable" : location.tls.rawValue,
            "PGCONNECT_TIMEOUT": "15",
        ]
        if location.socketDirectory == nil, location.tls == .verifyFull {
            // Hearth's default roots are the system's; libpq's would be ~/.postgresql/root.crt.
            env["PGSSLROOTCERT"] = location.rootCertificate ?? "/etc/ssl/certs/ca-certificates.crt"
        }
        let passfile = "\(privateDirectory)/pgpass"
        let line = location.password.map { password in
            [location.socketDirectory ?? location.host ?? "*", String(location.port), location.database, location.user, password]
                .map { $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ":", with: "\\:") }
                .joined(separator: ":") + "\n"
        }
        let fd = open(passfile, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PostgresSchemaError(description: "cannot create a password file in \(privateDirectory)") }
        let bytes = Array((line ?? "").utf8)
        let written = bytes.isEmpty ? 0 : write(fd, bytes, bytes.count)
        close(fd)
        guard written == bytes.count else { throw PostgresSchemaError(description: "cannot write a password file in \(privateDirectory)") }
        env["PGPASSFILE"] = passfile
        return env
    }

    /// Refuses a database that already has the schema `hearth`: a restore goes only into an
    /// empty database.
    public static func checkEmpty(_ location: PostgresLocation, logger: Logger) async throws {
        let db = try PostgresDatabase(location, logger: logger, deadline: .seconds(60))
        defer { db.close() }
        let present = try await db.rows("SELECT to_regnamespace('hearth') IS NOT NULL AS present").first?.value("present", as: Bool.self) ?? false
        if present {
            throw PostgresSchemaError(
                description:
                    "refusing to restore into \(location): it already has the schema hearth\nhint: restore into a new, empty database (createdb), never over a live one"
            )
        }
    }

    /// Creates the roles `hearth_intake` and `hearth_casework` when missing, as `hearth db migrate` does.
    public static func createRoles(_ location: PostgresLocation, logger: Logger) async throws {
        let db = try PostgresDatabase(location, logger: logger, deadline: .seconds(60))
        defer { db.close() }
        try await db.transaction { t in
            for statement in PostgresMigration.statements(PostgresSchema.roles) { try await t.execute(PostgresQuery(unsafeSQL: statement)) }
        }
    }

    /// After `pg_restore`: sets every identity counter in the schema past its column's highest
    /// value, then reads the restored database's figures.
    public static func finishRestore(_ location: PostgresLocation, logger: Logger) async throws -> BackupFigures {
        let db = try PostgresDatabase(location, logger: logger, deadline: .seconds(600))
        defer { db.close() }
        return try await db.transaction { t in
            let identities = try await t.rows(
                """
                SELECT c.relname AS t, a.attname AS col FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'hearth' AND a.attidentity <> '' ORDER BY 1
                """)
            for row in identities {
                let table: String = try row.value("t")
                let column: String = try row.value("col")
                try await t.execute(
                    PostgresQuery(
                        unsafeSQL:
                            "SELECT setval(pg_get_serial_sequence('hearth.\(table)', '\(column)'), coalesce((SELECT max(\(column)) FROM hearth.\(table)), 0) + 1, false)"
                    ))
            }
            let version = try await t.rows("SELECT hearth.schema_version() AS v").first?.value("v", as: Int.self) ?? 0
            let records = try await t.rows("SELECT count(*)::bigint AS n FROM hearth.records").first?.value("n", as: Int.self) ?? 0
            var wraps: [Scope: [UInt32: Int]] = [:]
            for row in try await t.rows("SELECT scope, key_version, count(*)::bigint AS n FROM hearth.consent_wraps GROUP BY scope, key_version") {
                if let scope = Scope(rawValue: try row.value("scope")) {
                    wraps[scope, default: [:]][UInt32(try row.value("key_version", as: Int64.self))] = try row.value("n", as: Int.self)
                }
            }
            return BackupFigures(schemaVersion: version, recordCount: records, wraps: wraps)
        }
    }

    /// The schema version this build expects.
    public static var currentSchemaVersion: Int { PostgresSchema.version }
}
