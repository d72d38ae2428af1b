import Foundation
public import HearthCore
public import Logging
import NIOCore
import NIOSSL
import PostgresNIO
import Synchronization

/// Where a PostgreSQL database is and how to reach it, from a `postgres://` URL:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE?sslmode=verify-full&sslrootcert=FILE`, or a
/// Unix socket with `?host=/run/postgresql`. Over TCP, TLS with full verification is the default;
/// `sslmode=require` encrypts without checking the server, `disable` is refused except on a socket.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    /// How TLS to the server is used.
    public enum TLSMode: String, Sendable {
        case disable, require
        case verifyFull = "verify-full"
    }

    /// The login role.
    public var user: String
    /// The password, when the URL carries one (prefer scram with a password file or certificates).
    public var password: String?
    /// The host name, or nil for a Unix socket.
    public var host: String?
    /// The TCP port, or the socket's port number.
    public var port: Int
    /// The directory holding the Unix socket, when there is no host.
    public var socketDirectory: String?
    /// The database.
    public var database: String
    /// TLS to the server.
    public var tls: TLSMode
    /// The certificate authority the server's certificate must chain to (verify-full).
    public var rootCertificate: String?

    /// Parses `url`; throws ``PostgresLocationError`` with a plain reason.
    public init(url: String) throws {
        guard let c = URLComponents(string: url), c.scheme == "postgres" || c.scheme == "postgresql" else {
            throw PostgresLocationError("'--database' must be a postgres:// URL")
        }
        guard let user = c.user, !user.isEmpty else { throw PostgresLocationError("the database URL names no user") }
        let database = String(c.path.dropFirst())
        guard !database.isEmpty else { throw PostgresLocationError("the database URL names no database") }
        let query = Dictionary((c.queryItems ?? []).map { ($0.name, $0.value ?? "") }, uniquingKeysWith: { _, last in last })
        for name in query.keys where !["sslmode", "sslrootcert", "host"].contains(name) {
            throw PostgresLocationError("the database URL has an unknown parameter '\(name)'")
        }
        self.user = user
        password = c.password
        self.database = database
        port = c.port ?? 5432
        rootCertificate = query["sslrootcert"]
        if let socket = query["host"], socket.hasPrefix("/") {
            socketDirectory = socket
            host = nil
        } else {
            guard let host = c.host, !host.isEmpty else { throw PostgresLocationError("the database URL names no host") }
            self.host = host
            socketDirectory = nil
        }
        let mode = query["sslmode"] ?? (host == nil ? "disable" : "verify-full")
        guard let tls = TLSMode(rawValue: mode) else {
            throw PostgresLocationError("sslmode must be disable, require or verify-full (got '\(mode)')")
        }
        if host != nil, tls == .disable {
            throw PostgresLocationError("sslmode=disable is allowed only on a Unix socket: use verify-full over TCP")
        }
        self.tls = tls
    }

    /// The URL without its password (what may be printed).
    public var description: String {
        let place = host.map { "\($0):\(port)" } ?? "[\(socketDirectory ?? "")]:\(port)"
        return "postgres://\(user)@\(place)/\(database) (tls: \(tls.rawValue))"
    }

    /// The same server and database, as another login role (tests, the two-process set-up).
    public func asUser(_ user: String) -> PostgresLocation {
        var copy = self
        copy.user = user
        copy.password = nil
        return copy
    }

    /// The same server, another database.
    public func database(_ name: String) -> PostgresLocation {
        var copy = self
        copy.database = name
        return copy
    }

    func clientConfiguration() throws -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if let socketDirectory {
            configuration = .init(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            let tls: PostgresClient.Configuration.TLS
            switch self.tls {
            case .disable: tls = .disable
            case .require:
                var c = TLSConfiguration.makeClientConfiguration()
                c.certificateVerification = .none
                c.minimumTLSVersion = .tlsv12
                tls = .require(c)
            case .verifyFull:
                var c = TLSConfiguration.makeClientConfiguration()
                c.certificateVerification = .fullVerification
                c.minimumTLSVersion = .tlsv12
                if let rootCertificate { c.trustRoots = .file(rootCertificate) }
                tls = .require(c)
            }
            configuration = .init(host: host ?? "", port: port, username: user, password: password, database: database, tls: tls)
        }
        configuration.options.maximumConnections = 16
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }
}

