import Foundation
import HearthCore
import HearthTestSupport
import Testing

/// A conversation per group (SECURITY.md §3.13), over TLS on both listeners: each group's staff
/// read the request and their own group's conversation only; a withdrawal closes that group's
/// conversation to its staff, and a new consent opens it again.
@Suite("A conversation per group over TLS")
struct ConversationTests {
    /// The texts of an opened case's messages.
    static func texts(_ reply: TestHTTPSClient.Reply) -> [String] {
        (reply.json["messages"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
    }

    @Test(
        "a police liaison with police consent reads the request and the police conversation, never the support one; the survivor reads both, each named",
        arguments: TestStore.all)
    func policeCannotReadTheSupportConversation(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let sue = try await h.readyStaff("sue", .supervisor)
            let alice = try await h.readyStaff("alice", .caseworker)
            let paul = try await h.readyStaff("paul", .policeLiaison)
            let (reference, receipt) = try await h.submit(consents: ["support", "police"])
            let toSupport = "only for support: I am frightened of the police"
            let toPolice = "for the police: the dates are in my diary"
            for (group, text) in [("support", toSupport), ("police", toPolice)] {
                let sent = try await h.intake.send(.POST, "/api/v1/me/messages", json: ["group": group, "text": text], receipt: receipt)
                #expect(sent.status == 201, "\(sent.text)")
            }

            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "alice"]).status == 200)
            let byAlice = try await h.staffPost(alice, "/api/v1/cases/\(reference)/open", ["reason": "first contact to offer support"])
            #expect(byAlice.status == 200, "\(byAlice.text)")
            #expect(byAlice.json["group"] as? String == "support")
            #expect(Self.texts(byAlice) == [toSupport])
            #expect(try await h.staffPost(alice, "/api/v1/cases/\(reference)/replies", ["text": "Alice here, from support."]).status == 201)

            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "paul"]).status == 200)
            let byPaul = try await h.staffPost(paul, "/api/v1/cases/\(reference)/open", ["reason": "about the reopened investigation"])
            #expect(byPaul.status == 200, "\(byPaul.text)")
            #expect(byPaul.json["group"] as? String == "police")
            #expect(byPaul.json["request"] != nil, "the request itself is shared with every group with consent")
            #expect(Self.texts(byPaul) == [toPolice])
            #expect(!byPaul.text.contains("frightened") && !byPaul.text.contains("Alice here"), "nothing of the support conversation")
            #expect(try await h.staffPost(paul, "/api/v1/cases/\(reference)/replies", ["text": "Paul here, from the police."]).status == 201)
            let again = try await h.staffPost(paul, "/api/v1/cases/\(reference)/open", ["reason": "reading the reply"])
            #expect(Self.texts(again) == [toPolice, "Paul here, from the police."], "a liaison's reply goes to their own group")

            let mine = try await h.intake.send(.GET, "/api/v1/me/messages", receipt: receipt)
            let messages = try #require(mine.json["messages"] as? [[String: Any]])
            let byGroup = messages.map { "\($0["group"] as? String ?? "?"): \($0["text"] as? String ?? "?")" }
            #expect(
                byGroup == [
                    "support: \(toSupport)", "police: \(toPolice)", "support: Alice here, from support.", "police: Paul here, from the police.",
                ])
            // Each group's messages are in the store under that group, sealed: never in clear.
            #expect(try await h.count("SELECT count(*) FROM messages WHERE scope = 'support'") == 2)
            #expect(try await h.count("SELECT count(*) FROM messages WHERE scope = 'police'") == 2)
            let stored = try await h.storedBytes()
            for text in [toSupport, toPolice] { #expect(!bytes(stored, contain: Array(text.utf8)), "a message is in clear on disk") }
        }
    }

    @Test(
        "after police consent is withdrawn the police conversation opens for no one at the police; a new consent opens it again, whole",
        arguments: TestStore.all)
    func withdrawalClosesTheConversation(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let sue = try await h.readyStaff("sue", .supervisor)
            let paul = try await h.readyStaff("paul", .policeLiaison)
            let (reference, receipt) = try await h.submit(consents: ["police"])
            #expect(
                try await h.intake.send(.POST, "/api/v1/me/messages", json: ["group": "police", "text": "before"], receipt: receipt).status == 201)
            #expect(try await h.staffPost(sue, "/api/v1/cases/\(reference)/assign", ["staff": "paul"]).status == 200)
            #expect(Self.texts(try await h.staffPost(paul, "/api/v1/cases/\(reference)/open", ["reason": "first contact"])) == ["before"])

            #expect(try await h.intake.send(.DELETE, "/api/v1/me/consents/police", receipt: receipt).status == 200)
            #expect(try await h.count("SELECT count(*) FROM consent_wraps") == 0, "the consent wrap and its conversation wrap are gone")
            let refused = try await h.staffPost(paul, "/api/v1/cases/\(reference)/open", ["reason": "follow up"])
            #expect(refused.status == 403 && refused.json["code"] as? String == "no-consent")
            #expect(!refused.text.contains("before"))
            let reply = try await h.staffPost(paul, "/api/v1/cases/\(reference)/replies", ["text": "still there?"])
            #expect(reply.status == 403 && reply.json["code"] as? String == "no-consent")
            // The survivor still reads it, but cannot write to a group they no longer share with.
            let mine = try await h.intake.send(.GET, "/api/v1/me/messages", receipt: receipt)
            #expect((mine.json["messages"] as? [[String: Any]])?.compactMap { $0["text"] as? String } == ["before"])
            let notShared = try await h.intake.send(.POST, "/api/v1/me/messages", json: ["group": "police", "text": "after"], receipt: receipt)
            #expect(notShared.status == 409 && notShared.json["code"] as? String == "consent-not-live", "\(notShared.text)")
            #expect(try await h.count("SELECT count(*) FROM messages") == 1, "nothing was written")

            // Sharing again: the conversation key comes from the receipt, so the whole conversation opens again.
            #expect(try await h.intake.send(.POST, "/api/v1/me/consents", json: ["scope": "police"], receipt: receipt).status == 200)
            #expect(Self.texts(try await h.staffPost(paul, "/api/v1/cases/\(reference)/open", ["reason": "they shared again"])) == ["before"])
        }
    }

    @Test("POST /api/v1/me/messages: a missing, unknown or unshared group gets a plain 4xx and writes nothing")
    func badGroups() async throws {
        try await CaseworkHarness.with { h in
            let (_, receipt) = try await h.submit(consents: ["support"])
            let cases: [([String: Any], Int, String)] = [
                (["text": "hello"], 400, "missing-field"), (["group": "everyone", "text": "hello"], 400, "invalid-value"),
                (["group": 3, "text": "hello"], 400, "wrong-type"), (["group": "review", "text": "hello"], 409, "consent-not-live"),
                (["group": "support"], 400, "missing-field"),
            ]
            for (json, status, code) in cases {
                let reply = try await h.intake.send(.POST, "/api/v1/me/messages", json: json, receipt: receipt)
                #expect(reply.status == status && reply.json["code"] as? String == code, "\(json): \(reply.status) \(reply.text)")
            }
            #expect(try await h.count("SELECT count(*) FROM messages") == 0)
        }
    }
}
