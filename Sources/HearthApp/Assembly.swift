import Foundation
public import HTTPTypes
import HearthCasework
public import HearthCore
import HearthCrypto
public import HearthHTTP
import HearthIntake
import HearthKeys
public import HearthMetrics
import Hummingbird
public import Logging
public import ServiceLifecycle

/// Which listener came up, for ``HearthAssembly/assemble(_:listeners:logger:onListening:)``'s announcements.
public enum ListenerKind: Int, Sendable, Comparable {
    /// The survivors' intake listener (TLS).
    case intake
    /// The staff casework listener (TLS).
    case casework
    /// The metrics listener (plain HTTP, `GET /metrics` only), when ``HearthSettings/metricsPort`` is set.
    case metrics
    /// The intake's onion listener (TLS after a PROXY header from the local Tor daemon), when
    /// ``HearthSettings/onionPort`` is set.
    case onion

    public static func < (a: ListenerKind, b: ListenerKind) -> Bool { a.rawValue < b.rawValue }
}

/// One registered route: what default-deny tests walk.
public struct ListenerRoute: Sendable, Hashable {
    /// The method.
    public let method: HTTPRequest.Method
    /// The path template, e.g. `/api/v1/cases/{reference}/open`.
    public let path: String
}

/// The routes a listener's router registered, in registration order.
public struct RouteTable: Sendable {
    /// Every route.
    public let routes: [ListenerRoute]

    init(_ router: Router<HearthRequestContext>) {
        routes = router.routes.map { ListenerRoute(method: $0.method, path: $0.path.description) }
    }
}

/// The one place a Hearth process is wired: keys are checked, the store opened, the services,
/// TLS contexts, listeners and background jobs built, all under one service group. The CLI and
/// every test harness go through here, so tests exercise the wiring production uses.
///
/// It fails closed: a missing or malformed key, a key file open to others, missing TLS files or a
/// data directory open to others throws ``KeyFileError`` before anything listens. The intake side
/// reads public keys only; only the casework side opens the master key.
public final class HearthAssembly: Sendable {
    /// The settings it was built from.
    public let settings: HearthSettings
    /// The key directory.
    public let keys: KeyDirectory
    /// The stores each side uses.
    public let stores: HearthStores
    /// The survivor service, when the intake listener runs.
    public let survivors: SurvivorService?
    /// The casework service, when the casework listener runs.
    public let casework: CaseworkService?
    /// The staff service, when the casework listener runs.
    public let staff: StaffService?
    /// The route table of each listener built, exactly as it serves.
    public let routes: [ListenerKind: RouteTable]
    /// Expiry and retention (run every minute by the casework side).
    public let retention: RetentionService
    /// The certificate files clients should trust, as lines for `hearth serve` to print.
    public let certificateLines: [String]
    private let reloader: KeyReloader
    private let group: ServiceGroup

    private init(
        settings: HearthSettings, keys: KeyDirectory, stores: HearthStores, survivors: SurvivorService?, casework: CaseworkService?,
        staff: StaffService?, retention: RetentionService, routes: [ListenerKind: RouteTable], certificateLines: [String],
        reloader: KeyReloader, group: ServiceGroup
    ) {
        self.settings = settings
        self.keys = keys
        self.stores = stores
        self.survivors = survivors
        self.casework = casework
        self.staff = staff
        self.retention = retention
        self.routes = routes
        self.certificateLines = certificateLines
        self.reloader = reloader
        self.group = group
    }

