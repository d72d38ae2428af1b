import FoundationEssentials
import HearthCore
import Testing

/// A small seeded generator (SplitMix64), so each property run is reproducible from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A realistic few months of activity: requests with regions, consents given and withdrawn,
/// erasures, status changes and replies, spread over the hours of each month.
func syntheticEvents(seed: UInt64, months: [Month], perMonth: ClosedRange<Int>) -> (events: [TransparencyEvent], regions: [String: Region]) {
    var rng = SeededGenerator(state: seed)
    var events: [TransparencyEvent] = []
    var regions: [String: Region] = [:]
    var n = 0
    for month in months {
        for _ in 0..<Int.random(in: perMonth, using: &rng) {
            n += 1
            let ref = "HR-TEST-\(n)"
            let at = month.start + Int64.random(in: 0..<(month.end - month.start), using: &rng) / 3_600 * 3_600
            events.append(TransparencyEvent(record: ref, kind: .requested, at: at))
            if Int.random(in: 0..<10, using: &rng) < 7 { regions[ref] = Region.allCases.randomElement(using: &rng) }
            for scope in Scope.allCases where Bool.random(using: &rng) {
                events.append(TransparencyEvent(record: ref, kind: .consentGranted(scope), at: at))
                if Int.random(in: 0..<10, using: &rng) == 0 {
                    events.append(
                        TransparencyEvent(record: ref, kind: .consentWithdrawn(scope), at: at + 86_400 * Int64.random(in: 1...20, using: &rng)))
                }
            }
            if Int.random(in: 0..<10, using: &rng) < 8 {
                events.append(TransparencyEvent(record: ref, kind: .staffReply, at: at + Int64.random(in: 600...(86_400 * 12), using: &rng)))
                events.append(TransparencyEvent(record: ref, kind: .status(.inProgress), at: at + 86_400 * 13))
            }
            if Int.random(in: 0..<30, using: &rng) == 0 {
                events.append(TransparencyEvent(record: ref, kind: .erased, at: at + 86_400 * Int64.random(in: 1...40, using: &rng)))
                regions[ref] = nil
            }
        }
    }
    events.sort { $0.at < $1.at }
    return (events, regions)
}

@Suite struct TransparencyRoundingAndSuppressionTests {
    @Test func countsRoundToTheNearestMultipleOfFiveWithRemaindersThreeAndFourUp() {
        let cases: [(Int, Int)] = [(0, 0), (2, 0), (3, 5), (10, 10), (12, 10), (13, 15), (14, 15), (15, 15), (17, 15), (18, 20), (1002, 1000)]
        for (n, rounded) in cases { #expect(TransparencyStatistics.round(n) == rounded, "\(n)") }
    }

    @Test func aCellUnderTenIsSuppressedZeroIncludedAndTenIsPublished() {
        let row = TransparencyStatistics.protect(cells: [0, 9, 10, 44], total: nil)
        #expect(row.cells == [.suppressed, .suppressed, .count(10), .count(45)])
        #expect(row.total == nil)
    }

    @Test func aSingleSuppressedCellIsJoinedByTheSmallestPublishedOne() {
        let row = TransparencyStatistics.protect(cells: [3, 50, 20, 31], total: 104)
        #expect(row.cells == [.suppressed, .count(50), .suppressed, .count(30)])
        #expect(row.total == .count(105))
    }

    @Test func suppressedCellsAreJoinedUntilTheyAddUpToTheThreshold() {
        // 0 + 0 cannot stand alone (the remaining cell would equal the total): everything goes.
        #expect(TransparencyStatistics.protect(cells: [0, 0, 40], total: 40).cells == [.suppressed, .suppressed, .suppressed])
        // 1 + 2 = 3 < 10: the smallest published cell (11, first on ties) joins them.
        #expect(TransparencyStatistics.protect(cells: [1, 11, 2, 11], total: 25).cells == [.suppressed, .suppressed, .suppressed, .count(10)])
        // Two small cells that already add up to 10 need no partner.
        #expect(TransparencyStatistics.protect(cells: [6, 4, 30], total: 40).cells == [.suppressed, .suppressed, .count(30)])
    }

    @Test func aTotalUnderTenSuppressesTheWholeRow() {
        let row = TransparencyStatistics.protect(cells: [4, 5], total: 9)
        #expect(row.total == .suppressed)
        #expect(row.cells == [.suppressed, .suppressed])
    }

    @Test(arguments: [UInt64(1), 2, 3, 4, 5, 6, 7, 8])
    func noSuppressedCellCanBeDerivedFromItsRowTotal(seed: UInt64) {
        var rng = SeededGenerator(state: seed)
        for _ in 0..<2_000 {
            let cells = (0..<Int.random(in: 1...13, using: &rng)).map { _ in
                Int.random(in: 0...3, using: &rng) == 0 ? Int.random(in: 0...9, using: &rng) : Int.random(in: 0...60, using: &rng)
            }
            let row = TransparencyStatistics.protect(cells: cells, total: cells.reduce(0, +))
            guard row.total != .suppressed else {
                #expect(row.cells.allSatisfy { $0 == .suppressed })
                continue
            }
            let hidden = cells.indices.filter { row.cells[$0] == .suppressed }
            // Total minus the published cells gives only the sum of the hidden ones: with two or
            // more hidden, no single one follows; and that sum is never itself a small number.
            #expect(hidden.isEmpty || hidden.count >= 2, "\(cells)")
            #expect(hidden.isEmpty || hidden.map { cells[$0] }.reduce(0, +) >= TransparencyStatistics.threshold, "\(cells)")
            // Every cell under the threshold is hidden.
            #expect(cells.indices.allSatisfy { cells[$0] >= TransparencyStatistics.threshold || row.cells[$0] == .suppressed })
        }
    }
}

@Suite struct TransparencyMonthTests {
    let march = Month(year: 2026, month: 3)!

