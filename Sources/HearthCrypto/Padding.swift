import CSodium

/// ISO/IEC 7816-4 padding (libsodium `sodium_pad`) to size buckets, so ciphertext sizes reveal
/// only a bucket, not a length.
public enum BucketPadding {
    /// The smallest bucket (1 KiB); buckets double up to ``largestBucket``.
    public static let smallestBucket = 1024
    /// The largest bucket (128 KiB).
    public static let largestBucket = 128 * 1024

    /// The bucket for a message of `length` bytes (at least one padding byte always fits).
    public static func bucket(forLength length: Int) throws -> Int {
        var b = smallestBucket
        while b < length + 1 {
            b *= 2
            guard b <= largestBucket else {
                throw CryptoError(.malformedInput, "failed to pad: \(length) bytes exceed the largest bucket")
            }
        }
        return b
    }

    /// Pads `message` to its bucket.
    public static func pad(_ message: borrowing SecretBytes) throws -> SecretBytes {
        let size = try bucket(forLength: message.count)
        let out = SecretBytes(zeroedCount: size)
        var paddedLength = 0
        let rc = message.withUnsafeBytes { m in
            out.withUnsafeMutableBytes { o in
                if m.count > 0 { o.baseAddress!.copyMemory(from: m.baseAddress!, byteCount: m.count) }
                return sodium_pad(
                    &paddedLength, o.baseAddress!.assumingMemoryBound(to: UInt8.self), m.count, size, size)
            }
        }
        guard rc == 0, paddedLength == size else { throw CryptoError(.malformedInput, "failed to pad the message") }
        return out
    }

    /// Removes padding; rejects a length that is not a bucket and malformed padding.
    public static func unpad(_ padded: borrowing SecretBytes) throws -> SecretBytes {
        let size = padded.count
        guard size >= smallestBucket, size <= largestBucket, size & (size - 1) == 0 else {
            throw CryptoError(.malformedInput, "failed to unpad: \(size) bytes is not a padding bucket")
        }
        var length = 0
        let rc = padded.withUnsafeBytes { p in
            sodium_unpad(&length, p.baseAddress!.assumingMemoryBound(to: UInt8.self), size, size)
        }
        guard rc == 0 else { throw CryptoError(.malformedInput, "failed to unpad: malformed padding") }
        return padded.withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointerBytes(UnsafeRawBufferPointer(rebasing: $0[0..<length]))) }
    }
}
