import HearthCrypto

/// A record's identity: 10 random bytes. People see it as a case reference, `HR-XXXX-XXXX-XXXX-XXXX`.
public struct RecordID: Hashable, Sendable, CustomStringConvertible {
    /// Length in bytes.
    public static let byteCount = 10
    /// The id bytes.
    public let bytes: [UInt8]

    /// Accepts exactly 10 bytes.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// A fresh random id from `random`.
    public static func random(using random: any RandomSource) throws -> RecordID {
        RecordID(bytes: try random.bytes(byteCount))!
    }

    /// The case reference shown to survivors and staff.
    public var reference: String {
        let s = Array(Crockford.encode(bytes))
        return "HR-" + stride(from: 0, to: s.count, by: 4).map { String(s[$0..<min($0 + 4, s.count)]) }.joined(separator: "-")
    }

    /// Parses a case reference (case-insensitive, hyphens optional).
    public init?(reference: String) {
        // ASCII only: `uppercased()` would otherwise turn look-alikes such as U+0131 'ı' into 'I'.
        guard reference.utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
        var text = Substring(reference.uppercased())
        guard text.hasPrefix("HR-") || text.hasPrefix("HR") else { return nil }
        text = text.dropFirst(2)
        var symbols: [UInt8] = []
        for c in text where c != "-" {
            guard let v = Crockford.value(of: c) else { return nil }
            symbols.append(v)
        }
        guard let bytes = Crockford.decode(symbols, byteCount: Self.byteCount) else { return nil }
        self.bytes = bytes
    }

    public var description: String { reference }
}
