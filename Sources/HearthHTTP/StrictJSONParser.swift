import HearthCore

/// A strict RFC 8259 parser over UTF-8 bytes, for ``JSONValue/parse(_:)``.
///
/// One pass with an index, no backtracking. Recursion is bounded by ``maxDepth``. Text without
/// escapes becomes a `String` straight from its bytes, with no per-character work beyond the scan.
struct StrictJSONParser {
    /// The deepest nesting of lists and objects accepted.
    static let maxDepth = 64

    private let bytes: [UInt8]
    private var i = 0
    private var depth = 0
    /// The first key seen twice in one object. Reported only once the whole body is known to be
    /// well-formed JSON, so a broken body is always `malformed-json`.
    private var duplicateKey: String?
    /// Members of the objects being read, innermost last.
    private var members: [(String, JSONValue)] = []

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    // MARK: Problems (plain words, never any of the input)

    private static let malformed = Problem(
        .badRequest,
        code: "malformed-json",
        "the request body is not valid JSON; check for a missing quote, comma or bracket"
    )
    private static let tooDeep = Problem(.badRequest, code: "malformed-json", "the JSON is nested too deeply")
    private static let badText = Problem(
        .badRequest,
        code: "malformed-json",
        "the request body is not valid JSON; text must be UTF-8, with control characters and quotes escaped"
    )
    private static let badNumber = Problem(
        .badRequest,
        code: "malformed-json",
        "the request body is not valid JSON; a number is written in a way JSON does not allow, or is too large"
    )

    // MARK: Structure

    /// The whole input: exactly one value with optional whitespace around it.
    mutating func document() throws(Problem) -> JSONValue {
        skipWhitespace()
        let value = try value()
        skipWhitespace()
        guard i == bytes.count else { throw Self.malformed }
        if let key = duplicateKey {
            let quoted = FieldReader.quotable(key)
            throw Problem(.badRequest, code: "duplicate-value", "the field '\(quoted)' appears twice in one object")
        }
        return value
    }

    private mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    private mutating func value() throws(Problem) -> JSONValue {
        guard i < bytes.count else { throw Self.malformed }
        switch bytes[i] {
        case 0x22: return .string(try string())  // "
        case 0x7B: return try object()  // {
        case 0x5B: return try array()  // [
        case 0x74:
            try literal("true")
            return .bool(true)
        case 0x66:
            try literal("false")
            return .bool(false)
        case 0x6E:
            try literal("null")
            return .null
        case 0x2D, 0x30...0x39: return .number(try number())  // - 0-9
        default: throw Self.malformed
        }
    }

    private mutating func literal(_ word: StaticString) throws(Problem) {
        let count = word.utf8CodeUnitCount
        guard bytes.count - i >= count else { throw Self.malformed }
        let start = word.utf8Start
        for k in 0..<count where bytes[i + k] != start[k] {
            throw Self.malformed
        }
        i += count
    }

    private mutating func enter() throws(Problem) {
        depth += 1
        guard depth <= Self.maxDepth else { throw Self.tooDeep }
        i += 1
        skipWhitespace()
    }

    private mutating func object() throws(Problem) -> JSONValue {
        try enter()
        if i < bytes.count, bytes[i] == 0x7D {  // }
            i += 1
            depth -= 1
            return .object([:])
        }
        // Members wait on a stack shared by all open objects, so each dictionary is made once at its
        // final size: no growing, and no spare room for a body of many small objects to multiply.
        let base = members.count
        while true {
            guard i < bytes.count, bytes[i] == 0x22 else { throw Self.malformed }
            let key = try string()
            skipWhitespace()
            guard i < bytes.count, bytes[i] == 0x3A else { throw Self.malformed }  // :
            i += 1
            skipWhitespace()
            members.append((key, try value()))
            skipWhitespace()
            guard i < bytes.count else { throw Self.malformed }
            switch bytes[i] {
            case 0x2C:  // , then another key: a trailing comma fails the guard above
                i += 1
                skipWhitespace()
            case 0x7D:  // }
                i += 1
                depth -= 1
                var fields = [String: JSONValue](minimumCapacity: members.count - base)
                for (key, item) in members[base...] {
                    // Swift compares keys by canonical equivalence, so two spellings of one key count as twice.
                    if fields.updateValue(item, forKey: key) != nil, duplicateKey == nil {
                        duplicateKey = key
                    }
                }
                members.removeSubrange(base...)
                return .object(fields)
            default:
                throw Self.malformed
            }
        }
    }

