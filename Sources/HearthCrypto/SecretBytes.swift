import CSodium

/// Secret bytes that cannot be copied implicitly and are zeroed when released.
///
/// Keys, seeds and derived keys live in `SecretBytes`; they are never held in a plain `[UInt8]`.
/// Equality is deliberately not offered; use ``constantTimeEquals(_:)``.
public struct SecretBytes: ~Copyable, @unchecked Sendable {
    private let storage: UnsafeMutableRawBufferPointer
    /// The number of bytes.
    public let count: Int

    /// Allocates `count` zero bytes.
    public init(zeroedCount count: Int) {
        // Never allocate zero bytes, so the base address is always valid.
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        self.count = count
    }

    /// Fresh random bytes from the operating system's CSPRNG.
    public static func random(count: Int) throws -> SecretBytes {
        try Sodium.ensureInitialised()
        let s = SecretBytes(zeroedCount: count)
        if count > 0 { s.withUnsafeMutableBytes { randombytes_buf($0.baseAddress!, $0.count) } }
        return s
    }

    /// Copies `bytes` into a new secret and, when `bytes` is an inout array, the caller should wipe it.
    public init(copying bytes: some ReadableBytes) {
        let n = bytes.withUnsafeBytes { $0.count }
        self.init(zeroedCount: n)
        bytes.withUnsafeBytes { src in
            if n > 0 { storage.baseAddress!.copyMemory(from: src.baseAddress!, byteCount: n) }
        }
    }

    /// Reads the secret through a pointer that must not escape `body`.
    public borrowing func withUnsafeBytes<R: ~Copyable>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: storage[0..<count]))
    }

    /// Writes the secret through a pointer that must not escape `body`.
    public borrowing func withUnsafeMutableBytes<R: ~Copyable>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeMutableRawBufferPointer(rebasing: storage[0..<count]))
    }

    /// Compares with another secret in constant time.
    public borrowing func constantTimeEquals(_ other: borrowing SecretBytes) -> Bool {
        withUnsafeBytes { a in
            other.withUnsafeBytes { b in
                guard a.count == b.count else { return false }
                if a.count == 0 { return true }
                return sodium_memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0
            }
        }
    }

    /// Makes an explicit copy; the name is loud because copies of secrets should be rare.
    public borrowing func duplicate() -> SecretBytes {
        withUnsafeBytes { SecretBytes(copying: UnsafeRawBufferPointerBytes($0)) }
    }

    /// Exposes the bytes as an ordinary array. Only for values that are about to be sealed or
    /// written to a key file; the name says what it is.
    public borrowing func unsafeExportedBytes() -> [UInt8] {
        withUnsafeBytes { Array($0) }
    }

    deinit {
        sodium_memzero(storage.baseAddress!, storage.count)
        storage.deallocate()
    }
}

/// Adapts a raw buffer to ``ReadableBytes`` without copying.
struct UnsafeRawBufferPointerBytes: ReadableBytes {
    let buffer: UnsafeRawBufferPointer
    init(_ buffer: UnsafeRawBufferPointer) { self.buffer = buffer }
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try body(buffer) }
}

/// A 32-byte symmetric key (XChaCha20-Poly1305, keyed BLAKE2b); zeroed on release.
public struct SecretKey: ~Copyable, Sendable {
    /// The key length in bytes.
    public static let byteCount = 32
    /// The key bytes.
    public let secret: SecretBytes

    /// Wraps secret bytes that must be exactly 32 long.
    public init(_ secret: consuming SecretBytes) throws {
        guard secret.count == Self.byteCount else {
            throw CryptoError(.malformedInput, "a symmetric key must be 32 bytes, got \(secret.count)")
        }
        self.secret = secret
    }

    /// A fresh random key.
    public static func random() throws -> SecretKey {
        try SecretKey(SecretBytes.random(count: byteCount))
    }

    /// Compares in constant time.
    public borrowing func constantTimeEquals(_ other: borrowing SecretKey) -> Bool {
        secret.constantTimeEquals(other.secret)
    }
}
