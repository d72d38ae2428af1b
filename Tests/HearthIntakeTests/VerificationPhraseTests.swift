import Foundation
import HearthCore
import HearthTestSupport
import Testing

/// The verification phrase (SECURITY.md §3.6): optional at intake, 3–60 characters on one line,
/// sealed in the request body; the survivor reads it back and changes or removes it, on the API
/// and the pages. (That it reaches no disk or log in clear: `CanaryTests`.)
@Suite("Verification phrase over TLS")
struct VerificationPhraseTests {
    static func phrase(_ reply: TestHTTPSClient.Reply) -> String? {
        (reply.json["request"] as? [String: Any])?["verificationPhrase"] as? String
    }

    @Test("a phrase outside 3–60 characters on one line is refused plainly at intake and on change, and nothing is stored or changed")
    func badPhrases() async throws {
        try await IntakeHarness.with { h in
            let cases: [(Any, String)] = [
                ("ab", "field-too-short"), (String(repeating: "x", count: 61), "field-too-long"), ("two\nlines", "invalid-value"),
                ("   ", "empty-field"), (42, "wrong-type"),
            ]
            for (value, code) in cases {
                var request = sampleRequest()
                request["verificationPhrase"] = value
                let reply = try await h.client.send(.POST, "/api/v1/contact-requests", json: request)
                #expect(reply.status == 400 && reply.json["code"] as? String == code, "\(value): \(reply.text)")
            }
            #expect(try await h.count("records") == 0)

            var request = sampleRequest()
            request["verificationPhrase"] = "blue door"
            let (_, receipt) = try await h.submit(request)
            for (value, code) in cases {
                let reply = try await h.client.send(.PUT, "/api/v1/me/verification-phrase", json: ["verificationPhrase": value], receipt: receipt)
                #expect(reply.status == 400 && reply.json["code"] as? String == code, "\(value): \(reply.text)")
            }
            let missing = try await h.client.send(.PUT, "/api/v1/me/verification-phrase", json: [String: Any](), receipt: receipt)
            #expect(missing.status == 400 && missing.json["code"] as? String == "missing-field")
            let unknown = try await h.client.send(.PUT, "/api/v1/me/verification-phrase", json: ["phrase": "blue door"], receipt: receipt)
            #expect(unknown.status == 400 && unknown.json["code"] as? String == "unknown-field")
            #expect(Self.phrase(try await h.client.send(.GET, "/api/v1/me", receipt: receipt)) == "blue door", "unchanged")
            #expect(try await h.client.send(.PUT, "/api/v1/me/verification-phrase", json: ["verificationPhrase": "x y"]).status == 401)
        }
    }

    @Test("set at intake (3 and 60 characters), changed, removed and set again with the receipt; each change audited without the phrase")
    func changeAndRemove() async throws {
        try await IntakeHarness.with { h in
            for phrase in ["abc", String(repeating: "é", count: 60)] {
                var request = sampleRequest()
                request["verificationPhrase"] = phrase
                let (_, receipt) = try await h.submit(request)
                #expect(Self.phrase(try await h.client.send(.GET, "/api/v1/me", receipt: receipt)) == phrase)
            }
            let (reference, receipt) = try await h.submit(sampleRequest())
            #expect(Self.phrase(try await h.client.send(.GET, "/api/v1/me", receipt: receipt)) == nil, "none chosen")
            for next in ["the blue door", nil, "green gate"] as [String?] {
                let json: [String: Any] = ["verificationPhrase": next as Any? ?? NSNull()]
                let reply = try await h.client.send(.PUT, "/api/v1/me/verification-phrase", json: json, receipt: receipt)
                #expect(reply.status == 204, "\(reply.text)")
                #expect(Self.phrase(try await h.client.send(.GET, "/api/v1/me", receipt: receipt)) == next)
            }
            let changes = try await h.store.auditEntries().map(\.event).filter { $0.action == "phrase.change" }
            #expect(changes.count == 3 && changes.allSatisfy { $0.subject == reference && $0.outcome == "ok" })
        }
    }

    @Test("the pages: your request explains the phrase, shows it, changes and removes it; a bad one is refused plainly, keeping what was typed")
    func pages() async throws {
        try await IntakeHarness.with { h in
            var request = sampleRequest(consents: [["scope": "support"]])
            request["verificationPhrase"] = "blue door"
            let (_, receipt) = try await h.submit(request)
            try await h.withBrowser { b in
                try await b.signIn(receipt)
                let mine = try await b.get("/your-request")
                #expect(mine.text.contains(#"id="check-phrase""#) && mine.text.contains("so you know it is really us"))
                #expect(mine.text.contains("Your check phrase is: <strong>blue door</strong>"))
                let short = try await b.post("/your-request/verification-phrase", [("phrase", "ab")])
                #expect(short.status == 400 && short.text.contains(##"href="#phrase""##) && short.text.contains("at least 3 characters"))
                #expect(short.text.contains(#"value="ab""#), "what they typed is kept")
                let changed = try await b.post("/your-request/verification-phrase", [("phrase", "  green gate ")])
                #expect(changed.status == 303 && changed.headers["Location"].first == "/your-request#check-phrase")
                #expect(try await b.get("/your-request").text.contains("Your check phrase is: <strong>green gate</strong>"))
                let removed = try await b.post("/your-request/verification-phrase", [("phrase", "")])
                #expect(removed.status == 303)
                #expect(try await b.get("/your-request").text.contains("You have not chosen a check phrase"))
            }
            #expect(Self.phrase(try await h.client.send(.GET, "/api/v1/me", receipt: receipt)) == nil)
        }
    }
}