/// A database URL Hearth cannot use.
public struct PostgresLocationError: Error, CustomStringConvertible, Sendable {
    /// What is wrong, in plain words.
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The database's schema is not the one this build of Hearth expects.
public struct PostgresSchemaError: Error, CustomStringConvertible, Sendable {
    /// What is wrong and what to do.
    public let description: String
}

/// A pool of connections to one database as one role, running until ``close()``. The pool
/// reconnects by itself after the server restarts; a query that was in flight then fails.
public final class PostgresDatabase: Sendable {
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>
    /// Where it connects (no password).
    public let location: PostgresLocation

    /// How long one query or transaction may take, waiting for a connection included. Without
    /// it, a request made while the server is unreachable (or refuses our TLS) would wait for ever.
    public let deadline: Duration

    /// Starts a pool for `location`. Nothing connects until the first query.
    public init(_ location: PostgresLocation, logger: Logger, deadline: Duration = .seconds(15)) throws {
        let client = PostgresClient(configuration: try location.clientConfiguration(), backgroundLogger: logger)
        self.client = client
        self.logger = logger
        self.location = location
        self.deadline = deadline
        runner = Task { await client.run() }
    }

    deinit { runner.cancel() }

    /// Stops the pool; queries after this fail.
    public func close() { runner.cancel() }

    /// Checks that the schema is the version this build expects (the services never migrate).
    public func checkSchema() async throws {
        let version: Int?
        do {
            version = try await rows("SELECT hearth.schema_version()").first.map { try $0[0].decode(Int.self) }
        } catch let e as PSQLError where e.serverInfo?[.sqlState] == "3F000" || e.serverInfo?[.sqlState] == "42883" {
            version = nil
        }
        guard version == PostgresSchema.version else {
            throw PostgresSchemaError(
                description:
                    "the database \(location) has schema version \(version.map(String.init) ?? "none"), not \(PostgresSchema.version)\n"
                    + "hint: run `hearth db migrate --database URL` as the database owner")
        }
    }

    /// Refuses a role with any direct privilege on Hearth's tables: the intake must connect as a
    /// role that can only call the survivor functions (`hearth_intake`), or a compromise of the
    /// public-facing process would reach every record.
    public func checkConfinedToSurvivorFunctions() async throws {
        let tables = [
            "staff", "sessions", "records", "consent_wraps", "consent_events", "messages", "access_log", "audit", "audit_checkpoints", "audit_inbox",
            "interviews",
        ]
        let privileged = try await rows(
            """
            SELECT t FROM unnest(\(tables)::text[]) AS t
            WHERE has_table_privilege('hearth.' || t, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
            """
        ).map { try $0.value("t", as: String.self) }
        guard privileged.isEmpty else {
            throw PostgresSchemaError(
                description:
                    "the intake's database role '\(location.user)' can read or change stored data directly (\(privileged.joined(separator: ", ")))\n"
                    + "hint: connect the intake as hearth_intake, which may only call the survivor functions")
        }
    }

    /// What `hearth doctor` reports about this connection's role: its name, whether it is a
    /// superuser, and whether it owns the `hearth` schema (an owner can drop the audit triggers).
    public func roleReport() async throws -> PostgresRoleReport {
        let row = try await rows(
            """
            SELECT current_user::text AS name, r.rolsuper AS superuser,
                   coalesce((SELECT pg_get_userbyid(nspowner) = current_user FROM pg_namespace WHERE nspname = 'hearth'), false) AS owner
            FROM pg_roles r WHERE r.rolname = current_user
            """
        ).first
        guard let row else { throw PostgresSchemaError(description: "the database did not report the connection's role") }
        return PostgresRoleReport(
            name: try row.value("name"), isSuperuser: try row.value("superuser"), ownsSchema: try row.value("owner"))
    }

