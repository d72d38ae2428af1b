import Foundation
@_spi(Inspection) import HearthPostgres
import Logging

/// A fresh PostgreSQL database for one test, on the throwaway cluster `Tests/run-all.sh` starts
/// (`Tests/postgres-cluster.sh`): created as the superuser, migrated with `hearth db migrate`'s
/// code, reached as the owner and as each service role. Dropped by ``drop()``.
///
/// Without the cluster (`HEARTH_TEST_POSTGRES` unset), creating one fails with a hint, so the
/// PostgreSQL tests cannot pass by being skipped; `HEARTH_SKIP_POSTGRES=1` turns them off for a
/// quick local run (``enabled``).
public struct TestPostgres: Sendable {
    /// The owner's (superuser's) location.
    public let owner: PostgresLocation
    /// The database's name.
    public let name: String

    /// False only when `HEARTH_SKIP_POSTGRES=1`: use as `.enabled(if: TestPostgres.enabled)`.
    public static var enabled: Bool { ProcessInfo.processInfo.environment["HEARTH_SKIP_POSTGRES"] != "1" }

    /// The cluster's superuser, on its `postgres` database.
    public static func cluster() throws -> PostgresLocation {
        let env = ProcessInfo.processInfo.environment
        guard let socket = env["HEARTH_TEST_POSTGRES"], let port = env["HEARTH_TEST_POSTGRES_PORT"] else {
            throw TestPostgresError(
                "no test PostgreSQL cluster: run the suite with Tests/run-all.sh, or `source \"$(bash Tests/postgres-cluster.sh start /tmp/hpg)\"` first (HEARTH_SKIP_POSTGRES=1 skips these tests)"
            )
        }
        return try PostgresLocation(url: "postgres://postgres@localhost:\(port)/postgres?host=\(socket)")
    }

    /// Creates and migrates a new database.
    public static func create() async throws -> TestPostgres {
        let cluster = try cluster()
        let name = "hearth_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        // The whole suite creates databases at once: give the cluster time.
        let admin = try PostgresDatabase(cluster, logger: quiet, deadline: .seconds(120))
        defer { admin.close() }
        _ = try await admin.inspect("CREATE DATABASE \(name)")
        // Tests' own SQL names tables bare; Hearth's always qualifies them.
        _ = try await admin.inspect("ALTER DATABASE \(name) SET search_path = hearth, public")
        let owner = cluster.database(name)
        _ = try await PostgresMigration.migrate(owner, logger: quiet)
        return TestPostgres(owner: owner, name: name)
    }

    /// The location as the intake's role.
    public var intake: PostgresLocation { owner.asUser("hearth_intake") }
    /// The location as the casework role.
    public var casework: PostgresLocation { owner.asUser("hearth_casework") }

    /// Opens a pool as `location`'s role (close it when done).
    public func connect(_ location: PostgresLocation) throws -> PostgresDatabase {
        try PostgresDatabase(location, logger: Self.quiet, deadline: .seconds(60))
    }

    /// The first cell of `sql` as the owner, as a number (`SELECT count(*) …`).
    public func count(_ sql: String) async throws -> Int {
        Int(try await asOwner(sql).first?.first.flatMap { $0 } ?? "") ?? -1
    }

    /// Every byte PostgreSQL wrote for this database: its files under `base/` and the whole
    /// write-ahead log, after a checkpoint has flushed shared buffers (so nothing stays only in
    /// memory). What a canary search reads: a backup or a stolen disk holds the same bytes.
    public func storedBytes() async throws -> [UInt8] {
        try await asOwner("CHECKPOINT")
        let oid = try await asOwner("SELECT oid::text FROM pg_database WHERE datname = '\(name)'").first?.first.flatMap { $0 } ?? ""
        guard let socket = ProcessInfo.processInfo.environment["HEARTH_TEST_POSTGRES"], !oid.isEmpty else {
            throw TestPostgresError("cannot find the cluster's data directory")
        }
        let data = URL(fileURLWithPath: socket).deletingLastPathComponent().appendingPathComponent("data").path
        var out: [UInt8] = []
        for directory in ["\(data)/base/\(oid)", "\(data)/pg_wal"] {
            for file in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
                if let bytes = FileManager.default.contents(atPath: "\(directory)/\(file)") { out += bytes }
            }
        }
        return out
    }

    /// Runs SQL as the cluster's superuser on its `postgres` database (for changes to this
    /// database itself, such as refusing connections to it).
    @discardableResult
    public func asAdmin(_ sql: String) async throws -> [[String?]] {
        let db = try PostgresDatabase(Self.cluster(), logger: Self.quiet, deadline: .seconds(60))
        defer { db.close() }
        return try await db.inspect(sql)
    }

    /// Runs SQL as the owner.
    @discardableResult
    public func asOwner(_ sql: String) async throws -> [[String?]] {
        let db = try connect(owner)
        defer { db.close() }
        return try await db.inspect(sql)
    }

    /// Drops the database (connections to it are ended first).
    public func drop() async {
        guard let admin = try? PostgresDatabase(Self.cluster(), logger: Self.quiet, deadline: .seconds(120)) else { return }
        defer { admin.close() }
        _ = try? await admin.inspect("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// Runs `body` with a fresh database, dropped afterwards.
    public static func with<T: Sendable>(_ body: (TestPostgres) async throws -> T) async throws -> T {
        let db = try await create()
        do {
            let result = try await body(db)
            await db.drop()
            return result
        } catch {
            await db.drop()
            throw error
        }
    }

    static let quiet = Logger(label: "test.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
}

/// The PostgreSQL tests cannot run.
public struct TestPostgresError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Which store an end-to-end test runs on: the journeys run on both.
public enum TestStore: String, Sendable, CaseIterable {
    /// The embedded SQLite file (the default).
    case sqlite
    /// A fresh PostgreSQL database, each side connected as its own role.
    case postgres

    /// Both, or SQLite alone when `HEARTH_SKIP_POSTGRES=1`.
    public static var all: [TestStore] { TestPostgres.enabled ? allCases : [.sqlite] }
}
