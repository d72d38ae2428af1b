import Foundation
import GRDB
import HearthCore

extension SQLiteStore: OperationsStore {
    public func liveStaffSessions(lastSeenSince: Int64, createdSince: Int64) async throws -> Int {
        try await pool.read { db in
            try Int.fetchOne(
                db, sql: "SELECT count(*) FROM sessions WHERE last_seen >= ? AND created >= ?", arguments: [lastSeenSince, createdSince]) ?? 0
        }
    }

    public func checkpointPosition() async throws -> (checkpoint: (at: Int64, seq: Int64)?, head: Int64) {
        try await pool.read { db in
            let checkpoint = try Row.fetchOne(db, sql: "SELECT at, seq FROM audit_checkpoints ORDER BY seq DESC LIMIT 1")
            let head = try Int64.fetchOne(db, sql: "SELECT coalesce(max(seq), 0) FROM audit") ?? 0
            return (checkpoint.map { (at: $0["at"], seq: $0["seq"]) }, head)
        }
    }

    /// The database file, its WAL and its shared-memory file, as the file system reports them.
    public func databaseBytes() async throws -> Int64 {
        let manager = FileManager.default
        return [pool.path, pool.path + "-wal", pool.path + "-shm"].reduce(Int64(0)) { total, file in
            let size = (try? manager.attributesOfItem(atPath: file)[.size] as? NSNumber)?.int64Value
            return total + (size ?? 0)
        }
    }
}
