import Foundation
import HearthCore
@_spi(Inspection) import HearthStore
import HearthTestSupport
import Testing

/// Invariant 5 over TLS (issue 10, point 5): the 201 with its receipt leaves only after the
/// submission's transaction is durably committed. The store's COMMIT is held (or failed) on
/// purpose inside SQLite, before the WAL is synced, so an early reply would be seen.
@Suite("Durable acknowledgement over TLS")
struct DurableAcknowledgementTests {
    @Test func no201WhileTheCommitIsHeldAndNoneWhenItFails() async throws {
        try await IntakeHarness.with { h in
            let gate = CommitGate(.holdNext)
            try await h.store.setCommitHook { try gate.willCommit() }
            let replied = Acknowledgements()
            let post = Task {
                let reply = try await h.client.send(.POST, "/api/v1/contact-requests", json: sampleRequest())
                replied.note("\(reply.status)")
                return reply
            }
            // Generous: a TLS handshake and a request on a loaded two-core machine can take seconds.
            #expect(try await gate.waitUntilHeld(seconds: 90), "the submission never reached COMMIT")
            try await Task.sleep(for: .milliseconds(500))
            #expect(replied.all.isEmpty, "a reply left before the commit was durable")
            #expect(try await h.count("records") == 0)

            gate.release()
            let reply = try await post.value
            #expect(reply.status == 201, "\(reply.text)")
            #expect(try await h.count("records") == 1)
            let receipt = try #require(reply.json["receipt"] as? String)
            #expect(try await h.client.send(.GET, "/api/v1/me", receipt: receipt).status == 200)

            // A commit that fails acknowledges nothing: no 201, no receipt, nothing stored.
            gate.set(.failAll)
            let failed = try await h.client.send(.POST, "/api/v1/contact-requests", json: sampleRequest())
            #expect(failed.status >= 500, "\(failed.status) \(failed.text)")
            #expect(failed.json["receipt"] == nil)
            #expect(gate.refused >= 1)
            #expect(try await h.count("records") == 1)
            try await h.store.setCommitHook(nil)
        }
    }
}
