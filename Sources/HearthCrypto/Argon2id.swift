import CSodium

/// Argon2id password hashing and passphrase key derivation (libsodium `crypto_pwhash`).
///
/// Both are slow and memory-hungry by design: call them off the event loop.
public enum Argon2id {
    /// Cost parameters.
    public struct Cost: Hashable, Sendable {
        /// Passes over memory.
        public let opsLimit: UInt64
        /// Memory in bytes.
        public let memLimit: UInt64

        /// libsodium's "interactive" setting (~64 MiB): for staff passwords.
        public static let interactive = Cost(
            opsLimit: UInt64(crypto_pwhash_opslimit_interactive()), memLimit: UInt64(crypto_pwhash_memlimit_interactive()))
        /// libsodium's "moderate" setting (~256 MiB): for the master-key passphrase.
        public static let moderate = Cost(
            opsLimit: UInt64(crypto_pwhash_opslimit_moderate()), memLimit: UInt64(crypto_pwhash_memlimit_moderate()))
        /// The smallest cost libsodium accepts. Insecure but fast: for tests only.
        public static let insecureMinimumForTests = Cost(
            opsLimit: UInt64(crypto_pwhash_opslimit_min()), memLimit: UInt64(crypto_pwhash_memlimit_min()))

        /// Any explicit cost (validated by libsodium when used).
        public init(opsLimit: UInt64, memLimit: UInt64) {
            self.opsLimit = opsLimit
            self.memLimit = memLimit
        }
    }

    /// The cost as libsodium takes it. A cost read from a file (`master.kdf`) can hold any 64-bit
    /// values, and `Int(_:)` of a memory size above `Int.max` would stop the process instead of
    /// refusing the file; libsodium checks every other bound itself.
    static func checked(_ cost: Cost) throws -> (ops: UInt64, memory: Int) {
        guard let memory = Int(exactly: cost.memLimit) else {
            throw CryptoError(.malformedInput, "an Argon2id memory cost of \(cost.memLimit) bytes is beyond any machine")
        }
        return (cost.opsLimit, memory)
    }

    /// Salt length in bytes.
    public static let saltByteCount = Int(crypto_pwhash_saltbytes())

    /// Derives a 32-byte key from a passphrase and a 16-byte salt.
    public static func deriveKey(passphrase: borrowing SecretBytes, salt: [UInt8], cost: Cost) throws -> SecretKey {
        try Sodium.ensureInitialised()
        guard salt.count == saltByteCount else {
            throw CryptoError(.malformedInput, "an Argon2id salt must be \(saltByteCount) bytes, got \(salt.count)")
        }
        let (ops, memory) = try checked(cost)
        let out = SecretBytes(zeroedCount: 32)
        let rc = passphrase.withUnsafeBytes { p in
            out.withUnsafeMutableBytes { o in
                crypto_pwhash(
                    o.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(o.count),
                    p.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(p.count),
                    salt, ops, memory, crypto_pwhash_ALG_ARGON2ID13)
            }
        }
        guard rc == 0 else { throw CryptoError(.passwordHashingFailed, "failed to derive a key from the passphrase") }
        return try SecretKey(out)
    }

    /// An encoded Argon2id hash (`$argon2id$…`) of `password`, salted at random.
    public static func hashPassword(_ password: borrowing SecretBytes, cost: Cost) throws -> String {
        try Sodium.ensureInitialised()
        let (ops, memory) = try checked(cost)
        var out = [CChar](repeating: 0, count: Int(crypto_pwhash_strbytes()))
        let rc = password.withUnsafeBytes { p in
            crypto_pwhash_str(
                &out, p.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(p.count),
                ops, memory)
        }
        guard rc == 0 else { throw CryptoError(.passwordHashingFailed, "failed to hash the password") }
        let bytes = out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `password` matches an encoded hash (constant time inside libsodium).
    public static func verifyPassword(_ password: borrowing SecretBytes, against encoded: String) -> Bool {
        guard (try? Sodium.ensureInitialised()) != nil else { return false }
        return password.withUnsafeBytes { p in
            crypto_pwhash_str_verify(encoded, p.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(p.count)) == 0
        }
    }

    /// Whether an encoded hash was made with other parameters than `cost` and should be redone.
    public static func needsRehash(_ encoded: String, cost: Cost) -> Bool {
        guard let (ops, memory) = try? checked(cost) else { return true }
        return crypto_pwhash_str_needs_rehash(encoded, ops, memory) != 0
    }
}
