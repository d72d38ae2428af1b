/// What the published transparency figures need from a store (SECURITY.md §13): the audit
/// events they count, the regions of records still held, and the table of published months,
/// which takes inserts only.
public protocol TransparencyStore: PublishedMonthsStore {
    /// The audit entries ``TransparencyEvent`` counts, in audit order, including survivor events
    /// not yet chained (PostgreSQL's inbox, after the chain). One read.
    func transparencyEvents() async throws -> [TransparencyEvent]
    /// The region of every record still held that has one, by case reference. One read.
    func recordRegions() async throws -> [String: Region]
    /// Stores each month not stored yet, in one transaction; a month already stored keeps its
    /// figures (the table refuses updates).
    func storePublishedMonths(_ months: [PublishedMonth]) async throws
}

/// Reads the stored published months: all the intake needs to serve them.
public protocol PublishedMonthsStore: Sendable {
    /// Every published month, oldest first.
    func publishedMonths() async throws -> [PublishedMonth]
}

/// Publishes each month once it has closed (SECURITY.md §13). Run every minute by the casework
/// process and by `hearth stats`.
public struct TransparencyService: Sendable {
    let store: any TransparencyStore
    let clock: any WallClock

    /// A publisher over `store`.
    public init(store: any TransparencyStore, clock: any WallClock) {
        self.store = store
        self.clock = clock
    }

    /// Computes and stores every month closed by `asOf` (default: the clock; never later) and
    /// not yet published, and returns the months it published. Reads the audit trail only when
    /// the last closed month is missing.
    public func publishClosedMonths(asOf: Int64? = nil) async throws -> [PublishedMonth] {
        let today = clock.unixSeconds()
        let now = min(asOf ?? today, today)
        let published = Set(try await store.publishedMonths().map(\.month))
        if published.contains(TransparencyStatistics.lastClosedMonth(now: now).description) { return [] }
        let months = TransparencyStatistics.monthsToPublish(
            now: now, published: published, events: try await store.transparencyEvents(), regions: try await store.recordRegions(),
            computed: Day(unixSeconds: today))
        if !months.isEmpty { try await store.storePublishedMonths(months) }
        return months
    }

    /// Every published month, oldest first.
    public func publishedMonths() async throws -> [PublishedMonth] { try await store.publishedMonths() }
}
