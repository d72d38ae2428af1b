public import HearthCore
public import HearthCrypto

/// Byte formats of key files (SECURITY.md, "Key files").
public enum KeyFileFormat {
    static let publicMagic = Array("HRTHPUB1".utf8)
    static let sealedMagic = Array("HRTHSEC1".utf8)
    static let kdfMagic = Array("HRTHKDF1".utf8)
    /// Length of a `.pub` file.
    public static let publicFileByteCount = 8 + 1 + 4 + 32
    /// Length of a `.sealed` file.
    public static let sealedFileByteCount = 8 + 1 + 4 + XChaCha20Poly1305.overhead + 32
    /// Length of `master.kdf`.
    public static let kdfFileByteCount = 8 + 8 + 8 + 16 + 32

    /// Encodes a public key file.
    public static func encodePublic(kind: KeyKind, version: UInt32, key: [UInt8]) -> [UInt8] {
        publicMagic + [kind.byte] + version.bigEndianBytes + key
    }

    /// Decodes a public key file, checking that its header agrees with its name.
    public static func decodePublic(_ bytes: [UInt8], kind: KeyKind, version: UInt32) -> [UInt8]? {
        guard bytes.count == publicFileByteCount, Array(bytes[0..<8]) == publicMagic,
            bytes[8] == kind.byte, Array(bytes[9..<13]) == version.bigEndianBytes
        else { return nil }
        return Array(bytes[13...])
    }

    static func sealedHeader(kind: KeyKind, version: UInt32) -> [UInt8] {
        sealedMagic + [kind.byte] + version.bigEndianBytes
    }

    static func fileKey(master: borrowing SecretKey) throws -> SecretKey {
        try Blake2b.deriveKey(Label.keyFile, key: master.secret)
    }

    /// Seals a 32-byte private key (X25519 scalar or Ed25519 seed) under the master key.
    public static func encodeSealed(
        kind: KeyKind, version: UInt32, secret: borrowing SecretBytes, master: borrowing SecretKey
    ) throws -> [UInt8] {
        let header = sealedHeader(kind: kind, version: version)
        let box = try secret.withUnsafeBytes { s in
            try XChaCha20Poly1305.seal(Array(s), using: fileKey(master: master), authenticating: header)
        }
        return header + box
    }

    /// Opens a sealed key file; throws if it is malformed, renamed, or sealed under another master key.
    public static func decodeSealed(
        _ bytes: [UInt8], kind: KeyKind, version: UInt32, master: borrowing SecretKey
    ) throws -> SecretBytes {
        let header = sealedHeader(kind: kind, version: version)
        guard bytes.count == sealedFileByteCount, Array(bytes[0..<13]) == header else {
            throw CryptoError(.malformedInput, "not a \(kind) v\(version) sealed key file")
        }
        return try XChaCha20Poly1305.open(bytes[13...], using: fileKey(master: master), authenticating: header)
    }

    /// `master.kdf`: Argon2id parameters, salt, and a check value for the derived master key.
    public static func encodeKDF(cost: Argon2id.Cost, salt: [UInt8], master: borrowing SecretKey) throws -> [UInt8] {
        func u64(_ v: UInt64) -> [UInt8] { (0..<8).reversed().map { UInt8((v >> (UInt64($0) * 8)) & 0xFF) } }
        return kdfMagic + u64(cost.opsLimit) + u64(cost.memLimit) + salt
            + (try Blake2b.hash(Label.masterCheck, key: master.secret))
    }

    /// Re-derives the master key from `master.kdf` and a passphrase; nil for a wrong passphrase.
    public static func decodeKDF(_ bytes: [UInt8], passphrase: borrowing SecretBytes) throws -> SecretKey? {
        guard bytes.count == kdfFileByteCount, Array(bytes[0..<8]) == kdfMagic else {
            throw CryptoError(.malformedInput, "not a master.kdf file")
        }
        func u64(_ r: Range<Int>) -> UInt64 { bytes[r].reduce(0) { $0 << 8 | UInt64($1) } }
        let cost = Argon2id.Cost(opsLimit: u64(8..<16), memLimit: u64(16..<24))
        let master = try Argon2id.deriveKey(passphrase: passphrase, salt: Array(bytes[24..<40]), cost: cost)
        let check = try Blake2b.hash(Label.masterCheck, key: master.secret)
        guard Sodium.constantTimeEqual(check, bytes[40..<72]) else { return nil }
        return master
    }
}
