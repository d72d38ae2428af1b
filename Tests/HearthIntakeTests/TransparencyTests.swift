import Foundation
import HearthCore
import HearthTestSupport
import Testing

/// The public transparency record on the intake listener (SECURITY.md §13): the page, the CSV
/// and the JSON serve the months casework stored, with no reference, receipt or exact time.
@Suite("Transparency figures on the intake listener")
struct TransparencyTests {
    @Test(
        "with a published month, /transparency, /transparency.csv and /api/v1/transparency agree, and none carries a reference, receipt or time",
        arguments: TestStore.all)
    func publishedMonthIsServed(store: TestStore) async throws {
        try await IntakeHarness.with(store: store) { h in
            var submitted: [(reference: String, receipt: String)] = []
            for _ in 0..<12 { submitted.append(try await h.submit(sampleRequest(consents: [["scope": "support"]]))) }
            // The casework side publishes the month two hours after it closes.
            let later = TestClock(Month(containing: Day(unixSeconds: h.clock.unixSeconds())).end + 7_200)
            let published = try await TransparencyService(store: h.records, clock: later).publishClosedMonths()
            let month = try #require(published.last)
            #expect(month.requests.total == .count(10))
            #expect(month.consentsLive.figure("support") == .count(10))

            let page = try await h.client.send(.GET, "/transparency", body: nil)
            #expect(page.status == 200)
            #expect(page.headers["Content-Type"].first == "text/html; charset=utf-8")
            #expect(page.headers["Content-Security-Policy"].first?.contains("default-src 'self'") == true)
            #expect(page.text.components(separatedBy: "<h1").count == 2)
            #expect(page.text.contains("<svg") && page.text.contains("<title id=\"chart-title\">"))
            #expect(page.text.components(separatedBy: "<table").count - 1 == TransparencyReport.Table.allCases.count)
            #expect(!page.text.lowercased().contains("style="))
            #expect(!page.text.contains("Worked out some time after"), "computed on time")
            for line in TransparencyReport.method { #expect(page.text.contains(line.replacingOccurrences(of: "'", with: "&#39;"))) }

            let csv = try await h.client.send(.GET, "/transparency.csv", body: nil)
            #expect(csv.status == 200)
            #expect(csv.headers["Content-Type"].first == "text/csv; charset=utf-8")
            #expect(csv.text == TransparencyReport.csv(published))
            #expect(csv.text.contains("\(month.month),requests,total,10\n"))

            let api = try await h.client.send(.GET, "/api/v1/transparency", body: nil)
            #expect(api.status == 200)
            let months = try #require(api.json["months"] as? [[String: Any]])
            #expect(months.count == published.count)
            #expect((months.last?["requests"] as? [String: Any])?["total"] as? Int == 10)
            #expect(api.json["threshold"] as? Int == 10)

            for (name, text) in [("page", page.text), ("csv", csv.text), ("json", api.text)] {
                for s in submitted {
                    #expect(!text.contains(s.reference) && !text.contains(s.receipt), "\(name)")
                }
                #expect(!text.contains("HR-"), "\(name)")
                #expect(text.firstMatch(of: /\d\d:\d\d/) == nil, "\(name): no clock time")
            }
        }
    }

    @Test("before any month is published the three outputs say so and answer 200")
    func nothingPublishedYet() async throws {
        try await IntakeHarness.with { h in
            _ = try await h.submit(sampleRequest())
            let page = try await h.client.send(.GET, "/transparency", body: nil)
            #expect(page.status == 200)
            #expect(page.text.contains("No month has been published yet"))
            #expect(!page.text.contains("<table"))
            let csv = try await h.client.send(.GET, "/transparency.csv", body: nil)
            #expect(csv.text == "month,table,cell,value\n")
            let api = try await h.client.send(.GET, "/api/v1/transparency", body: nil)
            #expect((api.json["months"] as? [Any])?.isEmpty == true)
        }
    }
}
