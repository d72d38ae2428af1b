import Foundation
import GRDB
import HearthApp
import HearthCore
import HearthCrypto
import HearthHTTP
import HearthIntake
import HearthKeys
@_spi(Inspection) import HearthStore
import HearthTestSupport
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// A real intake listener on a free port over real TLS, with real keys, a real SQLite file and
/// captured logs; the client verifies the server certificate against the generated one.
final class IntakeHarness: Sendable {
    let dir: TemporaryDirectory
    let assembly: HearthAssembly
    let logs: LogCapture
    let client: TestHTTPSClient
    let clock: TestClock
    /// The PostgreSQL database, when the harness runs on PostgreSQL.
    let postgres: TestPostgres?
    /// The store as the casework side sees it (SQLite, or PostgreSQL as its owner), for assertions.
    let records: any CaseworkSideStore
    /// The metrics listener's port, when the harness runs one.
    let metricsPort: Int?
    /// Every listener's bound port.
    let ports: [ListenerKind: Int]
    private let task: Task<Void, any Error>

    var keys: KeyDirectory { assembly.keys }
    var store: SQLiteStore { assembly.sqlite }
    var service: SurvivorService { assembly.survivors! }
    var databasePath: String { assembly.settings.databasePath }

    private init(
        dir: TemporaryDirectory, assembly: HearthAssembly, logs: LogCapture, client: TestHTTPSClient, clock: TestClock, postgres: TestPostgres?,
        records: any CaseworkSideStore, metricsPort: Int?, ports: [ListenerKind: Int], task: Task<Void, any Error>
    ) {
        self.dir = dir
        self.assembly = assembly
        self.logs = logs
        self.client = client
        self.clock = clock
        self.postgres = postgres
        self.records = records
        self.metricsPort = metricsPort
        self.ports = ports
        self.task = task
    }

    /// The intake listener alone, wired by the composition root as `hearth intake` is, on a free
    /// port, with development keys made on first run, a test clock and no background jobs. On
    /// PostgreSQL the intake connects as `hearth_intake`, so it can only call the survivor functions.
    /// With `metrics`, the metrics listener runs too, on a free port, refreshing on every scrape.
    /// The flood control is `limits` (by default lifted, ``SubmissionLimits/liftedForTests``);
    /// `configure` changes the settings last (listener limits, the onion listener...).
    static func start(
        receiptFailures: Int = 10, store: TestStore = .sqlite, metrics: Bool = false, limits: SubmissionLimits = .liftedForTests,
        configure: (inout HearthSettings) -> Void = { _ in }
    ) async throws -> IntakeHarness {
        let dir = try TemporaryDirectory()
        var settings = HearthSettings(keys: dir.file("keys"), data: dir.file("data"))
        settings.intakePort = 0
        settings.submissionLimits = limits
        settings.receiptFailures = receiptFailures
        settings.failureRefillPerSecond = 0.001
        settings.retentionDays = 30
        settings.createDevelopmentKeys = true
        settings.backgroundJobs = false
        settings.handlesSignals = false
        if metrics {
            settings.metricsPort = 0
            settings.metricsRefreshSeconds = 0
        }
        let clock = TestClock()
        settings.clock = clock
        let postgres = store == .postgres ? try await TestPostgres.create() : nil
        settings.database = postgres?.intake
        // The whole suite shares CI's two cores: a query may wait longer than production's 15 s.
        settings.databaseDeadline = .seconds(60)
        configure(&settings)
        let logs = LogCapture()
        let (assembly, ports, task) = try await HearthAssembly.start(settings, listeners: .intake, logger: logs.logger())
        let client = try TestHTTPSClient(baseURL: "https://127.0.0.1:\(ports[.intake]!)", certificatePath: assembly.keys.tlsCertificateFile)
        var owner = settings
        owner.database = postgres?.owner
        let records = try await HearthStores.open(owner, for: .casework, logger: logs.logger()).casework
        return IntakeHarness(
            dir: dir, assembly: assembly, logs: logs, client: client, clock: clock, postgres: postgres, records: records,
            metricsPort: ports[.metrics], ports: ports, task: task)
    }

