import Foundation
import GRDB
import HearthCore
import HearthMetrics
import Logging
import Synchronization

/// Hearth's SQLite storage (GRDB): WAL, `synchronous=FULL`, `secure_delete` and foreign keys on
/// every connection. Stores only ciphertext, wraps, consent history and routing metadata.
public final class SQLiteStore: IntakeStore, RetentionStore, Sendable {
    /// The connection pool. Private: everything else reaches the database through the store
    /// contracts (tests through the `Inspection` SPI).
    let pool: DatabasePool
    private let committer: GroupCommitter
    private let logger: Logger
    /// The background truncation that keeps trying after an erasure's own attempts were kept busy.
    private let pendingTruncation = Mutex<Task<Void, Never>?>(nil)
    /// The test hook run in every commit (``setCommitHook(_:)``), or nil.
    private let commitHook = Mutex<CommitHook?>(nil)

    /// Opens (creating if needed) the database at `path` and migrates it. Group commits report
    /// their batch sizes, times and queue to `metrics`, and submissions are counted there.
    public init(path: String, logger: Logger, metrics: HearthMetrics = .disabled) throws {
        var config = Configuration()
        config.foreignKeysEnabled = true
        config.busyMode = .timeout(10)
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA secure_delete = ON")
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Temporary tables and indices stay in memory, never in temporary files.
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
            // Whenever the WAL starts over it is cut to nothing, so stale frames (pages as they
            // were before an erasure, say) never linger past the end of the live log.
            try db.execute(sql: "PRAGMA journal_size_limit = 0")
        }
        pool = try DatabasePool(path: path, configuration: config)
        // GRDB switches the writer to `synchronous = NORMAL` when it enables WAL, after
        // `prepareDatabase` ran; set FULL again so an acknowledged commit survives power loss.
        try pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // 64 MiB of page cache for the one writer: random ids touch index pages all over the
            // file. Readers keep SQLite's default (2 MiB each), so memory stays flat.
            try db.execute(sql: "PRAGMA cache_size = -65536")
        }
        try Self.migrator.migrate(pool)
        committer = GroupCommitter(pool: pool, logger: logger, metrics: metrics)
        self.logger = logger
    }

    /// Appends one entry to the hash chain inside the caller's transaction.
    static func appendAudit(_ e: AuditEvent, at: Int64, _ db: Database) throws {
        let last = try Row.fetchOne(db.cachedStatement(sql: "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1"))
        let seq: Int64 = (last?["seq"] as Int64? ?? 0) + 1
        let previous: [UInt8] = (last?["hash"] as Data?).map(Array.init) ?? AuditChain.genesis
        let hash = try AuditChain.hash(previous: previous, seq: seq, at: at, event: e)
        try db.cachedStatement(
            sql:
                "INSERT INTO audit (seq, at, actor, role, action, subject, scope, outcome, previous_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ).execute(arguments: [seq, at, e.actor, e.role, e.action, e.subject, e.scope, e.outcome, Data(previous), Data(hash)])
    }

    // MARK: RecordStore

    public func insert(_ record: NewRecord, audit: [AuditEvent], at hour: Int64) async throws {
        try await committer.commit(record, audit: audit, hour: hour)
    }

    static func insertNow(_ r: NewRecord, audit: [AuditEvent], hour: Int64, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO records (id, lookup, format, created_hour, region, commitment, body, survivor_wrap, no_consent_since)
                VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [
            Data(r.id.bytes), Data(r.lookup), r.createdHour, r.region?.rawValue, Data(r.commitment), Data(r.body),
            Data(r.survivorWrap), r.wraps.isEmpty ? hour : nil,
        ])
        let rid = db.lastInsertedRowID
        for w in r.wraps {
            try putWrap(w, rid: rid, grant: try appendEvent(rid: rid, scope: w.scope, action: .granted, expires: w.expires, at: hour, db), db)
        }
        for event in audit { try appendAudit(event, at: hour, db) }
    }

    /// The internal row id of a record (children reference it, so their keys grow in order
    /// instead of landing on random pages), or nil if the record is gone.
    static func rid(of recordID: RecordID, _ db: Database) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT rid FROM records WHERE id = ?"), arguments: [Data(recordID.bytes)])
    }

    /// The row id of the record whose receipt lookup id is `lookup`, or nil if it is gone.
    static func rid(lookup: [UInt8], _ db: Database) throws -> Int64? {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT rid FROM records WHERE lookup = ?"), arguments: [Data(lookup)])
    }

    /// Stores a wrap bound to `grant`, the sequence number of the `granted` event it answers.
    static func putWrap(_ w: StoredWrap, rid: Int64, grant: Int64, _ db: Database) throws {
        try db.cachedStatement(
            sql: """
                INSERT OR REPLACE INTO consent_wraps (record_rid, scope, key_version, wrap, conversation_wrap, expires, grant_seq)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """
        ).execute(arguments: [rid, w.scope.rawValue, Int64(w.keyVersion), Data(w.wrap), Data(w.conversationWrap), w.expires?.description, grant])
    }

    /// Appends a consent event; returns its sequence number.
    @discardableResult
    static func appendEvent(
        rid: Int64, scope: Scope, action: ConsentEvent.Action, expires: Day?, at hour: Int64, _ db: Database
    ) throws -> Int64 {
        try db.cachedStatement(
            sql: "INSERT INTO consent_events (record_rid, scope, action, expires, at) VALUES (?, ?, ?, ?, ?)"
        ).execute(arguments: [rid, scope.rawValue, action.rawValue, expires?.description, hour])
        return db.lastInsertedRowID
    }

    /// SQLite's `PRAGMA quick_check`: "ok", or the first problem it found (for `hearth doctor`).
    public func quickCheck() async throws -> String {
        try await pool.read { db in try String.fetchOne(db, sql: "PRAGMA quick_check") ?? "no answer" }
    }

    /// SQL true when the wrap `w` answers the latest consent event of its scope, a `granted` one
    /// (SECURITY.md §3.19): a copy of a wrap put back after a withdrawal is not bound and opens
    /// for no one.
    static let boundWrap = """
        EXISTS (SELECT 1 FROM consent_events e WHERE e.seq = w.grant_seq AND e.record_rid = w.record_rid
                AND e.scope = w.scope AND e.action = 'granted')
        AND NOT EXISTS (SELECT 1 FROM consent_events e WHERE e.record_rid = w.record_rid AND e.scope = w.scope
                AND e.seq > w.grant_seq)
        """

    public func record(lookup: [UInt8]) async throws -> StoredRecord? {
        try await pool.read { db in try Self.record(where: "lookup", is: lookup, db)?.record }
    }

    /// Loads a record by id (maintenance and tests).
    public func record(id: RecordID) async throws -> StoredRecord? {
        try await pool.read { db in try Self.record(where: "id", is: id.bytes, db)?.record }
    }

    /// The record whose `column` (`id` or `lookup`) holds `value`, with its assignee.
    static func record(where column: String, is value: [UInt8], _ db: Database) throws -> (record: StoredRecord, assignee: Int64?)? {
        precondition(column == "id" || column == "lookup")
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM records WHERE \(column) = ?", arguments: [Data(value)]) else { return nil }
        return (try record(from: row, db), row["assignee"])
    }

    /// A wrap that is not bound to its scope's latest grant was found and ignored: someone put a
    /// saved wrap back behind Hearth's back.
    static func unboundWrapSeen() {
        unboundWrapLogger.warning("a consent wrap not bound to its latest grant was ignored: the database was changed outside Hearth")
    }

    static let unboundWrapLogger = Logger(label: "hearth.store")

    static func record(from row: Row, _ db: Database) throws -> StoredRecord {
        let idData: Data = row["id"]
        let id = RecordID(bytes: Array(idData))!
        let rid: Int64 = row["rid"]
        let rows = try Row.fetchAll(
            db,
            sql: """
                SELECT scope, key_version, wrap, conversation_wrap, expires, \(boundWrap) AS bound FROM consent_wraps w
                WHERE record_rid = ? ORDER BY scope
                """,
            arguments: [rid])
        if rows.contains(where: { !($0["bound"] as Bool) }) { unboundWrapSeen() }
        let wraps = rows.filter { $0["bound"] as Bool }.map { w -> StoredWrap in
            let scope: String = w["scope"]
            let version: Int64 = w["key_version"]
            let wrap: Data = w["wrap"]
            let conversation: Data = w["conversation_wrap"]
            let expires: String? = w["expires"]
            return StoredWrap(
                scope: Scope(rawValue: scope)!, keyVersion: UInt32(version), wrap: Array(wrap), conversationWrap: Array(conversation),
                expires: expires.flatMap(Day.init(iso:)))
        }
        let region: String? = row["region"]
        let commitment: Data = row["commitment"]
        let body: Data = row["body"]
        let survivorWrap: Data = row["survivor_wrap"]
        return StoredRecord(
            SealedRecord(
                id: id, createdHour: row["created_hour"], region: region.flatMap(Region.init(rawValue:)), commitment: Array(commitment),
                body: Array(body), survivorWrap: Array(survivorWrap), wraps: wraps),
            status: CaseStatus(rawValue: row["status"]) ?? .new, pause: pause(row))
    }

    /// The pause in a records row (`paused`, `paused_until`), if one is set.
    static func pause(_ row: Row) -> ContactPause? {
        guard row["paused"] as Bool? == true else { return nil }
        let until: String? = row["paused_until"]
        return ContactPause(until: until.flatMap(Day.init(iso:)))
    }

    public func setPause(_ pause: ContactPause?, lookup: [UInt8], audit: AuditEvent, at: Int64) async throws -> Bool {
        try await pool.write { db in
            try db.execute(
                sql: "UPDATE records SET paused = ?, paused_until = ? WHERE lookup = ?",
                arguments: [pause != nil, pause?.until?.description, Data(lookup)])
            guard db.changesCount == 1 else { return false }
            try Self.appendAudit(audit, at: at, db)
            return true
        }
    }

    public func putConsent(_ wrap: StoredWrap, lookup: [UInt8], audit: AuditEvent, at hour: Int64) async throws -> Bool {
        try await pool.write { db in
            guard let rid = try Self.rid(lookup: lookup, db) else { return false }
            let grant = try Self.appendEvent(rid: rid, scope: wrap.scope, action: .granted, expires: wrap.expires, at: hour, db)
            try Self.putWrap(wrap, rid: rid, grant: grant, db)
            try Self.appendAudit(audit, at: hour, db)
            try db.execute(sql: "UPDATE records SET no_consent_since = NULL WHERE rid = ?", arguments: [rid])
            return true
        }
    }

    public func removeConsent(
        _ scope: Scope, lookup: [UInt8], action: ConsentEvent.Action, audit: AuditEvent, at hour: Int64
    ) async throws -> Bool {
        let removed = try await pool.write { db in
            guard let rid = try Self.rid(lookup: lookup, db) else { return false }
            return try Self.removeConsentNow(scope, rid: rid, action: action, audit: audit, at: hour, db)
        }
        // `secure_delete` zeroes the wrap in the new page version only: the old one, wrap
        // included, stays in the WAL (and in the database file after a checkpoint) until both
        // are checkpointed and truncated, as for an erasure.
        if removed { try await truncateWAL() }
        return removed
    }

    static func removeConsentNow(
        _ scope: Scope, rid: Int64, action: ConsentEvent.Action, audit: AuditEvent, at hour: Int64, _ db: Database
    ) throws -> Bool {
        // A wrap not bound to its grant was live for no one: it is deleted, but nothing ends.
        let bound = try Bool.fetchOne(
            db, sql: "SELECT \(boundWrap) FROM consent_wraps w WHERE record_rid = ? AND scope = ?", arguments: [rid, scope.rawValue])
        try db.execute(sql: "DELETE FROM consent_wraps WHERE record_rid = ? AND scope = ?", arguments: [rid, scope.rawValue])
        guard db.changesCount == 1, bound == true else { return false }
        try appendEvent(rid: rid, scope: scope, action: action, expires: nil, at: hour, db)
        try appendAudit(audit, at: hour, db)
        try db.execute(
            sql: """
                UPDATE records SET no_consent_since = ?
                WHERE rid = ? AND NOT EXISTS (SELECT 1 FROM consent_wraps WHERE record_rid = records.rid)
                """,
            arguments: [hour, rid])
        return true
    }

    public func consentHistory(lookup: [UInt8]) async throws -> [ConsentEvent] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql:
                    "SELECT scope, action, expires, at FROM consent_events WHERE record_rid = (SELECT rid FROM records WHERE lookup = ?) ORDER BY seq",
                arguments: [Data(lookup)]
            ).map { row in
                let scope: String = row["scope"]
                let action: String = row["action"]
                let expires: String? = row["expires"]
                return ConsentEvent(
                    scope: Scope(rawValue: scope)!, action: ConsentEvent.Action(rawValue: action)!, at: row["at"],
                    expires: expires.flatMap(Day.init(iso:)))
            }
        }
    }

    public func replaceBody(lookup: [UInt8], body: [UInt8], audit: AuditEvent, at: Int64) async throws -> Bool {
        let replaced = try await pool.write { db in
            try db.execute(sql: "UPDATE records SET body = ? WHERE lookup = ?", arguments: [Data(body), Data(lookup)])
            guard db.changesCount == 1 else { return false }
            try Self.appendAudit(audit, at: at, db)
            return true
        }
        // The old body is sealed, but it is gone from the file and WAL all the same.
        if replaced { try await truncateWAL() }
        return replaced
    }

    public func erase(lookup: [UInt8], audit: AuditEvent, at: Int64) async throws -> Bool {
        let existed = try await pool.write { db in
            try db.execute(sql: "DELETE FROM records WHERE lookup = ?", arguments: [Data(lookup)])
            guard db.changesCount == 1 else { return false }
            try Self.appendAudit(audit, at: at, db)
            return true
        }
        try await truncateWAL()
        return existed
    }

    /// Copies the WAL into the database and truncates it to zero bytes, so erased pages survive
    /// in neither file. The deletion has already committed. Readers can keep the checkpoint from
    /// finishing: it is tried for about two seconds here, then handed to a background task that
    /// keeps trying, backing off to once a second, until it succeeds (see ``truncationPending``).
    public func truncateWAL() async throws {
        for attempt in 0..<20 {
            if try await truncateWALOnce() { return }
            try await Task.sleep(for: .milliseconds(10 * (attempt + 1)))
        }
        retryTruncationUntilDone()
    }

    /// Whether a truncation is still being retried in the background.
    public var truncationPending: Bool { pendingTruncation.withLock { $0 != nil } }

    /// One checkpoint(TRUNCATE) that does not wait on SQLite's busy handler: true when the WAL is
    /// now empty, false when readers or a writer kept it busy.
    func truncateWALOnce() async throws -> Bool {
        try await pool.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA busy_timeout = 0")
            defer { try? db.execute(sql: "PRAGMA busy_timeout = 10000") }
            do {
                _ = try db.checkpoint(.truncate)
                return true
            } catch let e as DatabaseError where e.resultCode == .SQLITE_BUSY || e.resultCode == .SQLITE_LOCKED {
                return false
            }
        }
    }

    /// Starts (once) the background retry of a truncation that readers kept busy.
    private func retryTruncationUntilDone() {
        pendingTruncation.withLock { pending in
            guard pending == nil else { return }
            logger.warning("WAL checkpoint kept busy by readers; retrying in the background until it succeeds")
            pending = Task {
                var delay = 50
                var failures = 0
                while true {
                    do {
                        if try await self.truncateWALOnce() {
                            self.logger.notice("WAL checkpoint done after waiting for readers")
                            break
                        }
                        failures = 0
                    } catch {
                        // Not busy but broken (the disk, say): an error, and no endless loop.
                        failures += 1
                        guard failures < 10 else {
                            self.logger.error("WAL checkpoint failed", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
                            break
                        }
                    }
                    try? await Task.sleep(for: .milliseconds(delay))
                    delay = min(1_000, delay * 2)
                }
                self.pendingTruncation.withLock { $0 = nil }
            }
        }
    }

    public func expireConsents(before today: Day, at hour: Int64) async throws -> Int {
        let n = try await pool.write { db in
            let due = try Row.fetchAll(
                db,
                sql: """
                    SELECT w.record_rid, w.scope, r.id FROM consent_wraps w JOIN records r ON r.rid = w.record_rid
                    WHERE w.expires IS NOT NULL AND w.expires < ?
                    """,
                arguments: [today.description])
            var n = 0
            for row in due {
                let rid: Int64 = row["record_rid"]
                let scope = Scope(rawValue: row["scope"] as String)!
                let id: Data = row["id"]
                let audit = AuditEvent.consentExpired(RecordID(bytes: Array(id))!, scope: scope)
                if try Self.removeConsentNow(scope, rid: rid, action: .expired, audit: audit, at: hour, db) {
                    n += 1
                }
            }
            return n
        }
        if n > 0 { try await truncateWAL() }
        return n
    }

    public func shredRecords(withoutConsentSince cutoff: Int64, at: Int64) async throws -> Int {
        let n = try await pool.write { db in
            let due = try Data.fetchAll(
                db, sql: "SELECT id FROM records WHERE no_consent_since IS NOT NULL AND no_consent_since <= ?", arguments: [cutoff])
            for id in due {
                try db.execute(sql: "DELETE FROM records WHERE id = ?", arguments: [id])
                try Self.appendAudit(.retentionShred(RecordID(bytes: Array(id))!), at: at, db)
            }
            return due.count
        }
        if n > 0 { try await truncateWAL() }
        return n
    }

    /// Number of records (for tests and status).
    public func recordCount() async throws -> Int {
        try await pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM records") ?? 0 }
    }

    // MARK: Inspection (tests only)

    /// Reads the raw database, for tests that look at what is stored (canaries, wrap bytes,
    /// pragmas). Not part of any store contract.
    @_spi(Inspection) public func inspect<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        try await pool.read(body)
    }

    /// Writes to the raw database in a transaction, for tests that tamper with it.
    @_spi(Inspection) public func tamper<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        try await pool.write(body)
    }

    /// Runs `hook` on the writer inside every commit from now on, just before SQLite makes the
    /// transaction durable (nil removes it): a hook that blocks holds the commit, one that throws
    /// fails it, and the transaction rolls back. For the tests of the durability contract (nothing
    /// is acknowledged before its commit, invariant 5).
    @_spi(Inspection) public func setCommitHook(_ hook: (@Sendable () throws -> Void)?) async throws {
        let new = hook.map(CommitHook.init)
        let old = commitHook.withLock { current in
            defer { current = new }
            return current
        }
        try await pool.writeWithoutTransaction { db in
            if let old { db.remove(transactionObserver: old) }
            if let new { db.add(transactionObserver: new, extent: .observerLifetime) }
        }
    }

    /// Runs on the writer connection outside a transaction (pragmas as the writer sees them).
    @_spi(Inspection) public func inspectWriter<T: Sendable>(_ body: @Sendable (Database) throws -> T) async throws -> T {
        try await pool.writeWithoutTransaction(body)
    }
}

/// A transaction observer that runs a test's hook when a transaction is about to commit.
private final class CommitHook: TransactionObserver, Sendable {
    let hook: @Sendable () throws -> Void

    init(_ hook: @escaping @Sendable () throws -> Void) { self.hook = hook }

    func databaseWillCommit() throws { try hook() }
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { false }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) {}
    func databaseDidRollback(_ db: Database) {}
}
