import ArgumentParser
import Foundation
import HearthCasework
import HearthCore
import HearthCrypto
import HearthHTTP
import HearthIntake
import HearthStore
import Hummingbird
import Logging
import ServiceLifecycle

/// Which listeners a process runs.
struct Listeners: OptionSet {
    let rawValue: Int
    static let intake = Listeners(rawValue: 1)
    static let casework = Listeners(rawValue: 2)
}

/// Reads the master passphrase from the environment variable named by `--passphrase-env`.
func passphrase(_ keys: KeyDirectory, env: String?) throws -> SecretBytes? {
    guard keys.usesPassphrase else { return nil }
    guard let name = env, let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
        throw KeyFileError(
            path: keys.masterKDFFile, reason: "the master key is passphrase-protected and no passphrase was given",
            hint: "pass --passphrase-env VAR with the passphrase in that environment variable")
    }
    return SecretBytes(copying: Array(value.utf8))
}

/// Sets up logging to standard error at `level` (once per process).
func bootstrapLogging(_ level: String) -> Logger {
    let lvl = Logger.Level(rawValue: level) ?? .info
    LoggingSystem.bootstrap { label in
        var h = StreamLogHandler.standardError(label: label)
        h.logLevel = lvl
        return h
    }
    return Logger(label: "hearth")
}

/// Starts the listeners, failing closed: no keys, bad key permissions or no TLS means no start.
/// The intake side only ever reads public keys; only the casework side opens the master key.
struct Runner {
    let locations: Locations
    let listener: ListenerOptions
    let listeners: Listeners
    let createDevelopmentKeys: Bool
    let passphraseEnv: String?

    func run() async throws {
        umask(0o077)
        let logger = bootstrapLogging(listener.logLevel)
        let keys = KeyDirectory(path: locations.keys)
        do {
            if createDevelopmentKeys { try DevelopmentKeys.ensure(keys) }
            try keys.recoverInterruptedRotation()
            try keys.checkPermissions()
            try DataDirectory.prepare(locations.data)
            let store = try SQLiteStore(path: "\(locations.data)/hearth.sqlite", logger: logger)
            var services: [any Service] = []
            var announcements: [String] = []
            let host = listener.host
            let shown = host.contains(":") ? "[\(host)]" : host
            let lines = AnnouncementBoard(expected: listeners.contains(.intake) && listeners.contains(.casework) ? 2 : 1)

            let reloader = KeyReloader(keys: keys, passphraseEnv: passphraseEnv, logger: logger)
            if listeners.contains(.intake) {
                let ring = try keys.loadPublicKeyRing()
                let holder = PublicKeyRingHolder(ring)
                reloader.rings.append(holder)
                let tls = try HearthTLS.serverConfiguration(keys: keys)
                let service = SurvivorService(
                    store: store, keys: holder, clock: SystemClock(),
                    retention: RetentionPolicy(days: listener.retentionDays), logger: logger)
                let router = try buildIntakeRouter(
                    service: service, limiter: try FailureRateLimiter(burst: listener.receiptFailures),
                    pages: try await PageSettings.load(exitURL: listener.exitURL))
                services.append(
                    try makeTLSApplication(
                        responder: router.buildResponder(), tls: tls, host: host, port: listener.intakePort, logger: logger,
                        onServerRunning: { channel in lines.post(0, "intake: https://\(shown):\(channel.localAddress?.port ?? 0)") }))
                services.append(ExpirySweeper(service: service, logger: logger))
                announcements.append("certificate: \(absolute(keys.tlsCertificateFile))")
            }
            if listeners.contains(.casework) {
                // The casework side holds the private keys: refuse now if any would not open.
                let master = try keys.loadMasterKey(passphrase: try passphrase(keys, env: passphraseEnv))
                try keys.verifyPrivateKeys(master: master)
                _ = try keys.loadPublicKeyRing()
                let caseworkKeys = try CaseworkKeys(directory: keys, master: master)
                reloader.caseworkKeys = caseworkKeys
                let ownCertificate = FileManager.default.fileExists(atPath: keys.caseworkCertificateFile)
                let certificate = ownCertificate ? keys.caseworkCertificateFile : keys.tlsCertificateFile
                let tls = try HearthTLS.serverConfiguration(
                    certificateFile: certificate, keyFile: ownCertificate ? keys.caseworkKeyFile : keys.tlsKeyFile)
                let casework = CaseworkService(store: store, keys: caseworkKeys, clock: SystemClock(), logger: logger)
                let staff = StaffService(
                    store: store, keys: caseworkKeys, clock: SystemClock(), hasher: try PasswordHasher(cost: .interactive), logger: logger)
                let router = try buildCaseworkRouter(
                    staff: staff, casework: casework, keyStatus: KeyStatusSource(directory: keys, wrapCounts: { try await store.wrapCounts() }),
                    limiter: try FailureRateLimiter(burst: listener.receiptFailures), pages: try await PageSettings.load(exitURL: listener.exitURL))
                services.append(
                    try makeTLSApplication(
                        responder: router.buildResponder(), tls: tls, host: host, port: listener.caseworkPort, logger: logger,
                        onServerRunning: { channel in lines.post(1, "casework: https://\(shown):\(channel.localAddress?.port ?? 0)") }))
                services.append(AuditCheckpointer(casework: casework, logger: logger))
                if !listeners.contains(.intake) || ownCertificate {
                    announcements.append("\(listeners.contains(.intake) ? "casework-certificate" : "certificate"): \(absolute(certificate))")
                }
            }
            services.append(reloader)
            lines.trailer = announcements
            let group = ServiceGroup(
                configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        } catch let e as KeyFileError {
            FileHandle.standardError.write(Data("hearth: refusing to start: \(e)\n".utf8))
            throw ExitCode(78)
        }
    }

    func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }
}

