import Foundation
import HearthCore
import HearthCrypto
import HearthHTTP
import HearthIntake
import HearthTestSupport
import Testing

/// Issue 15, "no penalty for script": a survivor writing in a script whose characters take many
/// bytes has the same room as one writing in English. Over TLS to the running intake: the longest
/// request and message the rules allow, in Bengali (3 bytes a character) and Adlam (4 bytes),
/// through the API (raw UTF-8 and `\u` escapes) and the page forms, are stored and read back
/// scalar for scalar; one character more is 400 `field-too-long`, never 413; a body one byte over
/// its route's limit is 413 and stores nothing, and one of exactly the limit is taken.
@Suite("No penalty for script: the survivor side over TLS")
struct ScriptLimitTests {
    /// How a JSON client writes the text.
    enum Encoding: String, CaseIterable, CustomStringConvertible {
        /// As UTF-8 bytes.
        case raw
        /// Every non-ASCII character as a `\u` escape (a surrogate pair beyond the BMP).
        case escaped

        var description: String { rawValue }

        func json(_ value: [String: Any]) throws -> [UInt8] {
            switch self {
            case .raw: Array(try JSONSerialization.data(withJSONObject: value))
            case .escaped: Array(escapedJSON(value).utf8)
            }
        }
    }

    /// The longest request the API takes: every text at its limit in `script`, four contacts.
    /// `over` names one text to make one character longer.
    static func longestRequest(_ script: Script, over: String? = nil) -> [String: Any] {
        func text(_ name: String, _ limit: Int, seed: Int) -> String { script.text(limit + (name == over ? 1 : 0), seed: seed) }
        let contacts: [[String: Any]] = (0..<Limits.contacts.upperBound).map { i in
            [
                "method": i == 0 ? "post" : "organisation", "value": text("contact[\(i)].value", Limits.contactValue, seed: i),
                "safeTimes": text("contact[\(i)].safeTimes", Limits.safeTimes, seed: 10 + i), "mayLeaveMessage": false,
            ]
        }
        return [
            "preferredName": text("preferredName", Limits.preferredName, seed: 0), "contact": contacts, "region": "north-west",
            "wants": ["support", "reopen", "information"], "account": text("account", Limits.account, seed: 20),
            "verificationPhrase": text("verificationPhrase", Limits.verificationPhrase.upperBound, seed: 30),
            "consents": [["scope": "support"]],
        ]
    }

    /// Whether `stored` (the `request` of `GET /api/v1/me`) holds every text of `sent`, scalar for scalar.
    static func sameTexts(_ stored: [String: Any]?, _ sent: [String: Any]) -> Bool {
        guard let stored else { return false }
        for key in ["preferredName", "account", "verificationPhrase"] where !sameScalars(stored[key] as? String, sent[key] as! String) {
            return false
        }
        let storedContacts = stored["contact"] as? [[String: Any]] ?? []
        let sentContacts = sent["contact"] as! [[String: Any]]
        guard storedContacts.count == sentContacts.count else { return false }
        return zip(storedContacts, sentContacts).allSatisfy { s, c in
            sameScalars(s["value"] as? String, c["value"] as! String) && sameScalars(s["safeTimes"] as? String, c["safeTimes"] as! String)
        }
    }

    // MARK: The API

