public import HearthCore

/// Any JSON value, decoded without loss of type so validation can be strict about it.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses a request body as exactly one RFC 8259 JSON value, with optional whitespace around it.
    ///
    /// Anything else is a plain `malformed-json` problem: trailing commas, comments, single quotes,
    /// leading zeros, `NaN`, invalid UTF-8, lone surrogates, raw control characters in text, nesting
    /// deeper than 64 lists and objects. A key that appears twice in one object is a `duplicate-value`
    /// problem, so Hearth never reads a different value than a proxy or validator in front of it.
    public static func parse(_ body: [UInt8]) throws(Problem) -> JSONValue {
        var parser = StrictJSONParser(body)
        return try parser.document()
    }

    /// A short name of the value's type, for messages.
    public var typeName: String {
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

    /// The field's full name for messages (`contact[0].value`).
    public func name(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Whether the body names `key` at all, `null` included.
    public func has(_ key: String) -> Bool { fields[key] != nil }

    /// The raw value, or nil when absent or null.
    public func value(_ key: String) -> JSONValue? {
        guard let v = fields[key], v != .null else { return nil }
        return v
    }

    func require(_ key: String) throws(Problem) -> JSONValue {
        guard let v = value(key) else { throw FieldRules.missing(name(key)) }
        return v
    }

    /// An optional text field, type-checked only (the content is the domain's to check).
    public func string(_ key: String) throws(Problem) -> String? {
        guard let v = value(key) else { return nil }
        guard case .string(let s) = v else {
            throw Problem(.badRequest, code: "wrong-type", "'\(name(key))' must be text, not \(v.typeName)")
        }
        return s
    }

    /// An optional text field checked by ``FieldRules/text(_:name:maxLength:multiline:)``.
    public func text(_ key: String, maxLength: Int, multiline: Bool = false) throws(Problem) -> String? {
        try FieldRules.text(try string(key), name: name(key), maxLength: maxLength, multiline: multiline)
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
        return try FieldRules.choice(s, name: name, of: type)!
    }

    /// An optional list, type-checked only: each item with its name (`key[0]`, …).
    public func items(_ key: String) throws(Problem) -> [(name: String, value: JSONValue)]? {
        guard let v = value(key) else { return nil }
        guard case .array(let items) = v else {
            throw Problem(.badRequest, code: "wrong-type", "'\(name(key))' must be a list, not \(v.typeName)")
        }
        return items.enumerated().map { ("\(name(key))[\($0.offset)]", $0.element) }
    }

    /// An optional list of text, type-checked only.
    public func strings(_ key: String) throws(Problem) -> [String]? {
        try items(key)?.map { (name, v) throws(Problem) -> String in
            guard case .string(let s) = v else { throw Problem(.badRequest, code: "wrong-type", "'\(name)' must be text, not \(v.typeName)") }
            return s
        }
    }

    /// An optional list of `min...max` items.
    public func list(_ key: String, count: ClosedRange<Int>) throws(Problem) -> [(name: String, value: JSONValue)]? {
        guard let items = try items(key) else { return nil }
        try FieldRules.count(items.count, name: name(key), within: count)
        return items
    }

    /// A required list.
    public func requiredList(_ key: String, count: ClosedRange<Int>) throws(Problem) -> [(name: String, value: JSONValue)] {
        _ = try require(key)
        return try list(key, count: count)!
    }
}
