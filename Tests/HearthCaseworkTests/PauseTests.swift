import Foundation
import HearthCore
import HearthTestSupport
import Testing

/// Pauses (SECURITY.md §4, §5): the survivor pauses all contact until a day or until they resume;
/// staff see it in the queue and on the case, replies are refused with 409 `contact-paused`
/// (audited without content), and nothing else changes.
@Suite("Pausing contact over TLS")
struct PauseTests {
    @Test(
        "paused until resumed: queue and case page say so, a reply is refused and audited, opening and consent are unchanged; resuming lets replies through",
        arguments: TestStore.all)
    func pauseAndResume(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let sue = try await h.readyStaff("sue", .supervisor)
            let alice = try await h.readyStaff("alice", .caseworker)
            let (reference, receipt) = try await h.submit(consents: ["support"])
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "alice"]).status == 200)

            let paused = try await h.intake.send(.PUT, "/api/v1/me/pause", json: ["until": NSNull()], receipt: receipt)
            #expect(paused.status == 200 && paused.json["paused"] as? Bool == true && paused.json["until"] is NSNull, "\(paused.text)")
            let queue = try await h.staffClient.send(.GET, "/api/v1/cases", headers: sue.bearer)
            let row = try #require((queue.json["cases"] as? [[String: Any]])?.first)
            #expect(row["paused"] as? Bool == true && row["pausedUntil"] == nil, "\(queue.text)")
            let b = h.browser()
            try await h.pageSignIn(b, sue)
            #expect(try await b.get("/cases").text.contains("paused (until they resume)"), "the queue page says paused")
            #expect(try await b.get("/cases/\(reference)").text.contains(#"id="paused">paused (until they resume)"#), "so does the case page")

            let refused = try await h.staffPost(alice, "/api/v1/cases/\(reference)/replies", ["text": "Hello, are you free?"])
            #expect(refused.status == 409 && refused.json["code"] as? String == "contact-paused", "\(refused.text)")
            #expect(try await h.count("SELECT count(*) FROM messages") == 0, "nothing was sent")
            let audit = try await h.auditRows()
            #expect(audit.contains { $0.action == "case.reply" && $0.outcome == "contact-paused" && $0.subject == reference })
            #expect(audit.contains { $0.action == "contact.pause" && $0.actor == "survivor" && $0.subject == reference })
            #expect(!audit.contains { $0.outcome.contains("Hello") }, "no content in the audit")

            // Nothing else changes: the case opens (and shows the pause), consent stays.
            let opened = try await h.staffPost(alice, "/api/v1/cases/\(reference)/open", ["reason": "checking the case"])
            #expect(opened.status == 200)
            #expect((try await h.intake.send(.GET, "/api/v1/me", receipt: receipt).json["consents"] as? [[String: Any]])?.count == 1)

            #expect(try await h.intake.send(.DELETE, "/api/v1/me/pause", receipt: receipt).status == 204)
            #expect(try await h.intake.send(.DELETE, "/api/v1/me/pause", receipt: receipt).status == 204, "resuming twice is not an error")
            #expect(try await h.staffPost(alice, "/api/v1/cases/\(reference)/replies", ["text": "Hello, are you free?"]).status == 201)
            #expect(try await h.auditRows().filter { $0.action == "contact.resume" }.count == 1)
        }
    }

    @Test("paused until a day: live through that day, over the day after; bad dates are refused plainly and change nothing")
    func pauseUntilADay() async throws {
        try await CaseworkHarness.with { h in
            let sue = try await h.readyStaff("sue", .supervisor)
            var alice = try await h.readyStaff("alice", .caseworker)
            let (reference, receipt) = try await h.submit(consents: ["support"])
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "alice"]).status == 200)
            /// Days pass: staff sessions end after 12 hours, so alice signs in again.
            func later(days: Int) async throws {
                h.clock.advance(days: days)
                let signedIn = try await h.login(alice)
                alice.token = try #require(signedIn.json["token"] as? String, "\(signedIn.text)")
            }
            let today = Day(unixSeconds: h.clock.unixSeconds())
            for (json, code) in [
                (["until": "31/12/2030"], "invalid-value"), (["until": today.adding(days: -1).description], "invalid-value"),
                (["until": today.adding(days: 4000).description], "invalid-value"), (["until": 5], "wrong-type"),
                ([String: Any](), "missing-field"), (["until": "2030-01-01", "reason": "x"], "unknown-field"),
            ] as [([String: Any], String)] {
                let reply = try await h.intake.send(.PUT, "/api/v1/me/pause", json: json, receipt: receipt)
                #expect(reply.status == 400 && reply.json["code"] as? String == code, "\(json): \(reply.text)")
            }
            #expect(try await h.count("SELECT count(*) FROM records WHERE paused != 0") == 0, "nothing changed")

            let until = today.adding(days: 2)
            let paused = try await h.intake.send(.PUT, "/api/v1/me/pause", json: ["until": until.description], receipt: receipt)
            #expect(paused.status == 200 && paused.json["until"] as? String == until.description)
            #expect(try await h.count("SELECT count(*) FROM records WHERE paused_until = '\(until)'") == 1, "the end date is clear metadata")
            try await later(days: 2)
            #expect(try await h.staffPost(alice, "/api/v1/cases/\(reference)/replies", ["text": "hello"]).status == 409, "live through its last day")
            try await later(days: 1)
            #expect(try await h.staffPost(alice, "/api/v1/cases/\(reference)/replies", ["text": "hello"]).status == 201, "over the day after")
        }
    }
}
