// The monthly transparency figures of SECURITY.md §13: computed from clear metadata only (audit
// events and the region column), with primary and secondary suppression and rounding to base 5,
// once per closed month. Pure: the caller gives the events and the time.

/// A calendar month in UTC, written `YYYY-MM`.
public struct Month: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The year.
    public let year: Int
    /// The month, 1–12.
    public let month: Int

    /// The month with this year and number (1–12); nil otherwise.
    public init?(year: Int, month: Int) {
        guard (1...12).contains(month), (1970...9999).contains(year) else { return nil }
        self.year = year
        self.month = month
    }

    /// The month containing `day`.
    public init(containing day: Day) {
        let c = day.components
        year = c.year
        month = c.month
    }

    /// Parses a canonical `YYYY-MM`.
    public init?(iso text: String) {
        guard text.utf8.count == 7, let day = Day(iso: text + "-01") else { return nil }
        self.init(containing: day)
    }

    /// Its first day.
    public var firstDay: Day { Day(daysSinceEpoch: Day.daysFromCivil(year, month, 1)) }
    /// Unix seconds at 00:00 UTC on its first day.
    public var start: Int64 { Int64(firstDay.daysSinceEpoch) * 86_400 }
    /// Unix seconds at 00:00 UTC on the first day of the next month (the month's exclusive end).
    public var end: Int64 { next.start }
    /// The next month.
    public var next: Month { month == 12 ? Month(unchecked: year + 1, 1) : Month(unchecked: year, month + 1) }
    /// The month before.
    public var previous: Month { month == 1 ? Month(unchecked: year - 1, 12) : Month(unchecked: year, month - 1) }
    /// `YYYY-MM`.
    public var description: String {
        let y = String(year)
        let m = String(month)
        return String(repeating: "0", count: max(0, 4 - y.count)) + y + "-" + (m.count == 1 ? "0" + m : m)
    }

    private init(unchecked year: Int, _ month: Int) {
        self.year = year
        self.month = month
    }

    public static func < (a: Month, b: Month) -> Bool { (a.year, a.month) < (b.year, b.month) }
}

/// One published figure: a count rounded to base 5, or suppressed.
public enum Figure: Sendable, Equatable, Codable, CustomStringConvertible {
    /// A count, already rounded to a multiple of 5.
    case count(Int)
    /// Not published (under the threshold, or hidden to protect a cell that is).
    case suppressed

    /// The count, or nil when suppressed.
    public var value: Int? {
        if case .count(let n) = self { return n }
        return nil
    }

    /// The number, or `suppressed`.
    public var description: String { value.map(String.init) ?? "suppressed" }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let n = try? c.decode(Int.self) {
            self = .count(n)
        } else if try c.decode(String.self) == "suppressed" {
            self = .suppressed
        } else {
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "a figure is a number or \"suppressed\"")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .count(let n): try c.encode(n)
        case .suppressed: try c.encode("suppressed")
        }
    }
}

/// One cell of a published table: a key from a fixed list (a region, a group, a status) and its figure.
public struct FigureCell: Sendable, Equatable, Codable {
    /// The cell's key: a region code, `not-given`, a scope, a status, `survivor` or `retention`.
    public let key: String
    /// Its figure.
    public let figure: Figure

    /// A cell.
    public init(key: String, figure: Figure) {
        self.key = key
        self.figure = figure
    }
}

/// A published table: its cells and, where the table has one, its total. When a breakdown is not
/// published, `cells` is empty and `breakdownPublished` false.
public struct FigureRow: Sendable, Equatable, Codable {
    /// The total, for tables that have one.
    public let total: Figure?
    /// Whether the cells are shown.
    public let breakdownPublished: Bool
    /// The cells, in the table's fixed order.
    public let cells: [FigureCell]

    /// The figure of the cell `key`, or nil when the breakdown is not published.
    public func figure(_ key: String) -> Figure? { cells.first { $0.key == key }?.figure }
}

/// Days from a request to its first staff reply, over the first replies sent in the month.
public struct ReplyTimes: Sendable, Equatable, Codable {
    /// How many first replies were sent in the month.
    public let replies: Figure
    /// The median, in days to one decimal (nearest rank); nil under 10 replies.
    public let medianDays: Double?
    /// The 90th percentile, in days to one decimal (nearest rank); nil under 10 replies.
    public let p90Days: Double?
}