/// Prints the listener URLs in a fixed order (intake, casework), then the certificate lines,
/// once every listener is up.
final class AnnouncementBoard: @unchecked Sendable {
    private let lock = NSLock()
    private var posted: [Int: String] = [:]
    private let expected: Int
    var trailer: [String] = []

    init(expected: Int) { self.expected = expected }

    func post(_ slot: Int, _ line: String) {
        lock.lock()
        defer { lock.unlock() }
        posted[slot] = line
        guard posted.count == expected else { return }
        for key in posted.keys.sorted() { print(posted[key]!) }
        for line in trailer { print(line) }
        fflush(nil)
    }
}

/// Every minute: withdraws expired consents (so a wrap never outlives its consent for long), then
/// crypto-shreds records with no live consent for the retention period.
struct ExpirySweeper: Service {
    let service: SurvivorService
    let logger: Logger

    func run() async throws {
        // Graceful shutdown cancels this loop, which is its normal end: a CancellationError thrown
        // from here would make the ServiceGroup cancel the listener and exit with status 1.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    _ = try await service.sweepExpiredConsents()
                    _ = try await service.applyRetention()
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("expiry and retention sweep failed", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
                }
                try? await Task.sleep(for: .seconds(60))
            }
        }
    }
}

/// Signs a checkpoint of the audit chain every 100 entries (checked every 10 seconds) and at shutdown.
struct AuditCheckpointer: Service {
    let casework: CaseworkService
    let logger: Logger
    static let everyEntries: Int64 = 100

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await casework.checkpointAudit(minimumNewEntries: Self.everyEntries)
                } catch is CancellationError {
                    return
                } catch {
                    logger.error("audit checkpoint failed", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
                }
                try? await Task.sleep(for: .seconds(10))
            }
        }
        do {
            try await casework.checkpointAudit(minimumNewEntries: 1)
        } catch {
            logger.error("audit checkpoint at shutdown failed", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
        }
    }
}

enum DevelopmentKeys {
    /// Creates development keys and self-signed certificates where none exist yet.
    static func ensure(_ keys: KeyDirectory) throws {
        if keys.isEmpty {
            try keys.initialise(passphrase: nil)
            FileHandle.standardError.write(Data("hearth: created development keys in \(keys.path)/ (never use them in production)\n".utf8))
        }
        let fm = FileManager.default
        if !fm.fileExists(atPath: keys.tlsCertificateFile) && !fm.fileExists(atPath: keys.tlsKeyFile) {
            try HearthTLS.createDevelopmentCertificate(keys: keys)
            FileHandle.standardError.write(Data("hearth: created a self-signed development certificate\n".utf8))
        }
    }
}

enum DataDirectory {
    /// Creates the data directory (0700) and refuses one that group or others can read.
    static func prepare(_ path: String) throws {
        if mkdir(path, 0o700) != 0 && errno != EEXIST {
            throw KeyFileError(path: path, reason: "cannot create the data directory", hint: "check the parent directory")
        }
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & 0o077 == 0 else {
            throw KeyFileError(path: path, reason: "the data directory is open to group or others", hint: "run `chmod 700 \(path)`")
        }
    }
}

/// Watches the key directory (every two seconds) and reloads keys after a rotation or
/// retirement, so running listeners use a new primary version without a restart.
final class KeyReloader: Service, @unchecked Sendable {
    let keys: KeyDirectory
    let passphraseEnv: String?
    let logger: Logger
    /// Set up before the service group starts; read-only afterwards.
    var rings: [PublicKeyRingHolder] = []
    var caseworkKeys: CaseworkKeys?

    init(keys: KeyDirectory, passphraseEnv: String?, logger: Logger) {
        self.keys = keys
        self.passphraseEnv = passphraseEnv
        self.logger = logger
    }

    /// Names and sizes of the key files: changes when a version is added, retired or re-sealed.
    func fingerprint() -> String {
        SecureFile.list(keys.path).filter { $0.hasSuffix(".pub") || $0.hasSuffix(".sealed") || $0.hasSuffix(".retired") || $0.hasPrefix("master.") }
            .map { name -> String in
                var st = stat()
                _ = stat(keys.file(name), &st)
                return "\(name):\(st.st_size):\(st.st_mtim.tv_sec):\(st.st_mtim.tv_nsec)"
            }.joined(separator: "|")
    }

    func reload() throws {
        try keys.recoverInterruptedRotation()
        try keys.checkPermissions()
        let ring = try keys.loadPublicKeyRing()
        if let caseworkKeys {
            let master = try keys.loadMasterKey(passphrase: try passphrase(keys, env: passphraseEnv))
            try caseworkKeys.reloadScopeKeys(from: keys, master: master)
        }
        for holder in rings { holder.replace(with: ring) }
        logger.notice(
            "keys reloaded",
            metadata: [
                "keys.primary": "\(ring.primary.sorted { $0.key < $1.key }.map { "\($0.key.rawValue).v\($0.value.version)" }.joined(separator: ","))"
            ])
    }

    func run() async throws {
        let initial = fingerprint()
        await cancelWhenGracefulShutdown {
            var seen = initial
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(2))
                let now = self.fingerprint()
                guard now != seen else { continue }
                do {
                    try self.reload()
                    seen = now
                } catch {
                    // Half-way through a rotation, or a bad file: keep the keys in use, try again.
                    self.logger.error("key reload failed; keeping the keys in use", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
