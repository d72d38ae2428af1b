public import HearthCore
public import HearthCrypto

/// `keys.manifest`: the signed list of the scope public keys published for the intake
/// (SECURITY.md §3.18). Only canonical encodings are accepted; anything else is refused before
/// the signature is checked.
public struct KeyManifest: Sendable, Equatable {
    /// One published scope key version.
    public struct Entry: Sendable, Equatable {
        /// The scope.
        public let scope: Scope
        /// The key version (N in `<scope>.vN.pub`).
        public let version: UInt32
        /// Whether new consent wraps are sealed to it (exactly one per scope: its highest version).
        public let isPrimary: Bool
        /// The X25519 public key, as in the `.pub` file.
        public let publicKey: [UInt8]

        /// An entry.
        public init(scope: Scope, version: UInt32, isPrimary: Bool, publicKey: [UInt8]) {
            self.scope = scope
            self.version = version
            self.isPrimary = isPrimary
            self.publicKey = publicKey
        }

        /// The `.pub` file this entry stands for, byte for byte.
        public var publicFileBytes: [UInt8] { KeyFileFormat.encodePublic(kind: .scope(scope), version: version, key: publicKey) }
    }

    /// The file name in a published key directory.
    public static let fileName = "keys.manifest"
    /// The signature's domain label (22 bytes).
    public static let label = Array("hearth/v1/key-manifest".utf8)
    /// The format version byte.
    public static let formatVersion: UInt8 = 0x01
    static let headerByteCount = 1 + 8 + 4 + 1
    static let entryByteCount = 1 + 4 + 1 + 32
    static let signatureByteCount = 64
    /// The longest manifest (255 entries).
    public static let maximumByteCount = headerByteCount + 255 * entryByteCount + signatureByteCount

    /// When it was published (unix seconds); a running intake refuses an older one.
    public let created: Int64
    /// The version of the audit key (`audit.vN.pub`) whose signature it carries.
    public let auditVersion: UInt32
    /// Every published version, ascending by scope id then version.
    public let entries: [Entry]

    /// A manifest; throws ``CryptoError`` `malformed-input` unless it could be encoded canonically.
    public init(created: Int64, auditVersion: UInt32, entries: [Entry]) throws {
        self.created = created
        self.auditVersion = auditVersion
        self.entries = entries
        if let problem = problem { throw CryptoError(.malformedInput, "not a canonical key manifest: \(problem)") }
    }

    /// What makes it non-canonical, or nil.
    var problem: String? {
        guard created >= 0 else { return "negative creation time" }
        guard auditVersion >= 1 else { return "audit version 0" }
        guard (Scope.allCases.count...255).contains(entries.count) else { return "\(entries.count) entries" }
        for (a, b) in zip(entries, entries.dropFirst()) where (a.scope.id, a.version) >= (b.scope.id, b.version) {
            return "entries not in ascending order (\(b.scope.rawValue).v\(b.version))"
        }
        for scope in Scope.allCases {
            let versions = entries.filter { $0.scope == scope }
            guard let highest = versions.last else { return "no \(scope.rawValue) key" }
            guard versions.allSatisfy({ $0.version >= 1 && $0.publicKey.count == 32 }) else { return "a bad \(scope.rawValue) entry" }
            guard highest.isPrimary, versions.filter(\.isPrimary).count == 1 else {
                return "\(scope.rawValue) must have exactly one primary version, its highest"
            }
        }
        return nil
    }

    /// The primary version of each scope: the only keys the intake seals to.
    public var primaries: [Scope: Entry] {
        Dictionary(uniqueKeysWithValues: entries.filter(\.isPrimary).map { ($0.scope, $0) })
    }

    /// The public key ring of the primary versions.
    public func ring() throws -> PublicKeyRing {
        PublicKeyRing(primary: try primaries.mapValues { .init(version: $0.version, key: try X25519PublicKey(bytes: $0.publicKey)) })
    }

    /// `support.v2, review.v1, …`: the primaries, for logs and the CLI (public data).
    public var primarySummary: String {
        primaries.sorted { $0.key < $1.key }.map { "\($0.key.rawValue).v\($0.value.version)" }.joined(separator: ",")
    }

    /// Everything before the signature.
    public var body: [UInt8] {
        var out: [UInt8] = [Self.formatVersion]
        out += (0..<8).reversed().map { UInt8((UInt64(bitPattern: created) >> (UInt64($0) * 8)) & 0xFF) }
        out += auditVersion.bigEndianBytes
        out.append(UInt8(entries.count))
        for e in entries {
            out.append(e.scope.id)
            out += e.version.bigEndianBytes
            out.append(e.isPrimary ? 1 : 0)
            out += e.publicKey
        }
        return out
    }

    /// What the audit key signs: the label, then the body.
    public var signedMessage: [UInt8] { Self.label + body }

    /// The file: the body and an Ed25519 signature over ``signedMessage``.
    public func encoded(signingWith key: borrowing Ed25519PrivateKey) -> [UInt8] {
        body + key.signature(for: signedMessage)
    }

    /// Parses a manifest file, accepting only the canonical encoding; does not check the signature.
    /// Throws ``CryptoError`` `malformed-input`.
    public static func decode(_ bytes: [UInt8]) throws -> (manifest: KeyManifest, signature: [UInt8]) {
        func malformed(_ why: String) -> CryptoError { CryptoError(.malformedInput, "not a key manifest: \(why)") }
        guard bytes.count >= headerByteCount + signatureByteCount else { throw malformed("\(bytes.count) bytes is too short") }
        guard bytes[0] == formatVersion else { throw malformed("unknown version \(bytes[0])") }
        let count = Int(bytes[13])
        guard bytes.count == headerByteCount + count * entryByteCount + signatureByteCount else {
            throw malformed("\(bytes.count) bytes does not fit \(count) entries")
        }
        func u64(_ at: Int) -> UInt64 { bytes[at..<at + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        func u32(_ at: Int) -> UInt32 { bytes[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        var entries: [Entry] = []
        for i in 0..<count {
            let at = headerByteCount + i * entryByteCount
            guard let scope = Scope(id: bytes[at]) else { throw malformed("unknown scope id \(bytes[at])") }
            guard bytes[at + 5] <= 1 else { throw malformed("state byte \(bytes[at + 5])") }
            entries.append(
                Entry(scope: scope, version: u32(at + 1), isPrimary: bytes[at + 5] == 1, publicKey: Array(bytes[at + 6..<at + 38])))
        }
        let manifest: KeyManifest
        do {
            manifest = try KeyManifest(created: Int64(bitPattern: u64(1)), auditVersion: u32(9), entries: entries)
        } catch {
            throw malformed("\(error)")
        }
        guard manifest.body == Array(bytes.dropLast(signatureByteCount)) else { throw malformed("not canonical") }
        return (manifest, Array(bytes.suffix(signatureByteCount)))
    }

    /// Decodes and checks the signature under `auditKey`: ``CryptoError`` `malformed-input` for a
    /// non-canonical file, `authentication-failed` for a signature that does not verify.
    public static func verify(_ bytes: [UInt8], auditKey: Ed25519PublicKey) throws -> KeyManifest {
        let (manifest, signature) = try decode(bytes)
        guard auditKey.isValidSignature(signature, for: manifest.signedMessage) else {
            throw CryptoError(.authenticationFailed, "the key manifest's signature does not verify")
        }
        return manifest
    }
}
