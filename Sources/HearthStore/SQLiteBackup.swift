import Foundation
import GRDB
public import HearthCore

/// Consistent copies of the live SQLite database for `hearth backup`, and the checks `hearth
/// restore` runs on a restored file (SECURITY.md §3.20).
public enum SQLiteBackup {
    /// Copies the database at `live` into `destination` (a new, empty file the caller created
    /// with the live file's protection) with SQLite's online backup API, in one step inside one
    /// read transaction: a consistent snapshot, taken while the service keeps writing (WAL lets
    /// it). Returns the figures read from the copy, so they describe exactly what was copied.
    public static func snapshot(live: String, to destination: String) throws -> BackupFigures {
        var config = Configuration()
        config.busyMode = .timeout(10)
        // Only read; not read-only, so it opens even when no other process holds the WAL open.
        let source = try DatabasePool(path: live, configuration: config)
        var destinationConfig = Configuration()
        destinationConfig.prepareDatabase { db in
            try db.execute(sql: "PRAGMA secure_delete = ON")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        let copy = try DatabaseQueue(path: destination, configuration: destinationConfig)
        try source.backup(to: copy)
        try source.close()
        let figures = try copy.read { db in try figuresOf(db) }
        // Back to a single file: no WAL or journal beside the copy that is streamed.
        try copy.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA journal_mode = DELETE") }
        try copy.close()
        return figures
    }

    /// The integrity check, schema version, record count and wraps of the database at `path`
    /// (a restored copy, before any service opens it). Opened read-only: nothing is migrated.
    public static func check(_ path: String) throws -> (integrity: String, figures: BackupFigures) {
        var config = Configuration()
        config.readonly = true
        let db = try DatabaseQueue(path: path, configuration: config)
        defer { try? db.close() }
        return try db.read { db in
            let rows = try String.fetchAll(db, sql: "PRAGMA integrity_check")
            return (rows.joined(separator: "; "), try figuresOf(db))
        }
    }

    /// The schema version this build's migrations reach.
    public static var currentSchemaVersion: Int { SQLiteStore.migrator.migrations.count }

    static func figuresOf(_ db: Database) throws -> BackupFigures {
        let version = try Int.fetchOne(db, sql: "SELECT count(*) FROM grdb_migrations") ?? 0
        let records = try Int.fetchOne(db, sql: "SELECT count(*) FROM records") ?? 0
        var wraps: [Scope: [UInt32: Int]] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT scope, key_version, count(*) AS n FROM consent_wraps GROUP BY scope, key_version") {
            guard let scope = Scope(rawValue: row["scope"]) else { continue }
            let version: Int64 = row["key_version"]
            wraps[scope, default: [:]][UInt32(version)] = row["n"]
        }
        return BackupFigures(schemaVersion: version, recordCount: records, wraps: wraps)
    }
}