    func stop() async {
        await client.shutdown()
        await assembly.shutdown()
        _ = await task.result
        await postgres?.drop()
    }

    /// Runs `body` against a fresh harness and always stops it.
    static func with<T>(
        receiptFailures: Int = 10, store: TestStore = .sqlite, metrics: Bool = false, limits: SubmissionLimits = .liftedForTests,
        configure: (inout HearthSettings) -> Void = { _ in }, _ body: (IntakeHarness) async throws -> T
    ) async throws -> T {
        let h = try await start(receiptFailures: receiptFailures, store: store, metrics: metrics, limits: limits, configure: configure)
        do {
            let r = try await body(h)
            await h.stop()
            return r
        } catch {
            await h.stop()
            throw error
        }
    }

    /// Scrapes the metrics listener (started with `metrics: true`).
    func scrape() async throws -> Scrape {
        guard let metricsPort else { throw HarnessError("this harness runs no metrics listener") }
        return try await scrapeMetrics(port: metricsPort)
    }

    /// Submits a request and returns (reference, receipt).
    func submit(_ json: [String: Any]) async throws -> (reference: String, receipt: String) {
        let reply = try await client.send(.POST, "/api/v1/contact-requests", json: json)
        guard reply.status == 201, let ref = reply.json["reference"] as? String, let receipt = reply.json["receipt"] as? String else {
            throw HarnessError("submission failed: \(reply.status) \(reply.text)")
        }
        return (ref, receipt)
    }

    /// Rows in `table`, on either store.
    func count(_ table: String) async throws -> Int {
        if let postgres { return try await postgres.count("SELECT count(*) FROM \(table)") }
        return try await store.inspect { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? -1 }
    }

    /// Raw consent wraps in the database for a record, on either store.
    func wrapRows(reference: String) async throws -> [(scope: String, version: Int, wrap: [UInt8])] {
        let id = Data(RecordID(reference: reference)!.bytes)
        if let postgres {
            return try await postgres.asOwner(
                """
                SELECT scope, key_version, encode(wrap, 'hex') FROM consent_wraps
                WHERE record_rid = (SELECT rid FROM records WHERE id = '\\x\(hex(Array(id)))') ORDER BY scope
                """
            ).map { row in (row[0] ?? "", Int(row[1] ?? "") ?? -1, bytes(hex: row[2] ?? "") ?? []) }
        }
        return try await store.inspect { db in
            try Row.fetchAll(
                db, sql: "SELECT scope, key_version, wrap FROM consent_wraps WHERE record_rid = (SELECT rid FROM records WHERE id = ?)",
                arguments: [id]
            ).map {
                let w: Data = $0["wrap"]
                return ($0["scope"], $0["key_version"], Array(w))
            }
        }
    }

    /// The raw bytes of the database, its WAL and its shared-memory file together.
    func databaseBytes() -> [UInt8] {
        fileBytes(databasePath) + fileBytes(databasePath + "-wal") + fileBytes(databasePath + "-shm")
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

extension SubmissionLimits {
    /// Budgets no test reaches and no disk guard, for the tests that are not about flood control
    /// (they submit many records from one address, on whatever disk the machine has).
    static var liftedForTests: SubmissionLimits {
        var l = SubmissionLimits()
        l.perSourceBurst = 1_000_000
        l.perSourcePerMinute = 1_000_000
        l.globalBurst = 1_000_000
        l.globalPerMinute = 1_000_000
        l.minFreeDiskBytes = 0
        return l
    }
}

extension HearthAssembly {
    /// The SQLite store these harnesses run on (the embedded default), for inspection.
    var sqlite: SQLiteStore {
        guard let store = stores.sqlite else { preconditionFailure("this harness runs on SQLite") }
        return store
    }
}
