import HearthCrypto
import Synchronization

/// A scope private key held by the casework process (a reference type so the ring can hold it).
public final class ScopePrivateKey: Sendable {
    public let scope: Scope
    public let version: UInt32
    public let key: X25519PrivateKey

    public init(scope: Scope, version: UInt32, key: consuming X25519PrivateKey) {
        self.scope = scope
        self.version = version
        self.key = key
    }
}

/// What the casework process holds: every scope private key version and the audit-signing key.
public final class CaseworkKeys: Sendable {
    private let scopeKeys: Mutex<[Scope: [UInt32: ScopePrivateKey]]>
    let totpKey: SecretKey
    /// Keys the stored session-token hashes, so that whoever can write the database (a
    /// compromised intake host) still cannot forge a staff session.
    let sessionKey: SecretBytes
    let auditKey: Ed25519PrivateKey
    /// The audit key version.
    public let auditKeyVersion: UInt32
    /// Public audit keys by version, for verification.
    public let auditPublicKeys: [UInt32: Ed25519PublicKey]

    /// Holds keys already opened (HearthKeys loads them from the key directory): every scope
    /// private key version, the casework secret (from which the TOTP-sealing and session-hashing
    /// keys derive; it is not kept) and the audit-signing key of the newest version.
    public init(
        scopeKeys: [Scope: [UInt32: ScopePrivateKey]], caseworkSecret: borrowing SecretBytes, auditKeyVersion: UInt32,
        auditKey: consuming Ed25519PrivateKey, auditPublicKeys: [UInt32: Ed25519PublicKey]
    ) throws {
        self.scopeKeys = Mutex(scopeKeys)
        totpKey = try Blake2b.deriveKey(Label.totpSecretKey, key: caseworkSecret)
        sessionKey = SecretBytes(copying: try Blake2b.hash(Label.sessionKey, key: caseworkSecret))
        self.auditKeyVersion = auditKeyVersion
        self.auditKey = auditKey
        self.auditPublicKeys = auditPublicKeys
    }

    /// Replaces the scope private keys after a rotation or retirement, without a restart.
    public func replaceScopeKeys(_ fresh: [Scope: [UInt32: ScopePrivateKey]]) {
        scopeKeys.withLock { $0 = fresh }
    }

    /// The versions loaded per scope (for logs and tests).
    public var loadedVersions: [Scope: [UInt32]] { scopeKeys.withLock { $0.mapValues { $0.keys.sorted() } } }

    func privateKey(_ scope: Scope, version: UInt32) -> ScopePrivateKey? { scopeKeys.withLock { $0[scope]?[version] } }

    /// Seals a TOTP secret for storage, bound to the username.
    public func sealTOTPSecret(_ secret: borrowing SecretBytes, username: String) throws -> [UInt8] {
        try XChaCha20Poly1305.seal(secret, using: totpKey, authenticating: Label.totpSecret + Array(username.utf8))
    }

    /// Opens a stored TOTP secret.
    public func openTOTPSecret(_ sealed: [UInt8], username: String) throws -> SecretBytes {
        try XChaCha20Poly1305.open(sealed, using: totpKey, authenticating: Label.totpSecret + Array(username.utf8))
    }

    /// The stored form of a session token: keyed BLAKE2b-256 under a key derived from the master key.
    public func sessionTokenHash(_ token: [UInt8]) throws -> [UInt8] {
        try Blake2b.hash(token, key: sessionKey)
    }

    /// Signs a checkpoint of the audit chain's head.
    public func signCheckpoint(seq: Int64, hash: [UInt8], at: Int64) -> AuditCheckpoint {
        AuditCheckpoint(
            seq: seq, hash: hash, at: at, keyVersion: auditKeyVersion,
            signature: auditKey.signature(for: AuditChain.checkpointMessage(seq: seq, hash: hash)))
    }
}
