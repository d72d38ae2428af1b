/// The checks every value a person sends goes through, whatever carried it (a JSON body or a
/// form), each with the plain message it gives. `name` is the field's name as the sender wrote it
/// (for example `contact[0].value`); messages quote names, never values.
public enum FieldRules {
    /// A required value is missing.
    public static func missing(_ name: String) -> Problem {
        Problem(.badRequest, code: "missing-field", "'\(name)' is required")
    }

    /// The length of a text as every limit counts it: in characters as the survivor sees them,
    /// one per Unicode scalar (code point), whatever the script and however many bytes it takes.
    /// Not Swift `Character`s: a grapheme cluster can hold any number of scalars, and so any
    /// number of bytes, which no body limit could then bound.
    public static func length(_ text: String) -> Int { text.unicodeScalars.count }

    /// Optional text: not blank, at most `maxLength` characters (``length(_:)``), no control
    /// characters other than tab (and line breaks when `multiline`). Nil stays nil.
    public static func text(_ value: String?, name: String, maxLength: Int, multiline: Bool = false) throws(Problem) -> String? {
        guard let s = value else { return nil }
        // White space scalar by scalar (Unicode White_Space), as openapi.json's patterns state it:
        // a space followed by a combining mark is one Swift Character but is not blank.
        guard !s.unicodeScalars.allSatisfy(\.properties.isWhitespace) else {
            throw Problem(.badRequest, code: "empty-field", "'\(name)' must not be empty; leave it out if you prefer")
        }
        guard length(s) <= maxLength else {
            throw Problem(.badRequest, code: "field-too-long", "'\(name)' is longer than \(maxLength) characters; please shorten it")
        }
        // Printable ASCII needs no Unicode property look-up (the common case, and a hot path).
        for u in s.unicodeScalars where (u.value < 0x20 || u.value >= 0x7F) && u.properties.generalCategory == .control {
            let allowed = u == "\t" || (multiline && (u == "\n" || u == "\r"))
            guard allowed else {
                throw Problem(
                    .badRequest, code: "invalid-value",
                    "'\(name)' contains a control character\(multiline ? "" : " or line break"); remove it and try again")
            }
        }
        return s
    }

    /// Required text, checked like ``text(_:name:maxLength:multiline:)``.
    public static func requiredText(_ value: String?, name: String, maxLength: Int, multiline: Bool = false) throws(Problem) -> String {
        guard let s = try text(value, name: name, maxLength: maxLength, multiline: multiline) else { throw missing(name) }
        return s
    }

    /// One word from a fixed set; nil stays nil.
    public static func choice<T: RawRepresentable & CaseIterable>(_ value: String?, name: String, of type: T.Type) throws(Problem) -> T?
    where T.RawValue == String {
        guard let s = value else { return nil }
        guard let t = T(rawValue: s) else {
            let options = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw Problem(.badRequest, code: "invalid-value", "'\(name)' must be one of: \(options)")
        }
        return t
    }

    /// A list's length lies within `bounds`.
    public static func count(_ count: Int, name: String, within bounds: ClosedRange<Int>) throws(Problem) {
        guard count >= bounds.lowerBound else {
            throw Problem(
                .badRequest, code: bounds.lowerBound == 1 ? "empty-field" : "invalid-value",
                "'\(name)' needs at least \(bounds.lowerBound) item\(bounds.lowerBound == 1 ? "" : "s")")
        }
        guard count <= bounds.upperBound else {
            throw Problem(.badRequest, code: "field-too-long", "'\(name)' may have at most \(bounds.upperBound) items")
        }
    }
}
