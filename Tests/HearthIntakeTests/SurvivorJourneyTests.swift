import Foundation
import GRDB
import HearthCore
import HearthCrypto
import HearthStore
import HearthTestSupport
import Testing

@Suite("Survivor journey over TLS")
struct SurvivorJourneyTests {
    @Test("survivor submits, reads back, grants police, withdraws it, erases everything", arguments: TestStore.all)
    func fullJourney(store: TestStore) async throws {
        try await IntakeHarness.with(store: store) { h in
            let request = sampleRequest(canary: "journey")
            let (reference, receipt) = try await h.submit(request)
            #expect(reference.hasPrefix("HR-"))
            #expect(try await h.wrapRows(reference: reference).isEmpty, "no scope is assumed")

            // Read back with the receipt, typed in lower case without hyphens.
            let typed = receipt.lowercased().replacingOccurrences(of: "-", with: " ")
            let me = try await h.client.send(.GET, "/api/v1/me", receipt: typed)
            #expect(me.status == 200)
            #expect(me.json["reference"] as? String == reference)
            let body = try #require(me.json["request"] as? [String: Any])
            #expect(body["preferredName"] as? String == "Sam journey")
            #expect(body["account"] as? String == request["account"] as? String)
            #expect((body["contact"] as? [[String: Any]])?.count == 3)
            #expect((me.json["consents"] as? [Any])?.isEmpty == true)

            // Grant police: a wrap appears that the police private key opens to this record's body.
            let granted = try await h.client.send(.POST, "/api/v1/me/consents", json: ["scope": "police"], receipt: receipt)
            #expect(granted.status == 200)
            #expect((granted.json["consents"] as? [[String: Any]])?.map { $0["scope"] as? String } == ["police"])
            let rows = try await h.wrapRows(reference: reference)
            #expect(rows.map(\.scope) == ["police"])
            let record = try #require(try await h.records.caseRecord(id: RecordID(reference: reference)!)?.record)
            let master = try h.keys.loadMasterKey(passphrase: nil)
            let police = try h.keys.loadScopePrivateKey(.police, version: 1, master: master)
            let dek = try Envelope.openScopeWrap(
                rows[0].wrap, with: police, recordID: record.id, scope: .police, keyVersion: 1, commitment: record.commitment)
            let plain = try Envelope.openBody(record.body, with: dek, recordID: record.id, commitment: record.commitment)
            let decoded = try plain.withUnsafeBytes { try JSONDecoder().decode(ContactRequest.self, from: Data($0)) }
            #expect(decoded.preferredName == "Sam journey")
            // The support key cannot open the police wrap.
            let support = try h.keys.loadScopePrivateKey(.support, version: 1, master: master)
            #expect(throws: CryptoError.self) {
                _ = try Envelope.openScopeWrap(
                    rows[0].wrap, with: support, recordID: record.id, scope: .police, keyVersion: 1, commitment: record.commitment)
            }

            // Withdraw: the wrap row is gone in the same request; the history shows both.
            let withdrawn = try await h.client.send(.DELETE, "/api/v1/me/consents/police", receipt: receipt)
            #expect(withdrawn.status == 200)
            #expect(try await h.wrapRows(reference: reference).isEmpty)
            let after = try await h.client.send(.GET, "/api/v1/me", receipt: receipt)
            let history = try #require(after.json["consentHistory"] as? [[String: Any]])
            #expect(history.map { "\($0["scope"]!)/\($0["action"]!)" } == ["police/granted", "police/withdrawn"])
            let again = try await h.client.send(.DELETE, "/api/v1/me/consents/police", receipt: receipt)
            #expect(again.status == 404)
            #expect(again.json["code"] as? String == "consent-not-live")

            // Erase: every row goes, nothing opens, the receipt is no longer recognised.
            let ciphertext = record.body
            let erased = try await h.client.send(.DELETE, "/api/v1/me", receipt: receipt)
            #expect(erased.status == 204)
            for table in ["records", "consent_wraps", "consent_events"] {
                #expect(try await h.count(table) == 0, "\(table) is empty after erasure")
            }
            #expect(try await h.records.caseRecord(id: record.id) == nil)
            let gone = try await h.client.send(.GET, "/api/v1/me", receipt: receipt)
            #expect(gone.status == 401)
            // SQLite scrubs the erased pages at once. PostgreSQL keeps dead rows until vacuum and the
            // write-ahead log until it is recycled or archived: there the wraps stop opening only
            // once their key version is retired (SECURITY.md §10), which KeyLifecycleTests cover.
            if store == .sqlite {
                let raw = h.databaseBytes()
                #expect(!bytes(raw, contain: Array(ciphertext[30..<62])), "the ciphertext is in neither the database nor its WAL")
                #expect(!bytes(raw, contain: rows[0].wrap), "the withdrawn wrap is in neither the database nor its WAL")
                #expect(fileBytes(h.databasePath + "-wal").isEmpty, "the WAL is truncated after erasure")
            }
        }
    }

    @Test("consents given at submission are wrapped to their scope keys, with expiry kept", arguments: TestStore.all)
    func consentsAtSubmission(store: TestStore) async throws {
        try await IntakeHarness.with(store: store) { h in
            let expires = Day(unixSeconds: h.clock.unixSeconds()).adding(days: 30).description
            let reply = try await h.client.send(
                .POST, "/api/v1/contact-requests",
                json: sampleRequest(consents: [["scope": "support"], ["scope": "review", "expires": expires]]))
            #expect(reply.status == 201)
            let consents = try #require(reply.json["consents"] as? [[String: Any]])
            #expect(consents.count == 2)
            let retention = try #require(reply.json["retention"] as? [String: Any])
            #expect(retention["days"] as? Int == 30)
            let receipt = try #require(reply.json["receipt"] as? String)
            #expect(Receipt(parsing: receipt) != nil)
            let rows = try await h.wrapRows(reference: reply.json["reference"] as! String)
            #expect(Set(rows.map(\.scope)) == ["support", "review"])
            #expect(rows.allSatisfy { $0.version == 1 && $0.wrap.count == Envelope.consentWrapByteCount })
            let me = try await h.client.send(.GET, "/api/v1/me", receipt: receipt)
            let live = try #require(me.json["consents"] as? [[String: Any]])
            #expect(live.first { $0["scope"] as? String == "review" }?["expires"] as? String == expires)
        }
    }

    @Test("a consent past its expiry counts as withdrawn: the first request that sees it deletes the wrap", arguments: TestStore.all)
    func expiredConsentIsWithdrawnOnRead(store: TestStore) async throws {
        try await IntakeHarness.with(store: store) { h in
            let today = Day(unixSeconds: h.clock.unixSeconds())
            let (reference, receipt) = try await h.submit(sampleRequest(consents: [["scope": "police", "expires": today.description]]))
            #expect(try await h.wrapRows(reference: reference).count == 1)
            h.clock.advance(days: 1)  // expiry day itself has ended
            let me = try await h.client.send(.GET, "/api/v1/me", receipt: receipt)
            #expect((me.json["consents"] as? [Any])?.isEmpty == true)
            #expect(try await h.wrapRows(reference: reference).isEmpty)
            let history = try #require(me.json["consentHistory"] as? [[String: Any]])
            #expect(history.last?["action"] as? String == "expired")
        }
    }

    @Test("the periodic sweep withdraws expired consents nobody has looked at")
    func sweepWithdrawsExpired() async throws {
        try await IntakeHarness.with { h in
            let today = Day(unixSeconds: h.clock.unixSeconds())
            let (a, _) = try await h.submit(sampleRequest(consents: [["scope": "support", "expires": today.description]]))
            let (b, _) = try await h.submit(sampleRequest(consents: [["scope": "support", "expires": today.adding(days: 5).description]]))
            #expect(try await h.assembly.retention.sweepExpiredConsents() == 0)
            h.clock.advance(days: 1)
            #expect(try await h.assembly.retention.sweepExpiredConsents() == 1)
            #expect(try await h.wrapRows(reference: a).isEmpty)
            #expect(try await h.wrapRows(reference: b).count == 1)
        }
    }

    @Test("granting again replaces the wrap and changes the expiry; other scopes are untouched", arguments: TestStore.all)
    func regrantChangesExpiry(store: TestStore) async throws {
        try await IntakeHarness.with(store: store) { h in
            let (reference, receipt) = try await h.submit(sampleRequest(consents: [["scope": "support"], ["scope": "review"]]))
            let before = try await h.wrapRows(reference: reference)
            let expires = Day(unixSeconds: h.clock.unixSeconds()).adding(days: 10).description
            let reply = try await h.client.send(.POST, "/api/v1/me/consents", json: ["scope": "review", "expires": expires], receipt: receipt)
            #expect(reply.status == 200)
            let after = try await h.wrapRows(reference: reference)
            #expect(after.first { $0.scope == "support" }?.wrap == before.first { $0.scope == "support" }?.wrap)
            #expect(after.first { $0.scope == "review" }?.wrap != before.first { $0.scope == "review" }?.wrap)
        }
    }

    @Test("fifty concurrent submissions are each acknowledged and each opens with its own receipt", arguments: TestStore.all)
    func concurrentSubmissions(store: TestStore) async throws {
        try await IntakeHarness.with(store: store) { h in
            let results = try await withThrowingTaskGroup(of: (String, String).self) { group in
                for i in 0..<50 {
                    group.addTask { try await h.submit(sampleRequest(canary: "c\(i)")) }
                }
                return try await group.reduce(into: [(String, String)]()) { $0.append($1) }
            }
            #expect(results.count == 50)
            #expect(try await h.count("records") == 50)
            for (reference, receipt) in results.prefix(10) {
                let me = try await h.client.send(.GET, "/api/v1/me", receipt: receipt)
                #expect(me.json["reference"] as? String == reference)
            }
        }
    }

    @Test("the OpenAPI document is served and describes every survivor route")
    func openAPIServed() async throws {
        try await IntakeHarness.with { h in
            let reply = try await h.client.send(.GET, "/api/v1/openapi.json")
            #expect(reply.status == 200)
            let paths = try #require(reply.json["paths"] as? [String: Any])
            for p in [
                "/api/v1/contact-requests", "/api/v1/me", "/api/v1/me/consents", "/api/v1/me/consents/{scope}", "/healthz", "/api/v1/transparency",
                "/api/v1/me/interviews", "/api/v1/me/interviews/{id}/answer",
            ] {
                #expect(paths[p] != nil, "\(p) is documented")
            }
        }
    }
}

