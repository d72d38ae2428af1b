import CSodium

/// Non-secret random bytes (ids, nonces) from the operating system's CSPRNG.
public enum SystemRandom {
    /// `count` random bytes.
    public static func bytes(_ count: Int) throws -> [UInt8] {
        try Sodium.ensureInitialised()
        var out = [UInt8](repeating: 0, count: count)
        if count > 0 { randombytes_buf(&out, count) }
        return out
    }

    /// A uniform random integer in `0..<upperBound` (upper bound at most 2^32).
    public static func uniform(_ upperBound: UInt32) throws -> UInt32 {
        try Sodium.ensureInitialised()
        return randombytes_uniform(upperBound)
    }
}

/// The operating system's CSPRNG as a value to inject: what the composition root hands every
/// service that needs random identifiers, receipts, passwords or tokens.
public struct SystemRandomSource: Sendable {
    /// The system source.
    public init() {}

    /// `count` random bytes.
    public func bytes(_ count: Int) throws -> [UInt8] { try SystemRandom.bytes(count) }
}
