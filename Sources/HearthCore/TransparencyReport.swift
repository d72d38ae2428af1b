/// The published months in the forms people read them: plain names for every table and cell,
/// CSV, text and the JSON document, shared by the intake's outputs and `hearth stats` so all of
/// them say the same.
public enum TransparencyReport {
    /// The method in plain words, as the page and the JSON document give it (SECURITY.md §13).
    public static let method: [String] = [
        "Figures are counted per calendar month (UTC) and published only after the month has closed.",
        "They come from what Hearth keeps in the clear: when a request arrived, its region if one was given, its status, which groups hold consent and when that changed, and when staff first replied. Nothing anyone wrote is opened to make them.",
        "Every count is rounded to the nearest multiple of 5, so rows need not add up to their totals.",
        "Any count under 10, zero included, is not shown. Where that leaves one hidden count in a table that has a total, another count is hidden too, so that no hidden count can be worked out from the total, and the hidden counts together are never fewer than 10.",
        "Regions are shown only when at least 3 of them can be shown.",
        "Open cases are counted at month end; closed cases are not, so that the number of erasures cannot be worked out from one month to the next.",
        "The median and the 90th percentile of days to a first reply are shown only when at least 10 first replies were sent that month.",
        "Each month is worked out once, when it closes, and kept. Later changes, including a survivor erasing their request, never change a month already published.",
    ]

    /// A table of the published figures, in page order.
    public enum Table: String, CaseIterable, Sendable {
        case requests
        case consentsLive = "consents-live"
        case consentsWithdrawn = "consents-withdrawn"
        case consentsExpired = "consents-expired"
        case erasures
        case openCases = "open-cases"
        case firstReply = "first-reply"

        /// Its title.
        public var title: String {
            switch self {
            case .requests: "Requests received"
            case .consentsLive: "Consents live at month end, by group"
            case .consentsWithdrawn: "Consents withdrawn, by group"
            case .consentsExpired: "Consents that reached their end date"
            case .erasures: "Records erased"
            case .openCases: "Open cases at month end, by status"
            case .firstReply: "Days from a request to the first staff reply"
            }
        }
    }

    /// The plain name of a cell key.
    public static func label(_ key: String) -> String {
        if let region = Region(rawValue: key) { return region.name }
        switch key {
        case "not-given": return "Region not given, or request erased"
        case "support": return "Support caseworkers"
        case "review": return "Review team"
        case "police": return "Police"
        case "prosecution": return "Prosecutors' witness care"
        case "survivor": return "By the survivor"
        case "retention": return "By the retention rule"
        case "new": return "New"
        case "in-progress": return "In progress"
        case "waiting": return "Waiting"
        case "total": return "Total"
        case "replies": return "First replies sent"
        case "median-days": return "Median days"
        case "p90-days": return "90th percentile days"
        default: return key
        }
    }

    /// The row of `table` in `month`, or nil for the two tables that are not rows.
    public static func row(_ table: Table, _ month: PublishedMonth) -> FigureRow? {
        switch table {
        case .requests: month.requests
        case .consentsLive: month.consentsLive
        case .consentsWithdrawn: month.consentsWithdrawn
        case .erasures: month.erasures
        case .openCases: month.openCases
        case .consentsExpired, .firstReply: nil
        }
    }

    /// Days to one decimal, or `not published`.
    public static func days(_ d: Double?) -> String {
        guard let d else { return "not published" }
        let tenths = Int((d * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }

    /// One line per figure: `month,table,cell,value` (`suppressed`, or `not-published` for a
    /// breakdown or day figure that is not shown), with a header line.
    public static func csv(_ months: [PublishedMonth]) -> String {
        var lines = ["month,table,cell,value"]
        for m in months {
            for table in Table.allCases {
                switch table {
                case .consentsExpired: lines.append("\(m.month),\(table.rawValue),total,\(m.consentsExpired)")
                case .firstReply:
                    lines.append("\(m.month),\(table.rawValue),replies,\(m.firstReply.replies)")
                    lines.append("\(m.month),\(table.rawValue),median-days,\(m.firstReply.medianDays.map { days($0) } ?? "not-published")")
                    lines.append("\(m.month),\(table.rawValue),p90-days,\(m.firstReply.p90Days.map { days($0) } ?? "not-published")")
                default:
                    guard let row = row(table, m) else { continue }
                    if let total = row.total { lines.append("\(m.month),\(table.rawValue),total,\(total)") }
                    if !row.breakdownPublished { lines.append("\(m.month),\(table.rawValue),breakdown,not-published") }
                    for cell in row.cells { lines.append("\(m.month),\(table.rawValue),\(cell.key),\(cell.figure)") }
                }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A plain-text account of each month, for `hearth stats`.
    public static func text(_ months: [PublishedMonth]) -> String {
        guard !months.isEmpty else { return "no month published yet\n" }
        var out = ""
        for m in months {
            out += "\(m.month) (computed \(m.computed))\n"
            for table in Table.allCases {
                switch table {
                case .consentsExpired: out += "  \(table.title): \(m.consentsExpired)\n"
                case .firstReply:
                    out += "  \(table.title): \(m.firstReply.replies) first replies; median \(days(m.firstReply.medianDays)), "
                    out += "90th percentile \(days(m.firstReply.p90Days))\n"
                default:
                    guard let row = row(table, m) else { continue }
                    out += "  \(table.title)" + (row.total.map { ": \($0)" } ?? "") + "\n"
                    if !row.breakdownPublished {
                        out += "    breakdown not published\n"
                    } else {
                        out += "    " + row.cells.map { "\(label($0.key)) \($0.figure)" }.joined(separator: "; ") + "\n"
                    }
                }
            }
        }
        return out
    }

    /// The JSON document of `GET /api/v1/transparency` and `hearth stats --json`.
    public struct Document: Encodable, Sendable {
        /// The method in plain words.
        public let method: [String]
        /// Counts under this are suppressed.
        public let threshold: Int
        /// Counts are rounded to multiples of this.
        public let roundingBase: Int
        /// The published months, oldest first.
        public let months: [PublishedMonth]

        /// The document for `months`.
        public init(months: [PublishedMonth]) {
            method = TransparencyReport.method
            threshold = TransparencyStatistics.threshold
            roundingBase = TransparencyStatistics.roundingBase
            self.months = months
        }

    }
}