/// A month's published figures, as stored once and served as they are. Holds only rounded or
/// suppressed counts and rounded day figures: no reference, name or time finer than a day.
public struct PublishedMonth: Sendable, Equatable, Codable {
    /// The month, `YYYY-MM`.
    public let month: String
    /// The day it was computed, `YYYY-MM-DD`.
    public let computed: String
    /// Requests received, by region (`not-given` also counts requests erased before computing).
    public let requests: FigureRow
    /// Consents live at the end of the month, per group; no total.
    public let consentsLive: FigureRow
    /// Consents withdrawn by the survivor in the month, per group.
    public let consentsWithdrawn: FigureRow
    /// Consents that reached their end date in the month.
    public let consentsExpired: Figure
    /// Records erased in the month, by the survivor and by retention.
    public let erasures: FigureRow
    /// Open cases at the end of the month, by status (closed cases are not counted, §13).
    public let openCases: FigureRow
    /// Days from request to first staff reply.
    public let firstReply: ReplyTimes

    /// Whether the month was computed more than a day after it closed (so requests erased
    /// meanwhile count as "region not given or request erased").
    public var computedLate: Bool {
        guard let m = Month(iso: month), let d = Day(iso: computed) else { return false }
        return d > m.next.firstDay.adding(days: 1)
    }

    init(
        month: String, computed: String, requests: FigureRow, consentsLive: FigureRow, consentsWithdrawn: FigureRow,
        consentsExpired: Figure, erasures: FigureRow, openCases: FigureRow, firstReply: ReplyTimes
    ) {
        self.month = month
        self.computed = computed
        self.requests = requests
        self.consentsLive = consentsLive
        self.consentsWithdrawn = consentsWithdrawn
        self.consentsExpired = consentsExpired
        self.erasures = erasures
        self.openCases = openCases
        self.firstReply = firstReply
    }
}

/// One clear fact the figures count, read from an audit entry. `record` joins the events of one
/// record inside the computation and never reaches an output.
public struct TransparencyEvent: Sendable, Equatable {
    /// What happened.
    public enum Kind: Sendable, Equatable {
        /// A request was received (`record.create`).
        case requested
        /// A consent was given.
        case consentGranted(Scope)
        /// A consent was withdrawn by the survivor.
        case consentWithdrawn(Scope)
        /// A consent reached its end date.
        case consentExpired(Scope)
        /// The survivor erased the record.
        case erased
        /// Retention shredded the record.
        case shredded
        /// Staff set the case's status.
        case status(CaseStatus)
        /// A member of staff replied.
        case staffReply
    }

    /// The record it concerns (its case reference, used as an opaque key).
    public let record: String
    /// What happened.
    public let kind: Kind
    /// When, in unix seconds (as the audit trail has it).
    public let at: Int64

    /// An event.
    public init(record: String, kind: Kind, at: Int64) {
        self.record = record
        self.kind = kind
        self.at = at
    }

    /// The event an audit entry's fields describe; nil for entries the figures do not count
    /// (refusals, staff and session events, survivor messages).
    public init?(action: String, subject: String, scope: String, outcome: String, at: Int64) {
        let kind: Kind
        switch action {
        case "record.create": kind = .requested
        case "consent.grant", "consent.withdraw", "consent.expire":
            guard let s = Scope(rawValue: scope) else { return nil }
            kind = action == "consent.grant" ? .consentGranted(s) : action == "consent.withdraw" ? .consentWithdrawn(s) : .consentExpired(s)
        case "record.erase": kind = .erased
        case "retention.shred": kind = .shredded
        case "case.status":
            guard let status = CaseStatus(rawValue: outcome) else { return nil }
            kind = .status(status)
        case "case.reply":
            guard outcome == "ok" else { return nil }
            kind = .staffReply
        default: return nil
        }
        self.init(record: subject, kind: kind, at: at)
    }

    /// The audit actions that can become an event (for a store's query).
    public static let auditActions = [
        "record.create", "consent.grant", "consent.withdraw", "consent.expire", "record.erase", "retention.shred", "case.status",
        "case.reply",
    ]
}