@Suite("Retention")
struct RetentionTests {
    @Test("a record with no live consent for the retention period is crypto-shredded; one with consent stays")
    func retentionShredsUnconsented() async throws {
        try await IntakeHarness.with { h in
            let (_, lonely) = try await h.submit(sampleRequest())
            let (_, consented) = try await h.submit(sampleRequest(consents: [["scope": "support"]]))
            let (_, withdrawnLater) = try await h.submit(sampleRequest(consents: [["scope": "review"]]))
            h.clock.advance(days: 20)
            #expect(try await h.client.send(.DELETE, "/api/v1/me/consents/review", receipt: withdrawnLater).status == 200)
            #expect(try await h.assembly.retention.applyRetention() == 0)
            h.clock.advance(days: 11)  // 31 days after submission, 11 after the withdrawal
            #expect(try await h.assembly.retention.applyRetention() == 1)
            #expect(try await h.client.send(.GET, "/api/v1/me", receipt: lonely).status == 401)
            #expect(try await h.client.send(.GET, "/api/v1/me", receipt: consented).status == 200)
            #expect(try await h.client.send(.GET, "/api/v1/me", receipt: withdrawnLater).status == 200)
            h.clock.advance(days: 20)
            #expect(try await h.assembly.retention.applyRetention() == 1)
            #expect(try await h.client.send(.GET, "/api/v1/me", receipt: withdrawnLater).status == 401)
            #expect(try await h.count("records") == 1)
            #expect(fileBytes(h.databasePath + "-wal").isEmpty)
        }
    }
}
