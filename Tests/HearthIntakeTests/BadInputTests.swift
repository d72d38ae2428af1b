import Foundation
import HearthCore
import HearthHTTP
import HearthTestSupport
import Testing

/// Invariant 7: bad input gets a clear 4xx with a plain message, changes nothing, never a 5xx.
@Suite("Bad input over TLS")
struct BadInputTests {
    struct Case: CustomStringConvertible, Sendable {
        let description: String
        let body: [UInt8]
        let contentType: String?
        let status: Int
        let code: String

        init(_ d: String, json: Any, status: Int = 400, code: String) {
            description = d
            body = Array(try! JSONSerialization.data(withJSONObject: json))
            contentType = "application/json"
            self.status = status
            self.code = code
        }

        init(_ d: String, raw: String, contentType: String? = "application/json", status: Int = 400, code: String) {
            description = d
            body = Array(raw.utf8)
            self.contentType = contentType
            self.status = status
            self.code = code
        }
    }

    static let canary = "CANARY-bad-input-7f3a"

    static func with(_ changes: (inout [String: Any]) -> Void) -> [String: Any] {
        var r = sampleRequest(canary: canary)
        changes(&r)
        return r
    }

    static let cases: [Case] = [
        Case("malformed JSON", raw: "{\"contact\": [}", code: "malformed-json"),
        Case(
            "truncated JSON", raw: String(String(data: try! JSONSerialization.data(withJSONObject: sampleRequest()), encoding: .utf8)!.dropLast(7)),
            code: "malformed-json"),
        Case("empty body", raw: "", code: "malformed-json"),
        Case("a JSON list instead of an object", raw: "[]", code: "wrong-type"),
        Case("unknown top-level field", json: with { $0["favouriteColour"] = "blue" }, code: "unknown-field"),
        Case("unknown nested field", json: with { $0["contact"] = [["method": "email", "value": "a@b.org", "extra": 1]] }, code: "unknown-field"),
        Case("contact is text", json: with { $0["contact"] = "07700 900123" }, code: "wrong-type"),
        Case(
            "mayLeaveMessage is text", json: with { $0["contact"] = [["method": "phone", "value": "07700 900123", "mayLeaveMessage": "yes"]] },
            code: "wrong-type"),
        Case("wants is text", json: with { $0["wants"] = "support" }, code: "wrong-type"),
        Case("preferredName is a number", json: with { $0["preferredName"] = 42 }, code: "wrong-type"),
        Case("no contact", json: with { $0.removeValue(forKey: "contact") }, code: "missing-field"),
        Case("no wants", json: with { $0.removeValue(forKey: "wants") }, code: "missing-field"),
        Case("no consents list", json: with { $0.removeValue(forKey: "consents") }, code: "missing-field"),
        Case("empty contact list", json: with { $0["contact"] = [] as [Any] }, code: "empty-field"),
        Case("empty wants list", json: with { $0["wants"] = [] as [Any] }, code: "empty-field"),
        Case("empty contact value", json: with { $0["contact"] = [["method": "email", "value": ""]] }, code: "empty-field"),
        Case("blank preferred name", json: with { $0["preferredName"] = "   " }, code: "empty-field"),
        Case("unknown scope", json: with { $0["consents"] = [["scope": "press"]] }, code: "invalid-value"),
        Case("unknown contact method", json: with { $0["contact"] = [["method": "pigeon", "value": "loft 3"]] }, code: "invalid-value"),
        Case("unknown region", json: with { $0["region"] = "atlantis" }, code: "invalid-value"),
        Case("unknown want", json: with { $0["wants"] = ["revenge"] }, code: "invalid-value"),
        Case("email without @", json: with { $0["contact"] = [["method": "email", "value": "nobody.example.org"]] }, code: "invalid-value"),
        Case("control character in name", json: with { $0["preferredName"] = "Sam\u{0007}" }, code: "invalid-value"),
        Case("expiry in the past", json: with { $0["consents"] = [["scope": "support", "expires": "2001-01-01"]] }, code: "invalid-value"),
        Case("expiry not a date", json: with { $0["consents"] = [["scope": "support", "expires": "next year"]] }, code: "invalid-value"),
        Case(
            "over-long preferred name", json: with { $0["preferredName"] = String(repeating: "n", count: Limits.preferredName + 1) },
            code: "field-too-long"),
        Case("over-long account", json: with { $0["account"] = String(repeating: "a", count: Limits.account + 1) }, code: "field-too-long"),
        Case(
            "too many contacts", json: with { $0["contact"] = Array(repeating: ["method": "email", "value": "a@b.org"], count: 5) },
            code: "field-too-long"),
        Case(
            "duplicate scopes", json: with { $0["consents"] = [["scope": "police"], ["scope": "police", "expires": "2030-01-01"]] },
            code: "duplicate-value"),
        Case("duplicate wants", json: with { $0["wants"] = ["support", "support"] }, code: "duplicate-value"),
        Case(
            "body over the submission limit (229 KiB)",
            raw: "{\"account\": \"" + String(repeating: "x", count: RequestLimits.submissionBodyBytes) + "\"}",
            status: 413, code: "body-too-large"),
        Case("text/plain content type", raw: "{}", contentType: "text/plain", status: 415, code: "unsupported-media-type"),
        Case("form content type", raw: "a=b", contentType: "application/x-www-form-urlencoded", status: 415, code: "unsupported-media-type"),
        Case("no content type", raw: "{}", contentType: nil, status: 415, code: "unsupported-media-type"),
    ]

