import CSodium

/// An X25519 public key (32 bytes).
public struct X25519PublicKey: Hashable, Sendable {
    /// Length in bytes.
    public static let byteCount = 32
    /// The key bytes.
    public let bytes: [UInt8]

    /// Accepts exactly 32 bytes.
    public init(bytes: [UInt8]) throws {
        guard bytes.count == Self.byteCount else {
            throw CryptoError(.malformedInput, "an X25519 public key must be 32 bytes, got \(bytes.count)")
        }
        self.bytes = bytes
    }
}

/// An X25519 private key; zeroed on release, never copied implicitly.
public struct X25519PrivateKey: ~Copyable, Sendable {
    /// The secret scalar (32 bytes).
    public let secret: SecretBytes
    /// The matching public key.
    public let publicKey: X25519PublicKey

    /// A fresh random key pair.
    public static func generate() throws -> X25519PrivateKey {
        try X25519PrivateKey(secret: SecretBytes.random(count: 32))
    }

    /// Reconstructs a private key from its 32 secret bytes.
    public init(secret: consuming SecretBytes) throws {
        try Sodium.ensureInitialised()
        guard secret.count == 32 else {
            throw CryptoError(.malformedInput, "an X25519 private key must be 32 bytes, got \(secret.count)")
        }
        var pub = [UInt8](repeating: 0, count: 32)
        secret.withUnsafeBytes { s in
            _ = crypto_scalarmult_base(&pub, s.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        self.publicKey = try X25519PublicKey(bytes: pub)
        self.secret = secret
    }

    /// The raw Diffie–Hellman output with `peer`; throws for low-order points.
    public borrowing func sharedSecret(with peer: X25519PublicKey) throws -> SecretBytes {
        let out = SecretBytes(zeroedCount: 32)
        let rc = secret.withUnsafeBytes { s in
            out.withUnsafeMutableBytes { o in
                crypto_scalarmult(
                    o.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    s.baseAddress!.assumingMemoryBound(to: UInt8.self), peer.bytes)
            }
        }
        guard rc == 0 else { throw CryptoError(.weakPublicKey, "failed to agree a key: the public key is of low order") }
        return out
    }
}

/// Anonymous public-key sealing: ephemeral X25519, a BLAKE2b-derived key, XChaCha20-Poly1305.
///
/// Layout: `ephemeral public key (32) || nonce (24) || ciphertext || tag (16)`. The sealing key is
/// `BLAKE2b-256(key: X25519(eph, recipient), message: kdfLabel || eph_pk || recipient_pk)`.
public enum SealedToPublicKey {
    /// Bytes added to the message.
    public static let overhead = 32 + XChaCha20Poly1305.overhead

    /// Seals `message` so only the holder of `recipient`'s private key can open it.
    public static func seal(
        _ message: borrowing SecretBytes,
        to recipient: X25519PublicKey,
        kdfLabel: [UInt8],
        authenticating associatedData: some ReadableBytes
    ) throws -> [UInt8] {
        let ephemeral = try X25519PrivateKey.generate()
        let key = try derive(
            shared: ephemeral.sharedSecret(with: recipient), label: kdfLabel,
            ephemeral: ephemeral.publicKey, recipient: recipient)
        let box = try message.withUnsafeBytes { m in
            try XChaCha20Poly1305.seal(UnsafeRawBufferPointerBytes(m), using: key, authenticating: associatedData)
        }
        return ephemeral.publicKey.bytes + box
    }

    /// Opens a blob made by ``seal(_:to:kdfLabel:authenticating:)``.
    public static func open(
        _ sealed: [UInt8],
        with recipient: borrowing X25519PrivateKey,
        kdfLabel: [UInt8],
        authenticating associatedData: some ReadableBytes
    ) throws -> SecretBytes {
        guard sealed.count >= overhead else {
            throw CryptoError(.malformedInput, "failed to open: sealed value is \(sealed.count) bytes, shorter than \(overhead)")
        }
        let ephemeral = try X25519PublicKey(bytes: Array(sealed[0..<32]))
        let key = try derive(
            shared: recipient.sharedSecret(with: ephemeral), label: kdfLabel,
            ephemeral: ephemeral, recipient: recipient.publicKey)
        return try XChaCha20Poly1305.open(sealed[32...], using: key, authenticating: associatedData)
    }

    private static func derive(
        shared: consuming SecretBytes, label: [UInt8], ephemeral: X25519PublicKey, recipient: X25519PublicKey
    ) throws -> SecretKey {
        try Blake2b.deriveKey(label + ephemeral.bytes + recipient.bytes, key: shared)
    }
}
