public import CoreMetrics
public import HearthCore

/// Every figure a Hearth process exports, made through one explicit `MetricsFactory` (never the
/// global `MetricsSystem`): each ``HearthAssembly`` owns its own, so test harnesses running side by
/// side in one process never mix their figures.
///
/// This is the one place metric names and labels are defined, and every label value comes from a
/// closed set fixed by its type: a listener name, a route template the router registered (or
/// `unmatched`), an HTTP method from a fixed list (or `other`), a status code, a ``Scope`` and a
/// key version. No label or value can carry a reference, receipt, lookup id, username, address or
/// anything a person typed (SECURITY.md §11.1).
public final class HearthMetrics: Sendable {
    /// The factory every handle is made with.
    public let factory: any MetricsFactory
    /// Records durably stored through the intake (API and pages), counted after the commit.
    public let submissions: Counter
    /// Scrape-time refreshes of a figure that failed (the figure keeps its previous value).
    public let refreshFailures: Counter
    // The store's own figures are made on first use, so a process shows only its store's series.
    private let batchSize = SetOnce<Recorder>()
    private let commitTime = SetOnce<Timer>()
    private let pending = SetOnce<Meter>()
    private let insertTime = SetOnce<Timer>()

    /// The figures, made with `factory`.
    public init(factory: any MetricsFactory) {
        self.factory = factory
        submissions = Counter(label: Name.submissions, factory: factory)
        refreshFailures = Counter(label: Name.refreshFailures, factory: factory)
    }

    /// Records per SQLite group-commit transaction.
    public var groupCommitBatchSize: Recorder {
        batchSize.value ?? batchSize.set(Recorder(label: Name.groupCommitBatchSize, aggregate: true, factory: factory))
    }
    /// Duration of one SQLite group-commit write transaction, including its fsync.
    public var groupCommitSeconds: Timer { commitTime.value ?? commitTime.set(Timer(label: Name.groupCommitSeconds, factory: factory)) }
    /// Submissions waiting for the next SQLite group commit.
    public var groupCommitPending: Meter { pending.value ?? pending.set(Meter(label: Name.groupCommitPending, factory: factory)) }
    /// Duration of one PostgreSQL submission transaction (`hearth.intake_submit`), round trip included.
    public var postgresInsertSeconds: Timer {
        insertTime.value ?? insertTime.set(Timer(label: Name.postgresInsertSeconds, factory: factory))
    }

    /// The gauge of a figure refreshed at scrape time. Made when first asked, so a figure a
    /// process never sets (the checkpoint's age before the first checkpoint, staff sessions on
    /// the intake alone) is absent rather than a misleading zero.
    public func gauge(_ figure: RefreshedFigure) -> Gauge { Gauge(label: figure.rawValue, factory: factory) }

    /// Figures that go nowhere: what a process without a metrics listener, and every store or
    /// router built without figures, uses.
    public static let disabled = HearthMetrics(factory: NOOPMetricsHandler.instance)

    /// Refusals by a failure rate limiter (answered 429) on `listener`.
    public func rateLimitRefusals(_ listener: MetricsListener) -> Counter {
        Counter(label: Name.rateLimitRefusals, dimensions: [("listener", listener.rawValue)], factory: factory)
    }

    /// New submissions refused by the intake's submission gate, for `reason`.
    public func submissionRefusals(_ reason: SubmissionRefusal) -> Counter {
        Counter(label: Name.submissionRefusals, dimensions: [("reason", reason.rawValue)], factory: factory)
    }

    /// The primary (sealing) version of `scope`'s key.
    public func keyPrimaryVersion(_ scope: Scope) -> Gauge {
        Gauge(label: Name.keyPrimaryVersion, dimensions: [("scope", scope.rawValue)], factory: factory)
    }

