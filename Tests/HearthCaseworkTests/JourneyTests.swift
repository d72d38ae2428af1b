import Foundation
import HearthCore
import HearthTestSupport
import Testing

@Suite("Casework journey over TLS")
struct CaseworkJourneyTests {
    @Test(
        "support consent → assigned → opened and replied → survivor reads and writes back → withdraws → refused at once; one opening logged",
        arguments: TestStore.all)
    func fullJourney(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let supervisor = try await h.readyStaff("sue", .supervisor)
            let alice = try await h.readyStaff("alice", .caseworker)
            let (reference, receipt) = try await h.submit(consents: ["support"])

            let queue = try await h.staffClient.send(.GET, "/api/v1/cases", headers: supervisor.bearer)
            #expect(queue.status == 200)
            let cases = try #require(queue.json["cases"] as? [[String: Any]])
            #expect(cases.first?["reference"] as? String == reference)
            #expect(cases.first?["liveScopes"] as? [String] == ["support"])
            #expect(cases.first?["request"] == nil, "the queue is metadata only")

            let assigned = try await h.staffPost(supervisor, "/api/v1/cases/\(reference)/assign", ["staff": "alice"])
            #expect(assigned.status == 200)
            let opened = try await h.staffPost(alice, "/api/v1/cases/\(reference)/open", ["reason": "first contact to offer support"])
            #expect(opened.status == 200, "\(opened.text)")
            let request = try #require(opened.json["request"] as? [String: Any])
            #expect(request["preferredName"] as? String == "Sam ")
            let replied = try await h.staffPost(alice, "/api/v1/cases/\(reference)/replies", ["text": "Hello Sam, I am Alice from the support team."])
            #expect(replied.status == 201)

            let thread = try await h.intake.send(.GET, "/api/v1/me/messages", receipt: receipt)
            let messages = try #require(thread.json["messages"] as? [[String: Any]])
            #expect(messages.count == 1)
            #expect(messages.first?["text"] as? String == "Hello Sam, I am Alice from the support team.")
            #expect(messages.first?["author"] as? String == "staff")
            #expect((messages.first?["pseudonym"] as? String)?.hasPrefix("caseworker-") == true)
            #expect(messages.first?["pseudonym"] as? String != "alice", "survivors see a pseudonym, not a username")

            let written = try await h.intake.send(
                .POST, "/api/v1/me/messages", json: ["group": "support", "text": "Thank you. Evenings are best."], receipt: receipt)
            #expect(written.status == 201)
            #expect(try await h.count("SELECT count(*) FROM messages") == 2, "the reply and the survivor's message are both in the thread")

            // Withdrawal takes effect at once for the same session.
            #expect(try await h.intake.send(.DELETE, "/api/v1/me/consents/support", receipt: receipt).status == 200)
            let refused = try await h.staffPost(alice, "/api/v1/cases/\(reference)/open", ["reason": "follow up"])
            #expect(refused.status == 403)
            #expect(refused.json["code"] as? String == "no-consent")
            let refusedReply = try await h.staffPost(alice, "/api/v1/cases/\(reference)/replies", ["text": "still there?"])
            #expect(refusedReply.status == 403)

            let access = try await h.intake.send(.GET, "/api/v1/me/access", receipt: receipt)
            let entries = try #require(access.json["access"] as? [[String: Any]])
            #expect(entries.count == 1, "exactly the one opening; refusals are not openings: \(entries)")
            #expect(entries.first?["reason"] as? String == "first contact to offer support")
            #expect(entries.first?["role"] as? String == "caseworker")
        }
    }
}
