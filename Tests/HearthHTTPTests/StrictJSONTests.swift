import Foundation
import HearthCore
import HearthHTTP
import HearthTestSupport
import Testing

/// The problem `JSONValue.parse` throws for `bytes`, or nil if it parses.
private func parseProblem(_ bytes: [UInt8]) -> Problem? {
    do {
        _ = try JSONValue.parse(bytes)
        return nil
    } catch {
        return error
    }
}

/// A document that must parse to `expected`.
struct ValidJSON: Sendable, CustomTestStringConvertible {
    let text: String
    let expected: JSONValue
    var testDescription: String { text.debugDescription }

    init(_ text: String, _ expected: JSONValue) {
        self.text = text
        self.expected = expected
    }

    static let all: [ValidJSON] = [
        // Literals and whitespace.
        ValidJSON("null", .null),
        ValidJSON("true", .bool(true)),
        ValidJSON("false", .bool(false)),
        ValidJSON(" \t\r\n true \t\r\n ", .bool(true)),
        // Numbers.
        ValidJSON("0", .number(0)),
        ValidJSON("-0", .number(-0.0)),
        ValidJSON("7", .number(7)),
        ValidJSON("-42", .number(-42)),
        ValidJSON("123456789012345", .number(123_456_789_012_345)),
        ValidJSON("9007199254740993", .number(9_007_199_254_740_992)),  // rounds to nearest, like Double(String)
        ValidJSON("123456789012345678901234567890", .number(1.2345678901234568e29)),
        ValidJSON("0.5", .number(0.5)),
        ValidJSON("-0.25", .number(-0.25)),
        ValidJSON("0.1", .number(0.1)),
        ValidJSON("1e5", .number(100_000)),
        ValidJSON("1E5", .number(100_000)),
        ValidJSON("1e+5", .number(100_000)),
        ValidJSON("1e-5", .number(0.00001)),
        ValidJSON("-1.5e3", .number(-1500)),
        ValidJSON("0e0", .number(0)),
        ValidJSON("1.7976931348623157e308", .number(.greatestFiniteMagnitude)),
        ValidJSON("5e-324", .number(.leastNonzeroMagnitude)),
        ValidJSON("1e-400", .number(0)),
        // Text.
        ValidJSON(#""""#, .string("")),
        ValidJSON(#""hello""#, .string("hello")),
        ValidJSON(#""\" \\ \/ \b \f \n \r \t""#, .string("\" \\ / \u{8} \u{C} \n \r \t")),
        ValidJSON(#""\u0041\u00e9\u00E9\u4e2d""#, .string("Aéé中")),
        ValidJSON(#""\u0000""#, .string("\u{0}")),
        ValidJSON(#""\ud83d\ude00""#, .string("😀")),
        ValidJSON(#""\uDBFF\uDFFF""#, .string("\u{10FFFF}")),
        ValidJSON("\"a\u{7F}b\u{80}c\u{FFFD}\u{FFFF}\u{10FFFF}\"", .string("a\u{7F}b\u{80}c\u{FFFD}\u{FFFF}\u{10FFFF}")),
        ValidJSON(#""before \n after é""#, .string("before \n after é")),
        ValidJSON(#""'single' quotes inside""#, .string("'single' quotes inside")),
        // Lists and objects.
        ValidJSON("[]", .array([])),
        ValidJSON("[ ]", .array([])),
        ValidJSON("{}", .object([:])),
        ValidJSON("{ \n }", .object([:])),
        ValidJSON("[1,2,3]", .array([.number(1), .number(2), .number(3)])),
        ValidJSON(
            " [ 1 , \"two\" , null , true , [ ] , { } ] ",
            .array([.number(1), .string("two"), .null, .bool(true), .array([]), .object([:])])
        ),
        ValidJSON(#"{"a":1}"#, .object(["a": .number(1)])),
        ValidJSON(#"{ "a" : [ { "b" : null } ] , "c" : "d" }"#, .object(["a": .array([.object(["b": .null])]), "c": .string("d")])),
        ValidJSON(#"{"":0,"\u0061b":1}"#, .object(["": .number(0), "ab": .number(1)])),
        ValidJSON(#"[{"a":1},{"a":2}]"#, .array([.object(["a": .number(1)]), .object(["a": .number(2)])])),
        ValidJSON(#"{"a":{"a":{"a":1}}}"#, .object(["a": .object(["a": .object(["a": .number(1)])])])),
        ValidJSON(#"{"A":1,"a":2}"#, .object(["A": .number(1), "a": .number(2)])),
        ValidJSON(String(repeating: "[", count: 64) + String(repeating: "]", count: 64), nested(64)),
    ]

    /// `depth` lists inside one another.
    static func nested(_ depth: Int) -> JSONValue {
        (1..<depth).reduce(JSONValue.array([])) { inner, _ in .array([inner]) }
    }
}

/// A body that is not RFC 8259 JSON.
struct MalformedJSON: Sendable, CustomTestStringConvertible {
    let scenario: String
    let bytes: [UInt8]
    var testDescription: String { scenario }

    init(_ scenario: String, _ text: String) {
        self.scenario = scenario
        self.bytes = Array(text.utf8)
    }

    init(_ scenario: String, bytes: [UInt8]) {
        self.scenario = scenario
        self.bytes = bytes
    }

    /// `"CANARY` + bytes + `"`: text with the given bytes inside.
    static func text(_ scenario: String, _ inner: [UInt8]) -> MalformedJSON {
        MalformedJSON(scenario, bytes: Array(#"{"k":"CANARY"#.utf8) + inner + Array(#""}"#.utf8))
    }

    static let all: [MalformedJSON] = [
        // Whole input.
        MalformedJSON("empty", ""),
        MalformedJSON("only whitespace", " \n\t\r "),
        MalformedJSON("two values", "1 2"),
        MalformedJSON("two objects", "{} {}"),
        MalformedJSON("two strings", #""a""b""#),
        MalformedJSON("extra closing bracket", "[]]"),
        MalformedJSON("trailing garbage", #"{"k":"CANARY"}x"#),
        MalformedJSON("byte order mark", "\u{FEFF}{}"),
        MalformedJSON("vertical tab as whitespace", "\u{B}{}"),
        MalformedJSON("form feed as whitespace", "{}\u{C}"),
        MalformedJSON("no-break space as whitespace", "\u{A0}{}"),
        MalformedJSON("NUL after the value", bytes: Array("{}".utf8) + [0]),
        MalformedJSON("not JSON", "preferredName=CANARY"),
        // Commas, colons, brackets.
        MalformedJSON("trailing comma in an object", #"{"a":1,}"#),
        MalformedJSON("trailing comma in an object, with whitespace", "{\"a\":1 , \n}"),
        MalformedJSON("trailing comma in a list", "[1,2,]"),
        MalformedJSON("trailing comma in a nested list", #"{"a":[1,],"b":2}"#),
        MalformedJSON("only a comma in a list", "[,]"),
        MalformedJSON("only a comma in an object", "{,}"),
        MalformedJSON("leading comma in a list", "[,1]"),
        MalformedJSON("double comma in a list", "[1,,2]"),
        MalformedJSON("double comma in an object", #"{"a":1,,"b":2}"#),
        MalformedJSON("missing comma in a list", "[1 2]"),
        MalformedJSON("missing comma in an object", #"{"a":1 "b":2}"#),
        MalformedJSON("missing colon", #"{"a" 1}"#),
        MalformedJSON("missing value", #"{"a":}"#),
        MalformedJSON("double colon", #"{"a"::1}"#),
        MalformedJSON("equals for colon", #"{"a"=1}"#),
        MalformedJSON("key without value", #"{"a"}"#),
        MalformedJSON("unquoted key", #"{a:1}"#),
        MalformedJSON("number as key", #"{1:1}"#),
        MalformedJSON("single quotes", #"{'k':'CANARY'}"#),
        MalformedJSON("single-quoted value", #"{"k":'CANARY'}"#),
        MalformedJSON("mismatched brackets", "[}"),
        MalformedJSON("mismatched braces", #"{"a":1]"#),
        MalformedJSON("unclosed list", "[1"),
        MalformedJSON("unclosed object", #"{"a":1"#),
        MalformedJSON("unclosed text", #""CANARY"#),
        MalformedJSON("lone closing bracket", "]"),
        // Comments.
        MalformedJSON("line comment", "{} // CANARY"),
        MalformedJSON("block comment", "{/* CANARY */}"),
        MalformedJSON("hash comment", "# CANARY\n{}"),
        // Numbers.
        MalformedJSON("leading zero", "01"),
        MalformedJSON("leading zeros", "[007]"),
        MalformedJSON("negative leading zero", "-01"),
        MalformedJSON("plus sign", "+1"),
        MalformedJSON("no integer part", ".5"),
        MalformedJSON("negative, no integer part", "-.5"),
        MalformedJSON("no fraction digits", "1."),
        MalformedJSON("no fraction digits before exponent", "1.e5"),
        MalformedJSON("no exponent digits", "1e"),
        MalformedJSON("no exponent digits after sign", "1e+"),
        MalformedJSON("double exponent sign", "1e+-5"),
        MalformedJSON("lone minus", "-"),
        MalformedJSON("minus then letter", "-a"),
        MalformedJSON("double minus", "--1"),
        MalformedJSON("hex", "0x1F"),
        MalformedJSON("octal-looking", "0o17"),
        MalformedJSON("underscore separator", "1_000"),
        MalformedJSON("NaN", "NaN"),
        MalformedJSON("NaN in a list", "[NaN]"),
        MalformedJSON("Infinity", "Infinity"),
        MalformedJSON("negative Infinity", "-Infinity"),
        MalformedJSON("too large for a double", "1e400"),
        MalformedJSON("too large negative", "[-1e309]"),
        MalformedJSON("very long too large integer", String(repeating: "9", count: 400)),
        MalformedJSON("comma decimal", "[1,5.]"),
        // Literals.
        MalformedJSON("capitalised True", "True"),
        MalformedJSON("truncated true", "tru"),
        MalformedJSON("truncated null", "[nul]"),
        MalformedJSON("null with extra letter", "nulll"),
        MalformedJSON("falsey", "falsey"),
        MalformedJSON("None", "None"),
        MalformedJSON("undefined", "undefined"),
        // Text: control characters and escapes.
        MalformedJSON.text("raw NUL in text", [0x00]),
        MalformedJSON.text("raw bell in text", [0x07]),
        MalformedJSON.text("raw newline in text", [0x0A]),
        MalformedJSON.text("raw tab in text", [0x09]),
        MalformedJSON.text("raw unit separator in text", [0x1F]),
        MalformedJSON.text("raw control character after an escape", Array(#"\n"#.utf8) + [0x01]),
        MalformedJSON("unknown escape", #"{"k":"CANARY\x41"}"#),
        MalformedJSON("escaped single quote", #"{"k":"CANARY\'"}"#),
        MalformedJSON("capital U escape", #"{"k":"CANARY\U0041"}"#),
        MalformedJSON("short unicode escape", #"{"k":"CANARY\u41"}"#),
        MalformedJSON("non-hex unicode escape", #"{"k":"CANARY\u00GZ"}"#),
        MalformedJSON("escape at the end of input", #"{"k":"CANARY\"#),
        MalformedJSON("unicode escape cut short at the end", #""\u00"#),
        MalformedJSON("escaped escape then unclosed", #""\\"#),
        // Lone and broken surrogates.
        MalformedJSON("lone high surrogate", #""\ud800""#),
        MalformedJSON("lone low surrogate", #""\udc00""#),
        MalformedJSON("high surrogate then text", #""\ud83dCANARY""#),
        MalformedJSON("high surrogate then a non-surrogate escape", #""\ud83d\u0041""#),
        MalformedJSON("two high surrogates", #""\ud83d\ud83d""#),
        MalformedJSON("low then high surrogate", #""\ude00\ud83d""#),
        MalformedJSON("high surrogate then another escape", #""\ud83d\n""#),
        MalformedJSON("lone surrogate in a key", #"{"\udfff":1}"#),
        // Invalid UTF-8 inside text.
        MalformedJSON.text("0xFF byte", [0xFF]),
        MalformedJSON.text("0xFE 0xFF bytes", [0xFE, 0xFF]),
        MalformedJSON.text("lone continuation byte", [0x80]),
        MalformedJSON.text("lead byte then ASCII", [0xC3, 0x41]),
        MalformedJSON.text("truncated three-byte sequence", [0xE2, 0x82]),
        MalformedJSON.text("truncated four-byte sequence", [0xF0, 0x9F, 0x98]),
        MalformedJSON.text("overlong slash (C0 AF)", [0xC0, 0xAF]),
        MalformedJSON.text("overlong NUL (C0 80)", [0xC0, 0x80]),
        MalformedJSON.text("overlong two-byte lead C1", [0xC1, 0xBF]),
        MalformedJSON.text("overlong three-byte (E0 80 AF)", [0xE0, 0x80, 0xAF]),
        MalformedJSON.text("overlong four-byte (F0 80 80 AF)", [0xF0, 0x80, 0x80, 0xAF]),
        MalformedJSON.text("UTF-8 encoded high surrogate (ED A0 80)", [0xED, 0xA0, 0x80]),
        MalformedJSON.text("UTF-8 encoded low surrogate (ED BF BF)", [0xED, 0xBF, 0xBF]),
        MalformedJSON.text("UTF-8 encoded surrogate pair (CESU-8)", [0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]),
        MalformedJSON.text("above U+10FFFF (F4 90 80 80)", [0xF4, 0x90, 0x80, 0x80]),
        MalformedJSON.text("lead byte F5", [0xF5, 0x80, 0x80, 0x80]),
        MalformedJSON.text("five-byte form", [0xF8, 0x88, 0x80, 0x80, 0x80]),
        MalformedJSON.text("continuation byte replaced by ASCII in a four-byte sequence", [0xF0, 0x9F, 0x41, 0x80]),
        MalformedJSON("invalid UTF-8 in a key", bytes: [0x7B, 0x22, 0xC3, 0x22, 0x3A, 0x31, 0x7D]),
        MalformedJSON("invalid UTF-8 in text with escapes", bytes: Array(#""\n"#.utf8) + [0xFF] + Array(#"""#.utf8)),
        MalformedJSON("UTF-8 outside text", bytes: [0x5B, 0xC3, 0xA9, 0x5D]),
        MalformedJSON("truncated UTF-8 at the end of input", bytes: [0x22, 0xE2, 0x82]),
        // Depth.
        MalformedJSON("65 nested lists", String(repeating: "[", count: 65) + String(repeating: "]", count: 65)),
        MalformedJSON(
            "65 nested objects",
            String(repeating: #"{"a":"#, count: 64) + "{}" + String(repeating: "}", count: 64)
        ),
        MalformedJSON("100,000 open brackets", String(repeating: "[", count: 100_000)),
    ]
}

@Suite("Strict JSON parsing")
struct StrictJSONTests {
    @Test(arguments: ValidJSON.all)
    func validDocumentParses(_ valid: ValidJSON) throws {
        let value = try JSONValue.parse(Array(valid.text.utf8))
        #expect(value == valid.expected)
    }

    @Test func negativeZeroKeepsItsSign() throws {
        let value = try JSONValue.parse(Array("-0".utf8))
        guard case .number(let d) = value else {
            Issue.record("not a number: \(value)")
            return
        }
        #expect(d == 0 && d.sign == .minus)
    }

    @Test func numbersMatchDoubleFromString() throws {
        let texts = [
            "0", "1", "-1", "10", "999999999999999", "-999999999999999", "1000000000000000", "9007199254740991",
            "9007199254740993", "18446744073709551616", "0.30000000000000004", "2.2250738585072014e-308",
            "4.9e-324", "1.5E-3", "6.02214076e23",
        ]
        for text in texts {
            #expect(try JSONValue.parse(Array(text.utf8)) == .number(Double(text)!), "\(text)")
        }
    }

    @Test(arguments: MalformedJSON.all)
    func malformedDocumentIsRejected(_ malformed: MalformedJSON) throws {
        let found = try #require(parseProblem(malformed.bytes), "\(malformed.scenario) was accepted")
        #expect(found.code == "malformed-json", "\(found)")
        #expect(found.kind == .badRequest)
        #expect(!found.message.isEmpty)
        #expect(!found.message.contains("CANARY"), "\(found.message)")
    }

    /// Text is scanned eight bytes at a time: every special byte must be seen wherever it falls.
    @Test func textIsCheckedAtEveryPositionAndAlignment() throws {
        func parsed(_ pad: Int, _ inner: [UInt8]) -> JSONValue? {
            try? JSONValue.parse(Array(repeating: 0x20, count: pad) + [0x22] + inner + [0x22])
        }
        let a = UInt8(ascii: "a")
        for pad in 0..<8 {
            for length in 1...20 {
                for at in 0..<length {
                    func with(_ bytes: [UInt8]) -> [UInt8] {
                        Array(repeating: a, count: at) + bytes + Array(repeating: a, count: length - at - 1)
                    }
                    func text(_ middle: String) -> JSONValue {
                        .string(String(repeating: "a", count: at) + middle + String(repeating: "a", count: length - at - 1))
                    }
                    for control in [0x00, 0x01, 0x0A, 0x1F] as [UInt8] {
                        #expect(parsed(pad, with([control])) == nil, "control \(control) at \(at) of \(length), pad \(pad)")
                    }
                    for invalid in [[0xFF], [0x80], [0xC0, 0xA2], [0xED, 0xA0, 0x80], [0xE2, 0x82]] as [[UInt8]] {
                        #expect(parsed(pad, with(invalid)) == nil, "\(invalid) at \(at) of \(length), pad \(pad)")
                    }
                    #expect(parsed(pad, with(Array(#"\""#.utf8))) == text("\""))
                    #expect(parsed(pad, with(Array(#"\\"#.utf8))) == text("\\"))
                    #expect(parsed(pad, with(Array(#"\u0001"#.utf8))) == text("\u{1}"))
                    #expect(parsed(pad, with([0x20])) == text(" "))
                    #expect(parsed(pad, with([0x7F])) == text("\u{7F}"))
                    // Bytes that are a quote, backslash or control character plus 0x80, inside valid UTF-8.
                    for valid in ["¢", "ܜ", "ß", "é", "€", "😀"] {
                        #expect(parsed(pad, with(Array(valid.utf8))) == text(valid), "\(valid) at \(at) of \(length), pad \(pad)")
                    }
                }
            }
        }
    }

    @Test func tooDeepNestingSaysSo() throws {
        let lists = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(parseProblem(Array(lists.utf8)) == Problem(.badRequest, code: "malformed-json", "the JSON is nested too deeply"))
        let mixed = String(repeating: #"[{"a":"#, count: 33) + "1" + String(repeating: "}]", count: 33)
        #expect(parseProblem(Array(mixed.utf8))?.message == "the JSON is nested too deeply")
        let allowed = String(repeating: #"[{"a":"#, count: 32) + "1" + String(repeating: "}]", count: 32)
        #expect(parseProblem(Array(allowed.utf8)) == nil)
    }

    @Test func everyStrictPrefixOfADocumentFails() throws {
        let document = Array(
            #"""
            { "name" : "Sam é中😀", "esc": "a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00",
              "n": [0, -0, 12, -3.25, 6.02e23, 1E-7, 1e+2], "t": true, "f": false, "z": null,
              "o": {"nested": [[], {}, [{"k": "v"}]]}, "": "" }
            """#.utf8
        )
        #expect(try JSONValue.parse(document) != .null)
        for length in 0..<document.count {
            let found = parseProblem(Array(document[..<length]))
            #expect(found?.code == "malformed-json", "prefix of \(length) bytes: \(String(describing: found))")
        }
    }

    @Test(arguments: [
        (#"{"a":1,"a":2}"#, "a"),
        (#"{"a":1,"a":1}"#, "a"),
        (#"{"a":null,"b":0,"a":null}"#, "a"),
        (#"{"x":{"b":1,"b":[]}}"#, "b"),
        (#"[{"k":1},{"k":1,"k":2}]"#, "k"),
        (#"{"a":1,"\u0061":2}"#, "a"),
        (#"{"":1,"":2}"#, ""),
        (#"{"é":1,"e\u0301":2}"#, "e?"),  // one key in two spellings (canonically equivalent)
        (#"{"it's\n":1,"it's\n":2}"#, "it?s?"),
        (#"{"a":1,"b":1,"b":2,"a":2}"#, "b"),
    ])
    func duplicateKeyIsRejected(text: String, quoted: String) throws {
        let found = try #require(parseProblem(Array(text.utf8)), "\(text) was accepted")
        #expect(found == Problem(.badRequest, code: "duplicate-value", "the field '\(quoted)' appears twice in one object"))
    }

    @Test func longDuplicateKeyIsShortenedInTheMessage() throws {
        let key = String(repeating: "k", count: 50)
        let found = try #require(parseProblem(Array(#"{"\#(key)":1,"\#(key)":2}"#.utf8)))
        #expect(found.code == "duplicate-value")
        #expect(found.message == "the field '\(String(repeating: "k", count: 40))…' appears twice in one object")
    }

    @Test func malformedJSONWinsOverADuplicateKey() throws {
        #expect(parseProblem(Array(#"{"a":1,"a":2,}"#.utf8))?.code == "malformed-json")
        #expect(parseProblem(Array(#"{"a":1,"a":2"#.utf8))?.code == "malformed-json")
        #expect(parseProblem(Array(#"{"a":1,"a":2} x"#.utf8))?.code == "malformed-json")
    }

    @Test func randomValuesRoundTripThroughJSONSerialization() throws {
        var rng = SplitMix64(seed: 0x4845_4152_5448)
        for round in 0..<500 {
            let (value, object) = randomJSON(&rng, depth: 0)
            var options: JSONSerialization.WritingOptions = [.fragmentsAllowed]
            if rng.next() % 2 == 0 { options.insert(.prettyPrinted) }
            if rng.next() % 2 == 0 { options.insert(.sortedKeys) }
            if rng.next() % 2 == 0 { options.insert(.withoutEscapingSlashes) }
            let data = try JSONSerialization.data(withJSONObject: object, options: options)
            let parsed = try JSONValue.parse(Array(data))
            #expect(parsed == value, "round \(round): \(String(decoding: data, as: UTF8.self))")
        }
    }

    @Test func randomByteDamageNeverCrashesAndNeverEchoesInput() throws {
        var rng = SplitMix64(seed: 0xDA_4A6E)
        let document = Array(
            #"{"name":"CANARY é😀","esc":"\n\u00e9\ud83d\ude00","n":[0,-3.25,6.02e23],"t":true,"z":null,"o":{"k":[{}]}}"#.utf8
        )
        for _ in 0..<2_000 {
            var damaged = document
            for _ in 0...(rng.next() % 3) {
                let at = Int(rng.next() % UInt64(damaged.count))
                switch rng.next() % 3 {
                case 0: damaged[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: damaged.remove(at: at)
                default: damaged.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
                }
            }
            if let found = parseProblem(damaged) {
                #expect(["malformed-json", "duplicate-value"].contains(found.code))
                #expect(!found.message.contains("CANARY"))
            }
        }
    }
}

// MARK: Random JSON

/// A small deterministic generator, so a failing round can be reproduced.
private struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A random value as the expected `JSONValue` and as a Foundation object for `JSONSerialization`.
private func randomJSON(_ rng: inout SplitMix64, depth: Int) -> (JSONValue, Any) {
    let kinds = depth >= 5 ? 4 : 6
    switch Int.random(in: 0..<kinds, using: &rng) {
    case 0:
        return (.null, NSNull())
    case 1:
        let b = Bool.random(using: &rng)
        return (.bool(b), b)
    case 2:
        let d = randomDouble(&rng)
        return (.number(d), d)
    case 3:
        let s = randomString(&rng)
        return (.string(s), s)
    case 4:
        var values: [JSONValue] = []
        var objects: [Any] = []
        for _ in 0..<Int.random(in: 0...5, using: &rng) {
            let (v, o) = randomJSON(&rng, depth: depth + 1)
            values.append(v)
            objects.append(o)
        }
        return (.array(values), objects)
    default:
        var values: [String: JSONValue] = [:]
        var objects: [String: Any] = [:]
        for _ in 0..<Int.random(in: 0...5, using: &rng) {
            let key = randomString(&rng)
            let (v, o) = randomJSON(&rng, depth: depth + 1)
            values[key] = v
            objects[key] = o
        }
        return (.object(values), objects)
    }
}

private func randomDouble(_ rng: inout SplitMix64) -> Double {
    switch rng.next() % 6 {
    case 0: return Double(Int.random(in: -1_000...1_000, using: &rng))
    case 1: return Double(Int64.random(in: -(1 << 53)...(1 << 53), using: &rng))
    case 2: return Double.random(in: -1...1, using: &rng)
    case 3: return Double.random(in: -1e6...1e6, using: &rng)
    case 4: return [0.1, 0.5, -0.0, 1e-300, 1e300, 2.5e-8, .greatestFiniteMagnitude, .leastNormalMagnitude][Int(rng.next() % 8)]
    default:
        while true {
            let d = Double(bitPattern: rng.next())
            if d.isFinite { return d }
        }
    }
}

private func randomString(_ rng: inout SplitMix64) -> String {
    var scalars = String.UnicodeScalarView()
    for _ in 0..<Int.random(in: 0...12, using: &rng) {
        let value: UInt32 =
            switch rng.next() % 8 {
            case 0, 1, 2: UInt32.random(in: 0x20...0x7E, using: &rng)
            case 3: UInt32.random(in: 0...0x1F, using: &rng)
            case 4: ([0x22, 0x5C, 0x2F, 0x7F, 0x2028, 0x2029, 0xFEFF, 0xFFFD] as [UInt32])[Int(rng.next() % 8)]
            case 5: UInt32.random(in: 0x80...0x7FF, using: &rng)
            case 6: UInt32.random(in: 0x800...0xFFFF, using: &rng)
            default: UInt32.random(in: 0x10000...0x10FFFF, using: &rng)
            }
        if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }  // skips surrogates
    }
    return String(scalars)
}