    private mutating func array() throws(Problem) -> JSONValue {
        try enter()
        var items: [JSONValue] = []
        if i < bytes.count, bytes[i] == 0x5D {  // ]
            i += 1
            depth -= 1
            return .array(items)
        }
        while true {
            items.append(try value())  // after a comma, a `]` is not a value: no trailing commas
            skipWhitespace()
            guard i < bytes.count else { throw Self.malformed }
            switch bytes[i] {
            case 0x2C:  // ,
                i += 1
                skipWhitespace()
            case 0x5D:  // ]
                i += 1
                depth -= 1
                return .array(items)
            default:
                throw Self.malformed
            }
        }
    }

    // MARK: Numbers

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, as a finite Double.
    private mutating func number() throws(Problem) -> Double {
        let start = i
        var negative = false
        if bytes[i] == 0x2D {
            negative = true
            i += 1
        }
        guard i < bytes.count, isDigit(bytes[i]) else { throw Self.badNumber }
        if bytes[i] == 0x30 {
            i += 1
            guard i == bytes.count || !isDigit(bytes[i]) else { throw Self.badNumber }  // no leading zeros
        } else {
            repeat { i += 1 } while i < bytes.count && isDigit(bytes[i])
        }
        var integer = true
        if i < bytes.count, bytes[i] == 0x2E {  // .
            integer = false
            i += 1
            guard i < bytes.count, isDigit(bytes[i]) else { throw Self.badNumber }
            repeat { i += 1 } while i < bytes.count && isDigit(bytes[i])
        }
        if i < bytes.count, bytes[i] | 0x20 == 0x65 {  // e or E
            integer = false
            i += 1
            if i < bytes.count, bytes[i] == 0x2B || bytes[i] == 0x2D { i += 1 }  // + or -
            guard i < bytes.count, isDigit(bytes[i]) else { throw Self.badNumber }
            repeat { i += 1 } while i < bytes.count && isDigit(bytes[i])
        }
        let digits = i - start - (negative ? 1 : 0)
        if integer && digits <= 15 {
            // Below 2^53 every integer is exact, so this equals Double(String) without the string.
            var n: Int64 = 0
            for k in (negative ? start + 1 : start)..<i { n = n &* 10 &+ Int64(bytes[k] &- 0x30) }
            let d = Double(n)
            return negative ? -d : d
        }
        guard let d = Double(String(decoding: bytes[start..<i], as: UTF8.self)), d.isFinite else {
            throw Self.badNumber
        }
        return d
    }

    @inline(__always) private func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

    // MARK: Text

    /// A string starting at its opening quote; leaves `i` after the closing quote.
    private mutating func string() throws(Problem) -> String {
        let start = i + 1
        let ascii: Bool
        (i, ascii) = scanText(from: start)
        guard i < bytes.count else { throw Self.malformed }
        switch bytes[i] {
        case 0x22:  // no escapes: the bytes between the quotes are the text
            i += 1
            return try text(bytes[start..<(i - 1)], ascii: ascii)
        case 0x5C:
            return try escapedString(from: start)
        default:
            throw Self.badText  // a raw control character
        }
    }

