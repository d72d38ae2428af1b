public import HearthCore
import PostgresNIO

// The transparency figures' reads and the insert-only table of published months (SECURITY.md §13).
extension PostgresCaseworkStore: TransparencyStore {
    /// Chains the survivor events waiting in the inbox first, so requests and consents written
    /// by the intake just before a month closed are counted.
    public func transparencyEvents() async throws -> [TransparencyEvent] {
        try await chainInbox()
        return try await db.rows(
            "SELECT subject, action, scope, outcome, at FROM hearth.audit WHERE action = ANY(\(TransparencyEvent.auditActions)) ORDER BY seq"
        ).compactMap { row in
            TransparencyEvent(
                action: try row.value("action"), subject: try row.value("subject"), scope: try row.value("scope"),
                outcome: try row.value("outcome"), at: try row.value("at"))
        }
    }

    public func recordRegions() async throws -> [String: Region] {
        var out: [String: Region] = [:]
        for row in try await db.rows("SELECT id, region FROM hearth.records WHERE region IS NOT NULL") {
            if let record = RecordID(bytes: try row.bytes("id")), let region = Region(rawValue: try row.value("region")) {
                out[record.reference] = region
            }
        }
        return out
    }

    public func publishedMonths() async throws -> [PublishedMonth] {
        try await db.rows("SELECT figures FROM hearth.published_months ORDER BY month").map { try PublishedMonth(json: try $0.bytes("figures")) }
    }

    public func storePublishedMonths(_ months: [PublishedMonth]) async throws {
        let rows = try months.map { ($0.month, $0.computed, try $0.json()) }
        try await db.transaction { t in
            for (month, day, figures) in rows {
                try await t.execute(
                    "INSERT INTO hearth.published_months (month, computed_day, figures) VALUES (\(month), \(day), \(figures.bytea)) ON CONFLICT (month) DO NOTHING"
                )
            }
        }
    }
}

extension PostgresIntakeStore {
    /// Through `hearth.intake_published_months()`: the intake's role has no right on the table.
    public func publishedMonths() async throws -> [PublishedMonth] {
        try await db.rows("SELECT figures FROM hearth.intake_published_months()").map { try PublishedMonth(json: try $0.bytes("figures")) }
    }
}