    @Test func monthsAreCalendarMonthsInUTC() {
        #expect(march.description == "2026-03")
        #expect(Month(iso: "2026-03") == march)
        #expect(Month(iso: "2026-13") == nil)
        #expect(rfc3339(unixSeconds: march.start) == "2026-03-01T00:00:00Z")
        #expect(rfc3339(unixSeconds: march.end) == "2026-04-01T00:00:00Z")
        #expect(Month(year: 2026, month: 12)!.next.description == "2027-01")
    }

    @Test func aMonthIsPublishableOnlyAnHourAfterItCloses() {
        #expect(TransparencyStatistics.lastClosedMonth(now: march.end + 3_599) == march.previous)
        #expect(TransparencyStatistics.lastClosedMonth(now: march.end + 3_600) == march)
    }

    @Test func theCountsFollowTheEventsToTheEndOfTheMonth() {
        let s = march.start
        let e = march.end
        var events: [TransparencyEvent] = []
        // Twelve requests in March from London, support consent each; one withdraws, one is erased,
        // two are closed, three in progress; one request from February still open and held.
        events.append(TransparencyEvent(record: "feb", kind: .requested, at: march.previous.start + 7_200))
        events.append(TransparencyEvent(record: "feb", kind: .consentGranted(.review), at: march.previous.start + 7_200))
        for i in 0..<12 {
            events.append(TransparencyEvent(record: "r\(i)", kind: .requested, at: s + Int64(i) * 3_600))
            events.append(TransparencyEvent(record: "r\(i)", kind: .consentGranted(.support), at: s + Int64(i) * 3_600))
            events.append(TransparencyEvent(record: "r\(i)", kind: .staffReply, at: s + Int64(i) * 3_600 + 86_400 * Int64(i + 1)))
        }
        events.append(TransparencyEvent(record: "r0", kind: .consentWithdrawn(.support), at: s + 86_400))
        events.append(TransparencyEvent(record: "r1", kind: .erased, at: s + 86_400))
        for i in 2..<4 { events.append(TransparencyEvent(record: "r\(i)", kind: .status(.closed), at: s + 86_400 * 20)) }
        for i in 4..<7 { events.append(TransparencyEvent(record: "r\(i)", kind: .status(.inProgress), at: s + 86_400 * 20)) }
        // After the month's end: not counted.
        events.append(TransparencyEvent(record: "r7", kind: .erased, at: e))
        events.append(TransparencyEvent(record: "late", kind: .requested, at: e))
        let regions = Dictionary(uniqueKeysWithValues: (0..<12).map { ("r\($0)", Region.london) })
        let c = TransparencyStatistics.counts(march, events: events, regions: regions)
        #expect(c.requests == ["london": 12])
        #expect(c.consentsLive == [.support: 10, .review: 1])
        #expect(c.consentsWithdrawn == [.support: 1])
        #expect(c.erasedBySurvivor == 1)
        #expect(c.openCases == [.new: 7, .inProgress: 3])  // r7's erasure falls after the month
        #expect(c.firstReplySeconds.count == 12)  // the erased request's reply counts too (the audit keeps it)
        let p = TransparencyStatistics.publish(c, computed: Day(iso: "2026-04-01")!)
        #expect(p.requests.total == .count(10))
        #expect(p.requests.breakdownPublished == false)  // one region clears the threshold, not three
        #expect(p.consentsLive.figure("support") == .count(10))
        #expect(p.consentsLive.figure("review") == .suppressed)
        #expect(p.consentsWithdrawn.total == .suppressed)
        #expect(p.erasures.total == .suppressed)
        #expect(p.openCases.total == .count(10))
        #expect(p.openCases.cells.allSatisfy { $0.figure == .suppressed })
        #expect(p.firstReply.replies == .count(10))
        // Nearest rank over 1…12 days: the 6th and the 11th.
        #expect(p.firstReply.medianDays == 6.0)
        #expect(p.firstReply.p90Days == 11.0)
        #expect(p.computedLate == false)
    }