    /// The database server's clock, in seconds since 1970 (for `hearth doctor`'s clock-skew check).
    public func serverTime() async throws -> Double {
        guard let row = try await rows("SELECT extract(epoch FROM clock_timestamp())::float8 AS now").first else {
            throw PostgresSchemaError(description: "the database did not report its time")
        }
        return try row.value("now", as: Double.self)
    }

    /// Runs `query` and collects its rows.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await bounded { [client, logger] in
            try await Self.retryingOnce {
                try await client.withConnection { connection in
                    // A connection granted after the deadline passed must not run the query.
                    try Task.checkCancellation()
                    return try await connection.query(query, logger: logger).collect()
                }
            }
        }.map { $0.makeRandomAccess() }
    }

    /// Runs `body` in one transaction (committed when it returns, rolled back when it throws).
    func transaction<T: Sendable>(_ body: @escaping @Sendable (Transaction) async throws -> T) async throws -> T {
        try await bounded { [client, logger] in
            try await Self.retryingOnce {
                try await client.withConnection { connection in
                    try Task.checkCancellation()
                    return try await connection.withTransaction(logger: logger) { connection in
                        try await body(Transaction(connection: connection, logger: logger))
                    }
                }
            }
        }
    }

    /// Runs `body`, or throws ``PostgresUnavailableError`` once ``deadline`` has passed, whether
    /// or not `body` has noticed: the work is cancelled (a transaction not yet committed rolls
    /// back; a connection granted later runs nothing), and the caller never waits longer.
    func bounded<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let work = Task { try await body() }
        let timer = Task { [deadline] in try await Task.sleep(for: deadline) }
        let timeout = PostgresUnavailableError(location: location, deadline: deadline)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let once = ResumeOnce(continuation)
                Task { [location] in
                    let result = await work.result
                    timer.cancel()
                    // A server that is down, starting up or recovering answers 503 like a timeout:
                    // nothing was acknowledged, and trying again later is right.
                    once.resume(
                        with: result.mapError {
                            Self.serverUnavailable($0) ? PostgresUnavailableError(location: location, deadline: .zero, refused: true) : $0
                        })
                }
                Task {
                    guard (try? await timer.value) != nil else { return }
                    work.cancel()
                    once.resume(with: .failure(timeout))
                }
            }
        } onCancel: {
            work.cancel()
            timer.cancel()
        }
    }

    /// Runs `body` again, once, when the server had ended the pooled connection it was given (a
    /// restart or an administrator's termination, SQLSTATE class 57P): the server refused the
    /// work, so nothing was committed and running it again is safe. The pool has dropped that
    /// connection by then and opens a new one.
    static func retryingOnce<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch  where endedByServer(error) {
            return try await body()
        }
    }

    /// Whether `error` says the server cannot do any work now: no connection could be made or
    /// kept (refused, closed, cut), or the server refused it as shutting down, starting up or
    /// recovering (SQLSTATE 57P), a connection exception (08) or out of resources (53).
    static func serverUnavailable(_ error: any Error) -> Bool {
        if let e = error as? PostgresTransactionError {
            return [e.beginError, e.closureError, e.commitError, e.rollbackError].contains { $0.map(serverUnavailable) ?? false }
        }
        guard let e = error as? PSQLError else { return false }
        if [.connectionError, .serverClosedConnection, .uncleanShutdown].contains(e.code) { return true }
        if let state = e.serverInfo?[.sqlState], ["57P", "08", "53"].contains(where: { state.hasPrefix($0) }) { return true }
        return e.underlying.map(serverUnavailable) ?? false
    }

    /// Whether `error` says the server ended the connection before doing the work.
    static func endedByServer(_ error: any Error) -> Bool {
        if let e = error as? PostgresTransactionError {
            return e.commitError == nil && (e.beginError.map(endedByServer) ?? e.closureError.map(endedByServer) ?? false)
        }
        guard let e = error as? PSQLError else { return false }
        if let state = e.serverInfo?[.sqlState], state.hasPrefix("57P") { return true }
        return e.underlying.map(endedByServer) ?? false
    }
}