    /// Checks the keys, opens the store and builds the listeners in `listeners`; nothing runs
    /// until ``run()``. `onListening` is called with each listener's bound port once it is up.
    public static func assemble(
        _ settings: HearthSettings, listeners: Listeners, logger: Logger,
        onListening: @escaping @Sendable (ListenerKind, Int) -> Void = { _, _ in }
    ) async throws -> HearthAssembly {
        // Read the passphrase once, now: from here on it lives only in zeroizing memory (the
        // key reloader uses the held copy), never in the environment.
        var settings = settings
        settings.passphrase = try settings.passphrase.readOnce()
        let keys = KeyDirectory(path: settings.keys)
        if settings.createDevelopmentKeys { try DevelopmentKeys.ensure(keys, logger: logger) }
        let intakeKeys = IntakeKeys(directory: keys, requirePublished: settings.requirePublishedKeys)
        // A published directory must hold no private key: refuse before anything could touch one.
        if settings.requirePublishedKeys { try keys.refusePrivateKeys() } else { try keys.recoverInterruptedRotation() }
        try keys.checkPermissions()
        // Figures only when there is a listener to read them; each assembly has its own registry.
        let setup = settings.metricsPort == nil ? nil : MetricsSetup()
        let metrics = setup?.metrics ?? .disabled
        let stores = try await HearthStores.open(settings, for: listeners, logger: logger, metrics: metrics)
        var sources = MetricsRefresher.Sources(dataDirectory: settings.data, store: stores.casework)
        var services: [any Service] = []
        var certificates: [String] = []
        var rings: [PublicKeyRingHolder] = []
        var survivors: SurvivorService?
        var casework: CaseworkService?
        var staff: StaffService?
        var caseworkKeys: CaseworkKeys?
        var routes: [ListenerKind: RouteTable] = [:]
        let retention = RetentionService(
            store: stores.casework, policy: RetentionPolicy(days: settings.retentionDays), clock: settings.clock, logger: logger)

        if listeners.contains(.intake) {
            let loaded = try intakeKeys.load()
            intakeKeys.commit(loaded)
            let ring = PublicKeyRingHolder(loaded.ring)
            rings.append(ring)
            let service = SurvivorService(
                store: stores.intake, keys: ring, clock: settings.clock, random: settings.random, retention: retention.policy, logger: logger)
            let sessions = try SurvivorPages.makeSessions(clock: settings.clock)
            sources.survivorSessions = sessions
            if !listeners.contains(.casework) { sources.intakeRing = ring }
            let (applications, table) = try await buildIntakeApplication(
                service: service, keys: keys, settings: settings, logger: logger, sessions: sessions, operations: stores.casework,
                metrics: metrics, onListening: onListening)
            services += applications
            routes[.intake] = table
            survivors = service
            certificates.append("certificate: \(absolute(keys.tlsCertificateFile))")
        }
        if listeners.contains(.casework) {
            // The casework side holds the private keys: refuse now if any would not open.
            let master = try keys.loadMasterKey(passphrase: try settings.passphrase.passphrase(for: keys))
            try keys.verifyPrivateKeys(master: master)
            _ = try keys.loadPublicKeyRing()
            let held = try CaseworkKeys(directory: keys, master: master)
            let service = CaseworkService(store: stores.casework, keys: held, clock: settings.clock, random: settings.random, logger: logger)
            let staffService = StaffService(
                store: stores.casework, keys: held, clock: settings.clock, random: settings.random,
                hasher: try PasswordHasher(cost: settings.passwordCost),
                logger: logger)
            let (application, certificate, table) = try await buildCaseworkApplication(
                staff: staffService, casework: service, stores: stores, keys: keys, settings: settings, logger: logger, metrics: metrics,
                onListening: onListening)
            sources.caseworkKeys = KeyStatusSource(directory: keys, wrapCounts: { try await stores.wrapCounts() })
            services.append(application)
            routes[.casework] = table
            if settings.backgroundJobs {
                services.append(AuditCheckpointer(casework: service, logger: logger))
                services.append(ExpirySweeper(retention: retention, logger: logger))
                services.append(
                    TransparencyPublisher(transparency: TransparencyService(store: stores.casework, clock: settings.clock), logger: logger))
            }
            if !listeners.contains(.intake) || certificate != keys.tlsCertificateFile {
                certificates.append("\(listeners.contains(.intake) ? "casework-certificate" : "certificate"): \(absolute(certificate))")
            }
            casework = service
            staff = staffService
            caseworkKeys = held
        }
        let reloader = KeyReloader(
            keys: keys, passphrase: settings.passphrase, logger: logger, rings: rings,
            intakeKeys: listeners.contains(.intake) ? intakeKeys : nil, caseworkKeys: caseworkKeys)
        if settings.backgroundJobs { services.append(reloader) }
        if let setup, let port = settings.metricsPort {
            if !["127.0.0.1", "::1", "localhost"].contains(settings.metricsHost) {
                logger.warning(
                    "the metrics listener is not on loopback: whoever can reach it sees traffic volumes (SECURITY.md §11.1)",
                    metadata: ["metrics.port": "\(port)"])
            }
            let refresher = MetricsRefresher(
                metrics: metrics, sources: sources, clock: settings.clock, interval: settings.metricsRefreshSeconds, logger: logger)
            services.append(
                buildMetricsApplication(
                    setup: setup, refresher: refresher, host: settings.metricsHost, port: port, logger: logger, onListening: onListening))
        }
        let group = ServiceGroup(
            configuration: .init(
                services: services, gracefulShutdownSignals: settings.handlesSignals ? [.sigterm, .sigint] : [], logger: logger))
        return HearthAssembly(
            settings: settings, keys: keys, stores: stores, survivors: survivors, casework: casework, staff: staff, retention: retention,
            routes: routes, certificateLines: certificates, reloader: reloader, group: group)
    }

