import Foundation

/// Text in scripts whose characters take many bytes on the wire, for the tests of the limits:
/// every text limit counts characters as the survivor sees them (Unicode scalars), so the longest
/// text must be taken whatever the script and however the client encodes it.
public enum Script: String, CaseIterable, Sendable, CustomStringConvertible {
    /// Bengali: 3 bytes a character in UTF-8, 9 percent-encoded, 6 as a JSON `\u` escape. Each
    /// consonant carries a vowel sign, so there are half as many graphemes as characters.
    case bengali
    /// Adlam (U+1E900…): 4 bytes a character in UTF-8, 12 percent-encoded, 12 as a JSON
    /// surrogate pair of `\u` escapes.
    case adlam

    public var description: String { rawValue }

    /// Bengali consonants and vowel signs that have no canonical decomposition and do not compose
    /// with each other, so the text is the same in every normalisation form.
    static let consonants = Array("কখগঘঙচছজঝঞটঠডঢণতথদধনপফবভমযরলশষসহ".unicodeScalars)
    static let vowelSigns = ["\u{09BE}", "\u{09BF}", "\u{09C0}", "\u{09C1}", "\u{09C2}", "\u{09C7}"].map { $0.unicodeScalars.first! }

    /// Exactly `count` characters (Unicode scalars) of this script, none of them white space;
    /// `seed` varies the text, so that different fields differ.
    public func text(_ count: Int, seed: Int = 0) -> String {
        var scalars = String.UnicodeScalarView()
        for i in 0..<count {
            switch self {
            case .bengali:
                let k = (i / 2 + seed) % 210
                scalars.append(i % 2 == 0 ? Self.consonants[k % Self.consonants.count] : Self.vowelSigns[k % Self.vowelSigns.count])
            case .adlam:
                scalars.append(Unicode.Scalar(0x1E900 + UInt32((i + seed) % 68))!)
            }
        }
        return String(scalars)
    }
}

/// Whether two texts are the same scalar for scalar (Swift's `==` would also take canonically
/// equivalent texts as equal, which is not "the same text back").
public func sameScalars(_ a: String?, _ b: String) -> Bool {
    guard let a else { return false }
    return Array(a.unicodeScalars) == Array(b.unicodeScalars)
}

/// `value` (objects, arrays, strings, booleans, integers) as JSON with every character outside
/// printable ASCII written as a `\u` escape, and those beyond the Basic Multilingual Plane as an
/// escaped surrogate pair (`\uD83A\uDD00`): the longest way a JSON client may send text.
public func escapedJSON(_ value: Any) -> String {
    switch value {
    case let object as [String: Any]:
        return "{" + object.keys.sorted().map { escapedJSON($0) + ":" + escapedJSON(object[$0]!) }.joined(separator: ",") + "}"
    case let array as [Any]:
        return "[" + array.map(escapedJSON).joined(separator: ",") + "]"
    case let string as String:
        var out = "\""
        for unit in string.utf16 {
            if unit >= 0x20, unit < 0x7F, unit != 0x22, unit != 0x5C {
                out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
            } else {
                out += String(format: "\\u%04X", unit)
            }
        }
        return out + "\""
    case let bool as Bool:
        return bool ? "true" : "false"
    case let int as Int:
        return String(int)
    default:
        preconditionFailure("escapedJSON: unsupported value \(value)")
    }
}

/// An `application/x-www-form-urlencoded` body of `fields`, percent-encoded as a browser does.
public func formBody(_ fields: [(String, String)]) -> String {
    fields.map { "\(PageBrowser.encode($0.0))=\(PageBrowser.encode($0.1))" }.joined(separator: "&")
}

/// `body` made exactly `size` bytes long with `filler` (white space around JSON, or empty `&`
/// fields in a form, which change nothing).
public func padded(_ body: String, to size: Int, with filler: Character) -> [UInt8] {
    let bytes = Array(body.utf8)
    precondition(bytes.count <= size, "the body is already \(bytes.count) bytes, over \(size)")
    return bytes + Array(repeating: UInt8(ascii: filler.unicodeScalars.first!), count: size - bytes.count)
}

/// Whether two lists hold the same texts, scalar for scalar, in any order (rows written in the
/// same second have no order to rely on).
public func sameScalars(_ a: [String], _ b: [String]) -> Bool {
    func key(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }
    return a.map(key).sorted { $0.lexicographicallyPrecedes($1) } == b.map(key).sorted { $0.lexicographicallyPrecedes($1) }
}

extension PageBrowser {
    /// Posts `fields` urlencoded with the form token of the last page, the body made exactly
    /// `size` bytes long with empty fields (which change nothing).
    public func post(_ path: String, _ fields: [(String, String)], paddedTo size: Int) async throws -> TestHTTPSClient.Reply {
        let body = padded(formBody(fields + [("csrf", csrf ?? "")]), to: size, with: "&")
        return try await send(.POST, path, body: String(decoding: body, as: UTF8.self), contentType: "application/x-www-form-urlencoded")
    }
}
