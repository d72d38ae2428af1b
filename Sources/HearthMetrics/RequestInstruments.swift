import CoreMetrics
import Synchronization

/// The HTTP figures of one listener: requests by route template, method and status
/// (`hearth_http_requests_total`) and latency by route template and method
/// (`hearth_http_request_duration_seconds`).
///
/// The route label is only ever a template the listener registered (``seal(routes:)``) or
/// `unmatched`, never the path a client sent; the method is one of ``methods`` or `other`. The
/// table of routes is made once, when the routes are sealed, and each handle on its first use (so
/// routes nobody asked for add no series). A request then looks up its route in that immutable
/// table and increments existing handles,
/// without a lock and without allocating labels (a status outside ``knownStatuses`` takes a
/// lock the first time and every time, which Hearth's own answers never need).
public final class RequestInstruments: Sendable {
    private let metrics: HearthMetrics
    private let listener: MetricsListener
    private let table = SetOnce<RouteTable>()
    private let rareStatuses = Mutex<[RareKey: Counter]>([:])

    /// The methods that get their own label value; any other is `other`.
    public static let methods = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE"]
    /// The label of a request no registered route matched.
    public static let unmatched = "unmatched"
    /// Statuses with a lock-free slot per route.
    public static let knownStatuses = [
        200, 201, 202, 204, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 406, 408, 409, 410, 411, 412, 413, 414, 415, 422, 429, 431,
        500, 501, 502, 503, 504,
    ]
    private static let slotOfStatus: [Int8] = {
        var slots = [Int8](repeating: -1, count: 1000)
        for (i, s) in knownStatuses.enumerated() { slots[s] = Int8(i) }
        return slots
    }()

    /// Figures for `listener`, made with `metrics`' factory; nothing is recorded until ``seal(routes:)``.
    public init(_ metrics: HearthMetrics, listener: MetricsListener) {
        self.metrics = metrics
        self.listener = listener
    }

    /// Fixes the routes the listener registered, as (method, template) pairs; only the first call counts.
    public func seal(routes: [(method: String, path: String)]) {
        var entries: [RouteKey: RouteEntry] = [:]
        for (method, path) in routes {
            let key = RouteKey(method: Self.methodLabel(method), route: path)
            if entries[key] == nil { entries[key] = RouteEntry(key, listener: listener, factory: metrics.factory) }
        }
        for method in Self.methods + ["other"] {
            let key = RouteKey(method: method, route: Self.unmatched)
            entries[key] = RouteEntry(key, listener: listener, factory: metrics.factory)
        }
        table.set(RouteTable(entries: entries))
    }

    /// Records one answered request: `route` is the template the router matched (nil for none).
    public func record(method: String, route: String?, status: Int, duration: Duration) {
        guard let table = table.value else { return }
        let label = Self.methodLabel(method)
        guard
            let entry = route.flatMap({ table.entries[RouteKey(method: label, route: $0)] })
                ?? table.entries[RouteKey(method: label, route: Self.unmatched)]
        else { return }
        let (seconds, attoseconds) = duration.components
        (entry.duration.value ?? entry.duration.set(entry.makeTimer())).recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        counter(entry, status: status).increment()
    }

    private func counter(_ entry: RouteEntry, status: Int) -> Counter {
        if (0..<Self.slotOfStatus.count).contains(status), case let slot = Self.slotOfStatus[status], slot >= 0 {
            let holder = entry.statuses[Int(slot)]
            return holder.value ?? holder.set(entry.makeCounter(status: status))
        }
        return rareStatuses.withLock { counters in
            let key = RareKey(entry: ObjectIdentifier(entry), status: status)
            if let c = counters[key] { return c }
            let c = entry.makeCounter(status: status)
            counters[key] = c
            return c
        }
    }

    /// `method` when it is one of ``methods``, else `other`.
    static func methodLabel(_ method: String) -> String { methods.contains(method) ? method : "other" }

    struct RouteKey: Hashable, Sendable {
        let method: String
        let route: String
    }

    struct RareKey: Hashable {
        let entry: ObjectIdentifier
        let status: Int
    }

    final class RouteTable: Sendable {
        let entries: [RouteKey: RouteEntry]
        init(entries: [RouteKey: RouteEntry]) { self.entries = entries }
    }

    final class RouteEntry: Sendable {
        let key: RouteKey
        let listener: MetricsListener
        let factory: any MetricsFactory
        let duration = SetOnce<Timer>()
        let statuses: [SetOnce<Counter>]

        init(_ key: RouteKey, listener: MetricsListener, factory: any MetricsFactory) {
            self.key = key
            self.listener = listener
            self.factory = factory
            statuses = RequestInstruments.knownStatuses.map { _ in SetOnce<Counter>() }
        }

        func makeTimer() -> Timer {
            Timer(
                label: HearthMetrics.Name.requestSeconds,
                dimensions: [("listener", listener.rawValue), ("route", key.route), ("method", key.method)], factory: factory)
        }

        func makeCounter(status: Int) -> Counter {
            Counter(
                label: HearthMetrics.Name.requests,
                dimensions: [("listener", listener.rawValue), ("route", key.route), ("method", key.method), ("status", String(status))],
                factory: factory)
        }
    }
}

/// A reference set at most once and then read without a lock.
final class SetOnce<Value: AnyObject & Sendable>: Sendable {
    private let slot = Atomic<Unmanaged<Value>?>(nil)

    init() {}

    /// The value, once set.
    var value: Value? { slot.load(ordering: .acquiring)?.takeUnretainedValue() }

    /// Sets `value` unless one is set already; returns the value that holds.
    @discardableResult
    func set(_ value: Value) -> Value {
        let new = Unmanaged.passRetained(value)
        let (exchanged, original) = slot.compareExchange(expected: nil, desired: new, ordering: .acquiringAndReleasing)
        if exchanged { return value }
        new.release()
        return original!.takeUnretainedValue()
    }

    deinit { slot.load(ordering: .acquiring)?.release() }
}
