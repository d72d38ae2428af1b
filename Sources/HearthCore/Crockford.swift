import HearthCrypto

/// Crockford's base32 alphabet: no I, L, O or U, so nothing is ambiguous when read aloud or copied.
enum Crockford {
    static let alphabet: [Character] = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    static let alphabetBytes: [UInt8] = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// The value of one symbol, case-insensitive, with O read as 0 and I, L as 1.
    static func value(of c: Character) -> UInt8? {
        guard let ascii = c.asciiValue else { return nil }
        return value(ofASCII: ascii)
    }

    static func value(ofASCII a: UInt8) -> UInt8? {
        var u = a
        if u >= 0x61 && u <= 0x7A { u -= 0x20 }  // lower to upper case
        switch u {
        case UInt8(ascii: "O"): return 0
        case UInt8(ascii: "I"), UInt8(ascii: "L"): return 1
        default:
            guard let i = alphabetBytes.firstIndex(of: u) else { return nil }
            return UInt8(i)
        }
    }

    /// Encodes bytes as base32 symbols, most significant bit first; the last symbol is zero-padded.
    static func encode(_ bytes: [UInt8]) -> String { Base32.encode(bytes, alphabet: alphabet) }

    /// Decodes symbols made by `encode` back to `byteCount` bytes; rejects non-zero padding bits.
    static func decode(_ symbols: [UInt8], byteCount: Int) -> [UInt8]? {
        guard symbols.count == (byteCount * 8 + 4) / 5 else { return nil }
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for v in symbols {
            buffer = (buffer << 5) | UInt32(v)
            bits += 5
            if bits >= 8 {
                bits -= 8
                out.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
            }
        }
        // Canonical encodings only: leftover padding bits must be zero.
        guard buffer & ((1 << UInt32(bits)) - 1) == 0, out.count == byteCount else { return nil }
        return out
    }
}