/// The exact counts of one month, before disclosure control. Never stored, printed or served:
/// only ``TransparencyStatistics/publish(_:computed:)`` turns them into figures.
public struct MonthCounts: Sendable, Equatable {
    /// The month.
    public var month: Month
    /// Requests received, per region code or `not-given`.
    public var requests: [String: Int] = [:]
    /// Consents live at month end, per scope.
    public var consentsLive: [Scope: Int] = [:]
    /// Consents withdrawn in the month, per scope.
    public var consentsWithdrawn: [Scope: Int] = [:]
    /// Consents that expired in the month.
    public var consentsExpired = 0
    /// Records erased by the survivor in the month.
    public var erasedBySurvivor = 0
    /// Records shredded by retention in the month.
    public var erasedByRetention = 0
    /// Open cases at month end, per status (never `closed`).
    public var openCases: [CaseStatus: Int] = [:]
    /// Seconds from request to first staff reply, for first replies sent in the month.
    public var firstReplySeconds: [Int64] = []

    /// Empty counts for `month`.
    public init(month: Month) { self.month = month }
}

/// The method of SECURITY.md §13.
public enum TransparencyStatistics {
    /// A cell or total under this is suppressed; a median needs this many cases.
    public static let threshold = 10
    /// Published counts are rounded to a multiple of this.
    public static let roundingBase = 5
    /// A breakdown is shown only when at least this many of its cells are published.
    public static let minimumBreakdownCells = 3
    /// The region cells in table order: the 12 regions, then `not-given`.
    public static let regionKeys = Region.allCases.map(\.rawValue) + ["not-given"]
    /// The open statuses in table order.
    public static let openStatuses: [CaseStatus] = [.new, .inProgress, .waiting]

    /// Rounds a count to the nearest multiple of 5 (remainders 0–2 down, 3–4 up).
    public static func round(_ n: Int) -> Int { (n + roundingBase / 2) / roundingBase * roundingBase }

    /// Primary and secondary suppression of one row, then rounding. With a total: a total under
    /// the threshold suppresses everything; otherwise cells under the threshold are suppressed,
    /// and the smallest published cell (first on ties) joins them until the suppressed cells
    /// add up to the threshold or more. Without a total, only primary suppression applies.
    public static func protect(cells: [Int], total: Int?) -> (cells: [Figure], total: Figure?) {
        var hidden = cells.map { $0 < threshold }
        if let total, total < threshold {
            return (cells.map { _ in .suppressed }, .suppressed)
        }
        if total != nil {
            func hiddenSum() -> Int { zip(cells, hidden).reduce(0) { $0 + ($1.1 ? $1.0 : 0) } }
            while hidden.contains(true), hiddenSum() < threshold,
                let next = cells.indices.filter({ !hidden[$0] }).min(by: { cells[$0] < cells[$1] })
            {
                hidden[next] = true
            }
        }
        let figures = zip(cells, hidden).map { $1 ? Figure.suppressed : .count(round($0)) }
        return (figures, total.map { .count(round($0)) })
    }

    /// The exact counts for `month` from `events` (in audit order) and the regions of records
    /// still held (by reference). Only events before the month's end are used.
    public static func counts(_ month: Month, events: [TransparencyEvent], regions: [String: Region]) -> MonthCounts {
        var c = MonthCounts(month: month)
        let (start, end) = (month.start, month.end)
        var created: [String: Int64] = [:]
        var ended: Set<String> = []
        var consent: [String: [Scope: Bool]] = [:]
        var status: [String: CaseStatus] = [:]
        var replied: Set<String> = []
        for e in events where e.at < end {
            let inMonth = e.at >= start
            switch e.kind {
            case .requested:
                created[e.record] = e.at
                if inMonth { c.requests[regions[e.record]?.rawValue ?? "not-given", default: 0] += 1 }
            case .consentGranted(let s): consent[e.record, default: [:]][s] = true
            case .consentWithdrawn(let s):
                consent[e.record, default: [:]][s] = false
                if inMonth { c.consentsWithdrawn[s, default: 0] += 1 }
            case .consentExpired(let s):
                consent[e.record, default: [:]][s] = false
                if inMonth { c.consentsExpired += 1 }
            case .erased, .shredded:
                ended.insert(e.record)
                if inMonth {
                    if e.kind == .erased { c.erasedBySurvivor += 1 } else { c.erasedByRetention += 1 }
                }
            case .status(let s): status[e.record] = s
            case .staffReply:
                guard replied.insert(e.record).inserted else { continue }
                if inMonth, let at = created[e.record] { c.firstReplySeconds.append(max(0, e.at - at)) }
            }
        }
        for (record, _) in created where !ended.contains(record) {
            let s = status[record] ?? .new
            if s != .closed { c.openCases[s, default: 0] += 1 }
            for (scope, live) in consent[record] ?? [:] where live { c.consentsLive[scope, default: 0] += 1 }
        }
        return c
    }