    @Test(
        "the longest request in Bengali and in Adlam, raw or \\u-escaped, is stored and reads back the same; a 4-byte script's fills the largest padding bucket",
        arguments: TestStore.all, Script.allCases)
    func longestRequestThroughTheAPI(store: TestStore, script: Script) async throws {
        try await IntakeHarness.with(store: store) { h in
            let request = Self.longestRequest(script)
            for encoding in Encoding.allCases {
                let body = try encoding.json(request)
                #expect(body.count <= RequestLimits.submissionBodyBytes, "\(encoding): \(body.count) bytes")
                if encoding == .escaped { #expect(body.count > RequestLimits.standardBodyBytes, "over the old 64 KiB") }
                let sent = try await h.client.send(.POST, "/api/v1/contact-requests", body: body)
                #expect(sent.status == 201, "\(script) \(encoding): \(sent.status) \(sent.text.prefix(300))")
                let receipt = try #require(sent.json["receipt"] as? String)
                let reference = try #require(sent.json["reference"] as? String)
                let me = try await h.client.send(.GET, "/api/v1/me", receipt: receipt)
                #expect(me.status == 200)
                #expect(Self.sameTexts(me.json["request"] as? [String: Any], request), "\(script) \(encoding): read back the same")
                let id = try #require(RecordID(reference: reference))
                let stored = try #require(try await h.records.caseRecord(id: id))
                let largestSealedBody = 1 + 24 + BucketPadding.largestBucket + 16
                if script == .adlam { #expect(stored.record.body.count == largestSealedBody, "sealed in the 128 KiB bucket") }
            }
            #expect(try await h.count("records") == 2)
        }
    }

    @Test("one character more in any text is 400 field-too-long naming it, not 413, and nothing is stored", arguments: Script.allCases)
    func oneCharacterMoreThroughTheAPI(script: Script) async throws {
        try await IntakeHarness.with { h in
            for field in ["preferredName", "contact[0].value", "contact[3].safeTimes", "account", "verificationPhrase"] {
                for encoding in Encoding.allCases {
                    let body = try encoding.json(Self.longestRequest(script, over: field))
                    let reply = try await h.client.send(.POST, "/api/v1/contact-requests", body: body)
                    #expect(reply.status == 400 && reply.json["code"] as? String == "field-too-long", "\(field) \(encoding): \(reply.text)")
                    #expect((reply.json["error"] as? String)?.contains("'\(field)'") == true, "\(reply.text)")
                }
            }
            #expect(try await h.count("records") == 0)
        }
    }

    @Test("a contact request's body of exactly its limit is taken; one byte more is 413 body-too-large and stores nothing")
    func submissionBodyBoundary() async throws {
        try await IntakeHarness.with { h in
            let json = escapedJSON(Self.longestRequest(.adlam))
            let limit = RequestLimits.submissionBodyBytes
            let over = try await h.client.send(.POST, "/api/v1/contact-requests", body: padded(json, to: limit + 1, with: " "))
            #expect(over.status == 413 && over.json["code"] as? String == "body-too-large", "\(over.text)")
            #expect(over.json["error"] as? String == "the request is larger than 229 KiB; please shorten it")
            #expect(try await h.count("records") == 0)
            let exact = try await h.client.send(.POST, "/api/v1/contact-requests", body: padded(json, to: limit, with: " "))
            #expect(exact.status == 201, "\(exact.text.prefix(300))")
            #expect(try await h.count("records") == 1)
        }
    }

    @Test(
        "a message of 5,000 characters in Bengali and in Adlam, raw or \\u-escaped, is stored and reads back the same; 5,001 is 400, not 413",
        arguments: TestStore.all, Script.allCases)
    func longestMessageThroughTheAPI(store: TestStore, script: Script) async throws {
        try await IntakeHarness.with(store: store) { h in
            let (_, receipt) = try await h.submit(sampleRequest(consents: [["scope": "support"]]))
            var sent: [String] = []
            for (n, encoding) in Encoding.allCases.enumerated() {
                let text = script.text(Limits.message, seed: n)
                let reply = try await h.client.send(
                    .POST, "/api/v1/me/messages", body: try encoding.json(["group": "support", "text": text]),
                    headers: [("Authorization", "Receipt \(receipt)")])
                #expect(reply.status == 201, "\(script) \(encoding): \(reply.text.prefix(300))")
                sent.append(text)
                let long = try await h.client.send(
                    .POST, "/api/v1/me/messages", body: try encoding.json(["group": "support", "text": script.text(Limits.message + 1)]),
                    headers: [("Authorization", "Receipt \(receipt)")])
                #expect(long.status == 400 && long.json["code"] as? String == "field-too-long", "\(encoding): \(long.text)")
            }
            let thread = try await h.client.send(.GET, "/api/v1/me/messages", receipt: receipt)
            let texts = (thread.json["messages"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
            #expect(sameScalars(texts, sent), "read back the same")
        }
    }

    @Test("a message's body of exactly its limit is taken; one byte more is 413 and writes nothing")
    func messageBodyBoundary() async throws {
        try await IntakeHarness.with { h in
            let (_, receipt) = try await h.submit(sampleRequest(consents: [["scope": "support"]]))
            let json = escapedJSON(["group": "support", "text": Script.adlam.text(Limits.message)])
            let limit = RequestLimits.messageBodyBytes
            #expect(json.utf8.count > RequestLimits.standardBodyBytes - RequestLimits.structureBytes)
            let headers = [("Authorization", "Receipt \(receipt)")]
            let over = try await h.client.send(.POST, "/api/v1/me/messages", body: padded(json, to: limit + 1, with: " "), headers: headers)
            #expect(over.status == 413 && over.json["code"] as? String == "body-too-large", "\(over.text)")
            #expect(try await h.count("messages") == 0)
            let exact = try await h.client.send(.POST, "/api/v1/me/messages", body: padded(json, to: limit, with: " "), headers: headers)
            #expect(exact.status == 201, "\(exact.text.prefix(300))")
            #expect(try await h.count("messages") == 1)
        }
    }

    // MARK: The pages

    /// The longest answers the request form takes: every text at its limit in `script`, the
    /// account with a line break as a browser sends it (CRLF, two characters that the form reader
    /// makes one line feed). `over` makes each named text one character longer.
    static func longestAnswers(_ script: Script, over: Set<String> = []) -> [(String, String)] {
        func text(_ name: String, _ limit: Int, seed: Int) -> String {
            let count = limit + (over.contains(name) ? 1 : 0)
            guard name == "account" else { return script.text(count, seed: seed) }
            return script.text(count / 2, seed: seed) + "\r\n" + script.text(count - count / 2 - 1, seed: seed + 1)
        }
        return [
            ("preferredName", text("preferredName", Limits.preferredName, seed: 0)), ("contactMethod", "post"),
            ("contactValue", text("contactValue", Limits.contactValue, seed: 1)), ("safeTimes", text("safeTimes", Limits.safeTimes, seed: 2)),
            ("mayLeaveMessage", "no"), ("region", "north-west"), ("wants", "support"), ("wants", "reopen"), ("wants", "information"),
            ("account", text("account", Limits.account, seed: 3)),
            ("verificationPhrase", text("verificationPhrase", Limits.verificationPhrase.upperBound, seed: 4)), ("consent", "support"),
        ]
    }

    @Test(
        "the longest request by the page forms in Bengali and in Adlam goes through check-your-answers and is stored the same; one character more in every text is 400 with each field's message, not 413",
        arguments: TestStore.all, Script.allCases)
    func longestRequestThroughThePages(store: TestStore, script: Script) async throws {
        try await IntakeHarness.with(store: store) { h in
            try await h.withBrowser { b in
                let answers = Self.longestAnswers(script)
                _ = try await b.get("/request")
                if script == .adlam { #expect(formBody(answers).utf8.count > RequestLimits.standardBodyBytes, "over the old 64 KiB") }
                let check = try await b.post("/request", answers)
                #expect(check.status == 200 && check.text.contains("Check your answers"), "\(check.status) \(check.text.prefix(500))")
                let hidden = hiddenFields(check.text, action: "/request/send")
                #expect(formBody(hidden).utf8.count <= RequestLimits.submissionBodyBytes)
                let edit = try await b.post("/request/edit", hiddenFields(check.text, action: "/request/edit"))
                #expect(edit.status == 200, "edit: \(edit.status)")
                let again = try await b.post("/request", answers)
                let sent = try await b.post("/request/send", hiddenFields(again.text, action: "/request/send"))
                #expect(sent.status == 201, "\(sent.status) \(sent.text.prefix(500))")
                let receipt = try #require(element(sent.text, id: "receipt"))
                let me = try await h.client.send(.GET, "/api/v1/me", receipt: receipt)
                let stored = try #require(me.json["request"] as? [String: Any])
                var typed = Dictionary(answers, uniquingKeysWith: { a, _ in a })
                typed["account"] = typed["account"]!.replacingOccurrences(of: "\r\n", with: "\n")
                #expect(FieldRules.length(typed["account"]!) == Limits.account)
                for key in ["preferredName", "account", "verificationPhrase"] {
                    #expect(sameScalars(stored[key] as? String, typed[key]!), "\(key) reads back the same")
                }
                let contact = (stored["contact"] as? [[String: Any]])?.first
                #expect(sameScalars(contact?["value"] as? String, typed["contactValue"]!))
                #expect(sameScalars(contact?["safeTimes"] as? String, typed["safeTimes"]!))

                // One character more in every text: the form again with each field's own message.
                let everyText: Set = ["preferredName", "contactValue", "safeTimes", "account", "verificationPhrase"]
                _ = try await b.get("/request")
                let long = try await b.post("/request", Self.longestAnswers(script, over: everyText))
                #expect(long.status == 400, "\(long.status)")
                for message in [
                    "The name must be 100 characters or fewer", "Contact details must be 200 characters or fewer",
                    "Safe times must be 300 characters or fewer", "What happened must be 16,000 characters or fewer",
                    "Your check phrase must be 60 characters or fewer",
                ] {
                    #expect(long.text.contains(message), "\(message)")
                }
                // The same on sending, whatever the hidden fields hold: nothing is stored.
                let longAccount = Self.longestAnswers(script, over: ["account"])
                let refused = try await b.post("/request/send", longAccount + [("submission", "x")])
                #expect(refused.status == 400 && refused.text.contains("What happened must be 16,000 characters or fewer"), "\(refused.status)")
                #expect(try await h.count("records") == 1)
            }
        }
    }

    @Test("the request forms take a body of exactly their limit; one byte more is a 413 page and sending stores nothing")
    func requestFormBodyBoundary() async throws {
        try await IntakeHarness.with { h in
            try await h.withBrowser { b in
                let limit = RequestLimits.submissionBodyBytes
                _ = try await b.get("/request")
                let answers = Self.longestAnswers(.adlam)
                for path in ["/request", "/request/edit"] {
                    let over = try await b.post(path, answers, paddedTo: limit + 1)
                    #expect(over.status == 413 && over.text.contains("too long for us to receive"), "\(path): \(over.status)")
                    let exact = try await b.post(path, answers, paddedTo: limit)
                    #expect(exact.status == 200, "\(path): \(exact.status)")
                }
                let check = try await b.post("/request", answers)
                let hidden = hiddenFields(check.text, action: "/request/send")
                let over = try await b.post("/request/send", hidden, paddedTo: limit + 1)
                #expect(over.status == 413 && over.text.contains("too long for us to receive"), "\(over.status)")
                #expect(try await h.count("records") == 0, "nothing is stored")
                let exact = try await b.post("/request/send", hidden, paddedTo: limit)
                #expect(exact.status == 201, "the one-time token was not spent by the refusal: \(exact.status)")
                #expect(try await h.count("records") == 1)
            }
        }
    }

    @Test(
        "a message of 5,000 characters by the page in Bengali and in Adlam is stored the same; 5,001 is 400 with the page's message; a body one byte over the limit is 413 and writes nothing",
        arguments: TestStore.all, Script.allCases)
    func longestMessageThroughThePage(store: TestStore, script: Script) async throws {
        try await IntakeHarness.with(store: store) { h in
            let (_, receipt) = try await h.submit(sampleRequest(consents: [["scope": "support"]]))
            try await h.withBrowser { b in
                try await b.signIn(receipt)
                _ = try await b.get("/your-request")
                let text = script.text(Limits.message)
                let sent = try await b.post("/your-request/messages", [("group", "support"), ("text", text)])
                #expect(sent.status == 303, "\(sent.status) \(sent.text.prefix(300))")
                let long = try await b.post("/your-request/messages", [("group", "support"), ("text", script.text(Limits.message + 1))])
                #expect(long.status == 400 && long.text.contains("Your message must be 5,000 characters or fewer"), "\(long.status)")

                let limit = RequestLimits.messageBodyBytes
                let fields = [("group", "support"), ("text", script.text(Limits.message, seed: 1))]
                let over = try await b.post("/your-request/messages", fields, paddedTo: limit + 1)
                #expect(over.status == 413 && over.text.contains("too long for us to receive"), "\(over.status)")
                let exact = try await b.post("/your-request/messages", fields, paddedTo: limit)
                #expect(exact.status == 303, "\(exact.status)")

                let thread = try await h.client.send(.GET, "/api/v1/me/messages", receipt: receipt)
                let texts = (thread.json["messages"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
                #expect(sameScalars(texts, [text, fields[1].1]), "read back the same")
            }
        }
    }

    // MARK: The table

    @Test("every route the larger-body table names is registered on the intake listener")
    func tableNamesRegisteredRoutes() async throws {
        try await IntakeHarness.with { h in
            let registered = Set(h.assembly.routes[.intake]!.routes.map { "\($0.method.rawValue) \($0.path.description)" })
            for (method, path, _) in IntakeAccess.largerBodies {
                // Registered as `:name`, the router describes a parameter as `{name}`.
                let described = path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
                #expect(registered.contains("\(method.rawValue) /\(described)"), "\(method.rawValue) \(path) is not a route")
            }
        }
    }
}
