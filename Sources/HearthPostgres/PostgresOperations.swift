public import HearthCore
import PostgresNIO

extension PostgresCaseworkStore: OperationsStore {
    public func liveStaffSessions(lastSeenSince: Int64, createdSince: Int64) async throws -> Int {
        try await db.rows("SELECT count(*) FROM hearth.sessions WHERE last_seen >= \(lastSeenSince) AND created >= \(createdSince)")
            .first?[0].decode(Int.self) ?? 0
    }

    /// Entries still waiting in the survivor inbox count as appended: they are not under any
    /// checkpoint yet either. Reads only; nothing is chained here.
    public func checkpointPosition() async throws -> (checkpoint: (at: Int64, seq: Int64)?, head: Int64) {
        let rows = try await db.rows(
            """
            SELECT (SELECT at FROM hearth.audit_checkpoints ORDER BY seq DESC LIMIT 1) AS at,
                   (SELECT max(seq) FROM hearth.audit_checkpoints) AS checkpoint,
                   (SELECT coalesce(max(seq), 0) FROM hearth.audit) + (SELECT count(*) FROM hearth.audit_inbox) AS head
            """)
        guard let row = rows.first else { return (nil, 0) }
        let at = try row.value("at", as: Int64?.self)
        let seq = try row.value("checkpoint", as: Int64?.self)
        let head = try row.value("head", as: Int64.self)
        return (at.flatMap { at in seq.map { (at: at, seq: $0) } }, head)
    }

    /// `pg_database_size` of the connected database (any role that may connect may ask).
    public func databaseBytes() async throws -> Int64 {
        try await db.rows("SELECT pg_database_size(current_database())").first?[0].decode(Int64.self) ?? 0
    }
}
