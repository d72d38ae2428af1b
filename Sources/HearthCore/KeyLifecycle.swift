import HearthCrypto
import Logging

/// What key lifecycle needs from the key directory. HearthKeys implements it over the key files;
/// Core decides when each step is allowed and audits it.
public protocol ScopeKeyFiles: Sendable {
    /// The primary public key of every scope.
    func publicKeyRing() throws -> PublicKeyRing
    /// Opens one scope private key version with the master key.
    func scopePrivateKey(_ scope: Scope, version: UInt32, master: borrowing SecretKey) throws -> X25519PrivateKey
    /// Creates version N+1 of a scope key pair, primary at once; returns N+1.
    func createNextVersion(of scope: Scope, master: borrowing SecretKey) throws -> UInt32
    /// Destroys a decrypt-only version's private key and keeps its public half as a record.
    /// Throws ``KeyFileError`` for a version that is not live or is primary.
    func destroyPrivateKey(_ scope: Scope, version: UInt32) throws
}

/// Storage that key lifecycle needs: wrap counts and the audit trail.
public protocol KeyLifecycleStore: AuditStore {
    /// Consent wraps per scope and key version.
    func wrapCounts() async throws -> [Scope: [UInt32: Int]]
}

/// A scope key version still in use: retiring it would make those consents unreadable.
public struct RetirementRefusal: Error, CustomStringConvertible, Sendable {
    /// The scope.
    public let scope: Scope
    /// The version asked for.
    public let version: UInt32
    /// Consent wraps that still use it.
    public let wraps: Int

    public var description: String {
        "refusing to retire \(scope.rawValue) v\(version): \(wraps) consent wraps still use it\nhint: run `hearth keys rewrap --scope \(scope.rawValue)` first"
    }
}

/// The privacy officer's key operations: rotate, retire and their rules, each audited.
/// Re-wrapping between them is ``RewrapJob``.
public struct KeyLifecycleService: Sendable {
    let store: any KeyLifecycleStore
    let files: any ScopeKeyFiles
    let clock: any WallClock
    let actor: String

    /// Key operations over `files`, audited in `store` as `actor` (the CLI is `cli`).
    public init(store: any KeyLifecycleStore, files: any ScopeKeyFiles, clock: any WallClock, actor: String = "cli") {
        self.store = store
        self.files = files
        self.clock = clock
        self.actor = actor
    }

    /// The rule, in one place: a scope key version may be retired only when it is decrypt-only
    /// (live but not primary) and no consent wrap uses it.
    public static func mayRetire(isDecryptOnly: Bool, wraps: Int) -> Bool { isDecryptOnly && wraps == 0 }

    /// Makes version N+1 of `scope` primary; running services pick it up within seconds.
    public func rotate(_ scope: Scope, master: borrowing SecretKey) async throws -> UInt32 {
        let version = try files.createNextVersion(of: scope, master: master)
        try await audit("keys.rotate", scope, version)
        return version
    }

    /// Destroys a version's private key. Refused with ``RetirementRefusal`` while any wrap uses
    /// it, and with ``KeyFileError`` while it is primary or not live; every refusal is audited.
    public func retire(_ scope: Scope, version: UInt32) async throws {
        let wraps = try await store.wrapCounts()[scope]?[version] ?? 0
        guard Self.mayRetire(isDecryptOnly: true, wraps: wraps) else {
            try await audit("keys.retire", scope, version, outcome: "refused-in-use")
            throw RetirementRefusal(scope: scope, version: version, wraps: wraps)
        }
        do {
            try files.destroyPrivateKey(scope, version: version)
        } catch {
            try await audit("keys.retire", scope, version, outcome: "refused")
            throw error
        }
        try await audit("keys.retire", scope, version)
    }

    /// Records a master-key rotation (the files are re-sealed by HearthKeys).
    public func recordMasterRotation() async throws {
        try await store.appendAudit(AuditEvent(actor: actor, action: "keys.rotate-master"), at: clock.unixSeconds())
    }

    /// Records a key publication for the intake (the files are written by HearthKeys): `subject`
    /// lists the primary versions published, e.g. `support.v2,review.v1,police.v1,prosecution.v1`.
    public func recordPublication(primaries subject: String) async throws {
        try await store.appendAudit(AuditEvent(actor: actor, action: "keys.publish", subject: subject), at: clock.unixSeconds())
    }

    func audit(_ action: String, _ scope: Scope, _ version: UInt32, outcome: String = "ok") async throws {
        try await store.appendAudit(
            AuditEvent(actor: actor, action: action, subject: "\(scope.rawValue).v\(version)", scope: scope.rawValue, outcome: outcome),
            at: clock.unixSeconds())
    }
}
