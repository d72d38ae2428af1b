import Foundation
import HearthCore
import HearthHTTP
import HearthIntake
import HearthTestSupport
import Synchronization
import Testing

/// The answers of a whole, valid contact form.
private let formAnswers: [(String, String)] = [
    ("preferredName", "Sam Flood"), ("contactMethod", "phone"), ("contactValue", "07700 900123"), ("safeTimes", "weekday mornings"),
    ("mayLeaveMessage", "no"), ("region", "north-west"), ("wants", "support"), ("consent", "support"),
]

@Suite("Flood control: submission budgets (429) and the disk guard (503), over TLS")
struct FloodControlTests {
    /// Limits with the given budgets and no disk guard.
    static func budgets(source: Int, global: Int) -> SubmissionLimits {
        var l = SubmissionLimits()
        l.perSourceBurst = source
        l.perSourcePerMinute = 0.01
        l.globalBurst = global
        l.globalPerMinute = 0.01
        l.minFreeDiskBytes = 0
        return l
    }

    /// Goes through the contact form to "Check your answers" and returns the fields `POST /request/send` takes.
    static func checkedForm(_ b: PageBrowser) async throws -> [(String, String)] {
        _ = try await b.get("/request")
        let check = try await b.post("/request", formAnswers)
        #expect(check.status == 200, "\(check.status)")
        return hiddenFields(check.text, action: "/request/send")
    }

