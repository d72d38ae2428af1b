import CSodium

/// An Ed25519 public key (32 bytes).
public struct Ed25519PublicKey: Hashable, Sendable {
    /// The key bytes.
    public let bytes: [UInt8]

    /// Accepts exactly 32 bytes.
    public init(bytes: [UInt8]) throws {
        guard bytes.count == 32 else {
            throw CryptoError(.malformedInput, "an Ed25519 public key must be 32 bytes, got \(bytes.count)")
        }
        self.bytes = bytes
    }

    /// Checks a detached 64-byte signature over `message`.
    public func isValidSignature(_ signature: [UInt8], for message: some ReadableBytes) -> Bool {
        guard signature.count == 64, (try? Sodium.ensureInitialised()) != nil else { return false }
        return message.withUnsafeBytes { m in
            crypto_sign_verify_detached(
                signature, m.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(m.count), bytes) == 0
        }
    }
}

/// An Ed25519 signing key held as its 32-byte seed; zeroed on release.
public struct Ed25519PrivateKey: ~Copyable, Sendable {
    /// The 32-byte seed.
    public let seed: SecretBytes
    /// The matching public key.
    public let publicKey: Ed25519PublicKey

    /// A fresh random key.
    public static func generate() throws -> Ed25519PrivateKey {
        try Ed25519PrivateKey(seed: SecretBytes.random(count: 32))
    }

    /// Reconstructs the key from its seed.
    public init(seed: consuming SecretBytes) throws {
        try Sodium.ensureInitialised()
        guard seed.count == 32 else {
            throw CryptoError(.malformedInput, "an Ed25519 seed must be 32 bytes, got \(seed.count)")
        }
        var pub = [UInt8](repeating: 0, count: 32)
        let expanded = SecretBytes(zeroedCount: 64)
        seed.withUnsafeBytes { s in
            expanded.withUnsafeMutableBytes { e in
                _ = crypto_sign_seed_keypair(
                    &pub, e.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    s.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        self.publicKey = try Ed25519PublicKey(bytes: pub)
        self.seed = seed
    }

    /// A detached 64-byte signature over `message`.
    public borrowing func signature(for message: some ReadableBytes) -> [UInt8] {
        let expanded = SecretBytes(zeroedCount: 64)
        var pub = [UInt8](repeating: 0, count: 32)
        var sig = [UInt8](repeating: 0, count: 64)
        seed.withUnsafeBytes { s in
            expanded.withUnsafeMutableBytes { e in
                let sk = e.baseAddress!.assumingMemoryBound(to: UInt8.self)
                _ = crypto_sign_seed_keypair(&pub, sk, s.baseAddress!.assumingMemoryBound(to: UInt8.self))
                message.withUnsafeBytes { m in
                    _ = crypto_sign_detached(
                        &sig, nil, m.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(m.count), sk)
                }
            }
        }
        return sig
    }
}
