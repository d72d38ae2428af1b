import CSodium

/// BLAKE2b (libsodium `crypto_generichash`), keyed or not.
public enum Blake2b {
    /// Computes a 32-byte keyed BLAKE2b of `message` under a secret key of 16…64 bytes.
    public static func hash(
        _ message: some ReadableBytes,
        key: borrowing SecretBytes,
        outputByteCount: Int = 32
    ) throws -> [UInt8] {
        try Sodium.ensureInitialised()
        guard key.count >= 16, key.count <= 64 else {
            throw CryptoError(.malformedInput, "a BLAKE2b key must be 16 to 64 bytes, got \(key.count)")
        }
        return try key.withUnsafeBytes { k in try raw(message, key: k, outputByteCount: outputByteCount) }
    }

    /// Derives a 32-byte symmetric key: keyed BLAKE2b of `message` under `key`.
    public static func deriveKey(_ message: some ReadableBytes, key: borrowing SecretBytes) throws -> SecretKey {
        try Sodium.ensureInitialised()
        guard key.count >= 16, key.count <= 64 else {
            throw CryptoError(.malformedInput, "a BLAKE2b key must be 16 to 64 bytes, got \(key.count)")
        }
        let out = SecretBytes(zeroedCount: SecretKey.byteCount)
        try key.withUnsafeBytes { k in
            try out.withUnsafeMutableBytes { o in
                try message.withUnsafeBytes { m in
                    let rc = crypto_generichash(
                        o.baseAddress!.assumingMemoryBound(to: UInt8.self), o.count,
                        m.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(m.count),
                        k.baseAddress!.assumingMemoryBound(to: UInt8.self), k.count)
                    guard rc == 0 else { throw CryptoError(.malformedInput, "failed to derive a key") }
                }
            }
        }
        return try SecretKey(out)
    }

    /// Unkeyed BLAKE2b (for hash chains and fingerprints of public data).
    public static func hash(_ message: some ReadableBytes, outputByteCount: Int = 32) throws -> [UInt8] {
        try Sodium.ensureInitialised()
        return try raw(message, key: UnsafeRawBufferPointer(start: nil, count: 0), outputByteCount: outputByteCount)
    }

    private static func raw(
        _ message: some ReadableBytes, key: UnsafeRawBufferPointer, outputByteCount: Int
    ) throws -> [UInt8] {
        guard outputByteCount >= 16, outputByteCount <= 64 else {
            throw CryptoError(.malformedInput, "a BLAKE2b output must be 16 to 64 bytes")
        }
        var out = [UInt8](repeating: 0, count: outputByteCount)
        let rc = out.withUnsafeMutableBytes { o in
            message.withUnsafeBytes { m in
                crypto_generichash(
                    o.baseAddress!.assumingMemoryBound(to: UInt8.self), o.count,
                    m.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(m.count),
                    key.baseAddress?.assumingMemoryBound(to: UInt8.self), key.count)
            }
        }
        guard rc == 0 else { throw CryptoError(.malformedInput, "failed to hash") }
        return out
    }
}
