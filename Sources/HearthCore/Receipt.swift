import HearthCrypto

/// The survivor's receipt: 135 random bits as 27 Crockford symbols plus a Luhn mod 32 check symbol,
/// shown once as seven groups of four. It is never stored; only values derived from it are.
public struct Receipt: Sendable {
    /// Number of random symbols.
    public static let dataSymbolCount = 27
    /// The 27 canonical data symbols (uppercase ASCII): the receipt secret of SECURITY.md.
    private let symbols: [UInt8]

    /// A fresh random receipt from `source`.
    public static func generate(using source: any RandomSource) throws -> Receipt {
        // 135 random bits, five per symbol: one call to the CSPRNG instead of 27. Eighteen bytes
        // so that the last symbol's two-byte window stays inside the buffer (bits 135-143 unused).
        let random = try source.bytes(18)
        var s: [UInt8] = []
        s.reserveCapacity(dataSymbolCount)
        for i in 0..<dataSymbolCount {
            let bit = i * 5
            let word = UInt16(random[bit / 8]) << 8 | UInt16(random[bit / 8 + 1])
            s.append(Crockford.alphabetBytes[Int((word >> UInt16(11 - bit % 8)) & 31)])
        }
        return Receipt(symbols: s)
    }

    private init(symbols: [UInt8]) {
        self.symbols = symbols
    }

    /// Parses what a survivor typed or pasted: spaces and hyphens ignored, any case, O read as 0,
    /// I and L as 1. Returns nil for any other character, a wrong length or a wrong check symbol.
    public init?(parsing text: String) {
        var values: [UInt8] = []
        for a in text.utf8 {
            if a == UInt8(ascii: " ") || a == UInt8(ascii: "-") { continue }
            guard let v = Crockford.value(ofASCII: a) else { return nil }
            values.append(v)
            if values.count > Self.dataSymbolCount + 1 { return nil }
        }
        guard values.count == Self.dataSymbolCount + 1 else { return nil }
        let data = Array(values.prefix(Self.dataSymbolCount))
        guard Self.checkSymbol(for: data) == values.last! else { return nil }
        symbols = data.map { Crockford.alphabetBytes[Int($0)] }
    }

    /// The receipt as shown: `XXXX-XXXX-XXXX-XXXX-XXXX-XXXX-XXXX`.
    public var displayed: String {
        let values = symbols.map { Crockford.value(ofASCII: $0)! }
        let all = symbols + [Crockford.alphabetBytes[Int(Self.checkSymbol(for: values))]]
        let chars = all.map { Character(Unicode.Scalar($0)) }
        return stride(from: 0, to: chars.count, by: 4).map { String(chars[$0..<$0 + 4]) }.joined(separator: "-")
    }

    /// Luhn mod 32 over symbol values: catches every single-symbol error and every adjacent swap
    /// except `0` <-> `Z` (values 0 and 31), which no Luhn mod N check can see.
    static func checkSymbol(for values: [UInt8]) -> UInt8 {
        var sum = 0
        var double = true
        for v in values.reversed() {
            var addend = Int(v)
            if double {
                addend *= 2
                addend = addend / 32 + addend % 32
            }
            sum += addend
            double.toggle()
        }
        return UInt8((32 - sum % 32) % 32)
    }

    /// The receipt secret (27 bytes) as a zeroizing key for BLAKE2b.
    func secret() -> SecretBytes { SecretBytes(copying: symbols) }

    /// The stored lookup id: `BLAKE2b-256(key: receipt secret, "hearth/v1/receipt-lookup")`.
    public func lookupID() throws -> [UInt8] {
        try Blake2b.hash(Label.receiptLookup, key: secret())
    }

    /// The key that opens the survivor wrap.
    func survivorWrapKey() throws -> SecretKey {
        try Blake2b.deriveKey(Label.survivorWrapKey, key: secret())
    }
}

extension Receipt: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    /// Never the receipt: a receipt interpolated into a log line, error or test failure prints only this.
    public var description: String { "Receipt(redacted)" }
    /// Never the receipt (see ``description``).
    public var debugDescription: String { description }
    /// No children, so `dump` and reflection-based printers cannot show the symbols either.
    public var customMirror: Mirror { Mirror(self, children: [:]) }
}
