import Crypto
import Foundation
import HearthApp
import HearthCore
import HearthCrypto
import HearthKeys
import HearthPostgres
import HearthStore
import HearthTestSupport
import Logging
import Synchronization
import Testing
import X509

/// `hearth doctor`'s findings, one scenario each: every check is shown passing and failing on
/// real files, a real SQLite database and a real PostgreSQL cluster.
@Suite("hearth doctor")
struct DoctorTests {
    /// A deployment as `serve --dev` leaves it: keys, a certificate, a data directory with a database.
    struct Deployment {
        let work: TemporaryDirectory
        var settings: HearthSettings
        var keys: KeyDirectory { KeyDirectory(path: settings.keys) }

        init() async throws {
            work = try TemporaryDirectory()
            settings = HearthSettings(keys: work.file("keys"), data: work.file("data"))
            try DevelopmentKeys.ensure(keys)
            try DataDirectory.prepare(settings.data)
            _ = try SQLiteStore(path: settings.databasePath, logger: quiet)
            // As the service leaves them under its umask 077.
            for name in ["hearth.sqlite", "hearth.sqlite-wal", "hearth.sqlite-shm"] { chmod("\(settings.data)/\(name)", 0o600) }
        }

        func examine(_ options: DoctorOptions = DoctorOptions()) async -> [DoctorFinding] {
            await HearthDoctor.examine(settings, options: options)
        }
    }

    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    func finding(_ check: String, in findings: [DoctorFinding]) throws -> DoctorFinding {
        try #require(findings.first { $0.check == check }, "a \(check) finding in \(findings.map(\.check))")
    }

    @Test("a fresh development deployment has no error; its self-signed certificate is a warning")
    func freshDeploymentPasses() async throws {
        let d = try await Deployment()
        let findings = await d.examine()
        #expect(findings.filter { $0.severity == .error }.isEmpty, "\(findings)")
        for check in ["keys.permissions", "data.permissions", "database.reachable", "clock.skew", "audit.checkpoint", "disk.free", "retention.days"] {
            #expect(try finding(check, in: findings).severity == .ok, "\(check): \(findings)")
        }
        let tls = try finding("tls.certificate", in: findings)
        #expect(tls.severity == .warning && tls.message.contains("self-signed"), "\(tls)")
    }

    @Test("a key file open to group is an error naming the file and the chmod that fixes it")
    func keyFileOpenToGroup() async throws {
        let d = try await Deployment()
        let file = d.keys.publicFile(.scope(.police), version: 1)
        chmod(file, 0o640)
        let f = try finding("keys.permissions", in: await d.examine())
        #expect(f.severity == .error)
        #expect(f.message.contains(file))
        #expect(f.action?.contains("chmod 600") == true)
    }

    @Test("an empty key directory is an error that says how to make keys")
    func noKeys() async throws {
        let work = try TemporaryDirectory()
        mkdir(work.file("keys"), 0o700)
        let f = try finding("keys.permissions", in: await HearthDoctor.examine(HearthSettings(keys: work.file("keys"), data: work.file("data"))))
        #expect(f.severity == .error && f.action?.contains("hearth keys init") == true, "\(f)")
    }

    @Test("a data directory open to others, or a database file open to group, is an error")
    func dataDirectoryOpen() async throws {
        let d = try await Deployment()
        chmod(d.settings.data, 0o755)
        let open = try finding("data.permissions", in: await d.examine())
        #expect(open.severity == .error && open.message.contains("open to others"), "\(open)")
        chmod(d.settings.data, 0o700)
        chmod(d.settings.databasePath, 0o644)
        let file = try finding("data.permissions", in: await d.examine())
        #expect(file.severity == .warning && file.message.contains("hearth.sqlite"), "the private directory protects it, for now: \(file)")
        chmod(d.settings.databasePath, 0o600)
        #expect(try finding("data.permissions", in: await d.examine()).severity == .ok)
        chmod(d.settings.databasePath, 0o640)
        var shared = d.settings
        shared.sharedDataGroup = true
        chmod(d.settings.data, 0o2770)
        let grouped = try finding("data.permissions", in: await HearthDoctor.examine(shared))
        #expect(grouped.severity == .ok, "group access is allowed with --shared-data-group: \(grouped)")
        chmod(d.settings.databasePath, 0o644)
        let others = try finding("data.permissions", in: await HearthDoctor.examine(shared))
        #expect(others.severity == .error && others.message.contains("hearth.sqlite"), "\(others)")
    }

