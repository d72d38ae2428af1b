import CSodium

/// XChaCha20-Poly1305 (IETF) authenticated encryption with associated data.
///
/// A sealed box is laid out as `nonce (24) || ciphertext || tag (16)`; the nonce is random.
public enum XChaCha20Poly1305 {
    /// Nonce length in bytes.
    public static let nonceByteCount = 24
    /// Authentication tag length in bytes.
    public static let tagByteCount = 16
    /// Bytes a sealed box adds to its plaintext.
    public static let overhead = nonceByteCount + tagByteCount

    /// Encrypts `plaintext` under `key`, authenticating `associatedData`; returns `nonce || ciphertext || tag`.
    public static func seal(
        _ plaintext: some ReadableBytes,
        using key: borrowing SecretKey,
        authenticating associatedData: some ReadableBytes
    ) throws -> [UInt8] {
        try Sodium.ensureInitialised()
        let messageCount = plaintext.withUnsafeBytes { $0.count }
        var out = [UInt8](repeating: 0, count: nonceByteCount + messageCount + tagByteCount)
        try out.withUnsafeMutableBytes { outBuf in
            let base = outBuf.baseAddress!.assumingMemoryBound(to: UInt8.self)
            randombytes_buf(base, nonceByteCount)
            let rc = plaintext.withUnsafeBytes { m in
                associatedData.withUnsafeBytes { ad in
                    key.secret.withUnsafeBytes { k in
                        var written: UInt64 = 0
                        return crypto_aead_xchacha20poly1305_ietf_encrypt(
                            base + nonceByteCount, &written,
                            m.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(m.count),
                            ad.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(ad.count),
                            nil, base, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                }
            }
            guard rc == 0 else { throw CryptoError(.malformedInput, "failed to seal: message too long") }
        }
        return out
    }

    /// Encrypts a secret in place of a copy: the plaintext is read straight from its zeroizing
    /// buffer, never copied into an ordinary array.
    public static func seal(
        _ plaintext: borrowing SecretBytes,
        using key: borrowing SecretKey,
        authenticating associatedData: some ReadableBytes
    ) throws -> [UInt8] {
        try plaintext.withUnsafeBytes { p in
            try seal(UnsafeRawBufferPointerBytes(p), using: key, authenticating: associatedData)
        }
    }

    /// Decrypts a box made by ``seal(_:using:authenticating:)``; the plaintext is returned as a secret.
    ///
    /// Throws `authenticationFailed` for a wrong key, wrong associated data or any altered byte.
    public static func open(
        _ box: some ReadableBytes,
        using key: borrowing SecretKey,
        authenticating associatedData: some ReadableBytes
    ) throws -> SecretBytes {
        try Sodium.ensureInitialised()
        let boxCount = box.withUnsafeBytes { $0.count }
        guard boxCount >= overhead else {
            throw CryptoError(.malformedInput, "failed to open: sealed box is \(boxCount) bytes, shorter than \(overhead)")
        }
        let plain = SecretBytes(zeroedCount: boxCount - overhead)
        let rc = box.withUnsafeBytes { c in
            associatedData.withUnsafeBytes { ad in
                key.secret.withUnsafeBytes { k in
                    plain.withUnsafeMutableBytes { p in
                        let cBase = c.baseAddress!.assumingMemoryBound(to: UInt8.self)
                        var written: UInt64 = 0
                        // A zero-length plaintext still needs a valid output pointer.
                        var scratch: UInt8 = 0
                        let out = p.count > 0 ? p.baseAddress!.assumingMemoryBound(to: UInt8.self) : withUnsafeMutablePointer(to: &scratch) { $0 }
                        return crypto_aead_xchacha20poly1305_ietf_decrypt(
                            out, &written, nil,
                            cBase + nonceByteCount, UInt64(boxCount - nonceByteCount),
                            ad.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(ad.count),
                            cBase, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                }
            }
        }
        guard rc == 0 else { throw CryptoError(.authenticationFailed, "failed to open: authentication failed") }
        return plain
    }
}
