import HearthCore
import HearthTestSupport
import Testing

@Suite("Days")
struct DayTests {
    @Test(arguments: ["1970-01-01", "2026-11-29", "2000-02-29", "2028-02-29", "1999-12-31", "2100-12-31", "0001-01-01"])
    func formattingAParsedDayGivesTheSameText(text: String) throws {
        let day = try #require(Day(iso: text))
        #expect(day.description == text)
    }

    @Test func epochIsDayZero() throws {
        #expect(Day(iso: "1970-01-01")?.daysSinceEpoch == 0)
        #expect(Day(iso: "2026-11-29")?.daysSinceEpoch == 20_786)
    }

    @Test func leapDayInALeapYearIsAccepted() {
        #expect(Day(iso: "2028-02-29") != nil)
        #expect(Day(iso: "2000-02-29") != nil)
    }

    @Test(arguments: [
        "2026-02-29", "1900-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "2026-01-00", "2026-01-32", "2026-1-01",
        "2026-01-1", "26-01-01", "2026/01/01", "2026-01-01T00:00", " 2026-01-01", "+026-01-01", "2026-0a-01", "", "２０２６-01-01",
    ])
    func invalidOrNonCanonicalDateIsRejected(text: String) {
        #expect(Day(iso: text) == nil)
    }

    @Test(arguments: [
        (Int64(0), "1970-01-01"), (86_399, "1970-01-01"), (86_400, "1970-01-02"), (-1, "1969-12-31"),
        (-86_400, "1969-12-31"), (-86_401, "1969-12-30"), (1_795_910_400, "2026-11-29"), (1_795_910_399, "2026-11-28"),
        (1_835_481_599, "2028-02-29"), (951_868_800, "2000-03-01"),
    ])
    func unixSecondsMapToTheirUTCDay(seconds: Int64, day: String) {
        #expect(Day(unixSeconds: seconds).description == day)
    }

    @Test func addingDaysCrossesMonthAndYearEnds() throws {
        let day = try #require(Day(iso: "2028-02-28"))
        #expect(day.adding(days: 1).description == "2028-02-29")
        #expect(day.adding(days: 2).description == "2028-03-01")
        #expect(try #require(Day(iso: "2026-12-31")).adding(days: 1).description == "2027-01-01")
        #expect(try #require(Day(iso: "2026-11-29")).adding(days: 3_653).description == "2036-11-29")
    }

    @Test func daysOrderByDate() throws {
        let a = try #require(Day(iso: "2026-11-28"))
        let b = try #require(Day(iso: "2026-11-29"))
        #expect(a < b)
        #expect(!(b < a))
        #expect(a.adding(days: 1) == b)
    }

    @Test(arguments: [(Int64(0), "1970-01-01T00:00:00Z"), (-1, "1969-12-31T23:59:59Z"), (1_795_914_309, "2026-11-29T01:05:09Z")])
    func rfc3339FormatsUTC(seconds: Int64, text: String) {
        #expect(rfc3339(unixSeconds: seconds) == text)
    }

    @Test(arguments: [(Int64(0), Int64(0)), (3_599, 0), (3_600, 3_600), (7_199, 3_600), (-1, -3_600), (-3_600, -3_600)])
    func floorToHourRoundsDown(seconds: Int64, hour: Int64) {
        #expect(floorToHour(seconds) == hour)
    }
}
