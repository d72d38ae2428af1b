import CSodium

/// An error from a cryptographic operation.
///
/// Errors are structs rather than enums so that new codes can be added without breaking
/// callers. The `reason` never contains key material, plaintext or any other secret.
public struct CryptoError: Error, Hashable, CustomStringConvertible, Sendable {
    /// A stable, machine-readable kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }

        /// libsodium could not be initialised.
        public static let initialisationFailed = Code(name: "initialisation-failed")
        /// A key, nonce or blob has the wrong length or an unknown version.
        public static let malformedInput = Code(name: "malformed-input")
        /// Authentication failed: wrong key, wrong associated data, or tampered bytes.
        public static let authenticationFailed = Code(name: "authentication-failed")
        /// A Diffie–Hellman exchange produced the all-zero value (low-order point).
        public static let weakPublicKey = Code(name: "weak-public-key")
        /// A key commitment did not match the key it commits to.
        public static let commitmentMismatch = Code(name: "commitment-mismatch")
        /// Argon2id could not run (usually: not enough memory).
        public static let passwordHashingFailed = Code(name: "password-hashing-failed")
        /// A signature did not verify.
        public static let badSignature = Code(name: "bad-signature")
        /// A backup was sealed to another backup key than the one given.
        public static let wrongKey = Code(name: "wrong-key")
        /// A stream ended before its final chunk (a truncated or unfinished backup).
        public static let truncated = Code(name: "truncated")
        /// A backup's data does not match the length or SHA-256 its manifest lists.
        public static let manifestMismatch = Code(name: "manifest-mismatch")
    }

    /// What kind of failure this is.
    public let code: Code
    /// A plain, non-secret explanation.
    public let reason: String
    /// Where the error was raised.
    public let file: String
    /// Where the error was raised.
    public let line: Int

    /// Creates an error; `reason` must not contain secrets.
    public init(_ code: Code, _ reason: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.reason = reason
        self.file = file
        self.line = line
    }

    public var description: String { "\(code): \(reason)" }

    public static func == (lhs: CryptoError, rhs: CryptoError) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }
}

/// libsodium's one-time initialisation, checked once per process.
public enum Sodium {
    private static let initialised: Bool = sodium_init() >= 0

    /// Makes sure libsodium is initialised; throws if it cannot be.
    public static func ensureInitialised() throws {
        guard initialised else {
            throw CryptoError(.initialisationFailed, "failed to initialise libsodium")
        }
    }

    /// Compares two byte sequences in constant time (for equal lengths).
    public static func constantTimeEqual(_ a: some ReadableBytes, _ b: some ReadableBytes) -> Bool {
        a.withUnsafeBytes { pa in
            b.withUnsafeBytes { pb in
                guard pa.count == pb.count else { return false }
                guard pa.count > 0, let x = pa.baseAddress, let y = pb.baseAddress else { return true }
                return sodium_memcmp(x, y, pa.count) == 0
            }
        }
    }
}

/// Types whose bytes can be read through a pointer without copying.
public protocol ReadableBytes {
    /// Calls `body` with the bytes.
    func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
}

extension Array: ReadableBytes where Element == UInt8 {}
extension ArraySlice: ReadableBytes where Element == UInt8 {}
