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
    /// Records per SQLite group-commit transaction.
    public let groupCommitBatchSize: Recorder
    /// Duration of one SQLite group-commit write transaction, including its fsync.
    public let groupCommitSeconds: Timer
    /// Submissions waiting for the next SQLite group commit.
    public let groupCommitPending: Meter
    /// Duration of one PostgreSQL submission transaction (`hearth.intake_submit`), round trip included.
    public let postgresInsertSeconds: Timer
    /// Live survivor page sessions (intake memory).
    public let survivorSessions: Gauge
    /// Live staff sessions (in the store).
    public let staffSessions: Gauge
    /// Seconds since the newest signed audit checkpoint.
    public let checkpointAgeSeconds: Gauge
    /// Audit entries appended after the newest signed checkpoint.
    public let entriesSinceCheckpoint: Gauge
    /// Bytes free for unprivileged use on the data directory's file system (statvfs).
    public let dataFreeBytes: Gauge
    /// Bytes the database occupies: the SQLite file, its WAL and shared memory, or PostgreSQL's
    /// `pg_database_size`.
    public let databaseBytes: Gauge
    /// Scrape-time refreshes of a figure that failed (the figure keeps its previous value).
    public let refreshFailures: Counter

    /// The figures, made with `factory`.
    public init(factory: any MetricsFactory) {
        self.factory = factory
        submissions = Counter(label: Name.submissions, factory: factory)
        groupCommitBatchSize = Recorder(label: Name.groupCommitBatchSize, aggregate: true, factory: factory)
        groupCommitSeconds = Timer(label: Name.groupCommitSeconds, factory: factory)
        groupCommitPending = Meter(label: Name.groupCommitPending, factory: factory)
        postgresInsertSeconds = Timer(label: Name.postgresInsertSeconds, factory: factory)
        survivorSessions = Gauge(label: Name.survivorSessions, factory: factory)
        staffSessions = Gauge(label: Name.staffSessions, factory: factory)
        checkpointAgeSeconds = Gauge(label: Name.checkpointAgeSeconds, factory: factory)
        entriesSinceCheckpoint = Gauge(label: Name.entriesSinceCheckpoint, factory: factory)
        dataFreeBytes = Gauge(label: Name.dataFreeBytes, factory: factory)
        databaseBytes = Gauge(label: Name.databaseBytes, factory: factory)
        refreshFailures = Counter(label: Name.refreshFailures, factory: factory)
    }

    /// Figures that go nowhere: what a process without a metrics listener, and every store or
    /// router built without figures, uses.
    public static let disabled = HearthMetrics(factory: NOOPMetricsHandler.instance)

    /// Refusals by a failure rate limiter (answered 429) on `listener`.
    public func rateLimitRefusals(_ listener: MetricsListener) -> Counter {
        Counter(label: Name.rateLimitRefusals, dimensions: [("listener", listener.rawValue)], factory: factory)
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
        /// Histogram: records per SQLite group commit.
        public static let groupCommitBatchSize = "hearth_sqlite_group_commit_batch_size"
        /// Histogram: SQLite group-commit transaction time, fsync included.
        public static let groupCommitSeconds = "hearth_sqlite_group_commit_duration_seconds"
        /// Gauge: submissions waiting for the next SQLite group commit.
        public static let groupCommitPending = "hearth_sqlite_group_commit_pending"
        /// Histogram: PostgreSQL submission transaction time.
        public static let postgresInsertSeconds = "hearth_postgres_insert_duration_seconds"
        /// Gauge: live survivor page sessions.
        public static let survivorSessions = "hearth_survivor_page_sessions"
        /// Gauge: live staff sessions.
        public static let staffSessions = "hearth_staff_sessions"
        /// Gauge: the primary key version per scope.
        public static let keyPrimaryVersion = "hearth_key_primary_version"
        /// Gauge: consent wraps per scope and key version.
        public static let keyWraps = "hearth_key_wraps"
        /// Gauge: seconds since the newest signed audit checkpoint.
        public static let checkpointAgeSeconds = "hearth_audit_checkpoint_age_seconds"
        /// Gauge: audit entries after the newest signed checkpoint.
        public static let entriesSinceCheckpoint = "hearth_audit_entries_since_checkpoint"
        /// Gauge: free bytes on the data directory's file system.
        public static let dataFreeBytes = "hearth_data_free_bytes"
        /// Gauge: bytes the database occupies.
        public static let databaseBytes = "hearth_database_bytes"
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

/// The listener a figure is about (a label value).
public enum MetricsListener: String, Sendable, CaseIterable {
    /// The survivors' intake listener.
    case intake
    /// The staff casework listener.
    case casework
}
