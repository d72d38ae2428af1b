import Foundation
import HearthCasework
import HearthCore
import HearthHTTP
import HearthTestSupport
import Testing

/// Issue 15, "no penalty for script", on the staff side and in interviews, over TLS on both
/// listeners: a reason, a reply, an invitation and a survivor's answer at their limits in Adlam (4
/// bytes a character) are taken through the API and the pages and read back scalar for scalar;
/// one character more is 400, counted in Unicode scalars (not graphemes) on the pages as in the
/// API; a body one byte over its route's limit is 413 and writes nothing, and one of exactly the
/// limit is taken.
@Suite("No penalty for script: casework and interviews over TLS")
struct CaseworkScriptLimitTests {
    /// A staff browser signed in through both sign-in pages.
    static func signedIn(_ h: CaseworkHarness, _ s: TestStaff) async throws -> PageBrowser {
        let b = h.browser()
        let reply = try await h.pageSignIn(b, s)
        guard reply.status == 303 else { throw HarnessError("sign-in: \(reply.status)") }
        return b
    }

    /// `json` sent by `s`, the body made exactly `size` bytes with white space.
    static func post(_ h: CaseworkHarness, _ s: TestStaff, _ path: String, _ json: [String: Any], size: Int) async throws -> TestHTTPSClient.Reply {
        try await h.staffClient.send(.POST, path, body: padded(escapedJSON(json), to: size, with: " "), headers: s.bearer)
    }

    /// Bengali of `count` characters in about half as many graphemes (each consonant with a vowel sign).
    static func bengali(_ count: Int) -> String { Script.bengali.text(count) }