    @Test func mediansNeedTenReplies() {
        var c = MonthCounts(month: march)
        c.firstReplySeconds = Array(repeating: 86_400, count: 9)
        let p = TransparencyStatistics.publish(c, computed: Day(iso: "2026-04-01")!)
        #expect(p.firstReply.replies == .suppressed)
        #expect(p.firstReply.medianDays == nil)
        #expect(p.firstReply.p90Days == nil)
    }

    @Test func theStoredFormReadsBackUnchanged() throws {
        let (events, regions) = syntheticEvents(seed: 42, months: [march], perMonth: 400...400)
        let p = TransparencyStatistics.publish(
            TransparencyStatistics.counts(march, events: events, regions: regions), computed: Day(iso: "2026-04-01")!)
        #expect(p.requests.breakdownPublished)
        #expect(try PublishedMonth(json: p.json()) == p)
    }

    @Test func noPublishedFigureCarriesAReferenceANameOrAnExactTime() throws {
        let months = [march.previous, march, march.next]
        var (events, regions) = syntheticEvents(seed: 7, months: months, perMonth: 150...300)
        events = events.map { TransparencyEvent(record: "HR-CANARY-\($0.record)", kind: $0.kind, at: $0.at) }
        regions = Dictionary(uniqueKeysWithValues: regions.map { ("HR-CANARY-\($0.key)", $0.value) })
        let published = TransparencyStatistics.monthsToPublish(now: march.next.end + 7_200, published: [], events: events, regions: regions)
        #expect(published.map(\.month) == months.map(\.description))
        let text = String(decoding: try published.flatMap { try $0.json() }, as: UTF8.self)
        #expect(!text.contains("HR-"))
        #expect(!text.contains("CANARY"))
        #expect(!text.contains("staff"))
        #expect(!text.contains(/\d\d:\d\d/))  // no clock time
        #expect(!text.contains(/\d{4}-\d\d-\d\dT/))  // no RFC 3339 time
        for e in events {
            #expect(!text.contains(String(e.at)))
            #expect(!text.contains(String(e.at / 3_600)))
        }
    }
}

@Suite struct TransparencyClosedMonthTests {
    let months = (1...4).map { Month(year: 2026, month: $0)! }