    /// The published figures for `counts`, computed on `computed`.
    public static func publish(_ counts: MonthCounts, computed: Day) -> PublishedMonth {
        func row(_ keys: [String], _ values: [Int], total: Bool, breakdownMinimum: Int = 0) -> FigureRow {
            let (cells, t) = protect(cells: values, total: total ? values.reduce(0, +) : nil)
            let shown = cells.filter { $0 != .suppressed }.count >= breakdownMinimum && t != .suppressed
            return FigureRow(
                total: t, breakdownPublished: shown,
                cells: shown ? zip(keys, cells).map { FigureCell(key: $0, figure: $1) } : [])
        }
        let scopes = Scope.allCases
        let requests = row(regionKeys, regionKeys.map { counts.requests[$0] ?? 0 }, total: true, breakdownMinimum: minimumBreakdownCells)
        let live = row(scopes.map(\.rawValue), scopes.map { counts.consentsLive[$0] ?? 0 }, total: false)
        let withdrawn = row(scopes.map(\.rawValue), scopes.map { counts.consentsWithdrawn[$0] ?? 0 }, total: true)
        let expired = protect(cells: [], total: counts.consentsExpired).total ?? .suppressed
        let erasures = row(["survivor", "retention"], [counts.erasedBySurvivor, counts.erasedByRetention], total: true)
        let open = row(openStatuses.map(\.rawValue), openStatuses.map { counts.openCases[$0] ?? 0 }, total: true)
        let times = counts.firstReplySeconds.sorted()
        func percentile(_ p: Double) -> Double? {
            guard times.count >= threshold else { return nil }
            let rank = Int((p * Double(times.count)).rounded(.up))
            return (Double(times[max(0, rank - 1)]) / 86_400 * 10).rounded() / 10
        }
        let replies = protect(cells: [], total: times.count).total ?? .suppressed
        return PublishedMonth(
            month: counts.month.description, computed: computed.description, requests: requests, consentsLive: live,
            consentsWithdrawn: withdrawn, consentsExpired: expired, erasures: erasures, openCases: open,
            firstReply: ReplyTimes(replies: replies, medianDays: percentile(0.5), p90Days: percentile(0.9)))
    }

    /// The last month that may be published at `now`: one that closed at least an hour ago, so
    /// events written just before midnight (their times floored to the hour) are in.
    public static func lastClosedMonth(now: Int64) -> Month {
        Month(containing: Day(unixSeconds: now - 3_600)).previous
    }

    /// The months to publish at `now`, each computed from `events`: every month from the first
    /// request's month through ``lastClosedMonth(now:)`` that is not in `published`. A month
    /// already published is never computed again. `computed` is the day recorded as the day of
    /// computation (default: the day of `now`).
    public static func monthsToPublish(
        now: Int64, published: Set<String>, events: [TransparencyEvent], regions: [String: Region], computed: Day? = nil
    ) -> [PublishedMonth] {
        guard let first = events.filter({ $0.kind == .requested }).map(\.at).min() else { return [] }
        let last = lastClosedMonth(now: now)
        var month = Month(containing: Day(unixSeconds: first))
        var out: [PublishedMonth] = []
        while month <= last {
            if !published.contains(month.description) {
                out.append(publish(counts(month, events: events, regions: regions), computed: computed ?? Day(unixSeconds: now)))
            }
            month = month.next
        }
        return out
    }
}