    /// Runs every listener and background job until graceful shutdown.
    public func run() async throws {
        defer { stores.close() }
        try await group.run()
    }

    /// Reloads keys now, as the key reloader does within two seconds of a rotation, retirement or
    /// publication: the intake seals to the new primary versions (those a published manifest
    /// names), casework opens every live version. Throws ``KeyFileError`` and keeps the keys in
    /// use when the new ones are refused (a forged or stale manifest, say).
    public func reloadKeys() throws { try reloader.reload() }

    /// Starts a graceful shutdown: listeners stop accepting, jobs finish their round.
    public func shutdown() async { await group.triggerGracefulShutdown() }

    static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
}

/// The intake listener: survivor routes and pages over TLS with `tls.crt`/`tls.key`, counting
/// its requests and rate-limit refusals in `metrics`; `sessions` is its survivor page session
/// table; new submissions pass the budgets and the disk guard of ``HearthSettings/submissionLimits``
/// (the database size read through `operations`).
/// With ``HearthSettings/onionPort`` a second listener on loopback serves the same routes to the
/// local Tor daemon: it takes only connections that open with Tor's PROXY header, and its
/// failed receipts and submissions count per Tor circuit in the same limiters.
public func buildIntakeApplication(
    service: SurvivorService, keys: KeyDirectory, settings: HearthSettings, logger: Logger,
    sessions: EphemeralSessions<SurvivorSession>, operations: any OperationsStore, metrics: HearthMetrics,
    onListening: @escaping @Sendable (ListenerKind, Int) -> Void
) async throws -> (applications: [any Service], routes: RouteTable) {
    let router = try buildIntakeRouter(
        service: service,
        limiter: try FailureRateLimiter(
            burst: settings.receiptFailures, refillPerSecond: settings.failureRefillPerSecond, refusals: metrics.rateLimitRefusals(.intake)),
        gate: try SubmissionGate(
            limits: settings.submissionLimits, disk: diskGuard(settings, operations: operations, logger: logger), metrics: metrics),
        pages: try await PageSettings.load(exitURL: settings.exitURL, clock: settings.clock, pseudoLocales: settings.pseudoLocales),
        sessions: sessions,
        metrics: ListenerMetrics(metrics, listener: .intake))
    let tls = try HearthTLS.serverConfiguration(keys: keys)
    var applications: [any Service] = [
        try makeTLSApplication(
            responder: router.buildResponder(), tls: tls, host: settings.host, port: settings.intakePort, limits: settings.listenerLimits,
            logger: logger, onServerRunning: { onListening(.intake, $0.localAddress?.port ?? 0) })
    ]
    if let onionPort = settings.onionPort {
        applications.append(
            try makeTLSApplication(
                responder: router.buildResponder(), tls: tls, host: HearthSettings.onionHost, port: onionPort, limits: settings.listenerLimits,
                requiresProxyHeader: true, logger: logger, onServerRunning: { onListening(.onion, $0.localAddress?.port ?? 0) }))
    }
    return (applications, RouteTable(router))
}

