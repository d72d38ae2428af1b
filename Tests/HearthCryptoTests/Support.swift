import HearthCrypto
import HearthTestSupport

/// Bytes from a hex string (test constants only; traps on bad input).
func hex(_ s: String) -> [UInt8] {
    let digits = Array(s.utf8)
    precondition(digits.count % 2 == 0, "odd-length hex")
    func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: preconditionFailure("not hex")
        }
    }
    return stride(from: 0, to: digits.count, by: 2).map { nibble(digits[$0]) << 4 | nibble(digits[$0 + 1]) }
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

/// A secret holding the UTF-8 bytes of `text`.
func secret(_ text: String) -> SecretBytes { SecretBytes(copying: Array(text.utf8)) }
