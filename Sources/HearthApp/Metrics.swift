import CoreMetrics
import Foundation
import HearthCore
import HearthHTTP
import HearthKeys
import HearthMetrics
import Hummingbird
import Logging
import Prometheus
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One process's figures: its own Prometheus registry and a swift-metrics factory over it,
/// passed explicitly to everything that counts (never `MetricsSystem.bootstrap`, which is global:
/// harnesses running side by side in one test process would mix their figures).
struct MetricsSetup: Sendable {
    let registry: PrometheusCollectorRegistry
    let metrics: HearthMetrics

    init() {
        registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.durationHistogramBuckets = HearthMetrics.durationBuckets
        factory.valueHistogramBuckets = HearthMetrics.valueBuckets
        metrics = HearthMetrics(factory: factory)
    }
}

/// Refreshes the figures that need a query or a file-system call, when `/metrics` is scraped and
/// at most once every `interval` seconds (so a scraper cannot turn the metrics listener into a
/// load on the database), never per request. Each figure is refreshed on its own: one that fails
/// keeps its previous value and counts `hearth_metrics_refresh_failures_total`, and the failure is
/// logged by its type only.
actor MetricsRefresher {
    /// Where each figure comes from; nil where this process has no such thing.
    struct Sources: Sendable {
        var dataDirectory: String?
        var store: (any OperationsStore)?
        /// The casework side: staff sessions, the audit checkpoint and the key status with wraps.
        var caseworkKeys: KeyStatusSource?
        /// The intake side alone: the primary versions it seals to.
        var intakeRing: PublicKeyRingHolder?
        var survivorSessions: EphemeralSessions<SurvivorSession>?
    }

    private let metrics: HearthMetrics
    private let sources: Sources
    private let clock: any WallClock
    private let interval: Int64
    private let logger: Logger
    private var lastRefresh: Int64?
    private var gauges: [RefreshedFigure: CoreMetrics.Gauge] = [:]
    private var primaryGauges: [Scope: CoreMetrics.Gauge] = [:]
    private var wrapGauges: [WrapKey: CoreMetrics.Gauge] = [:]

    private struct WrapKey: Hashable {
        let scope: Scope
        let version: UInt32
    }

    init(metrics: HearthMetrics, sources: Sources, clock: any WallClock, interval: Int64, logger: Logger) {
        self.metrics = metrics
        self.sources = sources
        self.clock = clock
        self.interval = interval
        self.logger = logger
    }

    /// Refreshes every figure unless the last refresh was less than the interval ago.
    func refreshIfDue() async {
        let now = clock.unixSeconds()
        if let lastRefresh, now >= lastRefresh, now - lastRefresh < interval { return }
        lastRefresh = now
        if let sessions = sources.survivorSessions { set(.survivorSessions, sessions.liveCount) }
        if let directory = sources.dataDirectory, let free = Self.freeBytes(directory) { set(.dataFreeBytes, free) }
        guard let store = sources.store else { return }
        await attempt("database size") { self.set(.databaseBytes, try await store.databaseBytes()) }
        if let ring = sources.intakeRing { setPrimaryVersions(ring.current.primary.mapValues(\.version)) }
        guard let keys = sources.caseworkKeys else { return }
        await attempt("staff sessions") {
            let live = try await store.liveStaffSessions(
                lastSeenSince: now - StaffService.idleTimeout, createdSince: now - StaffService.absoluteTimeout)
            self.set(.staffSessions, live)
        }
        await attempt("audit checkpoint") {
            let position = try await store.checkpointPosition()
            if let checkpoint = position.checkpoint { self.set(.checkpointAgeSeconds, max(0, now - checkpoint.at)) }
            self.set(.entriesSinceCheckpoint, max(0, position.head - (position.checkpoint?.seq ?? 0)))
        }
        await attempt("key status") { try await self.setKeyStatus(try await keys.report()) }
    }

    /// Primary version and wraps per version of each scope key; a version that is gone (retired
    /// and its file removed) loses its series.
    private func setKeyStatus(_ report: KeyStatusReport) async throws {
        var primary: [Scope: UInt32] = [:]
        var wraps: [WrapKey: Int] = [:]
        for line in report.keys {
            guard let scope = Scope(rawValue: line.key), let version = line.version else { continue }
            if line.state == "primary" { primary[scope] = version }
            wraps[WrapKey(scope: scope, version: version)] = line.wraps ?? 0
        }
        setPrimaryVersions(primary)
        for (key, gauge) in wrapGauges where wraps[key] == nil {
            gauge.destroy()
            wrapGauges[key] = nil
        }
        for (key, count) in wraps {
            let gauge = wrapGauges[key] ?? metrics.keyWraps(key.scope, version: key.version)
            wrapGauges[key] = gauge
            gauge.record(count)
        }
    }

    private func set(_ figure: RefreshedFigure, _ value: some BinaryInteger) {
        let gauge = gauges[figure] ?? metrics.gauge(figure)
        gauges[figure] = gauge
        gauge.record(value)
    }

    private func setPrimaryVersions(_ versions: [Scope: UInt32]) {
        for (scope, version) in versions {
            let gauge = primaryGauges[scope] ?? metrics.keyPrimaryVersion(scope)
            primaryGauges[scope] = gauge
            gauge.record(version)
        }
    }

    private func attempt(_ figure: String, _ body: () async throws -> Void) async {
        do {
            try await body()
        } catch {
            metrics.refreshFailures.increment()
            logger.warning(
                "metrics refresh failed", metadata: ["metrics.figure": "\(figure)", "error.type": "\(String(reflecting: type(of: error)))"])
        }
    }

    /// Bytes available to unprivileged users on `path`'s file system (statvfs), or nil when it
    /// cannot be asked (no such directory).
    static func freeBytes(_ path: String) -> Int64? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return Int64(s.f_bavail) * Int64(s.f_frsize)
    }
}

