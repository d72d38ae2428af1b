import Foundation
import HearthCore
import HearthHTTP
import HearthKeys
import HearthPostgres
import HearthStore
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// One thing `hearth doctor` found about a deployment, with what to do about it.
public struct DoctorFinding: Sendable, Equatable, Encodable {
    /// How much a finding matters.
    public enum Severity: String, Sendable, Encodable, Comparable {
        /// Checked and fine (or, with a message saying so, not applicable here).
        case ok
        /// Works today, but needs attention before it stops working or weakens protection.
        case warning
        /// Not safe to run survivors on: fix it first (`hearth doctor` exits non-zero).
        case error

        private var rank: Int { self == .ok ? 0 : self == .warning ? 1 : 2 }
        public static func < (a: Severity, b: Severity) -> Bool { a.rank < b.rank }
    }

    /// A stable name for the check (`tls.expiry`, `database.role`, …), for scripts and alerts.
    public let check: String
    /// How much it matters.
    public let severity: Severity
    /// What was found, in plain words (paths and figures; never a secret).
    public let message: String
    /// What to do about it; nil when nothing needs doing.
    public let action: String?

    /// A finding.
    public init(_ check: String, _ severity: Severity, _ message: String, action: String? = nil) {
        self.check = check
        self.severity = severity
        self.message = message
        self.action = action
    }
}

/// What `hearth doctor` checks against, beyond the locations in ``HearthSettings``.
public struct DoctorOptions: Sendable {
    /// A separate intake's published key directory (`hearth keys publish --to DIR`), if there is one.
    public var intakeKeys: String?
    /// The least free space the data directory's file system should keep: by default the same
    /// as the intake's disk guard (``SubmissionLimits/defaultMinFreeDiskBytes``), below which it
    /// refuses new submissions.
    public var minimumFreeBytes = UInt64(SubmissionLimits.defaultMinFreeDiskBytes)
    /// A certificate that expires within this many days is a warning.
    public var certificateWarningDays = 30
    /// Clock skew against the database beyond this is a warning…
    public var clockWarningSeconds = 2.0
    /// …and beyond this an error (times in the audit trail and expiry days would disagree).
    public var clockErrorSeconds = 60.0
    /// A retention period longer than this is a warning: records nobody may read are kept for it.
    public var retentionWarningDays = 365
    /// Entries left unsigned for longer than this (seconds) mean the checkpointer is not running.
    public var checkpointWarningSeconds: Int64 = 86_400

    /// The defaults.
    public init() {}
}

/// Checks a deployment before survivors use it: key and data directory permissions, private keys
/// where they must not be, the published manifest, TLS certificates, the database and its roles,
/// free disk, clock skew, retention and audit checkpoints. Reads only; changes nothing (an SQLite
/// database that does not exist yet is not created).
public enum HearthDoctor {
    /// Every finding for `settings`, in a fixed order. Never throws: a check that cannot run is
    /// itself a finding.
    public static func examine(_ settings: HearthSettings, options: DoctorOptions = DoctorOptions()) async -> [DoctorFinding] {
        let now = settings.clock.unixSeconds()
        let keys = KeyDirectory(path: settings.keys)
        // On a separate intake's host, --keys is the published directory: check it as the intake's.
        let intakeHost = keys.hasManifest && (try? keys.refusePrivateKeys()) != nil
        var options = options
        if intakeHost && options.intakeKeys == nil { options.intakeKeys = keys.path }
        var findings = keyDirectory(keys, intakeHost: intakeHost)
        findings += intakeDirectory(options.intakeKeys, casework: keys)
        let separate = options.intakeKeys.flatMap { $0 == keys.path ? nil : KeyDirectory(path: $0) }
        findings += certificates(keys, intake: separate, now: now, options: options)
        findings += dataDirectory(settings)
        findings += await database(settings, intakeHost: intakeHost, now: now, options: options)
        findings += freeDisk(settings, options: options)
        findings += retention(settings, options: options)
        return findings
    }

    // MARK: keys

