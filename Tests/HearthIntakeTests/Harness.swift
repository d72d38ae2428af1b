import Foundation
import GRDB
import HearthCore
import HearthCrypto
import HearthHTTP
import HearthIntake
import HearthStore
import HearthTestSupport
import Hummingbird
import Logging
import ServiceLifecycle
import Synchronization

/// A real intake listener on a free port over real TLS, with real keys, a real SQLite file and
/// captured logs; the client verifies the server certificate against the generated one.
final class IntakeHarness: Sendable {
    let dir: TemporaryDirectory
    let keys: KeyDirectory
    let store: SQLiteStore
    let service: SurvivorService
    let logs: LogCapture
    let client: TestHTTPSClient
    let clock: TestClock
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    var databasePath: String { dir.file("data.sqlite") }

    private init(
        dir: TemporaryDirectory, keys: KeyDirectory, store: SQLiteStore, service: SurvivorService, logs: LogCapture,
        client: TestHTTPSClient, clock: TestClock, group: ServiceGroup, task: Task<Void, any Error>
    ) {
        self.dir = dir
        self.keys = keys
        self.store = store
        self.service = service
        self.logs = logs
        self.client = client
        self.clock = clock
        self.group = group
        self.task = task
    }

    static func start(receiptFailures: Int = 10) async throws -> IntakeHarness {
        let dir = try TemporaryDirectory()
        let keys = KeyDirectory(path: dir.file("keys"))
        try keys.initialise(passphrase: nil)
        try HearthTLS.createDevelopmentCertificate(keys: keys)
        let logs = LogCapture()
        let logger = logs.logger()
        let store = try SQLiteStore(path: dir.file("data.sqlite"), logger: logger)
        let clock = TestClock()
        let service = SurvivorService(
            store: store, keys: PublicKeyRingHolder(try keys.loadPublicKeyRing()), clock: clock,
            retention: RetentionPolicy(days: 30), logger: logger)
        let router = try buildIntakeRouter(
            service: service, limiter: try FailureRateLimiter(burst: receiptFailures, refillPerSecond: 0.001),
            pages: try await PageSettings.load(clock: clock))
        let (ports, portSink) = AsyncStream.makeStream(of: Int.self)
        let app = try makeTLSApplication(
            responder: router.buildResponder(), tls: try HearthTLS.serverConfiguration(keys: keys), host: "127.0.0.1", port: 0,
            logger: logger, onServerRunning: { channel in portSink.yield(channel.localAddress?.port ?? 0) })
        let group = ServiceGroup(configuration: .init(services: [app], logger: logger))
        let task = Task { try await group.run() }
        var port = 0
        for await p in ports {
            port = p
            break
        }
        let client = try TestHTTPSClient(baseURL: "https://127.0.0.1:\(port)", certificatePath: keys.tlsCertificateFile)
        return IntakeHarness(
            dir: dir, keys: keys, store: store, service: service, logs: logs, client: client, clock: clock, group: group, task: task)
    }

    func stop() async {
        await client.shutdown()
        await group.triggerGracefulShutdown()
        _ = await task.result
    }

    /// Runs `body` against a fresh harness and always stops it.
    static func with<T>(receiptFailures: Int = 10, _ body: (IntakeHarness) async throws -> T) async throws -> T {
        let h = try await start(receiptFailures: receiptFailures)
        do {
            let r = try await body(h)
            await h.stop()
            return r
        } catch {
            await h.stop()
            throw error
        }
    }

    /// Submits a request and returns (reference, receipt).
    func submit(_ json: [String: Any]) async throws -> (reference: String, receipt: String) {
        let reply = try await client.send(.POST, "/api/v1/contact-requests", json: json)
        guard reply.status == 201, let ref = reply.json["reference"] as? String, let receipt = reply.json["receipt"] as? String else {
            throw HarnessError("submission failed: \(reply.status) \(reply.text)")
        }
        return (ref, receipt)
    }

    func count(_ table: String) async throws -> Int {
        try await store.pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? -1 }
    }

    /// Raw consent wraps in the database for a record.
    func wrapRows(reference: String) async throws -> [(scope: String, version: Int, wrap: [UInt8])] {
        let id = Data(RecordID(reference: reference)!.bytes)
        return try await store.pool.read { db in
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
