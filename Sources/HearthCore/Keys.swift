import HearthCrypto
import Synchronization

/// A problem with a key file, naming the file and what to do. Never contains key material.
public struct KeyFileError: Error, CustomStringConvertible, Sendable {
    /// The file (or directory) concerned.
    public let path: String
    /// What is wrong, in plain words.
    public let reason: String
    /// What to do about it.
    public let hint: String

    /// Creates an error.
    public init(path: String, reason: String, hint: String) {
        self.path = path
        self.reason = reason
        self.hint = hint
    }

    public var description: String { "failed to use key file '\(path)': \(reason)\nhint: \(hint)" }
}

/// What a key file holds: a scope's X25519 key, the Ed25519 audit-signing key, or the casework
/// secret (32 random bytes from which the TOTP-sealing and session-hashing keys derive, so that
/// rotating the master key never touches staff credentials).
public enum KeyKind: Hashable, Sendable, CustomStringConvertible {
    case scope(Scope)
    case audit
    case casework

    /// The kind byte in file headers (SECURITY.md).
    public var byte: UInt8 {
        switch self {
        case .scope(let s): s.id
        case .audit: 16
        case .casework: 17
        }
    }

    /// The file-name stem: `support`, `review`, `police`, `prosecution` or `audit`.
    public var name: String {
        switch self {
        case .scope(let s): s.rawValue
        case .audit: "audit"
        case .casework: "casework"
        }
    }

    public var description: String { name }

    /// Every kind, scopes first.
    public static let all: [KeyKind] = Scope.allCases.map { .scope($0) } + [.audit, .casework]

    public init?(name: String) {
        if name == "audit" {
            self = .audit
        } else if name == "casework" {
            self = .casework
        } else if let s = Scope(rawValue: name) {
            self = .scope(s)
        } else {
            return nil
        }
    }
}

/// The public half of the key hierarchy: what the intake process holds.
public struct PublicKeyRing: Sendable {
    /// A scope's public key of one version.
    public struct Entry: Sendable, Hashable {
        /// The key version (N in `<scope>.vN.pub`).
        public let version: UInt32
        /// The key.
        public let key: X25519PublicKey

        /// An entry for version `version`.
        public init(version: UInt32, key: X25519PublicKey) {
            self.version = version
            self.key = key
        }
    }

    /// The primary (highest) version of each scope: new consent wraps use it.
    public let primary: [Scope: Entry]

    /// Creates a ring; every scope must have a key.
    public init(primary: [Scope: Entry]) {
        self.primary = primary
    }
}

/// The current public key ring; swapped atomically when keys are reloaded.
public final class PublicKeyRingHolder: Sendable {
    private let ring: Mutex<PublicKeyRing>

    /// Holds `ring`.
    public init(_ ring: PublicKeyRing) { self.ring = Mutex(ring) }

    /// The ring now.
    public var current: PublicKeyRing { ring.withLock { $0 } }

    /// Replaces the ring (after a key rotation).
    public func replace(with new: PublicKeyRing) { ring.withLock { $0 = new } }
}