    /// A 429 with a whole-second `Retry-After` and the code `rate-limited`.
    static func expectRateLimited(_ r: TestHTTPSClient.Reply, html: Bool, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 429, "\(what): \(r.status) \(r.text)", sourceLocation: sourceLocation)
        let wait = r.headers["Retry-After"].first.flatMap { Int($0) }
        #expect((wait ?? 0) >= 1, "\(what): Retry-After \(r.headers["Retry-After"])", sourceLocation: sourceLocation)
        if html {
            #expect(r.headers["Content-Type"].first == "text/html; charset=utf-8", "\(what)", sourceLocation: sourceLocation)
            #expect(r.text.contains("was not sent") && r.text.contains("wait"), "\(what): a plain page", sourceLocation: sourceLocation)
        } else {
            #expect(r.json["code"] as? String == "rate-limited", "\(what): \(r.text)", sourceLocation: sourceLocation)
        }
    }

    @Test("one source's budget: the API and the page form share it; beyond it 429 with Retry-After (a plain page for the form), nothing stored")
    func perSourceBudget() async throws {
        try await IntakeHarness.with(metrics: true, limits: Self.budgets(source: 2, global: 1000)) { h in
            _ = try await h.submit(sampleRequest(canary: "first"))
            try await h.withBrowser { b in
                let send = try await Self.checkedForm(b)
                let sent = try await b.post("/request/send", send)
                #expect(sent.status == 201, "the second submission, by the form: \(sent.status)")

                let api = try await h.client.send(.POST, "/api/v1/contact-requests", json: sampleRequest(canary: "third"))
                Self.expectRateLimited(api, html: false, "the API beyond the budget")
                let again = try await Self.checkedForm(b)
                let refused = try await b.post("/request/send", again)
                Self.expectRateLimited(refused, html: true, "the form beyond the budget")
                #expect(try await h.count("records") == 2, "nothing was stored beyond the budget")

                // Once the budget is spent, a request is refused before its body is even read.
                let bad = try await h.client.send(.POST, "/api/v1/contact-requests", json: ["preferredName": 7])
                #expect(bad.status == 429, "the budget is checked before the body: \(bad.status)")
            }
            let scrape = try await h.scrape()
            #expect(scrape.value("hearth_submission_refusals_total", ["reason": "source"]) == 3)
            #expect(scrape.value("hearth_submission_refusals_total", ["reason": "global"]) == 0)
            #expect(scrape.value("hearth_submissions_total") == 2)
        }
    }

    @Test("the global budget: beyond it 429 with Retry-After for everyone, nothing stored, counted as global")
    func globalBudget() async throws {
        try await IntakeHarness.with(metrics: true, limits: Self.budgets(source: 1000, global: 2)) { h in
            // Invalid requests spend nothing: the budget is spent only by requests that are stored.
            for _ in 0..<3 {
                #expect(try await h.client.send(.POST, "/api/v1/contact-requests", json: ["preferredName": 7]).status == 400)
            }
            _ = try await h.submit(sampleRequest(canary: "one"))
            _ = try await h.submit(sampleRequest(canary: "two"))
            let third = try await h.client.send(.POST, "/api/v1/contact-requests", json: sampleRequest(canary: "three"))
            Self.expectRateLimited(third, html: false, "beyond the global budget")
            #expect(third.text.contains("very large number of requests"), "\(third.text)")
            #expect(try await h.count("records") == 2)
            let scrape = try await h.scrape()
            #expect(scrape.value("hearth_submission_refusals_total", ["reason": "global"]) == 1)
            #expect(scrape.value("hearth_submission_refusals_total", ["reason": "source"]) == 0)
        }
    }

    @Test(
        "the disk guard: new submissions get 503 (API and form) and nothing is stored, while a survivor with a receipt still reads, withdraws and erases",
        arguments: [
            ("free space under the limit", TestStore.sqlite), ("database over its size limit", .sqlite),
            ("database over its size limit", .postgres),
        ])
    func diskGuard(limit: String, store: TestStore) async throws {
        var limits = Self.budgets(source: 1000, global: 1000)
        limits.diskCheckSeconds = 0
        if limit == "free space under the limit" { limits.minFreeDiskBytes = .max } else { limits.maxDatabaseBytes = 1 }
        try await IntakeHarness.with(store: store, metrics: true, limits: limits) { h in
            // A survivor who came forward before the disk filled: stored through the service itself.
            let json = try JSONSerialization.data(
                withJSONObject: sampleRequest(canary: "before", consents: [["scope": "support"], ["scope": "review"]]))
            let earlier = try await h.service.submit(try Submission.validate(JSONValue.parse(Array(json)), today: h.service.today))
            #expect(try await h.count("records") == 1)

            let api = try await h.client.send(.POST, "/api/v1/contact-requests", json: sampleRequest(canary: "refused"))
            #expect(api.status == 503, "\(api.status) \(api.text)")
            #expect(api.json["code"] as? String == "not-accepting", "\(api.text)")
            #expect(api.headers["Retry-After"].first == "300")
            try await h.withBrowser { b in
                let send = try await Self.checkedForm(b)
                let page = try await b.post("/request/send", send)
                #expect(page.status == 503, "\(page.status)")
                #expect(page.headers["Content-Type"].first == "text/html; charset=utf-8")
                #expect(page.text.contains("cannot take new requests just now") && page.text.contains("receipt"), "a plain page")
            }
            #expect(try await h.count("records") == 1, "nothing new was stored")

            // Returning: read (API and pages), withdraw, erase.
            let me = try await h.client.send(.GET, "/api/v1/me", receipt: earlier.receipt)
            #expect(me.status == 200 && me.text.contains("before"), "\(me.status)")
            try await h.withBrowser { b in
                try await b.signIn(earlier.receipt)
                let page = try await b.get("/your-request")
                #expect(page.status == 200 && page.text.contains("Sam before"), "\(page.status)")
            }
            #expect(try await h.client.send(.DELETE, "/api/v1/me/consents/review", receipt: earlier.receipt).status == 200)
            #expect(try await h.wrapRows(reference: earlier.reference).map(\.scope) == ["support"])
            #expect(try await h.client.send(.DELETE, "/api/v1/me", receipt: earlier.receipt).status == 204)
            #expect(try await h.count("records") == 0, "erased")
            #expect(try await h.scrape().value("hearth_submission_refusals_total", ["reason": "disk"]) == 2)
        }
    }

    @Test("the disk guard reads the disk at most once per interval, however many submissions ask")
    func diskGuardCaches() async throws {
        let reads = Counter()
        var limits = SubmissionLimits()
        limits.diskCheckSeconds = 3600
        let guardian = DiskGuard(limits: limits) {
            reads.increment()
            return DiskReading(freeBytes: 10, databaseBytes: nil)
        }
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 { group.addTask { await guardian.isFull() } }
            for await full in group { #expect(full, "10 bytes free is under 1 GiB") }
        }
        #expect(reads.value == 1)
    }
}

/// A thread-safe count, for the guard's reads.
private final class Counter: Sendable {
    private let count = Mutex(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