    static func keyDirectory(_ keys: KeyDirectory, intakeHost: Bool) -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        do {
            try keys.checkPermissions()
            if keys.isEmpty {
                findings.append(
                    DoctorFinding(
                        "keys.permissions", .error, "the key directory \(keys.path) holds no keys",
                        action: "run `hearth keys init --dir \(keys.path)` (with --passphrase-env for real use)"))
            } else {
                findings.append(DoctorFinding("keys.permissions", .ok, "the key directory \(keys.path) and every file in it are private"))
            }
        } catch let e as KeyFileError {
            findings.append(DoctorFinding("keys.permissions", .error, "\(e.path): \(e.reason)", action: e.hint))
        } catch {
            findings.append(DoctorFinding("keys.permissions", .error, "cannot check \(keys.path)", action: "check that it exists"))
        }
        findings += backupKeys(keys, intakeHost: intakeHost)
        if keys.hasManifest && !intakeHost {
            findings.append(
                DoctorFinding(
                    "keys.manifest", .warning, "\(keys.manifestFile) is in the casework key directory, so `hearth serve` seals to what it names",
                    action: "publish into the intake's own directory (`hearth keys publish --to DIR`), and remove it here"))
        }
        return findings
    }

    /// The backup key: its private half must never be on the server; its public half is what
    /// `hearth backup` seals to (SECURITY.md §3.20).
    static func backupKeys(_ keys: KeyDirectory, intakeHost: Bool) -> [DoctorFinding] {
        let leaked = BackupKeys.privateKeyFiles(in: keys.path)
        if !leaked.isEmpty {
            return [
                DoctorFinding(
                    "backup.private-key", .error, "a backup private key is in the key directory: \(leaked.joined(separator: ", "))",
                    action:
                        "move it to the offline backup key directory (or destroy it if a copy is there); whoever holds it and a backup reads every sealed record as backed up"
                )
            ]
        }
        guard !intakeHost else { return [] }
        let path = keys.file(BackupKeys.publicFileName)
        do {
            _ = try BackupKeys.loadPublicKey(path)
            return [DoctorFinding("backup.public-key", .ok, "\(path) is a backup public key; its private half is not here")]
        } catch {
            guard FileManager.default.fileExists(atPath: path) else {
                return [
                    DoctorFinding(
                        "backup.public-key", .warning, "no backup public key (\(path)), so `hearth backup` cannot run",
                        action: "make a pair offline with `hearth keys init-backup --dir DIR` and copy only DIR/backup.pub here (mode 0600)")
                ]
            }
            return [
                DoctorFinding(
                    "backup.public-key", .error, "\(path) is not a backup public key",
                    action: "copy backup.pub from the offline backup key directory again")
            ]
        }
    }

    static func intakeDirectory(_ path: String?, casework: KeyDirectory) -> [DoctorFinding] {
        guard let path else {
            return [DoctorFinding("intake.keys", .ok, "no separate intake directory given (--intake-keys): skipped")]
        }
        let intake = KeyDirectory(path: path)
        var findings: [DoctorFinding] = []
        do {
            try intake.refusePrivateKeys()
            try intake.checkPermissions()
            findings.append(DoctorFinding("intake.private-keys", .ok, "\(path) holds no private key"))
        } catch let e as KeyFileError {
            findings.append(DoctorFinding("intake.private-keys", .error, "\(e.path): \(e.reason)", action: e.hint))
        } catch {
            findings.append(DoctorFinding("intake.private-keys", .error, "cannot check \(path)", action: "check that it exists"))
        }
        do {
            let published = try intake.loadPublishedKeys()
            let manifest = published.manifest
            // Fresh: the primaries it names are the casework directory's newest versions.
            let behind = manifest.primaries.sorted { $0.key.rawValue < $1.key.rawValue }.compactMap { scope, entry -> String? in
                guard let newest = casework.versions(of: .scope(scope)).last, newest > entry.version else { return nil }
                return "\(scope.rawValue) v\(entry.version) (casework has v\(newest))"
            }
            if behind.isEmpty {
                findings.append(
                    DoctorFinding(
                        "intake.manifest", .ok,
                        "keys.manifest verifies under audit v\(manifest.auditVersion) and names the current primaries (\(manifest.primarySummary))"))
            } else {
                findings.append(
                    DoctorFinding(
                        "intake.manifest", .error, "keys.manifest is stale: it names \(behind.joined(separator: ", "))",
                        action: "run `hearth keys publish --to \(path)` on the casework host"))
            }
        } catch let e as KeyFileError {
            findings.append(DoctorFinding("intake.manifest", .error, "\(e.path): \(e.reason)", action: e.hint))
        } catch {
            findings.append(DoctorFinding("intake.manifest", .error, "cannot read \(intake.manifestFile)", action: "publish again"))
        }
        return findings
    }

    // MARK: TLS

    static func certificates(_ keys: KeyDirectory, intake: KeyDirectory?, now: Int64, options: DoctorOptions) -> [DoctorFinding] {
        var pairs = [("intake", keys.tlsCertificateFile, keys.tlsKeyFile)]
        if FileManager.default.fileExists(atPath: keys.caseworkCertificateFile) {
            pairs.append(("casework", keys.caseworkCertificateFile, keys.caseworkKeyFile))
        }
        if let intake { pairs.append(("separate intake", intake.tlsCertificateFile, intake.tlsKeyFile)) }
        return pairs.map { listener, certificateFile, keyFile in
            certificate(listener: listener, certificateFile: certificateFile, keyFile: keyFile, now: now, options: options)
        }
    }

    static func certificate(listener: String, certificateFile: String, keyFile: String, now: Int64, options: DoctorOptions) -> DoctorFinding {
        let check = "tls.certificate"
        let inspection: CertificateInspection
        do {
            inspection = try HearthTLS.inspect(certificateFile: certificateFile, keyFile: keyFile)
        } catch let e as KeyFileError {
            return DoctorFinding(check, .error, "\(listener): \(e.path): \(e.reason)", action: e.hint)
        } catch {
            return DoctorFinding(check, .error, "\(listener): cannot read \(certificateFile)", action: "check the file")
        }
        let days = (inspection.notAfter - now) / 86_400
        let until = rfc3339(unixSeconds: inspection.notAfter)
        let renew = "renew the certificate (\(certificateFile)) and its key, then restart the listener"
        guard inspection.keyMatches else {
            return DoctorFinding(check, .error, "\(listener): \(keyFile) is not the key of \(certificateFile)", action: "install the matching pair")
        }
        guard inspection.notBefore <= now else {
            return DoctorFinding(
                check, .error, "\(listener): \(certificateFile) is not valid until \(rfc3339(unixSeconds: inspection.notBefore))",
                action: "check the host's clock, or install a certificate valid now")
        }
        guard inspection.notAfter > now else {
            return DoctorFinding(check, .error, "\(listener): \(certificateFile) expired at \(until)", action: renew)
        }
        if days < options.certificateWarningDays {
            return DoctorFinding(check, .warning, "\(listener): \(certificateFile) expires in \(days) days (\(until))", action: renew)
        }
        if inspection.isSelfIssued {
            return DoctorFinding(
                check, .warning,
                "\(listener): \(certificateFile) is self-signed (valid \(days) more days): browsers warn survivors unless they trust it",
                action: "for real use, install a certificate from a public CA (or, for an onion service, rely on the onion address)")
        }
        return DoctorFinding(
            check, .ok,
            "\(listener): \(certificateFile) is valid for \(days) more days (until \(until)), for \(inspection.names.joined(separator: ", "))")
    }

    // MARK: data and database

    static func dataDirectory(_ settings: HearthSettings) -> [DoctorFinding] {
        guard settings.database == nil else {
            return [DoctorFinding("data.permissions", .ok, "PostgreSQL store: no local data directory to check")]
        }
        var st = stat()
        guard lstat(settings.data, &st) == 0 else {
            return [
                DoctorFinding(
                    "data.permissions", .warning, "the data directory \(settings.data) does not exist yet",
                    action: "it is created (0700) when the service first starts; check --data names the right place")
            ]
        }
        let fix = settings.sharedDataGroup ? "chmod 2770" : "chmod 700"
        do {
            try DataDirectory.check(settings.data, what: "the data directory", sharedGroup: settings.sharedDataGroup, fix: fix)
        } catch let e as KeyFileError {
            return [DoctorFinding("data.permissions", .error, "\(e.path): \(e.reason)", action: e.hint)]
        } catch {
            return [DoctorFinding("data.permissions", .error, "cannot check \(settings.data)", action: "check that it exists")]
        }
        do {
            for name in DataDirectory.databaseFiles where lstat("\(settings.data)/\(name)", &st) == 0 {
                try DataDirectory.check(
                    "\(settings.data)/\(name)", what: "the database file", sharedGroup: settings.sharedDataGroup,
                    fix: settings.sharedDataGroup ? "chmod 660" : "chmod 600")
            }
            return [DoctorFinding("data.permissions", .ok, "the data directory \(settings.data) and its database files are private")]
        } catch let e as KeyFileError {
            // A shared directory lets the group in, so its files must keep others out (the service
            // refuses them too). A private directory protects its files today; a copy keeps their mode.
            return [DoctorFinding("data.permissions", settings.sharedDataGroup ? .error : .warning, "\(e.path): \(e.reason)", action: e.hint)]
        } catch {
            return [DoctorFinding("data.permissions", .error, "cannot check \(settings.data)", action: "check that it exists")]
        }
    }

    static func database(_ settings: HearthSettings, intakeHost: Bool, now: Int64, options: DoctorOptions) async -> [DoctorFinding] {
        guard let location = settings.database else { return await sqlite(settings, now: now, options: options) }
        let locations: (casework: PostgresLocation, intake: PostgresLocation)
        do {
            locations = try HearthStores.databaseLocations(settings, casework: location)
        } catch let e as KeyFileError {
            return [DoctorFinding("database.reachable", .error, "\(e.path): \(e.reason)", action: e.hint)]
        } catch {
            return [DoctorFinding("database.reachable", .error, "cannot read the database password", action: "check the credential")]
        }
        if intakeHost {
            // `hearth intake`'s host: its one connection is the intake role (--database), which
            // reads no table, so the audit trail is checked on the casework host.
            var findings = [await intakeRole(locations.casework)]
            if findings[0].severity == .ok, let db = try? PostgresDatabase(locations.casework, logger: silent, deadline: .seconds(10)) {
                findings.append(await clockSkew(db, clock: settings.clock, options: options))
                db.close()
            }
            return findings + [DoctorFinding("audit.checkpoint", .ok, "intake host: check the audit trail on the casework host")]
        }
        var findings: [DoctorFinding] = []
        let casework: PostgresDatabase
        do {
            casework = try PostgresDatabase(locations.casework, logger: silent, deadline: .seconds(10))
        } catch {
            return [DoctorFinding("database.reachable", .error, "cannot use \(locations.casework): \(error)", action: "check the URL")]
        }
        defer { casework.close() }
        do {
            try await casework.checkSchema()
            findings.append(DoctorFinding("database.reachable", .ok, "\(locations.casework) answers, with the schema this version expects"))
        } catch {
            return [DoctorFinding("database.reachable", .error, "\(locations.casework): \(error)", action: postgresAction(error))]
        }
        findings.append(await caseworkRole(casework))
        if settings.intakeDatabase != nil {
            findings.append(await intakeRole(locations.intake))
        }
        findings.append(await clockSkew(casework, clock: settings.clock, options: options))
        let store = PostgresCaseworkStore(casework)
        findings.append(await checkpoints(store, now: now, options: options))
        return findings
    }

    static func postgresAction(_ error: any Error) -> String {
        if error is PostgresSchemaError { return "run `hearth db migrate --database URL` as the database owner, with this version of hearth" }
        return "check the URL, the role's login and pg_hba.conf, and that the server runs"
    }

    static func caseworkRole(_ db: PostgresDatabase) async -> DoctorFinding {
        do {
            let role = try await db.roleReport()
            if role.isSuperuser || role.ownsSchema {
                return DoctorFinding(
                    "database.role", .error,
                    "the casework connection is the role '\(role.name)', which \(role.isSuperuser ? "is a superuser" : "owns the hearth schema"): it can rewrite the audit trail and forge consent",
                    action: "connect casework and the maintenance commands as hearth_casework; use the owner only for `hearth db migrate`")
            }
            return DoctorFinding("database.role", .ok, "the casework connection is the role '\(role.name)', neither superuser nor owner")
        } catch {
            return DoctorFinding("database.role", .error, "cannot read the casework connection's role: \(error)", action: postgresAction(error))
        }
    }

    static func intakeRole(_ location: PostgresLocation) async -> DoctorFinding {
        do {
            let db = try PostgresDatabase(location, logger: silent, deadline: .seconds(10))
            defer { db.close() }
            try await db.checkSchema()
            let role = try await db.roleReport()
            guard !role.isSuperuser && !role.ownsSchema else {
                return DoctorFinding(
                    "database.intake-role", .error, "the intake connection is the role '\(role.name)', which can reach every record",
                    action: "connect the intake as hearth_intake (--intake-database)")
            }
            try await db.checkConfinedToSurvivorFunctions()
            return DoctorFinding("database.intake-role", .ok, "the intake connection ('\(role.name)') can only call the survivor functions")
        } catch let e as PostgresSchemaError {
            return DoctorFinding(
                "database.intake-role", .error, "\(location): \(e.description)", action: "connect the intake as hearth_intake (--intake-database)")
        } catch {
            return DoctorFinding("database.intake-role", .error, "\(location): \(error)", action: postgresAction(error))
        }
    }

    static func clockSkew(_ db: PostgresDatabase, clock: any WallClock, options: DoctorOptions) async -> DoctorFinding {
        do {
            // The query's own time counts as skew only beyond the second it was sent in.
            let before = clock.unixSeconds()
            let server = try await db.serverTime()
            let after = clock.unixSeconds()
            let skew = server < Double(before) ? server - Double(before) : server > Double(after + 1) ? server - Double(after + 1) : 0
            let text =
                skew == 0
                ? "this host's clock agrees with the database's (within a second)"
                : "this host's clock is \(String(format: "%.1f", abs(skew))) s \(skew > 0 ? "behind" : "ahead of") the database's"
            let action = "run NTP (systemd-timesyncd or chrony) on both hosts"
            if abs(skew) > options.clockErrorSeconds { return DoctorFinding("clock.skew", .error, text, action: action) }
            if abs(skew) > options.clockWarningSeconds { return DoctorFinding("clock.skew", .warning, text, action: action) }
            return DoctorFinding("clock.skew", .ok, text)
        } catch {
            return DoctorFinding("clock.skew", .error, "cannot read the database's clock: \(error)", action: postgresAction(error))
        }
    }

    static func sqlite(_ settings: HearthSettings, now: Int64, options: DoctorOptions) async -> [DoctorFinding] {
        guard FileManager.default.fileExists(atPath: settings.databasePath) else {
            return [
                DoctorFinding(
                    "database.reachable", .warning, "no database at \(settings.databasePath) yet",
                    action: "it is created when the service first starts; check --data names the right place")
            ]
        }
        do {
            let store = try SQLiteStore(path: settings.databasePath, logger: silent)
            let integrity = try await store.quickCheck()
            guard integrity == "ok" else {
                return [
                    DoctorFinding(
                        "database.reachable", .error, "\(settings.databasePath) fails SQLite's integrity check",
                        action: "stop the service and restore the last verified backup (`hearth restore`)")
                ]
            }
            return [
                DoctorFinding("database.reachable", .ok, "\(settings.databasePath) opens and passes SQLite's quick integrity check"),
                DoctorFinding("clock.skew", .ok, "SQLite store: one host, one clock"),
                await checkpoints(store, now: now, options: options),
            ]
        } catch {
            return [
                DoctorFinding(
                    "database.reachable", .error, "cannot open \(settings.databasePath): \(error)", action: "check the file and its permissions")
            ]
        }
    }

    static func checkpoints(_ store: any AuditStore, now: Int64, options: DoctorOptions) async -> DoctorFinding {
        do {
            guard let head = try await store.auditHead() else { return DoctorFinding("audit.checkpoint", .ok, "the audit trail is empty") }
            let last = try await store.lastAuditCheckpoint()
            let unsigned = head.seq - (last?.seq ?? 0)
            if unsigned == 0, let last {
                return DoctorFinding(
                    "audit.checkpoint", .ok, "the last signed checkpoint covers all \(head.seq) entries (\(rfc3339(unixSeconds: last.at)))")
            }
            let since = last.map { now - $0.at }
            if let since, since <= options.checkpointWarningSeconds || unsigned < 100 {
                return DoctorFinding(
                    "audit.checkpoint", .ok,
                    "\(unsigned) entries since the last signed checkpoint, \(since / 60) minutes ago (signed every 100 and at shutdown)")
            }
            return DoctorFinding(
                "audit.checkpoint", .warning,
                "\(unsigned) audit entries are not covered by a signed checkpoint\(since.map { " (the last is \($0 / 3600) hours old)" } ?? " (there is none)")",
                action:
                    "check that the casework service runs (it signs every 100 entries), run `hearth audit checkpoint` and keep its output off the host"
            )
        } catch {
            return DoctorFinding("audit.checkpoint", .error, "cannot read the audit trail: \(error)", action: "check the database")
        }
    }

    // MARK: disk and settings

    static func freeDisk(_ settings: HearthSettings, options: DoctorOptions) -> [DoctorFinding] {
        guard settings.database == nil else {
            return [DoctorFinding("disk.free", .ok, "PostgreSQL store: watch free disk on the database host")]
        }
        // The data directory, or the nearest existing parent (before the first start).
        var path = URL(fileURLWithPath: settings.data).standardizedFileURL.path
        var fs = statvfs()
        while statvfs(path, &fs) != 0 {
            let parent = (path as NSString).deletingLastPathComponent
            guard !parent.isEmpty, parent != path else { return [DoctorFinding("disk.free", .error, "cannot read free space for \(settings.data)")] }
            path = parent
        }
        let free = UInt64(fs.f_bavail) * UInt64(fs.f_frsize)
        let text = "\(byteCount(free)) free for \(settings.data) (guard: \(byteCount(options.minimumFreeBytes)))"
        if free < options.minimumFreeBytes {
            return [
                DoctorFinding(
                    "disk.free", .error, text,
                    action: "free space or grow the file system now: below this the intake's disk guard (--min-free-disk) refuses new requests")
            ]
        }
        if free / 2 < options.minimumFreeBytes {
            return [DoctorFinding("disk.free", .warning, text, action: "free space or grow the file system soon")]
        }
        return [DoctorFinding("disk.free", .ok, text)]
    }

    static func retention(_ settings: HearthSettings, options: DoctorOptions) -> [DoctorFinding] {
        let days = settings.retentionDays
        if days > options.retentionWarningDays {
            return [
                DoctorFinding(
                    "retention.days", .warning,
                    "records with no live consent are kept \(days) days before they are crypto-shredded",
                    action:
                        "check that the programme's retention policy really needs more than \(options.retentionWarningDays) days (--retention-days)")
            ]
        }
        return [DoctorFinding("retention.days", .ok, "records with no live consent are crypto-shredded after \(days) days")]
    }

    /// `1.5 GiB`, `512 MiB`.
    static func byteCount(_ bytes: UInt64) -> String {
        let units = ["bytes", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) bytes" : "\((value * 10).rounded() / 10) \(units[unit])"
    }

    static let silent = Logger(label: "hearth.doctor", factory: { _ in SwiftLogNoOpLogHandler() })
}
