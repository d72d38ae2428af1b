import Foundation
import GRDB
import HearthApp
import HearthCasework
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

/// A member of staff the harness created, signed in or not.
struct TestStaff: Sendable {
    let username: String
    let role: Role
    let totpSecret: String
    var password: String
    var token: String?

    var bearer: [(String, String)] { token.map { [("Authorization", "Bearer \($0)")] } ?? [] }
}

/// Both listeners in one process over real TLS, with real keys, one real SQLite file, a movable
/// clock and captured logs. Clients verify the server certificate.
final class CaseworkHarness: Sendable {
    let dir: TemporaryDirectory
    let assembly: HearthAssembly
    let logs: LogCapture
    let clock: TestClock
    let intake: TestHTTPSClient
    let staffClient: TestHTTPSClient
    /// A client for the staff pages that does not follow redirects.
    let pageClient: TestHTTPSClient
    /// The PostgreSQL database, when the harness runs on PostgreSQL.
    let postgres: TestPostgres?
    /// The metrics listener's port, when the harness runs one.
    let metricsPort: Int?
    private let task: Task<Void, any Error>

    var keys: KeyDirectory { assembly.keys }
    var store: SQLiteStore { assembly.sqlite }
    /// The casework side's store, whichever it is (reads for assertions).
    var records: any CaseworkSideStore { assembly.stores.casework }
    var staffService: StaffService { assembly.staff! }
    var casework: CaseworkService { assembly.casework! }
    var survivors: SurvivorService { assembly.survivors! }
    var databasePath: String { assembly.settings.databasePath }

    private init(
        dir: TemporaryDirectory, assembly: HearthAssembly, logs: LogCapture, clock: TestClock, intake: TestHTTPSClient,
        staffClient: TestHTTPSClient, pageClient: TestHTTPSClient, postgres: TestPostgres?, metricsPort: Int?, task: Task<Void, any Error>
    ) {
        self.dir = dir
        self.assembly = assembly
        self.logs = logs
        self.clock = clock
        self.intake = intake
        self.staffClient = staffClient
        self.pageClient = pageClient
        self.postgres = postgres
        self.metricsPort = metricsPort
        self.task = task
    }

    /// Both listeners wired by the composition root as `hearth serve --dev` is, on free ports,
    /// with a test clock, no background jobs and the smallest Argon2id cost (insecure but fast).
    /// On PostgreSQL each side connects as its own role (`hearth_intake`, `hearth_casework`).
    /// With `metrics`, the metrics listener runs too, on a free port, refreshing on every scrape.
    /// With `pseudoLocales`, both listeners offer the pseudo-locales too.
    static func start(
        loginFailuresPerAddress: Int = 1000, store: TestStore = .sqlite, metrics: Bool = false, pseudoLocales: Bool = false
    ) async throws -> CaseworkHarness {
        let dir = try TemporaryDirectory()
        var settings = HearthSettings(keys: dir.file("keys"), data: dir.file("data"))
        settings.intakePort = 0
        settings.caseworkPort = 0
        settings.retentionDays = 30
        settings.receiptFailures = 1000
        // Flood control is tested on the intake harness; here the budgets are out of reach and
        // the disk guard is off, whatever the machine's disk.
        settings.submissionLimits.perSourceBurst = 1_000_000
        settings.submissionLimits.globalBurst = 1_000_000
        settings.submissionLimits.minFreeDiskBytes = 0
        settings.loginFailures = loginFailuresPerAddress
        // Failures do not come back while a test runs, however slow the machine (as in the intake harness).
        settings.failureRefillPerSecond = 0.001
        settings.createDevelopmentKeys = true
        settings.backgroundJobs = false
        settings.handlesSignals = false
        settings.passwordCost = .insecureMinimumForTests
        settings.pseudoLocales = pseudoLocales
        if metrics {
            settings.metricsPort = 0
            settings.metricsRefreshSeconds = 0
        }
        let clock = TestClock()
        settings.clock = clock
        let postgres = store == .postgres ? try await TestPostgres.create() : nil
        settings.database = postgres?.casework
        // The whole suite shares CI's two cores: a query may wait longer than production's 15 s.
        settings.databaseDeadline = .seconds(60)
        settings.intakeDatabase = postgres?.intake
        let logs = LogCapture()
        let (assembly, found, task) = try await HearthAssembly.start(settings, listeners: [.intake, .casework], logger: logs.logger())
        let cert = assembly.keys.tlsCertificateFile
        return CaseworkHarness(
            dir: dir, assembly: assembly, logs: logs, clock: clock,
            intake: try TestHTTPSClient(baseURL: "https://127.0.0.1:\(found[.intake]!)", certificatePath: cert),
            staffClient: try TestHTTPSClient(baseURL: "https://127.0.0.1:\(found[.casework]!)", certificatePath: cert),
            pageClient: try TestHTTPSClient(baseURL: "https://127.0.0.1:\(found[.casework]!)", certificatePath: cert, followRedirects: false),
            postgres: postgres, metricsPort: found[.metrics], task: task)
    }

    func stop() async {
        await intake.shutdown()
        await staffClient.shutdown()
        await pageClient.shutdown()
        await assembly.shutdown()
        _ = await task.result
        await postgres?.drop()
    }