    /// Adds or removes one record at a time (all its events), in every closed month, and
    /// publishes again over what was stored: no stored month changes, because none is computed
    /// again. The control shows that computing afresh would have changed some figure.
    @Test func addingOrRemovingOneRecordChangesNoClosedMonth() {
        let (events, regions) = syntheticEvents(seed: 99, months: months, perMonth: 60...140)
        let now = months.last!.end + 7_200
        let stored = TransparencyStatistics.monthsToPublish(now: now, published: [], events: events, regions: regions)
        #expect(stored.count == 4)
        let storedNames = Set(stored.map(\.month))
        let records = Array(Set(events.map(\.record))).sorted()
        var freshDiffered = 0
        for record in records.prefix(120) {
            let without = events.filter { $0.record != record }
            #expect(TransparencyStatistics.monthsToPublish(now: now, published: storedNames, events: without, regions: regions).isEmpty)
            let fresh = TransparencyStatistics.monthsToPublish(now: now, published: [], events: without, regions: regions)
            if fresh
                != stored.map({
                    TransparencyStatistics.publish(
                        TransparencyStatistics.counts(Month(iso: $0.month)!, events: without, regions: regions), computed: Day(iso: $0.computed)!)
                })
            {
                Issue.record("fresh computation is not deterministic")
            }
            if fresh.map({ $0.requests }) != stored.map({ $0.requests }) || fresh.map({ $0.openCases }) != stored.map({ $0.openCases }) {
                freshDiffered += 1
            }
        }
        for month in months {
            let extra =
                events + [
                    TransparencyEvent(record: "added", kind: .requested, at: month.start + 3_600),
                    TransparencyEvent(record: "added", kind: .erased, at: month.start + 7_200),
                ]
            #expect(TransparencyStatistics.monthsToPublish(now: now, published: storedNames, events: extra, regions: regions).isEmpty)
        }
        // The control: without storage, some single record would have moved a figure.
        #expect(freshDiffered > 0)
    }

    /// A month is published once; the next month's publication adds only that month.
    @Test func theNextMonthIsPublishedAloneWhenItCloses() {
        let (events, regions) = syntheticEvents(seed: 5, months: months, perMonth: 20...40)
        let first = TransparencyStatistics.monthsToPublish(now: months[2].end + 7_200, published: [], events: events, regions: regions)
        #expect(first.map(\.month) == ["2026-01", "2026-02", "2026-03"])
        let second = TransparencyStatistics.monthsToPublish(
            now: months[3].end + 7_200, published: Set(first.map(\.month)), events: events, regions: regions)
        #expect(second.map(\.month) == ["2026-04"])
    }

    /// The figures of two months cannot be combined into a small count: a record erased in a
    /// month and one closed in it instead give the same published figures in every month, so
    /// the number of erasures (suppressed, under 10) is not recoverable from the month before.
    @Test func aSuppressedErasureCannotBeRecoveredFromThePreviousMonth() {
        let (base, regions) = syntheticEvents(seed: 11, months: Array(months.prefix(2)), perMonth: 200...200)
        let march = months[2]
        var common = base
        for i in 0..<150 {
            common.append(TransparencyEvent(record: "m\(i)", kind: .requested, at: march.start + 3_600))
            common.append(TransparencyEvent(record: "m\(i)", kind: .consentGranted(.support), at: march.start + 3_600))
        }
        // The February request that goes one way or the other in March: no region, no consent.
        common.append(TransparencyEvent(record: "x", kind: .requested, at: months[1].start + 3_600))
        common.sort { $0.at < $1.at }
        let erased = common + [TransparencyEvent(record: "x", kind: .erased, at: march.start + 86_400)]
        let closed = common + [TransparencyEvent(record: "x", kind: .status(.closed), at: march.start + 86_400)]
        let now = march.end + 7_200
        let a = TransparencyStatistics.monthsToPublish(now: now, published: [], events: erased, regions: regions)
        let b = TransparencyStatistics.monthsToPublish(now: now, published: [], events: closed, regions: regions)
        #expect(
            TransparencyStatistics.counts(march, events: erased, regions: regions).erasedBySurvivor
                != TransparencyStatistics.counts(march, events: closed, regions: regions).erasedBySurvivor)
        #expect(a == b)
    }
}
