/// A moment in UTC to the second: the one place Hearth turns Unix seconds into words.
public struct UTCTime: Sendable, Equatable {
    /// The calendar day.
    public let day: Day
    /// Hour (0–23), minute and second (0–59).
    public let hour: Int, minute: Int, second: Int

    /// The moment `t` seconds after the Unix epoch.
    public init(unixSeconds t: Int64) {
        day = Day(unixSeconds: t)
        let s = Int(t - Int64(day.daysSinceEpoch) * 86_400)
        hour = s / 3600
        minute = s / 60 % 60
        second = s % 60
    }

    /// `14:05`.
    public var hourMinute: String { "\(Self.two(hour)):\(Self.two(minute))" }

    /// RFC 3339: `2026-11-29T14:05:09Z`.
    public var rfc3339: String { "\(day)T\(hourMinute):\(Self.two(second))Z" }

    static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
}

/// Formats Unix seconds as RFC 3339 UTC (`2026-11-29T14:05:09Z`).
public func rfc3339(unixSeconds t: Int64) -> String { UTCTime(unixSeconds: t).rfc3339 }

/// Where time comes from; injected so tests can move it.
public protocol WallClock: Sendable {
    /// Seconds since the Unix epoch.
    func unixSeconds() -> Int64
}
