import Foundation
public import HearthCore
public import HearthMetrics
public import HearthPostgres
public import HearthStore
import Logging

/// What the casework side and the maintenance commands need of a store.
public typealias CaseworkSideStore = CaseworkStore & RetentionStore & RewrapStore & OperationsStore & TransparencyStore

/// The stores a process opened, by side: SQLite (one file, both sides, the embedded default) or
/// PostgreSQL (each side connected as its own role, SECURITY.md §4).
public struct HearthStores: Sendable {
    /// What the intake side uses.
    public let intake: any IntakeStore
    /// What the casework side, retention and the maintenance commands use.
    public let casework: any CaseworkSideStore
    /// The SQLite store, when that is the store (tests inspect it).
    public let sqlite: SQLiteStore?
    /// The PostgreSQL casework store, when that is the store (tests inspect it).
    public let postgres: PostgresCaseworkStore?
    private let pools: [PostgresDatabase]

    /// Opens the store `settings` name for the sides in `listeners`. PostgreSQL: the casework side
    /// connects with ``HearthSettings/database``, the intake side with
    /// ``HearthSettings/intakeDatabase`` (else the same URL), and each checks the schema version.
    /// SQLite: `hearth.sqlite` in the data directory, created and migrated if needed. Submissions
    /// and their commit times are counted in `metrics`.
    public static func open(
        _ settings: HearthSettings, for listeners: Listeners, logger: Logger, metrics: HearthMetrics = .disabled
    ) async throws -> HearthStores {
        guard let configured = settings.database else {
            try DataDirectory.prepare(settings.data, sharedGroup: settings.sharedDataGroup)
            let store = try SQLiteStore(path: settings.databasePath, logger: logger, metrics: metrics)
            return HearthStores(intake: store, casework: store, sqlite: store, postgres: nil, pools: [])
        }
        let (casework, intakeLocation) = try databaseLocations(settings, casework: configured)
        var pools: [PostgresDatabase] = []
        do {
            // An intake-only process opens only the intake's role; its casework store is never used.
            let caseworkPool = try PostgresDatabase(
                listeners == .intake ? intakeLocation : casework, logger: logger, deadline: settings.databaseDeadline)
            pools.append(caseworkPool)
            let intakePool =
                intakeLocation == caseworkPool.location
                ? caseworkPool : try PostgresDatabase(intakeLocation, logger: logger, deadline: settings.databaseDeadline)
            if intakePool !== caseworkPool { pools.append(intakePool) }
            for pool in pools { try await pool.checkSchema() }
            // A separate intake must hold a role confined to the survivor functions.
            if listeners == .intake { try await intakePool.checkConfinedToSurvivorFunctions() }
            let store = PostgresCaseworkStore(caseworkPool)
            return HearthStores(
                intake: PostgresIntakeStore(intakePool, metrics: metrics), casework: store, sqlite: nil, postgres: store, pools: pools)
        } catch {
            for pool in pools { pool.close() }
            throw error
        }
    }

    /// The casework and intake connections `settings` name, with the password from
    /// ``HearthSettings/databasePasswordCredential`` (read now) where a URL carries none.
    static func databaseLocations(
        _ settings: HearthSettings, casework: PostgresLocation
    ) throws -> (casework: PostgresLocation, intake: PostgresLocation) {
        var casework = casework
        var intake = settings.intakeDatabase ?? casework
        if let name = settings.databasePasswordCredential {
            let held = try PassphraseReader.readCredential(name, what: "database password")
            let password = held.copy().withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
            if casework.password == nil { casework.password = password }
            if intake.password == nil { intake.password = password }
        }
        return (casework, intake)
    }

    /// Closes the database connections (SQLite closes with the last reference).
    public func close() { for pool in pools { pool.close() } }

    /// Consent wraps per scope and version (key status).
    public func wrapCounts() async throws -> [Scope: [UInt32: Int]] { try await casework.wrapCounts() }

    /// What `hearth` prints about where data lives.
    public var description: String {
        if let pool = pools.first { return "database: \(pool.location)" }
        return "database: \(sqlite.map { _ in "SQLite" } ?? "")"
    }
}