    static func with<T>(
        loginFailuresPerAddress: Int = 1000, store: TestStore = .sqlite, metrics: Bool = false, pseudoLocales: Bool = false,
        _ body: (CaseworkHarness) async throws -> T
    ) async throws -> T {
        let h = try await start(loginFailuresPerAddress: loginFailuresPerAddress, store: store, metrics: metrics, pseudoLocales: pseudoLocales)
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

    // MARK: Staff

    /// The TOTP code for a secret at the harness clock's current step (or an explicit step).
    func totp(_ secretBase32: String, step: UInt64? = nil) -> String {
        let secret = SecretBytes(copying: base32Decode(secretBase32))
        return TOTP.code(secret: secret, step: step ?? TOTP.step(at: clock.unixSeconds()))
    }

    /// Creates an account through the service (as the CLI does) and returns its one-time credentials.
    func addStaff(_ username: String, _ role: Role) async throws -> TestStaff {
        let c = try await staffService.add(username: username, role: role, actor: "cli")
        return TestStaff(username: username, role: role, totpSecret: c.totpSecret, password: c.password, token: nil)
    }

    /// Signs in over TLS (moving the clock one TOTP step first, so codes are never reused).
    func login(_ s: TestStaff) async throws -> TestHTTPSClient.Reply {
        clock.advance(seconds: 30)
        return try await staffClient.send(
            .POST, "/api/v1/session", json: ["username": s.username, "password": s.password, "totp": totp(s.totpSecret)])
    }

    /// Creates an account, signs in, changes the one-time password: ready to work.
    func readyStaff(_ username: String, _ role: Role) async throws -> TestStaff {
        var s = try await addStaff(username, role)
        let first = try await login(s)
        guard first.status == 200, let token = first.json["token"] as? String else { throw HarnessError("login failed: \(first.text)") }
        s.token = token
        let change = try await staffClient.send(
            .POST, "/api/v1/session/password",
            body: Array(try JSONSerialization.data(withJSONObject: ["password": s.password, "newPassword": "a long new password \(username)"])),
            headers: s.bearer)
        guard change.status == 204 else { throw HarnessError("password change failed: \(change.text)") }
        s.password = "a long new password \(username)"
        return s
    }

    /// Sends a JSON body as a signed-in member of staff.
    func staffPost(_ s: TestStaff, _ path: String, _ json: [String: Any]) async throws -> TestHTTPSClient.Reply {
        try await staffClient.send(.POST, path, body: Array(try JSONSerialization.data(withJSONObject: json)), headers: s.bearer)
    }

    // MARK: Survivors

    /// Submits a request; returns (reference, receipt).
    func submit(consents: [String] = [], canary: String = "") async throws -> (reference: String, receipt: String) {
        let reply = try await intake.send(
            .POST, "/api/v1/contact-requests", json: sampleRequest(canary: canary, consents: consents.map { ["scope": $0] }))
        guard reply.status == 201, let ref = reply.json["reference"] as? String, let receipt = reply.json["receipt"] as? String else {
            throw HarnessError("submission failed: \(reply.status) \(reply.text)")
        }
        return (ref, receipt)
    }

    /// Audit rows, as (action, outcome, subject).
    func auditRows() async throws -> [(action: String, outcome: String, subject: String, actor: String)] {
        try await records.auditEntries().map { ($0.event.action, $0.event.outcome, $0.event.subject, $0.event.actor) }
    }

    /// The number `sql` (a `SELECT count(*)` over bare table names) answers, on either store.
    func count(_ sql: String) async throws -> Int {
        if let postgres { return try await postgres.count(sql) }
        return try await store.inspect { db in try Int.fetchOne(db, sql: sql) ?? -1 }
    }

    /// Every byte the store wrote: the SQLite file, WAL and shm, or this PostgreSQL database's
    /// files and the write-ahead log after a checkpoint.
    func storedBytes() async throws -> [UInt8] {
        if let postgres { return try await postgres.storedBytes() }
        return databaseBytes()
    }

    func databaseBytes() -> [UInt8] {
        fileBytes(databasePath) + fileBytes(databasePath + "-wal") + fileBytes(databasePath + "-shm")
    }
}

struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// RFC 4648 base32 decoding (no padding), for TOTP secrets.
func base32Decode(_ s: String) -> [UInt8] {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    var out: [UInt8] = []
    var buffer: UInt32 = 0
    var bits = 0
    for c in s.uppercased() {
        guard let v = alphabet.firstIndex(of: c) else { continue }
        buffer = (buffer << 5) | UInt32(v)
        bits += 5
        if bits >= 8 {
            bits -= 8
            out.append(UInt8((buffer >> UInt32(bits)) & 0xFF))
        }
    }
    return out
}

// MARK: - Pages

extension CaseworkHarness {
    /// A new browser on the casework listener.
    func browser() -> PageBrowser { PageBrowser(pageClient) }

    /// Signs in through both sign-in pages (moving the clock one TOTP step first); returns the
    /// answer to the code step.
    @discardableResult
    func pageSignIn(_ b: PageBrowser, _ s: TestStaff) async throws -> TestHTTPSClient.Reply {
        clock.advance(seconds: 30)
        _ = try await b.get("/login")
        let first = try await b.post("/login", [("username", s.username), ("password", s.password)])
        guard first.status == 303 else { throw HarnessError("sign-in step 1: \(first.status) \(first.text)") }
        _ = try await b.get("/login/code")
        return try await b.post("/login/code", [("totp", totp(s.totpSecret))])
    }
}

/// A six-digit code that matches none of the steps the server would accept now.
func wrongCode(_ h: CaseworkHarness, _ s: TestStaff) -> String {
    let step = TOTP.step(at: h.clock.unixSeconds())
    let accepted = Set((step - 1...step + 1).map { h.totp(s.totpSecret, step: $0) })
    var n = 123_456
    while accepted.contains(String(n)) { n += 1 }
    return String(n)
}

extension HearthAssembly {
    /// The SQLite store these harnesses run on (the embedded default), for inspection.
    var sqlite: SQLiteStore {
        guard let store = stores.sqlite else { preconditionFailure("this harness runs on SQLite") }
        return store
    }
}
