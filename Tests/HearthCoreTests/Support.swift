import HearthCore
import HearthCrypto
import HearthTestSupport

/// Bytes from a hex string; nil if it is not even-length lowercase or uppercase hex.
func bytes(hex s: String) -> [UInt8]? {
    let digits = Array(s.utf8)
    guard digits.count % 2 == 0 else { return nil }
    func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }
    var out: [UInt8] = []
    out.reserveCapacity(digits.count / 2)
    for i in stride(from: 0, to: digits.count, by: 2) {
        guard let hi = nibble(digits[i]), let lo = nibble(digits[i + 1]) else { return nil }
        out.append(hi << 4 | lo)
    }
    return out
}

/// The `CryptoError` code thrown by `body`; nil if it returned normally or threw something else.
func cryptoErrorCode(_ body: () throws -> Void) -> CryptoError.Code? {
    do {
        try body()
        return nil
    } catch let error as CryptoError {
        return error.code
    } catch {
        return nil
    }
}

/// The Crockford alphabet, as SECURITY.md §3.2 spells it (restated here so tests do not trust the code under test).
let crockfordAlphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

/// Luhn mod 32 check symbol value for data symbol values, written independently from SECURITY.md §3.8:
/// walk from the rightmost data symbol, doubling it and every second one, fold (`x / 32 + x % 32`),
/// and choose the check value that makes the total 0 mod 32.
func luhn32Check(_ values: [Int]) -> Int {
    var sum = 0
    for (offset, v) in values.reversed().enumerated() {
        let doubled = offset % 2 == 0 ? 2 * v : v
        sum += doubled / 32 + doubled % 32
    }
    return (32 - sum % 32) % 32
}

/// A displayed receipt (`XXXX-…`) for 27 data symbol values, with the check symbol computed by ``luhn32Check(_:)``.
func displayedReceipt(values: [Int]) -> String {
    let all = values + [luhn32Check(values)]
    let chars = all.map { crockfordAlphabet[$0] }
    return stride(from: 0, to: 28, by: 4).map { String(chars[$0..<$0 + 4]) }.joined(separator: "-")
}

/// A sealed record with its keys, built through the public envelope API.
struct SealedRecord: ~Copyable {
    let id: RecordID
    let dek: DataKey
    let commitment: [UInt8]
    let plaintext: [UInt8]
    let body: [UInt8]

    init(plaintext: [UInt8] = Array(#"{"contact":[{"method":"email","value":"someone@example.org"}],"wants":["support"]}"#.utf8)) throws {
        // Everything that can throw happens before the non-copyable key is stored.
        let id = try RecordID.random()
        let dek = try DataKey.generate()
        let commitment = try Envelope.commitment(to: dek, recordID: id)
        let body = try Envelope.sealBody(SecretBytes(copying: plaintext), with: dek, recordID: id, commitment: commitment)
        self.id = id
        self.commitment = commitment
        self.plaintext = plaintext
        self.body = body
        self.dek = dek
    }
}