    /// The rest of a string that has escapes; `start` is just after the opening quote, `i` at a backslash.
    private mutating func escapedString(from start: Int) throws(Problem) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(i - start + 16)
        out.append(contentsOf: bytes[start..<i])
        while true {
            // `i` is at a backslash.
            i += 1
            guard i < bytes.count else { throw Self.malformed }
            let e = bytes[i]
            i += 1
            switch e {
            case 0x22, 0x5C, 0x2F: out.append(e)  // " \ /
            case 0x62: out.append(0x08)  // b
            case 0x66: out.append(0x0C)  // f
            case 0x6E: out.append(0x0A)  // n
            case 0x72: out.append(0x0D)  // r
            case 0x74: out.append(0x09)  // t
            case 0x75: appendUTF8(try unicodeEscape(), to: &out)  // u
            default: throw Self.badText
            }
            let from = i
            i = scanText(from: from).end
            guard i < bytes.count else { throw Self.malformed }
            out.append(contentsOf: bytes[from..<i])
            switch bytes[i] {
            case 0x22:
                i += 1
                // Escapes add whole, valid sequences that start with a lead byte, so `out` is valid
                // UTF-8 exactly when every raw run between them is.
                return try text(out[...], ascii: false)
            case 0x5C:
                continue
            default:
                throw Self.badText
            }
        }
    }

    /// Text from UTF-8 bytes; invalid UTF-8 (overlong forms, encoded surrogates, beyond U+10FFFF,
    /// cut-short sequences) fails rather than being repaired.
    private func text(_ utf8: ArraySlice<UInt8>, ascii: Bool) throws(Problem) -> String {
        let s = String(decoding: utf8, as: UTF8.self)
        // ASCII is always valid UTF-8. Otherwise: a String always holds valid UTF-8 (decoding puts
        // U+FFFD in place of anything invalid), so the input was valid exactly when the String's
        // bytes are the input's. This is much cheaper than `String(validating:as:)`, which is not
        // specialised and looks up type metadata on every call.
        guard ascii || Self.same(s, utf8) else { throw Self.badText }
        return s
    }

    /// Whether the UTF-8 of `s` is exactly `utf8`, compared eight bytes at a time.
    private static func same(_ s: String, _ utf8: ArraySlice<UInt8>) -> Bool {
        var s = s
        return s.withUTF8 { a in
            utf8.withUnsafeBytes { b in
                guard a.count == b.count else { return false }
                let a = UnsafeRawBufferPointer(a)
                var k = 0
                while k + 8 <= a.count {
                    guard a.loadUnaligned(fromByteOffset: k, as: UInt64.self) == b.loadUnaligned(fromByteOffset: k, as: UInt64.self)
                    else { return false }
                    k += 8
                }
                while k < a.count {
                    guard a[k] == b[k] else { return false }
                    k += 1
                }
                return true
            }
        }
    }

    /// The index of the first `"`, `\` or control byte at or after `start` (or `bytes.count`), and
    /// whether every byte before it is ASCII.
    ///
    /// Looks at eight bytes at a time: long text is most of a request body. Each test below is
    /// exact (from "Bit Twiddling Hacks"), so a flagged word really holds one of those bytes.
    private func scanText(from start: Int) -> (end: Int, ascii: Bool) {
        bytes.withUnsafeBytes { raw in
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            var high: UInt64 = 0
            var j = start
            while j + 8 <= raw.count {
                let w = raw.loadUnaligned(fromByteOffset: j, as: UInt64.self)
                let quote = w ^ (ones &* 0x22)
                let backslash = w ^ (ones &* 0x5C)
                let below20 = (w &- ones &* 0x20) & ~w  // some byte < 0x20
                let isQuote = (quote &- ones) & ~quote  // some byte == 0x22
                let isBackslash = (backslash &- ones) & ~backslash  // some byte == 0x5C
                if (below20 | isQuote | isBackslash) & highs != 0 { break }
                high |= w
                j += 8
            }
            while j < raw.count {
                let b = raw[j]
                if b == 0x22 || b == 0x5C || b < 0x20 { break }
                high |= UInt64(b)
                j += 1
            }
            return (j, high & highs == 0)
        }
    }

    /// The scalar of `\uXXXX` (with `i` just after the `u`), joining a surrogate pair; lone surrogates fail.
    private mutating func unicodeEscape() throws(Problem) -> UInt32 {
        let first = try hex4()
        switch first {
        case 0xD800...0xDBFF:
            guard bytes.count - i >= 6, bytes[i] == 0x5C, bytes[i + 1] == 0x75 else { throw Self.badText }
            i += 2
            let second = try hex4()
            guard (0xDC00...0xDFFF).contains(second) else { throw Self.badText }
            return 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
        case 0xDC00...0xDFFF:
            throw Self.badText
        default:
            return first
        }
    }

    private mutating func hex4() throws(Problem) -> UInt32 {
        guard bytes.count - i >= 4 else { throw Self.malformed }
        var v: UInt32 = 0
        for _ in 0..<4 {
            let b = bytes[i]
            let digit: UInt8
            switch b {
            case 0x30...0x39: digit = b - 0x30
            case 0x41...0x46: digit = b - 0x41 + 10
            case 0x61...0x66: digit = b - 0x61 + 10
            default: throw Self.badText
            }
            v = v << 4 | UInt32(digit)
            i += 1
        }
        return v
    }

    private func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case 0..<0x80:
            out.append(UInt8(scalar))
        case 0x80..<0x800:
            out.append(UInt8(0xC0 | scalar >> 6))
            out.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            out.append(UInt8(0xE0 | scalar >> 12))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        default:
            out.append(UInt8(0xF0 | scalar >> 18))
            out.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            out.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            out.append(UInt8(0x80 | scalar & 0x3F))
        }
    }
}