    @Test(
        "a reason of 500 and replies of 5,000 Adlam characters, by the API and the pages, reach the survivor the same; one character more is 400 on both, counted in scalars",
        arguments: TestStore.all)
    func reasonsAndReplies(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let sue = try await h.readyStaff("sue", .supervisor)
            let alice = try await h.readyStaff("alice", .caseworker)
            let (reference, receipt) = try await h.submit(consents: ["support"])
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "alice"]).status == 200)
            let adlam = Script.adlam

            // The API.
            let reason = adlam.text(Limits.reason)
            let longReason = try await h.staffPost(alice, "/api/v1/cases/\(reference)/open", ["reason": adlam.text(Limits.reason + 1)])
            #expect(longReason.status == 400 && longReason.json["code"] as? String == "field-too-long", "\(longReason.text)")
            #expect(try await h.staffPost(alice, "/api/v1/cases/\(reference)/open", ["reason": reason]).status == 200)
            var replies: [String] = []
            for (n, escaped) in [false, true].enumerated() {
                let text = adlam.text(Limits.message, seed: n)
                let body = escaped ? Array(escapedJSON(["text": text]).utf8) : Array(try JSONSerialization.data(withJSONObject: ["text": text]))
                let sent = try await h.staffClient.send(.POST, "/api/v1/cases/\(reference)/replies", body: body, headers: alice.bearer)
                #expect(sent.status == 201, "\(sent.text.prefix(300))")
                replies.append(text)
            }
            let longReply = try await h.staffPost(alice, "/api/v1/cases/\(reference)/replies", ["text": adlam.text(Limits.message + 1)])
            #expect(longReply.status == 400 && longReply.json["code"] as? String == "field-too-long", "\(longReply.text)")

            // The pages: the same limits, in scalars; a Bengali text has half as many graphemes.
            let b = try await Self.signedIn(h, alice)
            let tooLongReason = try await b.post("/cases/\(reference)/open", [("reason", Self.bengali(Limits.reason + 1))])
            #expect(tooLongReason.status == 400 && tooLongReason.text.contains("Keep the reason to 500 characters or fewer"))
            let opened = try await b.post("/cases/\(reference)/open", [("reason", reason)])
            #expect(opened.status == 200, "\(opened.status)")
            let pageReply = adlam.text(Limits.message, seed: 2)
            let sent = try await b.post("/cases/\(reference)/replies", [("text", pageReply)])
            #expect(sent.status == 303, "\(sent.status) \(sent.text.prefix(300))")
            replies.append(pageReply)
            for long in [adlam.text(Limits.message + 1), Self.bengali(Limits.message + 1)] {
                let refused = try await b.post("/cases/\(reference)/replies", [("text", long)])
                #expect(refused.status == 400 && refused.text.contains("Your reply is too long"), "\(refused.status)")
            }
            #expect(try await h.count("SELECT count(*) FROM messages") == 3)

            // The survivor reads them back, scalar for scalar.
            let thread = try await h.intake.send(.GET, "/api/v1/me/messages", receipt: receipt)
            let texts = (thread.json["messages"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
            #expect(sameScalars(texts, replies), "read back the same")
            let access = try await h.intake.send(.GET, "/api/v1/me/access", receipt: receipt)
            let reasons = (access.json["access"] as? [[String: Any]] ?? []).compactMap { $0["reason"] as? String }
            #expect(reasons.count == 2 && reasons.allSatisfy { sameScalars($0, reason) })
        }
    }

    @Test(
        "an invitation of 2,000 and an answer with every text at its limit in Adlam, by the API and the pages, read back the same; one character more is 400",
        arguments: TestStore.all)
    func interviews(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let sue = try await h.readyStaff("sue", .supervisor)
            let rita = try await h.readyStaff("rita", .reviewer)
            let (reference, receipt) = try await h.submit(consents: ["review"])
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "rita"]).status == 200)
            let adlam = Script.adlam
            let path = "/api/v1/cases/\(reference)/interviews"

            // Invitations: the API (\u-escaped) and the page.
            let purpose = adlam.text(Limits.interviewPurpose)
            let long = try await h.staffPost(rita, path, ["purpose": adlam.text(Limits.interviewPurpose + 1), "form": "video"])
            #expect(long.status == 400 && long.json["code"] as? String == "field-too-long", "\(long.text)")
            let byAPI = try await h.staffClient.send(
                .POST, path, body: Array(escapedJSON(["purpose": purpose, "form": "video"]).utf8), headers: rita.bearer)
            #expect(byAPI.status == 201, "\(byAPI.text.prefix(300))")
            let b = try await Self.signedIn(h, rita)
            let pagePurpose = adlam.text(Limits.interviewPurpose, seed: 1)
            let longByPage = try await b.post(
                "/cases/\(reference)/interviews", [("purpose", adlam.text(Limits.interviewPurpose + 1)), ("form", "video")])
            #expect(longByPage.status == 400 && longByPage.text.contains("Keep what it is for to 2000 characters or fewer"), "\(longByPage.status)")
            let byPage = try await b.post("/cases/\(reference)/interviews", [("purpose", pagePurpose), ("form", "video")])
            #expect(byPage.status == 303, "\(byPage.status) \(byPage.text.prefix(300))")

            let listed = try await h.intake.send(.GET, "/api/v1/me/interviews", receipt: receipt)
            let invitations = listed.json["interviews"] as? [[String: Any]] ?? []
            #expect(sameScalars(invitations.compactMap { $0["purpose"] as? String }, [purpose, pagePurpose]), "read back the same")
            let ids = invitations.compactMap { $0["id"] as? String }
            #expect(ids.count == 2)

            // Answers: the API (\u-escaped) to the first, the page to the second.
            func requests(seed: Int) -> [String: Any] {
                [
                    "interpreter": adlam.text(Limits.interpreterLanguage, seed: seed),
                    "accessibility": adlam.text(Limits.interviewNeeds, seed: seed + 1),
                    "place": adlam.text(Limits.interviewNeeds, seed: seed + 2),
                ]
            }
            let proposed = adlam.text(Limits.interviewNote, seed: 3)
            let answer: [String: Any] = ["action": "propose-times", "proposedTimes": proposed, "requests": requests(seed: 4)]
            var longAnswer = answer
            longAnswer["proposedTimes"] = adlam.text(Limits.interviewNote + 1)
            let refused = try await h.intake.send(
                .POST, "/api/v1/me/interviews/\(ids[0])/answer", body: Array(escapedJSON(longAnswer).utf8),
                headers: [("Authorization", "Receipt \(receipt)")])
            #expect(refused.status == 400 && refused.json["code"] as? String == "field-too-long", "\(refused.text)")
            let answered = try await h.intake.send(
                .POST, "/api/v1/me/interviews/\(ids[0])/answer", body: Array(escapedJSON(answer).utf8),
                headers: [("Authorization", "Receipt \(receipt)")])
            #expect(answered.status == 200, "\(answered.text.prefix(300))")

            let (survivor, client) = try await InterviewPageTests.survivorBrowser(h, receipt)
            defer { Task { await client.shutdown() } }
            let link = "/your-request/interviews/\(ids[1])"
            _ = try await survivor.get(link)
            let pageRequests = requests(seed: 5)
            let pageProposed = adlam.text(Limits.interviewNote, seed: 6)
            let fields: [(String, String)] = [
                ("action", "propose-times"), ("proposedTimes", pageProposed), ("interpreter", pageRequests["interpreter"] as! String),
                ("accessibility", pageRequests["accessibility"] as! String), ("place", pageRequests["place"] as! String),
            ]
            let longPage = try await survivor.post(link, fields.map { $0.0 == "proposedTimes" ? ($0.0, adlam.text(Limits.interviewNote + 1)) : $0 })
            #expect(longPage.status == 400 && longPage.text.contains("This must be 1,000 characters or fewer"), "\(longPage.status)")
            let pageAnswer = try await survivor.post(link, fields)
            #expect(pageAnswer.status == 303, "\(pageAnswer.status) \(pageAnswer.text.prefix(300))")

            let after = try await h.intake.send(.GET, "/api/v1/me/interviews", receipt: receipt)
            var answers: [String: [String: Any]] = [:]
            for interview in after.json["interviews"] as? [[String: Any]] ?? [] {
                answers[interview["id"] as? String ?? ""] = interview["answer"] as? [String: Any] ?? [:]
            }
            for (id, (sentNote, sentRequests)) in zip(ids, [(proposed, requests(seed: 4)), (pageProposed, pageRequests)]) {
                let stored = answers[id] ?? [:]
                #expect(sameScalars(stored["proposedTimes"] as? String, sentNote))
                let r = stored["requests"] as? [String: Any] ?? [:]
                for key in ["interpreter", "accessibility", "place"] {
                    #expect(sameScalars(r[key] as? String, sentRequests[key] as! String), "\(key)")
                }
            }
        }
    }

    @Test("replies and invitations take a body of exactly their limit by the API and the pages; one byte more is 413 and writes nothing")
    func staffBodyBoundaries() async throws {
        try await CaseworkHarness.with { h in
            let sue = try await h.readyStaff("sue", .supervisor)
            let rita = try await h.readyStaff("rita", .reviewer)
            let (reference, _) = try await h.submit(consents: ["review"])
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "rita"]).status == 200)
            let b = try await Self.signedIn(h, rita)
            let reply = ["text": Script.adlam.text(Limits.message)]
            let invitation = ["purpose": Script.adlam.text(Limits.interviewPurpose), "form": "video"]
            for (action, json, limit, table) in [
                ("replies", reply, RequestLimits.messageBodyBytes, "messages"),
                ("interviews", invitation, RequestLimits.invitationBodyBytes, "interviews"),
            ] {
                let api = "/api/v1/cases/\(reference)/\(action)"
                let over = try await Self.post(h, rita, api, json, size: limit + 1)
                #expect(over.status == 413 && over.json["code"] as? String == "body-too-large", "\(action): \(over.text)")
                let page = "/cases/\(reference)/\(action)"
                let fields = json.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
                #expect(try await b.post(page, fields, paddedTo: limit + 1).status == 413, "\(action) page")
                #expect(try await h.count("SELECT count(*) FROM \(table)") == 0, "\(action): nothing written")
                let exact = try await Self.post(h, rita, api, json, size: limit)
                #expect(exact.status == 201, "\(action): \(exact.text.prefix(300))")
                #expect(try await b.post(page, fields, paddedTo: limit).status == 303, "\(action) page")
                #expect(try await h.count("SELECT count(*) FROM \(table)") == 2)
            }
        }
    }

    @Test("an answer to an invitation takes a body of exactly its limit by the API and the page; one byte more is 413 and changes nothing")
    func answerBodyBoundary() async throws {
        try await CaseworkHarness.with { h in
            let sue = try await h.readyStaff("sue", .supervisor)
            let rita = try await h.readyStaff("rita", .reviewer)
            let (reference, receipt) = try await h.submit(consents: ["review"])
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "rita"]).status == 200)
            for _ in 0..<2 {
                #expect(try await h.staffPost(rita, "/api/v1/cases/\(reference)/interviews", ["purpose": "to talk", "form": "video"]).status == 201)
            }
            let listed = try await h.intake.send(.GET, "/api/v1/me/interviews", receipt: receipt)
            let ids = (listed.json["interviews"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            let limit = RequestLimits.interviewAnswerBodyBytes
            let adlam = Script.adlam

            let answer: [String: Any] = [
                "action": "propose-times", "proposedTimes": adlam.text(Limits.interviewNote),
                "requests": [
                    "interpreter": adlam.text(Limits.interpreterLanguage), "accessibility": adlam.text(Limits.interviewNeeds),
                    "place": adlam.text(Limits.interviewNeeds),
                ],
            ]
            let receiptHeader = [("Authorization", "Receipt \(receipt)")]
            let path = "/api/v1/me/interviews/\(ids[0])/answer"
            let over = try await h.intake.send(.POST, path, body: padded(escapedJSON(answer), to: limit + 1, with: " "), headers: receiptHeader)
            #expect(over.status == 413 && over.json["code"] as? String == "body-too-large", "\(over.text)")
            let exact = try await h.intake.send(.POST, path, body: padded(escapedJSON(answer), to: limit, with: " "), headers: receiptHeader)
            #expect(exact.status == 200, "\(exact.text.prefix(300))")

            // The page's form sends every box, the question too: the longest it can send.
            let (survivor, client) = try await InterviewPageTests.survivorBrowser(h, receipt)
            defer { Task { await client.shutdown() } }
            let link = "/your-request/interviews/\(ids[1])"
            _ = try await survivor.get(link)
            let fields: [(String, String)] = [
                ("action", "propose-times"), ("proposedTimes", adlam.text(Limits.interviewNote)), ("question", adlam.text(Limits.interviewNote)),
                ("interpreter", adlam.text(Limits.interpreterLanguage)), ("accessibility", adlam.text(Limits.interviewNeeds)),
                ("place", adlam.text(Limits.interviewNeeds)),
            ]
            #expect(try await survivor.post(link, fields, paddedTo: limit + 1).status == 413)
            #expect(try await h.count("SELECT count(*) FROM interviews WHERE state = 'invited'") == 1, "nothing changed")
            let page = try await survivor.post(link, fields, paddedTo: limit)
            #expect(page.status == 303, "\(page.status) \(page.text.prefix(300))")
            #expect(try await h.count("SELECT count(*) FROM interviews WHERE state = 'invited'") == 0)
        }
    }

    @Test("every route the larger-body table names is registered on the casework listener")
    func tableNamesRegisteredRoutes() async throws {
        try await CaseworkHarness.with { h in
            let registered = Set(h.assembly.routes[.casework]!.routes.map { "\($0.method.rawValue) \($0.path.description)" })
            for (method, path, _) in CaseworkAccess.largerBodies {
                // Registered as `:name`, the router describes a parameter as `{name}`.
                let described = path.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
                #expect(registered.contains("\(method.rawValue) /\(described)"), "\(method.rawValue) \(path) is not a route")
            }
        }
    }
}
