import Foundation
import HearthCore
import HearthTestSupport
import Testing

/// "Pause contact" on "Your request" (SECURITY.md §4): pausing until a day or until resumed,
/// resuming, and a bad date said plainly without changing anything.
@Suite("Pausing contact on the survivor pages")
struct PausePageTests {
    @Test("the page explains a pause, pauses until a day or until resumed, resumes, and refuses a bad date plainly")
    func pauseOnThePage() async throws {
        try await IntakeHarness.with { h in
            let (_, receipt) = try await h.submit(sampleRequest(consents: [["scope": "support"]]))
            func paused() async throws -> ContactPause? { try await h.service.pause(h.service.authenticate(receipt: receipt)) }
            try await h.withBrowser { b in
                try await b.signIn(receipt)
                let mine = try await b.get("/your-request")
                #expect(mine.text.contains(#"id="pause-contact""#) && mine.text.contains("you do not need to give a reason"))
                let bad = try await b.post("/your-request/pause", [("until", "next week")])
                #expect(bad.status == 400 && bad.text.contains(##"href="#pause-until""##) && bad.text.contains(#"value="next week""#))
                let past = try await b.post("/your-request/pause", [("until", h.service.today.adding(days: -1).description)])
                #expect(past.status == 400 && past.text.contains("today or later"))
                #expect(try await paused() == nil, "nothing changed")

                let until = h.service.today.adding(days: 10)
                let done = try await b.post("/your-request/pause", [("until", until.description)])
                #expect(done.status == 303 && done.headers["Location"].first == "/your-request#pause")
                #expect(try await paused() == ContactPause(until: until))
                let shown = try await b.get("/your-request")
                #expect(shown.text.contains(#"<strong class="tag">Paused</strong> until the end of"#) && shown.text.contains(#"id="resume""#))
                #expect(try await b.post("/your-request/resume").status == 303)
                #expect(try await paused() == nil)
                #expect(try await b.post("/your-request/pause", [("until", "")]).status == 303)
                #expect(try await paused() == ContactPause(until: nil))
                #expect(try await b.get("/your-request").text.contains("until you start it again"))
            }
            // Consent is untouched throughout.
            #expect(try await h.consents(receipt) == [ConsentChoice(scope: .support)])
        }
    }
}
