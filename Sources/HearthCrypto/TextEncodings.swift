#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

// The two text encodings of bytes Hearth uses, each in one place.

/// Base32 encoding (most significant bit first, no padding) over any 32-symbol alphabet:
/// RFC 4648 for TOTP secrets, Crockford's for receipts and references.
public enum Base32 {
    /// Encodes `bytes`; the last symbol is zero-padded.
    public static func encode(_ bytes: [UInt8], alphabet: [Character]) -> String {
        precondition(alphabet.count == 32, "a base32 alphabet has 32 symbols")
        var out = ""
        var buffer: UInt32 = 0
        var bits = 0
        for b in bytes {
            buffer = (buffer << 8) | UInt32(b)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(alphabet[Int((buffer >> UInt32(bits)) & 31)])
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return out
    }
}

/// Unpadded base64url (RFC 4648 §5), for tokens in cookies and form fields.
public enum Base64URL {
    /// Encodes without padding.
    public static func encode(_ bytes: [UInt8]) -> String {
        String(Data(bytes).base64EncodedString().compactMap { c -> Character? in c == "+" ? "-" : c == "/" ? "_" : c == "=" ? nil : c })
    }

    /// Decodes unpadded base64url; nil for anything else.
    public static func decode(_ text: String) -> [UInt8]? {
        guard text.utf8.allSatisfy({ $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }) else { return nil }
        var s = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        while s.utf8.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map(Array.init)
    }
}

extension UInt8 {
    fileprivate var isASCIIAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(self)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
