import Foundation
import HearthTestSupport
import Testing

/// `hearth stats` through the real binary, over a store seeded by deploy/seed-transparency.py.
@Suite("hearth stats", .timeLimit(.minutes(2)))
struct StatsCommandTests {
    static let seedScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../deploy/seed-transparency.py")
        .standardizedFileURL.path

    @Test(
        "hearth stats publishes every closed month once, prints them (text and --json) without a reference or time, and refuses an --as-of after today"
    )
    func publishesClosedMonthsOnce() async throws {
        let work = try TemporaryDirectory()
        try await withHearth(["serve", "--dev", "--intake-port", "0", "--casework-port", "0", "--no-metrics"], in: work.path) { _, _ in }
        let seed = try await ChildProcess.run(
            [Self.seedScript, ".hearth/hearth.sqlite", "--months", "3", "--per-month", "150"], in: work.path, executable: "/usr/bin/python3")
        #expect(seed.succeeded, "\(seed)")

        // The seed fills the three months before this one; in the first hour of a month the last
        // of them is not published yet (SECURITY.md §13: an hour's grace).
        let now = Int(Date().timeIntervalSince1970)
        let expected =
            Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date()).day == 1 && now % 86_400 < 3_600 ? 2 : 3
        let first = try await ChildProcess.run(["stats"], in: work.path)
        #expect(first.succeeded, "\(first)")
        let lines = first.stdout.split(separator: "\n")
        let published = try #require(lines.first)
        #expect(published.hasPrefix("published now: ") && published.split(separator: ",").count == expected, "\(published)")
        #expect(first.stdout.contains("  Requests received: "))
        #expect(!first.stdout.contains("HR-"))

        let again = try await ChildProcess.run(["stats", "--json"], in: work.path)
        #expect(again.succeeded, "\(again)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(again.stdout.utf8)) as? [String: Any])
        let months = try #require(document["months"] as? [[String: Any]])
        #expect(months.count == expected)
        #expect(!again.stdout.contains("HR-"))
        #expect(again.stdout.firstMatch(of: /\d\d:\d\d/) == nil)

        let text = try await ChildProcess.run(["stats"], in: work.path)
        #expect(text.stdout.hasPrefix("published now: none\n"), "each month is computed once: \(text.stdout.prefix(80))")
        #expect(text.stdout.dropFirst("published now: none\n".count) == first.stdout.drop { $0 != "\n" }.dropFirst())

        let future = try await ChildProcess.run(["stats", "--as-of", "2999-01-01"], in: work.path)
        #expect(future.status == 64 && future.stderr.contains("is after today"), "\(future)")
        let malformed = try await ChildProcess.run(["stats", "--as-of", "yesterday"], in: work.path)
        #expect(malformed.status != 0 && malformed.stderr.contains("--as-of"), "\(malformed)")
    }
}
