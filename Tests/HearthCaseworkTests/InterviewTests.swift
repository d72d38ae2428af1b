import Foundation
import HearthCore
import HearthTestSupport
import Testing

/// Invitations to interviews (SECURITY.md §3.13), over TLS on both listeners: a reviewer or
/// liaison officer assigned to the case, with their group's consent live, invites; the survivor
/// accepts a time, proposes others, asks, declines without a reason, or withdraws an acceptance;
/// content is sealed in the group's conversation, states and times are metadata.
@Suite("Interview invitations over TLS")
struct InterviewTests {
    /// Two future times on the hour, as the API writes them.
    static func times(_ h: CaseworkHarness) -> [String] {
        let now = h.clock.unixSeconds()
        let base = now - now % 3600 + 3 * 86_400
        return [rfc3339(unixSeconds: base), rfc3339(unixSeconds: base + 86_400)]
    }

    static func invitation(_ h: CaseworkHarness, purpose: String = "To hear, in your own words, what happened in 2009.") -> [String: Any] {
        ["purpose": purpose, "form": "in-person", "times": times(h)]
    }

    static func interviews(_ reply: TestHTTPSClient.Reply) -> [[String: Any]] { reply.json["interviews"] as? [[String: Any]] ?? [] }

    @Test(
        "a police liaison invites; the survivor sees it, accepts a time with requests, then withdraws; staff see each answer; only states and times are in clear",
        arguments: TestStore.all)
    func inviteAcceptWithdraw(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let sue = try await h.readyStaff("sue", .supervisor)
            let paul = try await h.readyStaff("paul", .policeLiaison)
            let (reference, receipt) = try await h.submit(consents: ["police"])
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "paul"]).status == 200)
            let purpose = "PURPOSE-CANARY: to hear about the events of 2009"
            let sent = try await h.staffPost(paul, "/api/v1/cases/\(reference)/interviews", Self.invitation(h, purpose: purpose))
            #expect(sent.status == 201 && sent.json["state"] as? String == "invited", "\(sent.text)")
            let id = try #require(sent.json["id"] as? String)

            let mine = try await h.intake.send(.GET, "/api/v1/me/interviews", receipt: receipt)
            let invitation = try #require(Self.interviews(mine).first, "\(mine.text)")
            #expect(invitation["id"] as? String == id && invitation["group"] as? String == "police" && invitation["state"] as? String == "invited")
            #expect(invitation["purpose"] as? String == purpose && invitation["form"] as? String == "in-person")
            #expect(invitation["times"] as? [String] == Self.times(h) && invitation["role"] as? String == "police-liaison")

            let accepted = try await h.intake.send(
                .POST, "/api/v1/me/interviews/\(id)/answer",
                json: [
                    "action": "accept", "time": Self.times(h)[1],
                    "requests": ["supporter": true, "interviewer": "woman", "interpreter": "INTERPRETER-CANARY", "breaks": true],
                ], receipt: receipt)
            #expect(accepted.status == 200, "\(accepted.text)")
            let answer = (accepted.json["interview"] as? [String: Any])?["answer"] as? [String: Any]
            #expect(answer?["action"] as? String == "accept" && answer?["time"] as? String == Self.times(h)[1])

            let opened = try await h.staffPost(paul, "/api/v1/cases/\(reference)/open", ["reason": "to see the answer"])
            let seen = try #require(Self.interviews(opened).first, "\(opened.text)")
            #expect(seen["state"] as? String == "accepted")
            let requests = (seen["answer"] as? [String: Any])?["requests"] as? [String: Any]
            #expect(requests?["supporter"] as? Bool == true && requests?["interviewer"] as? String == "woman")
            #expect(requests?["interpreter"] as? String == "INTERPRETER-CANARY" && requests?["breaks"] as? Bool == true)

            // In clear: the state and the accepted time; never the purpose or the requests.
            let chosen = try #require(UTCTime.unixSeconds(rfc3339: Self.times(h)[1]))
            #expect(try await h.count("SELECT count(*) FROM interviews WHERE state = 'accepted' AND chosen = \(chosen)") == 1)
            let stored = try await h.storedBytes()
            for canary in ["PURPOSE-CANARY", "INTERPRETER-CANARY"] {
                #expect(!bytes(stored, contain: Array(canary.utf8)), "\(canary) is in clear on disk")
                #expect(!h.logs.text.contains(canary), "\(canary) is in the logs")
            }

            let withdrawn = try await h.intake.send(.POST, "/api/v1/me/interviews/\(id)/answer", json: ["action": "withdraw"], receipt: receipt)
            #expect(withdrawn.status == 200 && (withdrawn.json["interview"] as? [String: Any])?["state"] as? String == "withdrawn")
            let again = try await h.staffPost(paul, "/api/v1/cases/\(reference)/open", ["reason": "to see the answer"])
            #expect(Self.interviews(again).first?["state"] as? String == "withdrawn")
            #expect(try await h.count("SELECT count(*) FROM interviews WHERE chosen IS NULL") == 1, "the time is free again")

            let audit = try await h.auditRows().map(\.action)
            for action in ["interview.invite", "interview.accept", "interview.withdraw"] { #expect(audit.contains(action), "\(action) audited") }
        }
    }

    @Test("declining needs no reason and changes nothing else: consent, messages and the pause stay as they were")
    func declineChangesNothingElse() async throws {
        try await CaseworkHarness.with { h in
            let sue = try await h.readyStaff("sue", .supervisor)
            let rita = try await h.readyStaff("rita", .reviewer)
            let (reference, receipt) = try await h.submit(consents: ["review", "support"])
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "rita"]).status == 200)
            #expect(
                try await h.intake.send(.POST, "/api/v1/me/messages", json: ["group": "review", "text": "hello"], receipt: receipt).status == 201)
            let sent = try await h.staffPost(rita, "/api/v1/cases/\(reference)/interviews", ["purpose": "A review interview", "form": "video"])
            #expect(sent.status == 201, "with no times: the survivor suggests one")
            let id = try #require(sent.json["id"] as? String)
            let before = try await h.intake.send(.GET, "/api/v1/me", receipt: receipt)

            let reason = try await h.intake.send(
                .POST, "/api/v1/me/interviews/\(id)/answer", json: ["action": "decline", "question": "why?"], receipt: receipt)
            #expect(reason.status == 400 && reason.json["code"] as? String == "unexpected-field", "a decline takes nothing else: \(reason.text)")
            let declined = try await h.intake.send(.POST, "/api/v1/me/interviews/\(id)/answer", json: ["action": "decline"], receipt: receipt)
            #expect(declined.status == 200 && (declined.json["interview"] as? [String: Any])?["state"] as? String == "declined")

            let after = try await h.intake.send(.GET, "/api/v1/me", receipt: receipt)
            #expect((after.json["consents"] as? [[String: Any]])?.count == 2)
            #expect(
                (after.json["consents"] as? [[String: Any]])?.compactMap { $0["scope"] as? String }
                    == (before.json["consents"] as? [[String: Any]])?.compactMap { $0["scope"] as? String })
            #expect(try await h.count("SELECT count(*) FROM consent_wraps") == 2)
            #expect(try await h.count("SELECT count(*) FROM messages") == 1)
            #expect(!(try await h.auditRows()).contains { $0.action.hasPrefix("consent.withdraw") }, "no consent ended")
            let opened = try await h.staffPost(rita, "/api/v1/cases/\(reference)/open", ["reason": "to see the answer"])
            #expect(opened.status == 200 && Self.interviews(opened).first?["state"] as? String == "declined", "the case still opens")

            // They may change their mind: a declined invitation can still be answered.
            let asked = try await h.intake.send(
                .POST, "/api/v1/me/interviews/\(id)/answer", json: ["action": "ask", "question": "Can it be after school hours?"], receipt: receipt)
            #expect(asked.status == 200 && (asked.json["interview"] as? [String: Any])?["state"] as? String == "question-asked")
        }
    }

    @Test("while contact is paused an invitation is refused with 409 contact-paused and audited; the survivor can still answer earlier ones")
    func pausedRefusesInvitations() async throws {
        try await CaseworkHarness.with { h in
            let sue = try await h.readyStaff("sue", .supervisor)
            let pat = try await h.readyStaff("pat", .prosecutionLiaison)
            let (reference, receipt) = try await h.submit(consents: ["prosecution"])
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "pat"]).status == 200)
            let first = try await h.staffPost(pat, "/api/v1/cases/\(reference)/interviews", Self.invitation(h))
            let id = try #require(first.json["id"] as? String, "\(first.text)")
            #expect(try await h.intake.send(.PUT, "/api/v1/me/pause", json: ["until": NSNull()], receipt: receipt).status == 200)

            let refused = try await h.staffPost(pat, "/api/v1/cases/\(reference)/interviews", Self.invitation(h))
            #expect(refused.status == 409 && refused.json["code"] as? String == "contact-paused", "\(refused.text)")
            #expect(try await h.count("SELECT count(*) FROM interviews") == 1, "nothing stored")
            #expect(try await h.auditRows().contains { $0.action == "interview.invite" && $0.outcome == "contact-paused" })
            let answered = try await h.intake.send(
                .POST, "/api/v1/me/interviews/\(id)/answer", json: ["action": "propose-times", "proposedTimes": "Any weekday morning in March"],
                receipt: receipt)
            #expect(answered.status == 200, "the pause is the survivor's: answering stays open: \(answered.text)")
        }
    }

    @Test("who can invite: not support caseworkers, not unassigned staff, not without the group's consent; each group sees only its own invitations")
    func gates() async throws {
        try await CaseworkHarness.with { h in
            let sue = try await h.readyStaff("sue", .supervisor)
            let alice = try await h.readyStaff("alice", .caseworker)
            let rita = try await h.readyStaff("rita", .reviewer)
            let paul = try await h.readyStaff("paul", .policeLiaison)
            let (reference, receipt) = try await h.submit(consents: ["support", "review"])
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "alice"]).status == 200)
            let support = try await h.staffPost(alice, "/api/v1/cases/\(reference)/interviews", Self.invitation(h))
            #expect(support.status == 403 && support.json["code"] as? String == "role-cannot-invite", "\(support.text)")
            let notAssigned = try await h.staffPost(rita, "/api/v1/cases/\(reference)/interviews", Self.invitation(h))
            #expect(notAssigned.status == 403 && notAssigned.json["code"] as? String == "not-assigned", "\(notAssigned.text)")
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "paul"]).status == 200)
            let noConsent = try await h.staffPost(paul, "/api/v1/cases/\(reference)/interviews", Self.invitation(h))
            #expect(noConsent.status == 403 && noConsent.json["code"] as? String == "no-consent", "\(noConsent.text)")
            #expect(try await h.count("SELECT count(*) FROM interviews") == 0)

            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "rita"]).status == 200)
            #expect(try await h.staffPost(rita, "/api/v1/cases/\(reference)/interviews", Self.invitation(h)).status == 201)
            #expect(try await h.intake.send(.POST, "/api/v1/me/consents", json: ["scope": "police"], receipt: receipt).status == 200)
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "paul"]).status == 200)
            let byPaul = try await h.staffPost(paul, "/api/v1/cases/\(reference)/open", ["reason": "police contact"])
            #expect(byPaul.status == 200 && Self.interviews(byPaul).isEmpty, "the review team's invitation is not the police's: \(byPaul.text)")

            // After the review consent is withdrawn the survivor cannot answer (no one could read it).
            let id = try #require(Self.interviews(try await h.intake.send(.GET, "/api/v1/me/interviews", receipt: receipt)).first?["id"] as? String)
            #expect(try await h.intake.send(.DELETE, "/api/v1/me/consents/review", receipt: receipt).status == 200)
            let closed = try await h.intake.send(.POST, "/api/v1/me/interviews/\(id)/answer", json: ["action": "decline"], receipt: receipt)
            #expect(closed.status == 409 && closed.json["code"] as? String == "consent-not-live", "\(closed.text)")
            #expect(try await h.count("SELECT count(*) FROM interviews WHERE state = 'invited'") == 1, "nothing changed")
        }
    }

    @Test("bad invitations and answers get a plain 4xx and change nothing")
    func badInput() async throws {
        try await CaseworkHarness.with { h in
            let sue = try await h.readyStaff("sue", .supervisor)
            let rita = try await h.readyStaff("rita", .reviewer)
            let (reference, receipt) = try await h.submit(consents: ["review"])
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "rita"]).status == 200)
            let times = Self.times(h)
            let past = rfc3339(unixSeconds: h.clock.unixSeconds() - 3600)
            let invitations: [([String: Any], String)] = [
                (["form": "video"], "missing-field"), (["purpose": "x"], "missing-field"), (["purpose": "x", "form": "letter"], "invalid-value"),
                (["purpose": "x", "form": "video", "times": Array(repeating: times[0], count: 6)], "field-too-long"),
                (["purpose": "x", "form": "video", "times": [past]], "invalid-value"),
                (["purpose": "x", "form": "video", "times": ["next tuesday"]], "invalid-value"),
                (["purpose": "x", "form": "video", "times": [times[0], times[0]]], "duplicate-value"),
                (["purpose": "x", "form": "video", "times": "2027-01-01T10:00:00Z"], "wrong-type"),
                (["purpose": "x", "form": "video", "place": "the station"], "unknown-field"),
                (["purpose": String(repeating: "a", count: Limits.interviewPurpose + 1), "form": "video"], "field-too-long"),
            ]
            for (json, code) in invitations {
                let reply = try await h.staffPost(rita, "/api/v1/cases/\(reference)/interviews", json)
                #expect(reply.status == 400 && reply.json["code"] as? String == code, "\(json): \(reply.text)")
            }
            #expect(try await h.count("SELECT count(*) FROM interviews") == 0)

            let sent = try await h.staffPost(rita, "/api/v1/cases/\(reference)/interviews", Self.invitation(h))
            let id = try #require(sent.json["id"] as? String)
            let answers: [(String, [String: Any], Int, String)] = [
                (id, [:], 400, "missing-field"), (id, ["action": "maybe"], 400, "invalid-value"),
                (id, ["action": "accept"], 400, "missing-field"), (id, ["action": "accept", "time": past], 400, "invalid-value"),
                (id, ["action": "accept", "time": times[0], "question": "x"], 400, "unexpected-field"),
                (id, ["action": "ask"], 400, "missing-field"), (id, ["action": "propose-times"], 400, "missing-field"),
                (id, ["action": "withdraw"], 409, "not-accepted"),
                (id, ["action": "accept", "time": times[0], "requests": ["interviewer": "robot"]], 400, "invalid-value"),
                (id, ["action": "accept", "time": times[0], "requests": ["pets": true]], 400, "unknown-field"),
                (id, ["action": "accept", "time": times[0], "requests": ["supporter": "yes"]], 400, "wrong-type"),
                (id, ["action": "decline", "reason": "busy"], 400, "unknown-field"),
                (String(repeating: "0", count: 32), ["action": "decline"], 404, "not-found"), ("nothex", ["action": "decline"], 404, "not-found"),
            ]
            for (target, json, status, code) in answers {
                let reply = try await h.intake.send(.POST, "/api/v1/me/interviews/\(target)/answer", json: json, receipt: receipt)
                #expect(reply.status == status && reply.json["code"] as? String == code, "\(json): \(reply.status) \(reply.text)")
            }
            #expect(try await h.count("SELECT count(*) FROM interviews WHERE state = 'invited' AND revision = 0") == 1, "nothing changed")
            let unsigned = try await h.intake.send(.POST, "/api/v1/me/interviews/\(id)/answer", json: ["action": "decline"])
            #expect(unsigned.status == 401, "a receipt is needed")

            // Accepted: only a withdrawal changes it.
            #expect(
                try await h.intake.send(.POST, "/api/v1/me/interviews/\(id)/answer", json: ["action": "accept", "time": times[0]], receipt: receipt)
                    .status == 200)
            let changed = try await h.intake.send(.POST, "/api/v1/me/interviews/\(id)/answer", json: ["action": "decline"], receipt: receipt)
            #expect(changed.status == 409 && changed.json["code"] as? String == "interview-accepted", "\(changed.text)")
        }
    }
}
