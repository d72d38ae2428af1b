import Foundation
import GRDB
public import HearthCore

// Invitations to interviews (SECURITY.md §3.13): state, times and timestamps in clear, the
// invitation and the latest answer sealed under the conversation key of their group.
extension SQLiteStore {
    public func interviews(lookup: [UInt8]) async throws -> [StoredInterview] {
        try await pool.read { db in
            try Self.interviews(sql: "WHERE i.record_rid = (SELECT rid FROM records WHERE lookup = ?) ORDER BY i.seq", [Data(lookup)], db)
        }
    }

    public func interviews(recordID: RecordID, scope: Scope) async throws -> [StoredInterview] {
        try await pool.read { db in
            try Self.interviews(
                sql: "WHERE i.record_rid = (SELECT rid FROM records WHERE id = ?) AND i.scope = ? ORDER BY i.seq",
                [Data(recordID.bytes), scope.rawValue], db)
        }
    }

    public func addInterview(
        recordID: RecordID, _ interview: StoredInterview, check: GrantCheck, audit: AuditEvent, at: Int64
    ) async throws -> GuardedWrite {
        try await addNote(
            recordID,
            sql: """
                INSERT INTO interviews (record_rid, interview_id, scope, staff_id, state, times, invited_at, invitation)
                VALUES (?, ?, ?, ?, 'invited', ?, ?, ?)
                """,
            values: [
                Data(interview.interviewID), interview.scope.rawValue, check.staffID, Self.timesText(interview.times), interview.invitedAt,
                Data(interview.sealedInvitation),
            ], check: check, audit: audit, at: at)
    }

    public func answerInterview(
        lookup: [UInt8], interviewID: [UInt8], revision: Int, action: InterviewAction, chosen: Int64?, sealed: [UInt8], audit: AuditEvent,
        at: Int64
    ) async throws -> InterviewWrite {
        try await pool.write { db in
            guard let rid = try Self.rid(lookup: lookup, db),
                let row = try Row.fetchOne(
                    db, sql: "SELECT scope, revision FROM interviews WHERE record_rid = ? AND interview_id = ?", arguments: [rid, Data(interviewID)])
            else { return .gone }
            guard row["revision"] as Int == revision else { return .stale }
            // Only while the survivor shares the request with the invitation's group, as for a message.
            let live = try Bool.fetchOne(
                db,
                sql: "SELECT 1 FROM consent_wraps w WHERE record_rid = ? AND scope = ? AND (expires IS NULL OR expires >= ?) AND \(Self.boundWrap)",
                arguments: [rid, row["scope"] as String, Day(unixSeconds: at).description])
            guard live != nil else { return .consentGone }
            try db.execute(
                sql: """
                    UPDATE interviews SET state = ?, chosen = ?, answer = ?, answered_at = ?, revision = revision + 1
                    WHERE record_rid = ? AND interview_id = ? AND revision = ?
                    """,
                arguments: [action.state.rawValue, chosen, Data(sealed), at, rid, Data(interviewID), revision])
            try Self.appendAudit(audit, at: at, db)
            return .done
        }
    }

    /// Times in clear: Unix seconds, comma-separated, in order.
    static func timesText(_ times: [Int64]) -> String { times.map(String.init).joined(separator: ",") }

    static func interviews(sql: String, _ arguments: StatementArguments, _ db: Database) throws -> [StoredInterview] {
        try Row.fetchAll(
            db,
            sql: """
                SELECT i.interview_id, i.scope, i.state, i.times, i.chosen, i.invited_at, i.answered_at, i.revision, i.invitation, i.answer,
                  s.pseudonym, s.role
                FROM interviews i LEFT JOIN staff s ON s.id = i.staff_id
                """ + " " + sql, arguments: arguments
        ).map { row in
            let id: Data = row["interview_id"]
            let invitation: Data = row["invitation"]
            let answer: Data? = row["answer"]
            let times: String = row["times"]
            let role: String? = row["role"]
            return StoredInterview(
                interviewID: Array(id), scope: Scope(rawValue: row["scope"])!, state: InterviewState(rawValue: row["state"])!,
                times: times.split(separator: ",").compactMap { Int64($0) }, chosen: row["chosen"], invitedAt: row["invited_at"],
                answeredAt: row["answered_at"], revision: row["revision"], sealedInvitation: Array(invitation), sealedAnswer: answer.map(Array.init),
                pseudonym: row["pseudonym"], role: role.flatMap(Role.init(rawValue:)))
        }
    }
}
