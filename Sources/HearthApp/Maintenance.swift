import Foundation
public import HearthCore
public import HearthCrypto
public import HearthKeys
import HearthKeys
public import Logging

/// What the CLI's maintenance commands work with: the key directory, the store and, for those
/// that need it, the casework keys and the services over them. Built here so the CLI constructs
/// nothing itself.
public struct HearthMaintenance: Sendable {
    /// The key directory.
    public let keys: KeyDirectory
    /// The store (SQLite or PostgreSQL, as the settings name).
    public let store: any CaseworkSideStore
    /// The casework keys, opened with the master key.
    public let caseworkKeys: CaseworkKeys
    /// The wall clock.
    public let clock: any WallClock
    /// The random source.
    public let random: any RandomSource
    /// The master passphrase, read once by ``open(_:)`` (or none).
    public let passphrase: PassphraseSource

    /// Opens keys (with the master key from `settings.passphrase`) and the store, finishing an
    /// interrupted master-key rotation first. Throws ``KeyFileError`` naming the file on any problem.
    public static func open(_ settings: HearthSettings) async throws -> HearthMaintenance {
        umask(0o077)
        let passphrase = try settings.passphrase.readOnce()
        let keys = KeyDirectory(path: settings.keys)
        try keys.recoverInterruptedRotation()
        try keys.checkPermissions()
        let master = try keys.loadMasterKey(passphrase: try passphrase.passphrase(for: keys))
        let store = try await HearthStores.open(settings, for: .casework, logger: Self.silentLogger).casework
        return HearthMaintenance(
            keys: keys, store: store, caseworkKeys: try CaseworkKeys(directory: keys, master: master), clock: settings.clock,
            random: settings.random, passphrase: passphrase)
    }

    /// Opens the store alone (no key is opened), creating the data directory if `create` is set;
    /// nil when there is no database and `create` is not set.
    /// PostgreSQL is always there once migrated.
    public static func openStore(_ settings: HearthSettings, create: Bool) async throws -> (any CaseworkSideStore)? {
        if settings.database == nil {
            if create {
                umask(0o077)
            } else if !FileManager.default.fileExists(atPath: settings.databasePath) {
                return nil
            }
        }
        return try await HearthStores.open(settings, for: .casework, logger: Self.silentLogger).casework
    }

    /// The master key, for commands that re-seal or re-wrap (with the passphrase ``open(_:)`` read).
    public func masterKey() throws -> SecretKey {
        try keys.loadMasterKey(passphrase: try passphrase.passphrase(for: keys))
    }

    /// Staff accounts, hashing at the interactive cost on one thread (a CLI runs one at a time).
    public func staffService() throws -> StaffService {
        StaffService(
            store: store, keys: caseworkKeys, clock: clock, random: random, hasher: try PasswordHasher(cost: .interactive, width: 1),
            logger: Self.silentLogger)
    }

    /// The casework service (for audit checkpoints).
    public func caseworkService() -> CaseworkService {
        CaseworkService(store: store, keys: caseworkKeys, clock: clock, random: random, logger: Self.silentLogger)
    }

    /// Rotation, retirement and their audit, over this key directory and store.
    public func keyLifecycle() -> KeyLifecycleService { KeyLifecycleService(store: store, files: keys, clock: clock) }

    /// Publishes the public keys for the intake into `target` (SECURITY.md §3.18): every live scope
    /// `.pub`, the audit key's `.pub` and `keys.manifest` signed with the audit key (opened with the
    /// master key, not kept), and audits it as `keys.publish`.
    public func publishKeys(to target: String) async throws -> KeyManifest {
        let version = caseworkKeys.auditKeyVersion
        let manifest = try keys.publish(
            to: KeyDirectory(path: target), auditKey: try keys.loadAuditPrivateKey(version: version, master: try masterKey()),
            auditVersion: version, now: clock.unixSeconds())
        try await keyLifecycle().recordPublication(primaries: manifest.primarySummary)
        return manifest
    }

    /// The re-wrap job over this key directory and store.
    public func rewrapJob(logger: Logger) -> RewrapJob { RewrapJob(store: store, files: keys, clock: clock, logger: logger) }

    /// Key lifecycle for retirement, which opens no private key and so needs neither the master
    /// key nor every key file to open: it must also finish a retirement interrupted after the
    /// private key was destroyed.
    public static func keyLifecycleWithoutMaster(_ settings: HearthSettings) async throws -> KeyLifecycleService {
        let keys = KeyDirectory(path: settings.keys)
        umask(0o077)
        try keys.checkPermissions()
        guard let store = try await openStore(settings, create: true) else {
            throw KeyFileError(path: settings.data, reason: "no database", hint: "")
        }
        return KeyLifecycleService(store: store, files: keys, clock: settings.clock)
    }

    /// Expiry and retention over the store (nil when there is no database).
    public static func retention(_ settings: HearthSettings) async throws -> RetentionService? {
        try await openStore(settings, create: false).map {
            RetentionService(store: $0, policy: RetentionPolicy(days: settings.retentionDays), clock: settings.clock, logger: silentLogger)
        }
    }

    /// Maintenance commands print what they did; their libraries stay quiet.
    static let silentLogger = Logger(label: "hearth", factory: { _ in SwiftLogNoOpLogHandler() })
}