    @Test("a separate intake directory: clean and fresh passes; a private key, a forged or a stale manifest are errors")
    func intakeDirectory() async throws {
        let d = try await Deployment()
        let intake = KeyDirectory(path: d.work.file("intake"))
        let master = try d.keys.loadMasterKey(passphrase: nil)
        _ = try d.keys.publish(to: intake, auditKey: try d.keys.loadAuditPrivateKey(version: 1, master: master), auditVersion: 1, now: 1000)
        try FileManager.default.copyItem(atPath: d.keys.tlsCertificateFile, toPath: intake.tlsCertificateFile)
        try FileManager.default.copyItem(atPath: d.keys.tlsKeyFile, toPath: intake.tlsKeyFile)
        var options = DoctorOptions()
        options.intakeKeys = intake.path
        var findings = await d.examine(options)
        #expect(try finding("intake.private-keys", in: findings).severity == .ok, "\(findings)")
        #expect(try finding("intake.manifest", in: findings).severity == .ok, "\(findings)")
        #expect(findings.filter { $0.check == "tls.certificate" }.count == 2, "the separate intake's certificate is checked too")

        // Stale: the casework side rotated and did not publish.
        _ = try d.keys.rotate(.support, master: master)
        let stale = try finding("intake.manifest", in: await d.examine(options))
        #expect(stale.severity == .error && stale.message.contains("stale") && stale.message.contains("support v1"), "\(stale)")
        #expect(stale.action?.contains("hearth keys publish") == true)

        // Forged: one byte of the signed manifest changed.
        _ = try d.keys.publish(to: intake, auditKey: try d.keys.loadAuditPrivateKey(version: 1, master: master), auditVersion: 1, now: 2000)
        #expect(try finding("intake.manifest", in: await d.examine(options)).severity == .ok)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: intake.manifestFile)))
        bytes[bytes.count - 1] ^= 1
        try SecureFile.replaceAtomically(intake.manifestFile, contents: bytes)
        let forged = try finding("intake.manifest", in: await d.examine(options))
        #expect(forged.severity == .error && forged.message.contains("does not verify"), "\(forged)")

        // A private key copied in.
        try FileManager.default.copyItem(atPath: d.keys.sealedFile(.scope(.police), version: 1), toPath: intake.file("police.v1.sealed"))
        findings = await d.examine(options)
        let leaked = try finding("intake.private-keys", in: findings)
        #expect(leaked.severity == .error && leaked.message.contains("police.v1.sealed"), "\(leaked)")
    }

    @Test("backup keys: no backup.pub is a warning, a valid one passes, a backup private key in the key directory is an error")
    func backupKeys() async throws {
        let d = try await Deployment()
        #expect(try finding("backup.public-key", in: await d.examine()).severity == .warning)
        let offline = d.work.file("offline")
        _ = try BackupKeys.create(in: offline, passphrase: nil, cost: .insecureMinimumForTests)
        try FileManager.default.copyItem(atPath: "\(offline)/backup.pub", toPath: d.keys.file("backup.pub"))
        var findings = await d.examine()
        #expect(try finding("backup.public-key", in: findings).severity == .ok, "\(findings)")
        #expect(!findings.contains { $0.check == "backup.private-key" })
        // Renamed, it is still found by its contents.
        try FileManager.default.copyItem(atPath: "\(offline)/backup.key", toPath: d.keys.file("spare.bin"))
        findings = await d.examine()
        let leaked = try finding("backup.private-key", in: findings)
        #expect(leaked.severity == .error && leaked.message.contains("spare.bin"), "\(leaked)")
    }

    @Test("a manifest in the casework key directory is a warning")
    func manifestInCaseworkDirectory() async throws {
        let d = try await Deployment()
        #expect(!(await d.examine()).contains { $0.check == "keys.manifest" })
        let master = try d.keys.loadMasterKey(passphrase: nil)
        let intake = KeyDirectory(path: d.work.file("intake"))
        _ = try d.keys.publish(to: intake, auditKey: try d.keys.loadAuditPrivateKey(version: 1, master: master), auditVersion: 1, now: 1000)
        try FileManager.default.copyItem(atPath: intake.manifestFile, toPath: d.keys.manifestFile)
        #expect(try finding("keys.manifest", in: await d.examine()).severity == .warning)
    }

