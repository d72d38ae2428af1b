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
        let all = try await service.publishedMonths()
        let shown = Array(all.suffix(Self.monthsOnPage))
        let late = all.filter(\.computedLate).map { Self.monthName($0.month) }
        let headers = shown.map { ["month": Self.monthName($0.month)] }
        var tables: [[String: Any]] = []
        for table in TransparencyReport.Table.allCases {
            var rows: [[String: Any]] = []
            func add(_ label: String, _ values: [String]) { rows.append(["label": label, "values": values.map { ["value": $0] }]) }
            switch table {
            case .consentsExpired: add("Total", shown.map { Self.figure($0.consentsExpired) })
            case .firstReply:
                add(TransparencyReport.label("replies"), shown.map { Self.figure($0.firstReply.replies) })
                add(TransparencyReport.label("median-days"), shown.map { TransparencyReport.days($0.firstReply.medianDays) })
                add(TransparencyReport.label("p90-days"), shown.map { TransparencyReport.days($0.firstReply.p90Days) })
            default:
                let keys = Self.keys(table)
                if shown.contains(where: { TransparencyReport.row(table, $0)?.total != nil }) {
                    add("Total", shown.map { TransparencyReport.row(table, $0)?.total.map(Self.figure) ?? "" })
                }
                for key in keys {
                    add(
                        TransparencyReport.label(key),
                        shown.map { month in
                            guard let row = TransparencyReport.row(table, month) else { return "" }
                            return row.breakdownPublished ? row.figure(key).map(Self.figure) ?? "" : "not published"
                        })
                }
            }
            tables.append(["id": table.rawValue, "title": table.title, "headers": headers, "rows": rows])
        }
        return pages.renderer.page(
            "transparency",
            [
                "hasMonths": !shown.isEmpty, "tables": tables, "method": TransparencyReport.method, "chart": Self.chart(shown),
                // A section on an empty string still renders: false leaves the paragraph out.
                "late": late.isEmpty ? false : late.joined(separator: ", "),
                "threshold": TransparencyStatistics.threshold,
            ])
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

    /// A figure in words on the page: the number, or "fewer than 10 or hidden".
    static func figure(_ f: Figure) -> String { f.value.map(String.init) ?? "not shown" }

    /// `March 2026` for `2026-03`.
    static func monthName(_ iso: String) -> String {
        guard let m = Month(iso: iso) else { return iso }
        let names = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        return "\(names[m.month - 1]) \(m.year)"
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
                "valueY": height - bottom - h - 4, "value": v.map(String.init) ?? "not shown", "month": String(monthName(month.month).prefix(3)),
            ])
        }
        return ["width": width, "height": height, "bars": bars, "baseY": height - bottom]
    }
}