    @Test("each bad submission gets its 4xx and code, a plain message, no echo, and stores nothing", arguments: cases)
    func badSubmission(_ c: Case) async throws {
        try await IntakeHarness.with { h in
            let reply = try await h.client.send(.POST, "/api/v1/contact-requests", body: c.body, contentType: c.contentType)
            #expect(reply.status == c.status, "\(c): \(reply.text)")
            #expect(reply.json["code"] as? String == c.code, "\(c): \(reply.text)")
            let message = try #require(reply.json["error"] as? String)
            #expect(!message.isEmpty && message.count < 200)
            #expect(!reply.text.contains(Self.canary), "the answer never echoes what was sent")
            #expect(reply.headers.first(name: "Content-Type")?.hasPrefix("application/json") == true)
            #expect(try await h.count("records") == 0, "nothing is stored")
            #expect(try await h.count("consent_events") == 0)
            let health = try await h.client.send(.GET, "/healthz")
            #expect(health.status == 200, "the server is still healthy")
        }
    }

    @Test("a missing, malformed or unknown receipt gets the same 401 body on every survivor route")
    func receiptsRefusedAlike() async throws {
        try await IntakeHarness.with(receiptFailures: 1000) { h in
            let (_, real) = try await h.submit(sampleRequest())
            var bodies = Set<String>()
            let unknown = try Receipt.generate().displayed
            var wrongCheck = Array(real)
            wrongCheck[wrongCheck.count - 1] = wrongCheck.last == "0" ? "1" : "0"
            let variants: [[(String, String)]] = [
                [],
                [("Authorization", "Receipt")],
                [("Authorization", "Receipt not-a-receipt")],
                [("Authorization", "Receipt \(String(wrongCheck))")],
                [("Authorization", "Receipt \(unknown)")],
                [("Authorization", "Bearer \(real)")],
            ]
            let routes: [(HTTPMethodName, String)] = [(.GET, "/api/v1/me"), (.DELETE, "/api/v1/me"), (.DELETE, "/api/v1/me/consents/police")]
            for headers in variants {
                for (method, path) in routes {
                    let reply = try await h.client.send(method.nio, path, headers: headers)
                    #expect(reply.status == 401, "\(path) \(headers)")
                    #expect(reply.headers.first(name: "WWW-Authenticate") == "Receipt")
                    bodies.insert(reply.text)
                }
                let grant = try await h.client.send(.POST, "/api/v1/me/consents", body: Array(#"{"scope":"police"}"#.utf8), headers: headers)
                #expect(grant.status == 401)
                bodies.insert(grant.text)
            }
            #expect(bodies.count == 1, "one indistinguishable answer: \(bodies)")
            #expect(try await h.count("records") == 1)
            #expect(try await h.count("consent_wraps") == 0, "no consent was granted by a bad receipt")
        }
    }

    @Test("repeated unknown receipts from one address are slowed with 429 and Retry-After")
    func receiptLookupsAreRateLimited() async throws {
        try await IntakeHarness.with(receiptFailures: 3) { h in
            let (_, real) = try await h.submit(sampleRequest())
            for _ in 0..<3 {
                let r = try await h.client.send(.GET, "/api/v1/me", receipt: try Receipt.generate().displayed)
                #expect(r.status == 401)
            }
            let limited = try await h.client.send(.GET, "/api/v1/me", receipt: try Receipt.generate().displayed)
            #expect(limited.status == 429)
            #expect(limited.json["code"] as? String == "rate-limited")
            let wait = try #require(limited.headers.first(name: "Retry-After").flatMap(Int.init))
            #expect(wait >= 1)
            // While limited, even a right receipt waits: guessing must not be distinguishable.
            #expect(try await h.client.send(.GET, "/api/v1/me", receipt: real).status == 429)
            // Submitting is never limited by failed look-ups.
            #expect(try await h.client.send(.POST, "/api/v1/contact-requests", json: sampleRequest()).status == 201)
        }
    }

    @Test("bad consent changes with a valid receipt are refused and change nothing")
    func badConsentChanges() async throws {
        try await IntakeHarness.with { h in
            let (reference, receipt) = try await h.submit(sampleRequest(consents: [["scope": "support"]]))
            let auth = [("Authorization", "Receipt \(receipt)")]
            let cases: [(String, Int, String)] = [
                (#"{"scope":"press"}"#, 400, "invalid-value"),
                (#"{"scope":"police","extra":true}"#, 400, "unknown-field"),
                (#"{"scope":3}"#, 400, "wrong-type"),
                (#"{"expires":"2099-01-01"}"#, 400, "missing-field"),
                (#"{"scope":"police","expires":"1999-12-31"}"#, 400, "invalid-value"),
                (#"{"scope":"#, 400, "malformed-json"),
            ]
            for (body, status, code) in cases {
                let r = try await h.client.send(.POST, "/api/v1/me/consents", body: Array(body.utf8), headers: auth)
                #expect(r.status == status, "\(body)")
                #expect(r.json["code"] as? String == code, "\(body): \(r.text)")
            }
            let wrongType = try await h.client.send(
                .POST, "/api/v1/me/consents", body: Array("scope=police".utf8), contentType: "text/plain", headers: auth)
            #expect(wrongType.status == 415)
            let unknownScope = try await h.client.send(.DELETE, "/api/v1/me/consents/press", headers: auth)
            #expect(unknownScope.status == 400)
            #expect(try await h.wrapRows(reference: reference).map(\.scope) == ["support"])
            #expect(try await h.count("consent_events") == 1)
        }
    }

    @Test("unknown addresses and methods get a plain 4xx (JSON under /api/, an HTML page elsewhere), never a 5xx")
    func unknownRoutes() async throws {
        try await IntakeHarness.with { h in
            for (method, path) in [
                (HTTPMethodName.GET, "/admin"), (.PUT, "/api/v1/me"), (.GET, "/api/v1/contact-requests"), (.GET, "/../../etc/passwd"),
                (.DELETE, "/"),
            ] {
                let r = try await h.client.send(method.nio, path)
                #expect((400..<500).contains(r.status), "\(method) \(path) → \(r.status)")
                if path.hasPrefix("/api/") {
                    #expect(r.json["code"] != nil)
                } else {
                    #expect(r.headers.first(name: "Content-Type") == "text/html; charset=utf-8", "\(path)")
                }
            }
        }
    }

    @Test("a known address asked with another method gets 405 with Allow (JSON under /api/, a page elsewhere); unknown addresses 404")
    func wrongMethodOnKnownAddress() async throws {
        try await IntakeHarness.with { h in
            for (method, path, allow) in [
                (HTTPMethodName.PUT, "/api/v1/me", "DELETE, GET"), (.GET, "/api/v1/contact-requests", "POST"),
                (.GET, "/api/v1/me/consents/police", "DELETE"), (.DELETE, "/", "GET"),
            ] {
                let r = try await h.client.send(method.nio, path)
                #expect(r.status == 405, "\(method) \(path) → \(r.status)")
                #expect(r.headers.first(name: "Allow") == allow, "\(method) \(path): \(r.headers)")
                if path.hasPrefix("/api/") { #expect(r.json["code"] as? String == "method-not-allowed") }
            }
            #expect(try await h.client.send(.GET, "/api/v1/nothing-here").status == 404)
            #expect(try await h.client.send(.GET, "/admin").status == 404)
        }
    }
}