    @Test("certificates: expired and not-yet-valid are errors, expiring soon is a warning, a wrong key is an error, a CA-issued one passes")
    func certificates() async throws {
        let d = try await Deployment()
        let now = Date()
        let ca = try TestCertificates.authority()
        func install(_ pair: (certificate: String, key: String)) throws {
            for file in [d.keys.tlsCertificateFile, d.keys.tlsKeyFile] { unlink(file) }
            try SecureFile.createExclusive(d.keys.tlsCertificateFile, contents: Array(pair.certificate.utf8))
            try SecureFile.createExclusive(d.keys.tlsKeyFile, contents: Array(pair.key.utf8))
        }
        func check() async throws -> DoctorFinding { try finding("tls.certificate", in: await d.examine()) }

        // Half a day past whole days, so that seconds of rounding cannot change the count.
        try install(try ca.issue(from: now.addingTimeInterval(-86_400), to: now.addingTimeInterval(200.5 * 86_400)))
        let good = try await check()
        #expect(good.severity == .ok && good.message.contains("200 more days") && good.message.contains("localhost"), "\(good)")

        try install(try ca.issue(from: now.addingTimeInterval(-90 * 86_400), to: now.addingTimeInterval(-86_400)))
        let expired = try await check()
        #expect(expired.severity == .error && expired.message.contains("expired"), "\(expired)")

        try install(try ca.issue(from: now.addingTimeInterval(86_400), to: now.addingTimeInterval(90 * 86_400)))
        let early = try await check()
        #expect(early.severity == .error && early.message.contains("not valid until"), "\(early)")

        try install(try ca.issue(from: now.addingTimeInterval(-86_400), to: now.addingTimeInterval(10.5 * 86_400)))
        let soon = try await check()
        #expect(soon.severity == .warning && soon.message.contains("expires in 10 days"), "\(soon)")

        let mismatched = try ca.issue(from: now.addingTimeInterval(-86_400), to: now.addingTimeInterval(200 * 86_400))
        try install((mismatched.certificate, try TestCertificates.authority().issue(from: now, to: now.addingTimeInterval(86_400)).key))
        let wrongKey = try await check()
        #expect(wrongKey.severity == .error && wrongKey.message.contains("is not the key"), "\(wrongKey)")
    }

    @Test("an SQLite file that is not a database is an error; a missing one is a warning")
    func brokenDatabase() async throws {
        let d = try await Deployment()
        for file in ["hearth.sqlite", "hearth.sqlite-wal", "hearth.sqlite-shm"] { unlink("\(d.settings.data)/\(file)") }
        #expect(try finding("database.reachable", in: await d.examine()).severity == .warning)
        try SecureFile.createExclusive(d.settings.databasePath, contents: Array(repeating: 0x41, count: 8192))
        let broken = try finding("database.reachable", in: await d.examine())
        #expect(broken.severity == .error, "\(broken)")
    }

    @Test("free disk below the guard is an error, below twice the guard a warning")
    func freeDisk() async throws {
        let d = try await Deployment()
        var fs = statvfs()
        #expect(statvfs(d.settings.data, &fs) == 0)
        let free = UInt64(fs.f_bavail) * UInt64(fs.f_frsize)
        var options = DoctorOptions()
        options.minimumFreeBytes = free * 4
        #expect(try finding("disk.free", in: await d.examine(options)).severity == .error)
        options.minimumFreeBytes = free * 3 / 4
        #expect(try finding("disk.free", in: await d.examine(options)).severity == .warning)
        options.minimumFreeBytes = free / 4
        #expect(try finding("disk.free", in: await d.examine(options)).severity == .ok)
    }

    @Test("retention over a year is a warning")
    func longRetention() async throws {
        var d = try await Deployment()
        d.settings.retentionDays = 400
        let f = try finding("retention.days", in: await d.examine())
        #expect(f.severity == .warning && f.message.contains("400 days"), "\(f)")
    }

    @Test("audit entries left unsigned for over a day are a warning; a fresh checkpoint clears it")
    func staleCheckpoint() async throws {
        var d = try await Deployment()
        let clock = TestClock()
        d.settings.clock = clock
        let store = try SQLiteStore(path: d.settings.databasePath, logger: Self.quiet)
        for _ in 0..<150 {
            try await store.appendAudit(
                AuditEvent.recordCreated(RecordID(bytes: Array(repeating: 7, count: RecordID.byteCount))!), at: clock.unixSeconds())
        }
        let master = try d.keys.loadMasterKey(passphrase: nil)
        let casework = CaseworkService(
            store: store, keys: try CaseworkKeys(directory: d.keys, master: master), clock: clock, random: SystemRandomSource(), logger: Self.quiet)
        _ = try await casework.checkpointAudit()
        for _ in 0..<150 {
            try await store.appendAudit(
                AuditEvent.recordCreated(RecordID(bytes: Array(repeating: 8, count: RecordID.byteCount))!), at: clock.unixSeconds())
        }
        #expect(try finding("audit.checkpoint", in: await d.examine()).severity == .ok, "fresh enough")
        clock.advance(days: 2)
        let stale = try finding("audit.checkpoint", in: await d.examine())
        #expect(stale.severity == .warning && stale.message.contains("150 audit entries"), "\(stale)")
        _ = try await casework.checkpointAudit()
        #expect(try finding("audit.checkpoint", in: await d.examine()).severity == .ok)
    }

