import Foundation
import HearthCore
import HearthHTTP
import HearthIntake
import HearthTestSupport
import Testing

/// A day fixed for validation: expiry dates are judged against it.
private let today = Day(iso: "2026-11-29")!

/// A complete, valid submission body as a JSON object.
private func validBody() -> [String: Any] {
    [
        "preferredName": "Sam",
        "contact": [
            ["method": "phone", "value": "07700 900123", "safeTimes": "weekdays\nbefore 3pm", "mayLeaveMessage": false],
            ["method": "email", "value": "sam@example.org"],
            ["method": "post", "value": "Flat 2\n1 Example Road"],
        ] as [[String: Any]],
        "region": "north-west",
        "wants": ["support", "reopen"],
        "account": "What happened, in my words.\r\nA second line.\n\tIndented.",
        "consents": [["scope": "support", "expires": "2027-06-30"], ["scope": "review"]] as [[String: Any]],
    ]
}

private func json(_ object: [String: Any]) -> [UInt8] {
    Array(try! JSONSerialization.data(withJSONObject: object))
}

/// The body with one change applied.
private func body(_ change: (inout [String: Any]) -> Void) -> [UInt8] {
    var b = validBody()
    change(&b)
    return json(b)
}

/// The body with the first contact method changed.
private func firstContact(_ change: @escaping (inout [String: Any]) -> Void) -> [UInt8] {
    body { b in
        var contacts = b["contact"] as! [[String: Any]]
        change(&contacts[0])
        b["contact"] = contacts
    }
}

/// The body with `consents` replaced.
private func consents(_ list: Any) -> [UInt8] {
    body { $0["consents"] = list }
}

/// The problem a body gets, or nil if it is valid.
private func problem(_ bytes: [UInt8]) -> Problem? {
    do {
        _ = try Submission.validate(JSONValue.parse(bytes), today: today)
        return nil
    } catch {
        return error
    }
}

/// One invalid body and the code it must get.
struct InvalidBody: Sendable, CustomTestStringConvertible {
    let scenario: String
    let bytes: [UInt8]
    let code: String
    var testDescription: String { "\(scenario) → \(code)" }

    init(_ scenario: String, _ code: String, _ bytes: [UInt8]) {
        self.scenario = scenario
        self.bytes = bytes
        self.code = code
    }

