import CoreMetrics
public import HearthMetrics
import Hummingbird

/// How many new contact requests the intake takes (through the API and the page form alike), and
/// when it stops taking them to keep the disk for the survivors already there. Each value is a
/// `hearth serve`/`hearth intake` flag (named beside it) and a field of the composition root's
/// settings.
public struct SubmissionLimits: Sendable, Equatable {
    /// New submissions one source (``LimiterSource``) may make at once (`--source-submissions`).
    public var perSourceBurst = 5
    /// Submissions a source regains per minute (`--source-submissions-per-minute`).
    public var perSourcePerMinute = 1.0
    /// New submissions the whole intake takes at once (`--submissions`).
    public var globalBurst = 120
    /// Submissions the whole intake regains per minute (`--submissions-per-minute`).
    public var globalPerMinute = 60.0
    /// New submissions are refused (503) while the data directory's file system has less free
    /// space than this (`--min-free-disk`; the same default as `hearth doctor --min-free-disk`).
    /// Not checked with PostgreSQL, whose disk is on the database host.
    public var minFreeDiskBytes: Int64 = Self.defaultMinFreeDiskBytes
    /// New submissions are refused (503) once the database is this large (`--max-database-size`;
    /// SQLite: file + WAL + shared memory; PostgreSQL: `pg_database_size`); nil for no limit.
    public var maxDatabaseBytes: Int64?
    /// How often the disk guard asks for free space and database size, in seconds; between
    /// checks every submission uses the last answer.
    public var diskCheckSeconds = 5

    /// 1 GiB, as `hearth doctor --min-free-disk` assumes.
    public static let defaultMinFreeDiskBytes: Int64 = 1 << 30

    /// The defaults.
    public init() {}
}

/// What the disk guard reads: free space for unprivileged use on the data directory's file system
/// and the database's size, each nil when it is not known (not asked, or the asking failed).
public struct DiskReading: Sendable, Equatable {
    /// Free bytes on the data directory's file system, or nil.
    public var freeBytes: Int64?
    /// The database's bytes, or nil.
    public var databaseBytes: Int64?

    /// A reading of `freeBytes` and `databaseBytes`.
    public init(freeBytes: Int64?, databaseBytes: Int64?) {
        self.freeBytes = freeBytes
        self.databaseBytes = databaseBytes
    }
}

/// Refuses new submissions while free disk is under, or the database over, its limit. It reads
/// at most once per ``SubmissionLimits/diskCheckSeconds`` (one caller reads, every other uses
/// the last answer meanwhile), so a flood of submissions is not a flood of file-system calls or
/// queries. A value it cannot read refuses nothing: the guard must never shut survivors out on
/// its own fault.
public actor DiskGuard {
    private let minFreeBytes: Int64
    private let maxDatabaseBytes: Int64?
    private let interval: Duration
    private let read: @Sendable () async -> DiskReading
    private var last: (reading: DiskReading, at: ContinuousClock.Instant)?
    private var reading: Task<DiskReading, Never>?

    /// A guard over `limits` that asks `read` for the figures.
    public init(limits: SubmissionLimits, read: @escaping @Sendable () async -> DiskReading) {
        minFreeBytes = limits.minFreeDiskBytes
        maxDatabaseBytes = limits.maxDatabaseBytes
        interval = .seconds(limits.diskCheckSeconds)
        self.read = read
    }

    /// Whether new submissions must be refused now.
    public func isFull() async -> Bool {
        let now = ContinuousClock.now
        if let last, now - last.at < interval || reading != nil { return isFull(last.reading) }
        let task = reading ?? Task { await read() }
        reading = task
        let fresh = await task.value
        reading = nil
        last = (fresh, ContinuousClock.now)
        return isFull(fresh)
    }

    private func isFull(_ r: DiskReading) -> Bool {
        if let free = r.freeBytes, free < minFreeBytes { return true }
        if let size = r.databaseBytes, let max = maxDatabaseBytes, size >= max { return true }
        return false
    }
}

/// The gate every new contact request passes before it is stored, on the API and the page form:
/// a per-source and a global budget (429 with `Retry-After`), and the disk guard (503). Reading
/// a survivor's request back, withdrawing consent and erasing never pass through it.
///
/// ``precheck(_:)`` refuses cheaply before the body is read; ``admit(_:)`` spends from both
/// budgets once the request is valid, just before it is stored, so a mistake in a form costs
/// nothing. Each refusal is counted by reason (`hearth_submission_refusals_total`).
public final class SubmissionGate: Sendable {
    private let perSource: SourceBuckets
    private let global: SharedBucket
    private let disk: DiskGuard?
    private let refusals: [SubmissionRefusal: Counter]

    /// A gate with `limits`, the disk guard `disk` (none when nil), counting refusals in `metrics`.
    public init(limits: SubmissionLimits, disk: DiskGuard?, metrics: HearthMetrics = .disabled) throws {
        perSource = try SourceBuckets(burst: max(1, limits.perSourceBurst), refillPerSecond: max(limits.perSourcePerMinute, 1e-6) / 60)
        global = SharedBucket(burst: max(1, limits.globalBurst), refillPerSecond: max(limits.globalPerMinute, 1e-6) / 60)
        self.disk = disk
        refusals = Dictionary(uniqueKeysWithValues: SubmissionRefusal.allCases.map { ($0, metrics.submissionRefusals($0)) })
    }

    /// Refuses at once, taking nothing, while the disk is full or either budget is spent.
    public func precheck(_ source: LimiterSource) async throws {
        try await refuseIfFull()
        if let wait = global.wait() { throw refusal(.global, wait) }
        if let wait = perSource.wait(source) { throw refusal(.source, wait) }
    }

    /// Spends one submission from `source`'s budget and the global one, or refuses (and spends nothing).
    public func admit(_ source: LimiterSource) async throws {
        try await refuseIfFull()
        if let wait = perSource.take(source) { throw refusal(.source, wait) }
        if let wait = global.take() {
            perSource.giveBack(source)
            throw refusal(.global, wait)
        }
    }

    private func refuseIfFull() async throws {
        guard let disk, await disk.isFull() else { return }
        refusals[.disk]?.increment()
        throw Self.full
    }

    private func refusal(_ reason: SubmissionRefusal, _ wait: Int) -> ProblemResponse {
        refusals[reason]?.increment()
        let why =
            reason == .source
            ? "too many requests have been sent from here in a short time"
            : "we are receiving a very large number of requests just now"
        return .rateLimited("\(why), so this one was not sent; please wait \(wait) seconds and send it again", retryAfter: wait)
    }

    /// The answer while the disk guard refuses new submissions.
    public static let full = ProblemResponse(
        status: .serviceUnavailable, code: "not-accepting",
        "we cannot take new requests just now, so this one was not sent; please try again later. "
            + "If you already have a receipt, you can still read, change or erase your request",
        headers: [.retryAfter: "300"])
}
