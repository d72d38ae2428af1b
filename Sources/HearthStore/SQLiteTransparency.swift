import Foundation
import GRDB
import HearthCore

// The transparency figures' reads and the insert-only table of published months (SECURITY.md §13).
extension SQLiteStore: TransparencyStore {
    public func transparencyEvents() async throws -> [TransparencyEvent] {
        let actions = TransparencyEvent.auditActions.map { "'\($0)'" }.joined(separator: ", ")
        return try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT subject, action, scope, outcome, at FROM audit WHERE action IN (\(actions)) ORDER BY seq")
                .compactMap { row in
                    TransparencyEvent(action: row["action"], subject: row["subject"], scope: row["scope"], outcome: row["outcome"], at: row["at"])
                }
        }
    }

    public func recordRegions() async throws -> [String: Region] {
        try await pool.read { db in
            var out: [String: Region] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, region FROM records WHERE region IS NOT NULL") {
                let id: Data = row["id"]
                if let record = RecordID(bytes: Array(id)), let region = Region(rawValue: row["region"]) { out[record.reference] = region }
            }
            return out
        }
    }

    public func publishedMonths() async throws -> [PublishedMonth] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT figures FROM published_months ORDER BY month").map { row in
                let figures: Data = row["figures"]
                return try PublishedMonth(json: Array(figures))
            }
        }
    }

    public func storePublishedMonths(_ months: [PublishedMonth]) async throws {
        let rows = try months.map { ($0.month, $0.computed, Data(try $0.json())) }
        try await pool.write { db in
            for (month, day, figures) in rows {
                try db.execute(
                    sql: "INSERT INTO published_months (month, computed_day, figures) VALUES (?, ?, ?) ON CONFLICT (month) DO NOTHING",
                    arguments: [month, day, figures])
            }
        }
    }
}