    static let all: [InvalidBody] = [
        InvalidBody("unknown top-level field", "unknown-field", body { $0["nickname"] = "x" }),
        InvalidBody("unknown field in a contact method", "unknown-field", firstContact { $0["colour"] = "red" }),
        InvalidBody("unknown field in a consent", "unknown-field", consents([["scope": "support", "until": "2027-01-01"]])),
        InvalidBody("body is a list", "wrong-type", Array("[1, 2]".utf8)),
        InvalidBody("body is a string", "wrong-type", Array(#""hello""#.utf8)),
        InvalidBody("preferredName is a number", "wrong-type", body { $0["preferredName"] = 5 }),
        InvalidBody("preferredName is a boolean", "wrong-type", body { $0["preferredName"] = true }),
        InvalidBody("contact is an object", "wrong-type", body { $0["contact"] = ["method": "phone"] }),
        InvalidBody("a contact method is a string", "wrong-type", body { $0["contact"] = ["07700 900123"] }),
        InvalidBody("method is a number", "wrong-type", firstContact { $0["method"] = 1 }),
        InvalidBody("mayLeaveMessage is a string", "wrong-type", firstContact { $0["mayLeaveMessage"] = "yes" }),
        InvalidBody("mayLeaveMessage is a number", "wrong-type", firstContact { $0["mayLeaveMessage"] = 1 }),
        InvalidBody("wants is a string", "wrong-type", body { $0["wants"] = "support" }),
        InvalidBody("a want is a number", "wrong-type", body { $0["wants"] = [1] }),
        InvalidBody("consents is an object", "wrong-type", consents(["scope": "support"])),
        InvalidBody("a consent is a string", "wrong-type", consents(["support"])),
        InvalidBody("expires is a number", "wrong-type", consents([["scope": "support", "expires": 20_270_101]])),
        InvalidBody("region is a list", "wrong-type", body { $0["region"] = ["london"] }),
        InvalidBody("missing contact", "missing-field", body { $0["contact"] = nil }),
        InvalidBody("contact is null", "missing-field", body { $0["contact"] = NSNull() }),
        InvalidBody("missing wants", "missing-field", body { $0["wants"] = nil }),
        InvalidBody("missing consents", "missing-field", body { $0["consents"] = nil }),
        InvalidBody("contact method without method", "missing-field", firstContact { $0["method"] = nil }),
        InvalidBody("contact method without value", "missing-field", firstContact { $0["value"] = nil }),
        InvalidBody("consent without scope", "missing-field", consents([["expires": "2027-01-01"]])),
        InvalidBody("empty preferredName", "empty-field", body { $0["preferredName"] = "" }),
        InvalidBody("whitespace-only preferredName", "empty-field", body { $0["preferredName"] = " \t\n " }),
        InvalidBody("empty contact list", "empty-field", body { $0["contact"] = [Any]() }),
        InvalidBody("empty wants list", "empty-field", body { $0["wants"] = [Any]() }),
        InvalidBody("account one character too long", "field-too-long", body { $0["account"] = String(repeating: "a", count: 16_001) }),
        InvalidBody(
            "preferredName one character too long",
            "field-too-long",
            body { $0["preferredName"] = String(repeating: "é", count: 101) }
        ),
        InvalidBody(
            "five contact methods",
            "field-too-long",
            body { $0["contact"] = Array(repeating: ["method": "email", "value": "a@b.org"], count: 5) }
        ),
        InvalidBody("unknown scope", "invalid-value", consents([["scope": "press"]])),
        InvalidBody("scope in another case", "invalid-value", consents([["scope": "Support"]])),
        InvalidBody("unknown contact method", "invalid-value", firstContact { $0["method"] = "pigeon" }),
        InvalidBody("unknown region", "invalid-value", body { $0["region"] = "atlantis" }),
        InvalidBody("unknown want", "invalid-value", body { $0["wants"] = ["revenge"] }),
        InvalidBody("email without @", "invalid-value", body { $0["contact"] = [["method": "email", "value": "sam.example.org"]] }),
        InvalidBody("phone with letters", "invalid-value", firstContact { $0["value"] = "call me maybe" }),
        // Found by schemathesis: the rules are checked scalar by scalar with ASCII digits, as the
        // patterns in openapi.json state them, not by Swift Character.
        InvalidBody(
            "phone in another script's digits", "invalid-value",
            firstContact { $0["value"] = "\u{660}\u{667}\u{667}\u{660}\u{660} \u{669}\u{660}\u{660}" }),
        InvalidBody("phone with a vulgar fraction", "invalid-value", firstContact { $0["value"] = "07700 90012\u{BD}" }),
        InvalidBody(
            "email with a second @ under a combining mark", "invalid-value",
            body { $0["contact"] = [["method": "email", "value": "sam@\u{301}x@example.org"]] }),
        InvalidBody(
            "email with a space under a combining mark", "invalid-value",
            body { $0["contact"] = [["method": "email", "value": "sam \u{301}@example.org"]] }),
        InvalidBody("preferredName of Unicode white space only", "empty-field", body { $0["preferredName"] = "\u{3000}\u{2003}\u{A0}" }),
        InvalidBody("duplicate scope", "duplicate-value", consents([["scope": "police"], ["scope": "police", "expires": "2027-01-01"]])),
        InvalidBody("duplicate want", "duplicate-value", body { $0["wants"] = ["support", "reopen", "support"] }),
        InvalidBody("expiry yesterday", "invalid-value", consents([["scope": "support", "expires": "2026-11-28"]])),
        InvalidBody("expiry beyond ten years", "invalid-value", consents([["scope": "support", "expires": "2036-11-30"]])),
        InvalidBody("expiry not a date", "invalid-value", consents([["scope": "support", "expires": "next year"]])),
        InvalidBody("expiry not canonical", "invalid-value", consents([["scope": "support", "expires": "2027-1-01"]])),
        InvalidBody("expiry not a real day", "invalid-value", consents([["scope": "support", "expires": "2027-02-29"]])),
        InvalidBody("control character in preferredName", "invalid-value", body { $0["preferredName"] = "Sam\u{7}" }),
        InvalidBody("newline in preferredName", "invalid-value", body { $0["preferredName"] = "Sam\nSmith" }),
        InvalidBody("carriage return in preferredName", "invalid-value", body { $0["preferredName"] = "Sam\rSmith" }),
        InvalidBody("escape character in account", "invalid-value", body { $0["account"] = "text \u{1B}[31m red" }),
        InvalidBody("newline in a phone number", "invalid-value", firstContact { $0["value"] = "07700\n900123" }),
        InvalidBody("malformed JSON: missing colon", "malformed-json", Array(#"{"preferredName" "Sam"}"#.utf8)),
        InvalidBody("malformed JSON: single quotes", "malformed-json", Array(#"{'preferredName': 'Sam'}"#.utf8)),
        InvalidBody("malformed JSON: trailing garbage", "malformed-json", json(validBody()) + Array("x".utf8)),
        InvalidBody("malformed JSON: raw control character in a string", "malformed-json", Array("{\"preferredName\": \"Sam\u{1}\"}".utf8)),
        InvalidBody("malformed JSON: lone surrogate escape", "malformed-json", Array(#"{"preferredName": "\ud800"}"#.utf8)),
        InvalidBody("truncated JSON", "malformed-json", Array(json(validBody()).dropLast(7))),
        InvalidBody("empty body", "malformed-json", []),
        InvalidBody("not JSON at all", "malformed-json", Array("preferredName=Sam".utf8)),
        InvalidBody("invalid UTF-8", "malformed-json", Array(#"{"preferredName": ""#.utf8) + [0xFF, 0xFE] + Array(#""}"#.utf8)),
    ]
}

@Suite("Validation of submissions")
struct ValidationTests {
    @Test func validBodyPassesWithEveryFieldKept() throws {
        let submission = try Submission.validate(JSONValue.parse(json(validBody())), today: today)
        #expect(submission.request.preferredName == "Sam")
        #expect(submission.request.contact.count == 3)
        #expect(
            submission.request.contact[0]
                == ContactMethod(method: .phone, value: "07700 900123", safeTimes: "weekdays\nbefore 3pm", mayLeaveMessage: false)
        )
        #expect(submission.request.region == .northWest)
        #expect(submission.request.wants == [.support, .reopen])
        #expect(submission.consents == [ConsentChoice(scope: .support, expires: Day(iso: "2027-06-30")), ConsentChoice(scope: .review)])
    }

    @Test func minimalBodyWithNoConsentsPasses() throws {
        let minimal = Array(#"{"contact":[{"method":"email","value":"a@b.org"}],"wants":["information"],"consents":[]}"#.utf8)
        let submission = try Submission.validate(JSONValue.parse(minimal), today: today)
        #expect(submission.consents.isEmpty)
        #expect(submission.request.preferredName == nil)
        #expect(submission.request.account == nil)
    }

    @Test func newlinesCarriageReturnsAndTabsAreAcceptedInTheAccount() throws {
        let bytes = body { $0["account"] = "line one\r\nline two\rline three\n\tindented" }
        let submission = try Submission.validate(JSONValue.parse(bytes), today: today)
        #expect(submission.request.account == "line one\r\nline two\rline three\n\tindented")
    }

    @Test func accountOfExactlyTheLimitIsAccepted() throws {
        #expect(problem(body { $0["account"] = String(repeating: "a", count: 16_000) }) == nil)
    }

    @Test func expiryTodayAndExactlyTenYearsAheadAreAccepted() throws {
        #expect(problem(consents([["scope": "support", "expires": "2026-11-29"]])) == nil)
        #expect(problem(consents([["scope": "support", "expires": "2036-11-29"]])) == nil)
    }

    @Test func nullOptionalFieldsCountAsAbsent() throws {
        #expect(
            problem(
                body {
                    $0["preferredName"] = NSNull()
                    $0["region"] = NSNull()
                    $0["account"] = NSNull()
                }
            ) == nil
        )
    }

    @Test(arguments: InvalidBody.all)
    func invalidBodyGetsItsProblemCode(_ invalid: InvalidBody) throws {
        let found = try #require(problem(invalid.bytes), "\(invalid.scenario) was accepted")
        #expect(found.code == invalid.code, "\(found.message)")
        #expect(found.kind == .badRequest)
        #expect(!found.message.isEmpty)
    }

    @Test func trailingCommaIsRejectedAsMalformedJSON() throws {
        // Not RFC 8259 (Foundation's JSONDecoder used to tolerate them in objects and arrays).
        let text = Array(#"{"contact":[{"method":"email","value":"a@b.org"},],"wants":["support"],"consents":[],}"#.utf8)
        #expect(problem(text)?.code == "malformed-json")
    }

    @Test func duplicateKeysAreRejected() throws {
        // Keeping one of the duplicates silently would let another parser in front of Hearth
        // (a proxy, the OpenAPI validator) keep the other, so the two could disagree.
        let text = Array(
            #"{"contact":[{"method":"email","value":"a@b.org"}],"wants":["support"],"consents":[],"consents":[{"scope":"police"}]}"#.utf8
        )
        #expect(problem(text) == Problem(.badRequest, code: "duplicate-value", "the field 'consents' appears twice in one object"))
    }

    @Test func consentChoiceValidatesOnItsOwn() throws {
        let choice = try ConsentChoice.validate(
            JSONValue.parse(Array(#"{"scope":"prosecution","expires":"2030-01-01"}"#.utf8)),
            today: today
        )
        #expect(choice == ConsentChoice(scope: .prosecution, expires: Day(iso: "2030-01-01")))
    }

    @Test(arguments: [
        (#"{"scope":"police","extra":1}"#, "unknown-field"), (#"{"expires":"2030-01-01"}"#, "missing-field"),
        (#"{"scope":"army"}"#, "invalid-value"), (#"{"scope":"police","expires":"2020-01-01"}"#, "invalid-value"),
        (#"{"scope":"police","expires":""}"#, "empty-field"), (#"["police"]"#, "wrong-type"),
    ])
    func invalidConsentChoiceGetsItsProblemCode(text: String, code: String) throws {
        do {
            _ = try ConsentChoice.validate(JSONValue.parse(Array(text.utf8)), today: today)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.code == code)
        }
    }
}

@Suite("Validation messages never echo submitted values")
struct ValidationMessageTests {
    /// Ten characters, so it also fits the ten-character expiry field.
    static let canary = "CANARY7f3a"

    /// Bodies that carry the canary in the offending value.
    static let cases: [InvalidBody] = [
        InvalidBody("unknown scope", "invalid-value", consents([["scope": canary]])),
        InvalidBody("unknown method", "invalid-value", firstContact { $0["method"] = canary }),
        InvalidBody("unknown region", "invalid-value", body { $0["region"] = canary }),
        InvalidBody("unknown want", "invalid-value", body { $0["wants"] = [canary] }),
        InvalidBody("bad email", "invalid-value", body { $0["contact"] = [["method": "email", "value": "no-at-sign-\(canary)"]] }),
        InvalidBody("bad phone", "invalid-value", firstContact { $0["value"] = "0770 \(canary)" }),
        InvalidBody("control character", "invalid-value", body { $0["preferredName"] = "\(canary)\u{0}" }),
        InvalidBody("too long", "field-too-long", body { $0["account"] = String(repeating: canary, count: 2_000) }),
        InvalidBody("malformed expiry", "invalid-value", consents([["scope": "support", "expires": canary]])),
        InvalidBody("wrong type", "wrong-type", body { $0["preferredName"] = [canary] }),
        InvalidBody("malformed JSON", "malformed-json", Array(#"{"preferredName": "\#(canary)"#.utf8)),
        InvalidBody("past expiry", "invalid-value", consents([["scope": "support", "expires": "2001-02-03"]])),
        InvalidBody("far expiry", "invalid-value", consents([["scope": "support", "expires": "2099-02-03"]])),
    ]

    @Test(arguments: cases)
    func messageDoesNotContainTheSubmittedValue(_ invalid: InvalidBody) throws {
        let found = try #require(problem(invalid.bytes))
        #expect(found.code == invalid.code)
        for secret in [Self.canary, "2001-02-03", "2099-02-03"] {
            #expect(!found.message.contains(secret), "\(found.message)")
            #expect(!found.description.contains(secret))
        }
    }
}

/// openapi.json states the server's own rules for contact values (issue 11: schemathesis found a
/// schema-valid phone number the server refused). For each method and each value below, the
/// served document's pattern matches exactly when the server accepts the value.
@Suite("OpenAPI contact patterns agree with the server")
struct OpenAPIContactPatternTests {
    static let samples: [String] = [
        "sam@example.org", "a@b.c", "a@.", "@b.c", "a@bc", "a b@c.d", "a@b@c.d", "a\t@b.c", "sam@\u{301}x@example.org",
        "07700 900123", "+44 (0)7700-900.123", "12345", "123456", "1 2 3 4 5 6", "\u{660}\u{667}\u{667}\u{660}\u{660}\u{669}",
        "07700 90012\u{BD}", "123456a", "\t123456", "Flat 2\n1 Example Road", "Org", "Org\nName", " ", "\u{3000}", " \u{301}",
        "x\u{2028}y", "Caf\u{E9}", "\u{1F600}", "a\u{85}b", "a\u{7F}",
    ]

    @Test("each method's pattern matches exactly the values the server accepts", arguments: ["phone", "email", "post", "organisation"])
    func patternMatchesWhatTheServerAccepts(method: String) throws {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.bytes)) as? [String: Any])
        let schemas = try #require((document["components"] as? [String: Any])?["schemas"] as? [String: Any])
        let variants = try #require((schemas["Contact"] as? [String: Any])?["oneOf"] as? [[String: Any]])
        let patterns = variants.compactMap { v -> String? in
            let properties = v["properties"] as? [String: [String: Any]]
            guard properties?["method"]?["const"] as? String == method else { return nil }
            return properties?["value"]?["pattern"] as? String
        }
        let pattern = try #require(patterns.first)
        let regex = try NSRegularExpression(pattern: pattern)
        for value in Self.samples {
            let range = NSRange(value.startIndex..., in: value)
            let matches = regex.firstMatch(in: value, range: range) != nil
            let accepted = problem(json(["contact": [["method": method, "value": value]], "wants": ["support"], "consents": []])) == nil
            #expect(
                matches == accepted, "\(method) \(value.unicodeScalars.map { String($0.value, radix: 16) }): pattern \(matches), server \(accepted)")
        }
    }

    @Test("POST /api/v1/contact-requests declares 429 (submission budget, with Retry-After) and 503 (disk guard)")
    func submissionDeclaresFloodControlAnswers() throws {
        let document = try #require(try JSONSerialization.jsonObject(with: Data(OpenAPIDocument.bytes)) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        let post = try #require(paths["/api/v1/contact-requests"]?["post"] as? [String: Any])
        let responses = try #require(post["responses"] as? [String: [String: Any]])
        #expect(responses["429"]?["$ref"] as? String == "#/components/responses/SubmissionsLimited")
        #expect(responses["503"]?["$ref"] as? String == "#/components/responses/SubmissionsPaused")
        let components = try #require((document["components"] as? [String: Any])?["responses"] as? [String: [String: Any]])
        #expect((components["SubmissionsLimited"]?["headers"] as? [String: Any])?["Retry-After"] != nil)
    }
}
