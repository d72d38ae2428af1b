import ArgumentParser
import Foundation
import HearthCore
import HearthCrypto
import HearthHTTP
import HearthIntake
import HearthStore
import Hummingbird
import Logging
import ServiceLifecycle

/// Starts the listeners, failing closed: no keys, bad key permissions or no TLS means no start.
struct Runner {
    let locations: Locations
    let listener: ListenerOptions
    let createDevelopmentKeys: Bool
    /// `serve` (which will also run casework) opens every private key at start; `intake` never does.
    let verifyPrivateKeys: Bool
    /// The environment variable holding the master passphrase, when keys use `master.kdf`.
    let passphraseEnv: String?

    func passphrase(_ keys: KeyDirectory) throws -> SecretBytes? {
        guard keys.usesPassphrase else { return nil }
        guard let name = passphraseEnv, let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            throw KeyFileError(
                path: keys.masterKDFFile, reason: "the master key is passphrase-protected and no passphrase was given",
                hint: "pass --passphrase-env VAR with the passphrase in that environment variable")
        }
        return SecretBytes(copying: Array(value.utf8))
    }

    func run() async throws {
        umask(0o077)
        let level = Logger.Level(rawValue: listener.logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var h = StreamLogHandler.standardError(label: label)
            h.logLevel = level
            return h
        }
        let logger = Logger(label: "hearth")
        let keys = KeyDirectory(path: locations.keys)
        do {
            if createDevelopmentKeys { try DevelopmentKeys.ensure(keys) }
            try keys.checkPermissions()
            let ring = try keys.loadPublicKeyRing()
            if verifyPrivateKeys {
                // The embedded process will hold the casework keys: refuse now if any would not open.
                try keys.verifyPrivateKeys(master: keys.loadMasterKey(passphrase: try passphrase(keys)))
            }
            let tls = try HearthTLS.serverConfiguration(keys: keys)
            try DataDirectory.prepare(locations.data)
            let store = try SQLiteStore(path: "\(locations.data)/hearth.sqlite", logger: logger)
            let service = SurvivorService(
                store: store, keys: PublicKeyRingHolder(ring), clock: SystemClock(),
                retention: RetentionPolicy(days: listener.retentionDays), logger: logger)
            let limiter = try FailureRateLimiter(burst: listener.receiptFailures)
            let router = buildIntakeRouter(service: service, limiter: limiter)
            let host = listener.host
            let certificate = URL(fileURLWithPath: keys.tlsCertificateFile).standardizedFileURL.path
            let app = try makeTLSApplication(
                responder: router.buildResponder(), tls: tls, host: host, port: listener.intakePort, logger: logger,
                onServerRunning: { channel in
                    let port = channel.localAddress?.port ?? 0
                    print("intake: https://\(host.contains(":") ? "[\(host)]" : host):\(port)")
                    print("certificate: \(certificate)")
                    fflush(nil)
                })
            let group = ServiceGroup(
                configuration: .init(
                    services: [app, ExpirySweeper(service: service, logger: logger)],
                    gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
            try await group.run()
        } catch let e as KeyFileError {
            FileHandle.standardError.write(Data("hearth: refusing to start: \(e)\n".utf8))
            throw ExitCode(78)
        }
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

enum DevelopmentKeys {
    /// Creates development keys and a self-signed certificate where none exist yet.
    static func ensure(_ keys: KeyDirectory) throws {
        if keys.isEmpty {
            try keys.initialise(passphrase: nil)
            FileHandle.standardError.write(Data("hearth: created development keys in \(keys.path)/ (never use them in production)\n".utf8))
        }
        if !FileManager.default.fileExists(atPath: keys.tlsCertificateFile) && !FileManager.default.fileExists(atPath: keys.tlsKeyFile) {
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
