#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Any JSON value, decoded without loss of type so validation can be strict about it.
public indirect enum JSONValue: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        // Most common first (text, objects, lists), so a typical body decodes with few failed attempts.
        // JSONDecoder never converts between types here: a number is not a Bool, nor a Bool a number.
        if c.decodeNil() {
            self = .null
        } else if let s = try? c.decode(String.self) {
            self = .string(s)
        } else if let o = try? c.decode([String: JSONValue].self) {
            self = .object(o)
        } else if let a = try? c.decode([JSONValue].self) {
            self = .array(a)
        } else if let b = try? c.decode(Bool.self) {
            self = .bool(b)
        } else {
            self = .number(try c.decode(Double.self))
        }
    }

    /// Parses a request body; malformed or truncated JSON is a plain `malformed-json` problem.
    public static func parse(_ body: [UInt8]) throws(Problem) -> JSONValue {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(body))
        } catch {
            throw Problem(
                .badRequest, code: "malformed-json",
                "the request body is not valid JSON; check for a missing quote, comma or bracket")
        }
    }

    /// A short name of the value's type, for messages.
    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "true or false"
        case .number: "a number"
        case .string: "text"
        case .array: "a list"
        case .object: "an object"
        }
    }
}

/// Reads fields out of a JSON object, refusing unknown ones and wrong types, naming the field.
public struct FieldReader {
    let path: String
    let fields: [String: JSONValue]

    /// Reads `value` as an object with only the `allowed` keys.
    public init(_ value: JSONValue, path: String = "", allowed: Set<String>) throws(Problem) {
        guard case .object(let fields) = value else {
            throw Problem(.badRequest, code: "wrong-type", "\(path.isEmpty ? "the request body" : "'\(path)'") must be a JSON object")
        }
        for key in fields.keys.sorted() where !allowed.contains(key) {
            throw Problem(
                .badRequest, code: "unknown-field",
                "unknown field '\(FieldReader.quotable(key))'\(path.isEmpty ? "" : " in '\(path)'"); remove it and try again")
        }
        self.path = path
        self.fields = fields
    }

    /// A field name safe to quote back: printable ASCII, at most 40 characters.
    static func quotable(_ s: String) -> String {
        let cleaned = s.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0.value < 0x7F && $0 != "'" ? Character($0) : "?" }
        return cleaned.count > 40 ? String(cleaned.prefix(40)) + "…" : String(cleaned)
    }

    func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// The raw value, or nil when absent or null.
    func value(_ key: String) -> JSONValue? {
        guard let v = fields[key], v != .null else { return nil }
        return v
    }

    func require(_ key: String) throws(Problem) -> JSONValue {
        guard let v = value(key) else {
            throw Problem(.badRequest, code: "missing-field", "'\(name(key))' is required")
        }
        return v
    }

    /// An optional text field: non-empty, at most `maxLength` characters, no control characters
    /// other than tab (and line breaks when `multiline`).
    public func text(_ key: String, maxLength: Int, multiline: Bool = false) throws(Problem) -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else {
            throw Problem(.badRequest, code: "wrong-type", "'\(name(key))' must be text, not \(v.typeName)")
        }
        guard !s.allSatisfy(\.isWhitespace) else {
            throw Problem(.badRequest, code: "empty-field", "'\(name(key))' must not be empty; leave it out if you prefer")
        }
        guard s.unicodeScalars.count <= maxLength else {
            throw Problem(
                .badRequest, code: "field-too-long", "'\(name(key))' is longer than \(maxLength) characters; please shorten it")
        }
        // Printable ASCII needs no Unicode property look-up (the common case, and a hot path).
        for u in s.unicodeScalars where (u.value < 0x20 || u.value >= 0x7F) && u.properties.generalCategory == .control {
            let allowed = u == "\t" || (multiline && (u == "\n" || u == "\r"))
            guard allowed else {
                throw Problem(
                    .badRequest, code: "invalid-value",
                    "'\(name(key))' contains a control character\(multiline ? "" : " or line break"); remove it and try again")
            }
        }
        return s
    }

    /// A required text field.
    public func requiredText(_ key: String, maxLength: Int, multiline: Bool = false) throws(Problem) -> String {
        _ = try require(key)
        return try text(key, maxLength: maxLength, multiline: multiline)!
    }

    /// An optional boolean.
    public func bool(_ key: String) throws(Problem) -> Bool? {
        guard let v = value(key) else { return nil }
        guard case .bool(let b) = v else {
            throw Problem(.badRequest, code: "wrong-type", "'\(name(key))' must be true or false, not \(v.typeName)")
        }
        return b
    }

    /// An optional value from a fixed set of words.
    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, of type: T.Type) throws(Problem) -> T?
    where T.RawValue == String {
        guard let v = value(key) else { return nil }
        return try FieldReader.choice(v, name: name(key), of: type)
    }

    static func choice<T: RawRepresentable & CaseIterable>(_ v: JSONValue, name: String, of type: T.Type) throws(Problem) -> T
    where T.RawValue == String {
        guard case .string(let s) = v else {
            throw Problem(.badRequest, code: "wrong-type", "'\(name)' must be text, not \(v.typeName)")
        }
        guard let t = T(rawValue: s) else {
            let options = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw Problem(.badRequest, code: "invalid-value", "'\(name)' must be one of: \(options)")
        }
        return t
    }

    /// An optional list of `min...max` items.
    public func list(_ key: String, count: ClosedRange<Int>) throws(Problem) -> [(name: String, value: JSONValue)]? {
        guard let v = value(key) else { return nil }
        guard case .array(let items) = v else {
            throw Problem(.badRequest, code: "wrong-type", "'\(name(key))' must be a list, not \(v.typeName)")
        }
        guard items.count >= count.lowerBound else {
            throw Problem(
                .badRequest, code: count.lowerBound == 1 ? "empty-field" : "invalid-value",
                "'\(name(key))' needs at least \(count.lowerBound) item\(count.lowerBound == 1 ? "" : "s")")
        }
        guard items.count <= count.upperBound else {
            throw Problem(.badRequest, code: "field-too-long", "'\(name(key))' may have at most \(count.upperBound) items")
        }
        return items.enumerated().map { ("\(name(key))[\($0.offset)]", $0.element) }
    }

    /// A required list.
    public func requiredList(_ key: String, count: ClosedRange<Int>) throws(Problem) -> [(name: String, value: JSONValue)] {
        _ = try require(key)
        return try list(key, count: count)!
    }
}
