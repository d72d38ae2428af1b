import Foundation

/// Interview times as the pages show and take them: UK time (Europe/London, summer time
/// included), as people say them. The API and the store use UTC; only the pages convert.
public enum UKTime {
    static let calendar: Calendar = {
        var c = Calendar(identifier: .gregorian)
        c.timeZone = TimeZone(identifier: "Europe/London") ?? TimeZone(secondsFromGMT: 0)!
        return c
    }()

    static func components(_ unixSeconds: Int64) -> DateComponents {
        calendar.dateComponents([.year, .month, .day, .hour, .minute, .weekday], from: Date(timeIntervalSince1970: TimeInterval(unixSeconds)))
    }

    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

    /// The value of a `datetime-local` input: `2026-12-10T10:00`.
    public static func inputValue(_ unixSeconds: Int64) -> String {
        let c = components(unixSeconds)
        return "\(c.year ?? 1970)-\(two(c.month ?? 1))-\(two(c.day ?? 1))T\(two(c.hour ?? 0)):\(two(c.minute ?? 0))"
    }

    /// Reads a `datetime-local` value (`YYYY-MM-DDTHH:MM`, seconds allowed) as UK time. Nil when
    /// malformed, or when the clock skips that time (the spring change).
    public static func unixSeconds(inputValue text: String) -> Int64? {
        let u = Array(text.utf8)
        guard u.count == 16 || u.count == 19, u[4] == UInt8(ascii: "-"), u[7] == UInt8(ascii: "-"), u[10] == UInt8(ascii: "T"),
            u[13] == UInt8(ascii: ":")
        else { return nil }
        func number(_ r: Range<Int>) -> Int? {
            var n = 0
            for i in r {
                guard u[i] >= 0x30, u[i] <= 0x39 else { return nil }
                n = n * 10 + Int(u[i] - 0x30)
            }
            return n
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
            let minute = number(14..<16), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60
        else { return nil }
        if u.count == 19 { guard u[16] == UInt8(ascii: ":"), number(17..<19) == 0 else { return nil } }
        let wanted = DateComponents(year: year, month: month, day: day, hour: hour, minute: minute)
        guard let date = calendar.date(from: wanted) else { return nil }
        let t = Int64(date.timeIntervalSince1970)
        // A time the calendar had to move (31 February, or 01:30 on the spring change) is refused.
        let back = components(t)
        guard back.year == year, back.month == month, back.day == day, back.hour == hour, back.minute == minute else { return nil }
        return t
    }
}