/// The intake's disk guard over ``HearthSettings/submissionLimits``: free space on the data
/// directory's file system (SQLite only: with PostgreSQL the database's disk is on its own host,
/// so only its size is guarded) and the database's size when a limit is set. A figure that cannot
/// be read is logged by its error's type and guards nothing.
func diskGuard(_ settings: HearthSettings, operations: any OperationsStore, logger: Logger) -> DiskGuard {
    let limits = settings.submissionLimits
    let directory = settings.database == nil ? settings.data : nil
    return DiskGuard(limits: limits) {
        var reading = DiskReading(freeBytes: directory.flatMap(MetricsRefresher.freeBytes), databaseBytes: nil)
        if limits.maxDatabaseBytes != nil {
            do {
                reading.databaseBytes = try await operations.databaseBytes()
            } catch {
                logger.warning("disk guard: database size unreadable", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
            }
        }
        return reading
    }
}

/// The casework listener: staff routes and pages over TLS with `casework-tls.crt`/`.key` when
/// present, else `tls.crt`/`tls.key`, counting its requests and rate-limit refusals in `metrics`.
/// Returns the application and the certificate it serves.
public func buildCaseworkApplication(
    staff: StaffService, casework: CaseworkService, stores: HearthStores, keys: KeyDirectory, settings: HearthSettings, logger: Logger,
    metrics: HearthMetrics, onListening: @escaping @Sendable (ListenerKind, Int) -> Void
) async throws -> (application: some Service, certificate: String, routes: RouteTable) {
    let ownCertificate = FileManager.default.fileExists(atPath: keys.caseworkCertificateFile)
    let certificate = ownCertificate ? keys.caseworkCertificateFile : keys.tlsCertificateFile
    let tls = try HearthTLS.serverConfiguration(certificateFile: certificate, keyFile: ownCertificate ? keys.caseworkKeyFile : keys.tlsKeyFile)
    let router = try buildCaseworkRouter(
        staff: staff, casework: casework, keyStatus: KeyStatusSource(directory: keys, wrapCounts: { try await stores.wrapCounts() }),
        limiter: try FailureRateLimiter(
            burst: settings.loginFailures, refillPerSecond: settings.failureRefillPerSecond, refusals: metrics.rateLimitRefusals(.casework)),
        pages: try await PageSettings.load(exitURL: settings.exitURL, clock: settings.clock, pseudoLocales: settings.pseudoLocales),
        clock: settings.clock,
        metrics: ListenerMetrics(metrics, listener: .casework))
    let application = try makeTLSApplication(
        responder: router.buildResponder(), tls: tls, host: settings.host, port: settings.caseworkPort, limits: settings.listenerLimits,
        logger: logger, onServerRunning: { onListening(.casework, $0.localAddress?.port ?? 0) })
    return (application, certificate, RouteTable(router))
}

extension HearthAssembly {
    /// Assembles `listeners` (and the metrics listener when ``HearthSettings/metricsPort`` is set),
    /// runs them, and returns once every one is listening, with the ports
    /// they bound (what a caller asking for port 0 needs) and the task running them. A start-up
    /// failure (a port in use, say) is thrown rather than waited on for ever.
    public static func start(
        _ settings: HearthSettings, listeners: Listeners, logger: Logger
    ) async throws -> (assembly: HearthAssembly, ports: [ListenerKind: Int], running: Task<Void, any Error>) {
        let (bound, sink) = AsyncStream.makeStream(of: (ListenerKind, Int).self)
        let assembly = try await assemble(settings, listeners: listeners, logger: logger) { kind, port in sink.yield((kind, port)) }
        let running = Task {
            defer { sink.finish() }
            try await assembly.run()
        }
        let expected = [
            listeners.contains(.intake), listeners.contains(.casework), settings.metricsPort != nil,
            listeners.contains(.intake) && settings.onionPort != nil,
        ].filter { $0 }.count
        var ports: [ListenerKind: Int] = [:]
        for await (kind, port) in bound {
            ports[kind] = port
            if ports.count == expected { break }
        }
        guard ports.count == expected else {
            try await running.value
            throw KeyFileError(path: settings.data, reason: "the listeners stopped before they were all listening", hint: "see the log")
        }
        return (assembly, ports, running)
    }
}
