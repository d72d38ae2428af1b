import Foundation
public import HearthCore
public import HearthHTTP
public import Hummingbird
import NIOCore

/// The public transparency record (SECURITY.md §13), all three public routes
/// (``IntakeAccess/publicRoutes``): `GET /transparency` (a page with a table per figure and an
/// inline SVG chart, no script), `GET /transparency.csv` and `GET /api/v1/transparency`. Each
/// serves the stored published months as they are: the intake computes nothing and needs no key.
public struct TransparencyPages: Sendable {
    let service: SurvivorService
    let pages: PageSettings
    /// The page shows this many most recent months; the CSV and JSON have every month.
    static let monthsOnPage = 12

    /// The routes over `service`'s store and `pages`.
    public init(service: SurvivorService, pages: PageSettings) {
        self.service = service
        self.pages = pages
    }

    /// Adds the three routes to `router`.
    public func register(on router: Router<HearthRequestContext>) {
        router.get("/transparency") { _, _ in try await page() }
        router.get("/transparency.csv") { _, _ in
            let csv = TransparencyReport.csv(try await service.publishedMonths())
            return Response(
                status: .ok,
                headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"hearth-transparency.csv\""],
                body: .init(byteBuffer: ByteBuffer(string: csv)))
        }
        router.get("/api/v1/transparency") { _, _ in
            let body = try TransparencyReport.Document(months: try await service.publishedMonths()).json()
            return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
    }

    func page() async throws -> Response {
        let words = Catalogue.current
        let all = try await service.publishedMonths()
        let shown = Array(all.suffix(Self.monthsOnPage))
        let late = all.filter(\.computedLate).map { Self.monthName($0.month) }
        let headers = shown.map { ["month": Self.monthName($0.month)] }
        var tables: [[String: Any]] = []
        for table in TransparencyReport.Table.allCases {
            var rows: [[String: Any]] = []
            func add(_ key: String, _ values: [String]) { rows.append(["label": Self.label(key), "values": values.map { ["value": $0] }]) }
            switch table {
            case .consentsExpired: add("total", shown.map { Self.figure($0.consentsExpired) })
            case .firstReply:
                add("replies", shown.map { Self.figure($0.firstReply.replies) })
                add("median-days", shown.map { Self.days($0.firstReply.medianDays) })
                add("p90-days", shown.map { Self.days($0.firstReply.p90Days) })
            default:
                let keys = Self.keys(table)
                if shown.contains(where: { TransparencyReport.row(table, $0)?.total != nil }) {
                    add("total", shown.map { TransparencyReport.row(table, $0)?.total.map(Self.figure) ?? "" })
                }
                for key in keys {
                    add(
                        key,
                        shown.map { month in
                            guard let row = TransparencyReport.row(table, month) else { return "" }
                            return row.breakdownPublished ? row.figure(key).map(Self.figure) ?? "" : words.text("transparency.notPublished")
                        })
                }
            }
            let title = words.text("transparency.table.\(Self.keySegment(table.rawValue))")
            tables.append([
                "id": table.rawValue, "title": title, "caption": words.text("transparency.tableCaption", ["title": title]), "headers": headers,
                "rows": rows,
            ])
        }
        return pages.renderer.page(
            "transparency",
            [
                "hasMonths": !shown.isEmpty, "tables": tables, "method": Self.method.map { words.text("transparency.method.\($0)") },
                "chart": Self.chart(shown),
                // A section on an empty string still renders: false leaves the paragraph out.
                "late": late.isEmpty ? false : words.text("transparency.late", ["months": late.joined(separator: ", ")]),
                "notShownMeans": words.text("transparency.notShownMeans", ["threshold": String(TransparencyStatistics.threshold)]),
            ])
    }

    /// The catalogue keys of the method's lines, in the order of ``TransparencyReport/method``
    /// (which the CSV's and the JSON's English keeps).
    static let method = ["monthly", "sources", "rounding", "suppression", "regions", "openCases", "replyDays", "kept"]

    /// The page's name for a cell key (a region, group, status or figure), as
    /// ``TransparencyReport/label(_:)`` names it in English.
    static func label(_ key: String) -> String {
        let area = Region(rawValue: key) == nil ? "cell" : "region"
        return Catalogue.current.text("transparency.\(area).\(keySegment(key))")
    }

    /// A key of the published figures as a catalogue key segment: `in-progress` as `inProgress`.
    static func keySegment(_ key: String) -> String {
        let parts = key.split(separator: "-")
        return parts.prefix(1).joined() + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
    }

    /// Days to one decimal, or `not published`.
    static func days(_ d: Double?) -> String {
        d.map { TransparencyReport.days($0) } ?? Catalogue.current.text("transparency.notPublished")
    }

    static func keys(_ table: TransparencyReport.Table) -> [String] {
        switch table {
        case .requests: TransparencyStatistics.regionKeys
        case .consentsLive, .consentsWithdrawn: Scope.allCases.map(\.rawValue)
        case .erasures: ["survivor", "retention"]
        case .openCases: TransparencyStatistics.openStatuses.map(\.rawValue)
        case .consentsExpired, .firstReply: []
        }
    }

    /// A figure in words on the page: the number, or "not shown" (under 10, or hidden).
    static func figure(_ f: Figure) -> String { f.value.map(String.init) ?? Catalogue.current.text("transparency.notShown") }

    /// `March 2026` for `2026-03`.
    static func monthName(_ iso: String) -> String {
        guard let m = Month(iso: iso) else { return iso }
        let words = Catalogue.current
        return words.text("transparency.month", ["month": words.text("date.month.\(m.month)"), "year": String(m.year)])
    }

    /// `Mar` for `2026-03`: a month under its bar in the chart.
    static func shortMonthName(_ iso: String) -> String {
        guard let m = Month(iso: iso) else { return iso }
        return Catalogue.current.text("transparency.monthShort.\(m.month)")
    }

    /// Requests received per month as SVG bars (drawn by attributes, not styles, so the page's
    /// content security policy needs no exception); the requests table says the same in words.
    static func chart(_ months: [PublishedMonth]) -> [String: Any] {
        let width = 640
        let height = 240
        let top = 20
        let bottom = 40
        let values = months.map { $0.requests.total?.value }
        let highest = max(values.compactMap { $0 }.max() ?? 0, 10)
        let slot = months.isEmpty ? 0 : width / months.count
        var bars: [[String: Any]] = []
        for (i, month) in months.enumerated() {
            let v = values[i]
            let h = v.map { $0 * (height - top - bottom) / highest } ?? 0
            let x = i * slot + slot / 6
            bars.append([
                "x": x, "y": height - bottom - h, "width": slot * 2 / 3, "height": h, "textX": x + slot / 3, "labelY": height - bottom + 16,
                "valueY": height - bottom - h - 4, "value": v.map(String.init) ?? Catalogue.current.text("transparency.notShown"),
                "month": shortMonthName(month.month),
            ])
        }
        return ["width": width, "height": height, "bars": bars, "baseY": height - bottom]
    }
}
