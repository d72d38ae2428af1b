import HearthCore
import HearthTestSupport
import Testing

@Suite("Survivor page sessions keep what the receipt derives, never the receipt")
struct SessionSecretsTests {
    @Test("the session value holds no receipt, yet serves the request until the record is erased")
    func sessionHoldsNoReceipt() async throws {
        try await IntakeHarness.with { h in
            let (reference, receipt) = try await h.submit(sampleRequest(canary: "session-canary", consents: [["scope": "support"]]))
            let survivor = try await h.service.authenticate(receipt: receipt)
            let children = Mirror(reflecting: survivor).children
            #expect(children.contains { $0.label == "session" })
            for child in children {
                #expect(!(child.value is Receipt), "\(child.label ?? "?") is a receipt")
                #expect(!"\(child.value)".contains(receipt), "\(child.label ?? "?") shows the receipt")
            }
            // What the page session table keeps (SurvivorPages stores `survivor.session`).
            let session = survivor.session
            let resumed = try await h.service.resume(session)
            #expect(resumed.reference == reference)
            #expect(try await h.service.view(resumed).request.account?.contains("session-canary") == true, "it still opens the record")
            try await h.service.erase(resumed)
            await #expect(throws: Problem.receiptNotRecognised) { _ = try await h.service.resume(session) }
        }
    }
}