    @Test(
        "PostgreSQL: the right roles pass; an owner or superuser connection, an over-privileged intake, a clock off and an unreachable server are errors",
        .enabled(if: TestPostgres.enabled))
    func postgres() async throws {
        try await TestPostgres.with { db in
            var d = try await Deployment()
            // Real time plus an offset: the test can take a while on a busy machine.
            let clock = SkewedClock()
            d.settings.clock = clock
            d.settings.database = db.casework
            d.settings.intakeDatabase = db.intake
            var findings = await d.examine()
            for check in ["database.reachable", "database.role", "database.intake-role", "clock.skew", "data.permissions", "disk.free"] {
                #expect(try finding(check, in: findings).severity == .ok, "\(check): \(findings)")
            }

            d.settings.database = db.owner
            d.settings.intakeDatabase = db.owner
            findings = await d.examine()
            let role = try finding("database.role", in: findings)
            #expect(role.severity == .error && role.message.contains("superuser"), "\(role)")
            #expect(try finding("database.intake-role", in: findings).severity == .error)

            d.settings.database = db.casework
            d.settings.intakeDatabase = db.casework
            let intake = try finding("database.intake-role", in: await d.examine())
            #expect(intake.severity == .error && intake.action?.contains("hearth_intake") == true, "the casework role as intake: \(intake)")

            d.settings.intakeDatabase = nil
            clock.advance(seconds: 10)
            #expect(try finding("clock.skew", in: await d.examine()).severity == .warning)
            clock.advance(seconds: 600)
            let skew = try finding("clock.skew", in: await d.examine())
            #expect(skew.severity == .error && skew.message.contains("ahead of"), "\(skew)")

            // On the separate intake's host: --keys is the published directory, --database the intake role.
            let published = KeyDirectory(path: d.work.file("published"))
            let master = try d.keys.loadMasterKey(passphrase: nil)
            _ = try d.keys.publish(to: published, auditKey: try d.keys.loadAuditPrivateKey(version: 1, master: master), auditVersion: 1, now: 1000)
            try FileManager.default.copyItem(atPath: d.keys.tlsCertificateFile, toPath: published.tlsCertificateFile)
            try FileManager.default.copyItem(atPath: d.keys.tlsKeyFile, toPath: published.tlsKeyFile)
            var intakeHost = HearthSettings(keys: published.path, data: d.work.file("intake-data"))
            intakeHost.database = db.intake
            findings = await HearthDoctor.examine(intakeHost)
            #expect(findings.filter { $0.severity == .error }.isEmpty, "\(findings)")
            for check in ["intake.private-keys", "intake.manifest", "database.intake-role", "clock.skew"] {
                #expect(try finding(check, in: findings).severity == .ok, "\(check): \(findings)")
            }
            #expect(!findings.contains { $0.check == "keys.manifest" || $0.check == "database.role" })
            intakeHost.database = db.casework
            #expect(try finding("database.intake-role", in: await HearthDoctor.examine(intakeHost)).severity == .error)

            d.settings.database = try PostgresLocation(url: "postgres://hearth_casework@127.0.0.1:1/nothing?sslmode=require")
            let down = try finding("database.reachable", in: await d.examine())
            #expect(down.severity == .error && down.action?.contains("pg_hba.conf") == true, "\(down)")
        }
    }
}

/// The system clock moved by a settable offset, for the clock-skew check.
final class SkewedClock: WallClock, Sendable {
    private let offset = Mutex<Int64>(0)
    func unixSeconds() -> Int64 { Int64(Date().timeIntervalSince1970) + offset.withLock { $0 } }
    func advance(seconds: Int64) { offset.withLock { $0 += seconds } }
}

/// A throwaway certificate authority for the certificate checks.
struct TestCertificates {
    let key: P256.Signing.PrivateKey
    let name: DistinguishedName

    static func authority() throws -> TestCertificates {
        TestCertificates(key: P256.Signing.PrivateKey(), name: try DistinguishedName { CommonName("Hearth test CA") })
    }

    /// A `localhost` certificate valid from `start` to `end`, signed by this authority, and its key (PEM).
    func issue(from start: Date, to end: Date) throws -> (certificate: String, key: String) {
        let leaf = P256.Signing.PrivateKey()
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: .init(leaf.publicKey), notValidBefore: start,
            notValidAfter: end, issuer: name, subject: try DistinguishedName { CommonName("localhost") }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions { SubjectAlternativeNames([.dnsName("localhost")]) }, issuerPrivateKey: .init(key))
        return (try certificate.serializeAsPEM().pemString + "\n", leaf.pemRepresentation + "\n")
    }
}
