import GRDB
import HearthCore
import HearthMetrics
import Logging
import Synchronization

/// Group commit: submissions that arrive while a transaction is committing share the next one.
/// Every caller returns only after the transaction holding its record has committed.
///
/// Figures: records waiting (`hearth_sqlite_group_commit_pending`), records per transaction and
/// each transaction's time with its fsync (SECURITY.md §11.1); counts and durations only.
final class GroupCommitter: Sendable {
    private struct Pending: Sendable {
        let record: NewRecord
        let audit: [AuditEvent]
        let hour: Int64
        let done: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var draining = false
    }

    private let pool: DatabasePool
    private let logger: Logger
    private let metrics: HearthMetrics
    private let state = Mutex(State())
    /// Most records in one transaction.
    static let maxBatch = 512

    init(pool: DatabasePool, logger: Logger, metrics: HearthMetrics) {
        self.pool = pool
        self.logger = logger
        self.metrics = metrics
    }

    func commit(_ record: NewRecord, audit: [AuditEvent], hour: Int64) async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            let startDrain = state.withLock { s -> Bool in
                s.pending.append(Pending(record: record, audit: audit, hour: hour, done: done))
                guard !s.draining else { return false }
                s.draining = true
                return true
            }
            metrics.groupCommitPending.increment()
            if startDrain {
                Task { await self.drain() }
            }
        }
    }

    private func drain() async {
        while true {
            let batch = state.withLock { s -> [Pending] in
                let n = min(s.pending.count, Self.maxBatch)
                let b = Array(s.pending.prefix(n))
                s.pending.removeFirst(n)
                if b.isEmpty { s.draining = false }
                return b
            }
            if batch.isEmpty { return }
            metrics.groupCommitPending.decrement(by: Double(batch.count))
            do {
                try await timedWrite(records: batch.count) { db in
                    for p in batch { try SQLiteStore.insertNow(p.record, audit: p.audit, hour: p.hour, db) }
                }
                metrics.submissions.increment(by: batch.count)
                for p in batch { p.done.resume() }
            } catch {
                // One bad row must not fail its neighbours: retry each alone.
                logger.warning("group commit failed; retrying records one by one", metadata: ["batch.size": "\(batch.count)"])
                for p in batch {
                    do {
                        try await timedWrite(records: 1) { db in try SQLiteStore.insertNow(p.record, audit: p.audit, hour: p.hour, db) }
                        metrics.submissions.increment()
                        p.done.resume()
                    } catch {
                        p.done.resume(throwing: error)
                    }
                }
            }
        }
    }

    /// One write transaction of `records` records, timed from its start to its durable commit.
    private func timedWrite(records: Int, _ body: @escaping @Sendable (Database) throws -> Void) async throws {
        let start = ContinuousClock.now
        try await pool.write(body)
        let (seconds, attoseconds) = (ContinuousClock.now - start).components
        metrics.groupCommitSeconds.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        metrics.groupCommitBatchSize.record(records)
    }
}
