import Foundation
import GRDB
import HearthCore
@_spi(Inspection) import HearthStore
import HearthTestSupport
import Testing

/// A consent wrap is bound to its grant (SECURITY.md §3.19): a saved copy put back after the
/// survivor withdrew, by anyone who can write the database, opens for no one.
@Suite("No resurrected consent")
struct ResurrectedConsentTests {
    @Test("copy a wrap row, withdraw, put the copy back as the database owner: opening is refused and audited", arguments: TestStore.all)
    func savedWrapDoesNotOpenAgain(store: TestStore) async throws {
        try await CaseworkHarness.with(store: store) { h in
            let supervisor = try await h.readyStaff("sue", .supervisor)
            let alice = try await h.readyStaff("alice", .caseworker)
            let (reference, receipt) = try await h.submit(consents: ["support"])
            #expect(try await h.staffPost(supervisor, "/api/v1/cases/\(reference)/assign", ["staff": "alice"]).status == 200)
            #expect(try await h.staffPost(alice, "/api/v1/cases/\(reference)/open", ["reason": "first contact"]).status == 200)

            // The attacker's copy of the row, taken while consent was live.
            let saved = try await h.wrapRow(reference: reference, scope: "support")
            #expect(try await h.intake.send(.DELETE, "/api/v1/me/consents/support", receipt: receipt).status == 200)
            #expect(try await h.wrapRow(reference: reference, scope: "support") == nil, "withdrawal deleted the wrap")

            try await h.putBackAsOwner(saved)
            #expect(try await h.wrapRow(reference: reference, scope: "support") != nil, "the copy is back in the table")

            let refused = try await h.staffPost(alice, "/api/v1/cases/\(reference)/open", ["reason": "trying again"])
            #expect(refused.status == 403, "\(refused.text)")
            #expect(refused.json["code"] as? String == "no-consent")
            #expect(!refused.text.contains("Sam"), "nothing of the request is shown")
            let reply = try await h.staffPost(alice, "/api/v1/cases/\(reference)/replies", ["text": "hello again"])
            #expect(reply.status == 403)
            let queue = try await h.staffClient.send(.GET, "/api/v1/cases", headers: supervisor.bearer)
            let listed = (queue.json["cases"] as? [[String: Any]])?.first { $0["reference"] as? String == reference }
            #expect(listed?["liveScopes"] as? [String] == [], "the queue shows no live consent")
            let me = try await h.intake.send(.GET, "/api/v1/me", receipt: receipt)
            #expect((me.json["consents"] as? [Any])?.isEmpty == true, "the survivor sees no consent either")

            let opens = try await h.auditRows().filter { $0.action == "case.open" && $0.subject == reference }.map(\.outcome)
            #expect(opens == ["ok", "no-consent"], "the refused opening is audited")

            // Withdrawing again ends nothing (nothing was live), and clears the copy away.
            let again = try await h.intake.send(.DELETE, "/api/v1/me/consents/support", receipt: receipt)
            #expect(again.status == 404 && again.json["code"] as? String == "consent-not-live", "\(again.text)")
            #expect(try await h.wrapRow(reference: reference, scope: "support") == nil, "the copy is gone")
            let history = (try await h.intake.send(.GET, "/api/v1/me", receipt: receipt).json["consentHistory"] as? [[String: Any]]) ?? []
            #expect(history.compactMap { $0["action"] as? String } == ["granted", "withdrawn"], "one grant, one withdrawal: \(history)")
        }
    }
}

/// A consent wrap row as stored, with the grant it was bound to.
struct SavedWrap: Equatable, Sendable {
    let recordRowID: Int64
    let scope: String
    let keyVersion: Int64
    let wrap: [UInt8]
    /// The conversation wrap stored beside it (SECURITY.md §3.13), saved and put back with it.
    let conversationWrap: [UInt8]
    let grant: Int64
}

extension CaseworkHarness {
    /// The stored wrap row for `scope` of the case `reference`, or nil.
    func wrapRow(reference: String, scope: String) async throws -> SavedWrap? {
        let id = RecordID(reference: reference)!.bytes
        if let postgres {
            let rows = try await postgres.asOwner(
                """
                SELECT record_rid, scope, key_version, encode(wrap, 'hex'), grant_seq, encode(conversation_wrap, 'hex') FROM consent_wraps
                WHERE scope = '\(scope)' AND record_rid = (SELECT rid FROM records WHERE id = '\\x\(hex(id))')
                """)
            return rows.first.map { r in
                SavedWrap(
                    recordRowID: Int64(r[0] ?? "") ?? 0, scope: r[1] ?? "", keyVersion: Int64(r[2] ?? "") ?? 0, wrap: bytes(hex: r[3] ?? "") ?? [],
                    conversationWrap: bytes(hex: r[5] ?? "") ?? [], grant: Int64(r[4] ?? "") ?? 0)
            }
        }
        return try await store.inspect { db in
            try Row.fetchOne(
                db,
                sql: """
                    SELECT record_rid, scope, key_version, wrap, conversation_wrap, grant_seq FROM consent_wraps
                    WHERE scope = ? AND record_rid = (SELECT rid FROM records WHERE id = ?)
                    """, arguments: [scope, Data(id)]
            ).map { r in
                let wrap: Data = r["wrap"]
                let conversation: Data = r["conversation_wrap"]
                return SavedWrap(
                    recordRowID: r["record_rid"], scope: r["scope"], keyVersion: r["key_version"], wrap: Array(wrap),
                    conversationWrap: Array(conversation), grant: r["grant_seq"])
            }
        }
    }

    /// Inserts `saved` again behind Hearth's back, as the database owner would.
    func putBackAsOwner(_ saved: SavedWrap?) async throws {
        guard let saved else { throw HarnessError("no wrap was saved") }
        if let postgres {
            try await postgres.asOwner(
                """
                INSERT INTO consent_wraps (record_rid, scope, key_version, wrap, conversation_wrap, grant_seq)
                VALUES (\(saved.recordRowID), '\(saved.scope)', \(saved.keyVersion), '\\x\(hex(saved.wrap))',
                        '\\x\(hex(saved.conversationWrap))', \(saved.grant))
                """)
            return
        }
        try await store.tamper { db in
            try db.execute(
                sql: "INSERT INTO consent_wraps (record_rid, scope, key_version, wrap, conversation_wrap, grant_seq) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [saved.recordRowID, saved.scope, saved.keyVersion, Data(saved.wrap), Data(saved.conversationWrap), saved.grant])
        }
    }
}