    /// Consent wraps sealed to version `version` of `scope`'s key.
    public func keyWraps(_ scope: Scope, version: UInt32) -> Gauge {
        Gauge(label: Name.keyWraps, dimensions: [("scope", scope.rawValue), ("version", "v\(version)")], factory: factory)
    }

    /// Every metric name, `hearth_`-prefixed, with its unit where it has one.
    public enum Name {
        /// Counter: requests by listener, route template, method and status.
        public static let requests = "hearth_http_requests_total"
        /// Histogram: request latency by listener, route template and method.
        public static let requestSeconds = "hearth_http_request_duration_seconds"
        /// Counter: records durably stored through the intake.
        public static let submissions = "hearth_submissions_total"
        /// Counter: 429 refusals by the failure rate limiters, by listener.
        public static let rateLimitRefusals = "hearth_rate_limit_refusals_total"
        /// Counter: new submissions refused by the submission gate, by reason.
        public static let submissionRefusals = "hearth_submission_refusals_total"
        /// Histogram: records per SQLite group commit.
        public static let groupCommitBatchSize = "hearth_sqlite_group_commit_batch_size"
        /// Histogram: SQLite group-commit transaction time, fsync included.
        public static let groupCommitSeconds = "hearth_sqlite_group_commit_duration_seconds"
        /// Gauge: submissions waiting for the next SQLite group commit.
        public static let groupCommitPending = "hearth_sqlite_group_commit_pending"
        /// Histogram: PostgreSQL submission transaction time.
        public static let postgresInsertSeconds = "hearth_postgres_insert_duration_seconds"
        /// Gauge: the primary key version per scope.
        public static let keyPrimaryVersion = "hearth_key_primary_version"
        /// Gauge: consent wraps per scope and key version.
        public static let keyWraps = "hearth_key_wraps"
        /// Counter: failed scrape-time refreshes.
        public static let refreshFailures = "hearth_metrics_refresh_failures_total"
    }

    /// Histogram buckets for the duration metrics, by name (a Prometheus factory applies them).
    public static let durationBuckets: [String: [Duration]] = [
        Name.requestSeconds: [1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000].map(milliseconds),
        Name.groupCommitSeconds: [0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000].map(milliseconds),
        Name.postgresInsertSeconds: [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500].map(milliseconds),
    ]

    /// Histogram buckets for the value metrics, by name.
    public static let valueBuckets: [String: [Double]] = [
        Name.groupCommitBatchSize: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
    ]

    private static func milliseconds(_ ms: Double) -> Duration { .microseconds(Int64(ms * 1000)) }
}

/// The figures refreshed at scrape time, by metric name.
public enum RefreshedFigure: String, Sendable, CaseIterable {
    /// Live survivor page sessions (intake memory).
    case survivorSessions = "hearth_survivor_page_sessions"
    /// Live staff sessions (in the store).
    case staffSessions = "hearth_staff_sessions"
    /// Seconds since the newest signed audit checkpoint.
    case checkpointAgeSeconds = "hearth_audit_checkpoint_age_seconds"
    /// Audit entries appended after the newest signed checkpoint.
    case entriesSinceCheckpoint = "hearth_audit_entries_since_checkpoint"
    /// Bytes free for unprivileged use on the data directory's file system (statvfs).
    case dataFreeBytes = "hearth_data_free_bytes"
    /// Bytes the database occupies: the SQLite file, its WAL and shared memory, or PostgreSQL's
    /// `pg_database_size`.
    case databaseBytes = "hearth_database_bytes"
}

/// Why the intake refused a new submission (a label value).
public enum SubmissionRefusal: String, Sendable, CaseIterable {
    /// One source's budget is spent (429).
    case source
    /// The whole intake's budget is spent (429).
    case global
    /// Free disk is under, or the database over, its limit (503).
    case disk
}

/// The listener a figure is about (a label value).
public enum MetricsListener: String, Sendable, CaseIterable {
    /// The survivors' intake listener.
    case intake
    /// The staff casework listener.
    case casework
}