/// A continuation resumed by whichever comes first.
final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>

    init(_ continuation: CheckedContinuation<T, any Error>) { self.continuation = Mutex(continuation) }

    func resume(with result: Result<T, any Error>) {
        continuation.withLock { c in
            c?.resume(with: result)
            c = nil
        }
    }
}

/// The database did not answer in time: unreachable, refusing our credentials or TLS, or overloaded.
public struct PostgresUnavailableError: StoreUnavailable, CustomStringConvertible, Sendable {
    /// Where it was trying to reach.
    public let location: PostgresLocation
    /// How long it waited.
    public let deadline: Duration
    /// The server (or the network) refused the work at once, rather than not answering in time.
    public var refused = false
    public var description: String {
        refused
            ? "the database \(location) is not accepting work (down, starting up or recovering)"
            : "the database \(location) did not answer within \(deadline)"
    }
}

/// One open transaction's connection.
struct Transaction: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    func rows(_ query: PostgresQuery) async throws -> [PostgresRandomAccessRow] {
        try await connection.query(query, logger: logger).collect().map { $0.makeRandomAccess() }
    }

    /// Runs a statement; returns how many rows it changed.
    @discardableResult
    func execute(_ query: PostgresQuery) async throws -> Int {
        try await connection.query(query, logger: logger).collect().count
    }
}

extension [UInt8] {
    /// The bytes as a `bytea` bind (a `[UInt8]` would bind as `"char"[]`).
    var bytea: ByteBuffer { ByteBuffer(bytes: self) }
}

extension PostgresRandomAccessRow {
    /// The `bytea` column `name`.
    func bytes(_ name: String) throws -> [UInt8] {
        Array(try self[name].decode(ByteBuffer.self).readableBytesView)
    }

    /// The `bytea` column `name`, or nil when NULL.
    func optionalBytes(_ name: String) throws -> [UInt8]? {
        try self[name].decode(ByteBuffer?.self).map { Array($0.readableBytesView) }
    }

    /// The column `name` as `T`.
    func value<T: PostgresDecodable>(_ name: String, as: T.Type = T.self) throws -> T {
        try self[name].decode(T.self)
    }
}

extension PostgresDatabase {
    /// Runs raw SQL as this connection's role, for tests that inspect what is stored or try what
    /// a role may not do; each cell as text (numbers in decimal, booleans `t`/`f`, bytes `\\x…`).
    /// Not part of any store contract.
    @_spi(Inspection) public func inspect(_ sql: String) async throws -> [[String?]] {
        try await rows(PostgresQuery(unsafeSQL: sql)).map { row in
            row.map { cell in
                guard cell.bytes != nil else { return nil }
                switch cell.dataType {
                case .int2, .int4, .int8: return (try? cell.decode(Int64.self)).map(String.init)
                case .bool: return (try? cell.decode(Bool.self)).map { $0 ? "t" : "f" }
                case .bytea:
                    return (try? cell.decode(ByteBuffer.self)).map { "\\x" + $0.readableBytesView.map { String(format: "%02x", $0) }.joined() }
                default: return try? cell.decode(String.self)
                }
            }
        }
    }

    /// The SQLSTATE of a server error (for example `42501`, insufficient privilege), or nil.
    @_spi(Inspection) public static func sqlState(of error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}

/// The role a connection runs as, for `hearth doctor`.
public struct PostgresRoleReport: Sendable, Equatable {
    /// The role's name (`current_user`).
    public let name: String
    /// Whether the role is a superuser (it can do anything, the audit trail included).
    public let isSuperuser: Bool
    /// Whether the role owns the `hearth` schema (it can drop the audit triggers and grants).
    public let ownsSchema: Bool
}