/// The metrics listener: plain HTTP, `GET /metrics` in Prometheus's text format and nothing else
/// (404 elsewhere, 405 with `Allow: GET` for another method on `/metrics`). It carries no survivor
/// or staff data, so it has no TLS and no sign-in; it binds loopback unless told otherwise
/// (SECURITY.md §11.1).
func buildMetricsApplication(
    setup: MetricsSetup, refresher: MetricsRefresher, host: String, port: Int, logger: Logger,
    onListening: @escaping @Sendable (ListenerKind, Int) -> Void
) -> some Service {
    let router = Router()
    router.add(middleware: MetricsOnlyMiddleware())
    router.get("/metrics") { _, _ in
        await refresher.refreshIfDue()
        var text: [UInt8] = []
        setup.registry.emit(into: &text)
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: text)))
    }
    return Application(
        router: router, server: .http1(configuration: .init(idleTimeout: .seconds(30))),
        configuration: .init(address: .hostname(host, port: port), serverName: nil),
        onServerRunning: { onListening(.metrics, $0.localAddress?.port ?? 0) }, logger: logger)
}

/// Any path but exactly `/metrics` answers 404, `/metrics` asked with another method 405 with
/// `Allow: GET`; every answer says `no-store` and `nosniff`.
struct MetricsOnlyMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        if request.uri.path != "/metrics" {
            // Exactly `/metrics`: the router would also take `/metrics/`.
            response = Response(status: .notFound)
        } else if request.method != .get {
            response = Response(status: .methodNotAllowed, headers: [.allow: "GET"])
        } else {
            do {
                response = try await next(request, context)
            } catch let e as HTTPError {
                response = Response(status: e.status)
            }
        }
        response.headers[.cacheControl] = "no-store"
        response.headers[.xContentTypeOptions] = "nosniff"
        return response
    }
}
