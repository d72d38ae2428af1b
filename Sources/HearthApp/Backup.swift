import Foundation
public import HearthCore
import HearthCrypto
import HearthKeys
public import HearthPostgres
import HearthStore
import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A backup, verification or restore that cannot go on: what failed and what to do. Never holds
/// a secret.
public struct BackupError: Error, CustomStringConvertible, Sendable {
    /// What failed, lowercase, "failed to …: reason" or "refusing to …".
    public let reason: String
    /// What to do about it.
    public let hint: String

    /// An error with a hint.
    public init(_ reason: String, hint: String) {
        self.reason = reason
        self.hint = hint
    }

    public var description: String { "\(reason)\nhint: \(hint)" }
}

/// Where `hearth restore` writes.
public enum RestoreTarget: Sendable {
    /// A new SQLite data directory (missing or empty), shared with this process's group or not.
    case sqlite(directory: String, sharedGroup: Bool)
    /// An empty PostgreSQL database, reached as its owner.
    case postgres(PostgresLocation)
}

/// What a restore did and found.
public struct RestoreReport: Sendable {
    /// The backup's manifest.
    public let manifest: BackupManifest
    /// What the restored store holds, read after the restore.
    public let figures: BackupFigures
    /// SQLite's `PRAGMA integrity_check` answer (`ok`), or nil for PostgreSQL.
    public let integrity: String?
    /// Where it was restored.
    public let location: String
}

/// Sealed backups of the store, their verification and their restore (SECURITY.md §3.20). The
/// data stream is the store's own consistent copy (SQLite's backup API, or `pg_dump` attached to
/// an exported snapshot), streamed through the sealer chunk by chunk: memory stays bounded and no
/// plaintext copy is written outside the data directory.
public enum HearthBackup {
    /// `hearth backup --to FILE`: seals a consistent copy of the store in `settings` to the backup
    /// public key (`publicKeyFile`, else `KEYS/backup.pub`). Writes `FILE.partial` (0600,
    /// exclusive), fsyncs it and links it to `FILE` only when complete.
    public static func backup(_ settings: HearthSettings, to file: String, publicKeyFile: String? = nil) async throws -> BackupManifest {
        umask(0o077)
        if let found = BackupKeys.privateKeyFiles(in: settings.keys).first {
            throw BackupError(
                "refusing to back up: '\(found)' is a backup private key in the service's key directory, where anyone who takes the server takes it with the backups",
                hint:
                    "move it to the offline place the backup key lives (its directory from `hearth keys init-backup`); the service needs only backup.pub"
            )
        }
        let publicPath = publicKeyFile ?? "\(settings.keys)/\(BackupKeys.publicFileName)"
        let recipient: X25519PublicKey
        do { recipient = try BackupKeys.loadPublicKey(publicPath) } catch let e as KeyFileError {
            throw BackupError(
                "failed to back up: no usable backup public key: \(e.reason) ('\(publicPath)')",
                hint:
                    "run `hearth keys init-backup --dir DIR` on an offline machine and copy DIR/backup.pub to \(settings.keys)/backup.pub (or pass --backup-public-key)"
            )
        }
        if access(file, F_OK) == 0 {
            throw BackupError("refusing to back up: '\(file)' already exists", hint: "choose a new file name; backups are never overwritten")
        }
        let partial = file + ".partial"
        let fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let why = String(cString: strerror(errno))
            throw BackupError(
                "failed to back up: cannot create '\(partial)' (\(why))",
                hint: errno == EEXIST
                    ? "another backup is running, or one was interrupted: if none is running, delete '\(partial)'"
                    : "check the directory exists and is writable")
        }
        var done = false
        defer {
            close(fd)
            if !done { unlink(partial) }
        }
        let output: ([UInt8]) throws -> Void = { bytes in try writeAll(fd, bytes, path: partial) }
        let manifest: BackupManifest
        if let database = settings.database {
            manifest = try await backupPostgres(settings, database: database, recipient: recipient, output: output)
        } else {
            manifest = try backupSQLite(settings, recipient: recipient, output: output)
        }
        guard fsync(fd) == 0 else { throw BackupError("failed to back up: cannot fsync '\(partial)'", hint: "check the disk") }
        // link() refuses an existing name, so a backup that appeared meanwhile is never replaced.
        guard link(partial, file) == 0 else {
            throw BackupError("failed to back up: cannot name it '\(file)' (\(String(cString: strerror(errno))))", hint: "choose a new file name")
        }
        unlink(partial)
        SecureFile.syncDirectory(of: file)
        done = true
        return manifest
    }

    static func backupSQLite(
        _ settings: HearthSettings, recipient: X25519PublicKey, output: @escaping ([UInt8]) throws -> Void
    ) throws
        -> BackupManifest
    {
        guard access(settings.databasePath, F_OK) == 0 else {
            throw BackupError(
                "failed to back up: there is no database at '\(settings.databasePath)'", hint: "point --data at the service's data directory")
        }
        try DataDirectory.prepare(settings.data, sharedGroup: settings.sharedDataGroup)
        // The copy sits beside the live file, with the same protection, and is removed afterwards.
        let temporary = "\(settings.data)/.backup-\(hex(try SystemRandom.bytes(8))).sqlite"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, settings.sharedDataGroup ? 0o660 : 0o600)
        guard fd >= 0 else {
            throw BackupError(
                "failed to back up: cannot create a temporary copy in '\(settings.data)'", hint: "check the data directory's owner and free space")
        }
        if settings.sharedDataGroup { fchmod(fd, 0o660) }
        close(fd)
        defer { for suffix in ["", "-journal", "-wal", "-shm"] { unlink(temporary + suffix) } }
        let created = settings.clock.unixSeconds()
        let figures: BackupFigures
        do { figures = try SQLiteBackup.snapshot(live: settings.databasePath, to: temporary) } catch {
            throw BackupError("failed to back up: SQLite could not copy the database: \(error)", hint: "check free space in the data directory")
        }
        let writer = try BackupStreamWriter(recipient: recipient, output: output)
        let input = open(temporary, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw BackupError("failed to back up: cannot read the temporary copy", hint: "check the data directory") }
        defer { close(input) }
        var buffer = [UInt8](repeating: 0, count: BackupStream.defaultChunkSize)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw BackupError("failed to back up: cannot read the temporary copy", hint: "check the disk") }
            if n == 0 { break }
            try buffer.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return try finish(writer, created: created, store: .sqlite, figures: figures)
    }

    /// Ends the stream with its manifest (the final chunk) and returns that manifest.
    static func finish(
        _ writer: BackupStreamWriter, created: Int64, store: BackupManifest.Store, figures: BackupFigures
    ) throws -> BackupManifest {
        var manifest: BackupManifest?
        try writer.finish { length, digest in
            let m = BackupManifest(created: created, store: store, figures: figures, dataByteCount: length, dataSHA256: digest)
            manifest = m
            return m.encoded()
        }
        return manifest!
    }

    static func backupPostgres(
        _ settings: HearthSettings, database: PostgresLocation, recipient: X25519PublicKey, output: @escaping ([UInt8]) throws -> Void
    ) async throws -> BackupManifest {
        let location = try withPassword(database, credential: settings.databasePasswordCredential)
        let pgDump = try findTool("pg_dump")
        let created = settings.clock.unixSeconds()
        let privateDirectory = try makePrivateDirectory()
        defer { try? FileManager.default.removeItem(atPath: privateDirectory) }
        let environment = try childEnvironment(PostgresBackup.libpqEnvironment(location, privateDirectory: privateDirectory))
        let box = UncheckedBox(output)
        return try await PostgresBackup.withExportedSnapshot(location, logger: quiet) { snapshot, figures in
            let writer = try BackupStreamWriter(recipient: recipient, output: box.value)
            // Schema hearth only, as of the exported snapshot; custom format streams to stdout.
            // Uncompressed: the seal protects it, and what it holds stays checkable (tests search
            // the plaintext stream for key files) with no length side channel from compression.
            let arguments = [
                "--format=custom", "--compress=0", "--snapshot=\(snapshot)", "--schema=hearth",
                "--exclude-table-data=\(PostgresBackup.sequenceDataExclusion)",
                "--no-password",
            ]
            try runTool(pgDump, arguments, environment: environment, privateDirectory: privateDirectory, stdout: { try writer.write($0) })
            return try finish(writer, created: created, store: .postgresql, figures: figures)
        }
    }

    /// `hearth backup verify`: checks every chunk, the final flag and the manifest's SHA-256 of
    /// the data without restoring anything. Returns the manifest.
    public static func verify(file: String, backupKeyDirectory: String, passphrase: PassphraseSource = .none) throws -> BackupManifest {
        let key = try openBackupKey(backupKeyDirectory, passphrase: passphrase)
        return try readBackup(file: file, key: key) { _ in }
    }

    /// `hearth restore`: verifies the whole file first (nothing is written from a backup that
    /// fails), then restores into `target`, which must be empty, and checks what it restored.
    public static func restore(
        from file: String, backupKeyDirectory: String, passphrase: PassphraseSource = .none, into target: RestoreTarget,
        databasePasswordCredential: String? = nil
    ) async throws -> RestoreReport {
        umask(0o077)
        let key = try openBackupKey(backupKeyDirectory, passphrase: passphrase)
        let manifest = try readBackup(file: file, key: key) { _ in }
        switch target {
        case .sqlite(let directory, let shared):
            guard manifest.store == .sqlite else {
                throw BackupError(
                    "refusing to restore: the backup holds a \(manifest.store) database, not SQLite", hint: "restore it with --database URL")
            }
            return try restoreSQLite(file: file, key: key, manifest: manifest, directory: directory, sharedGroup: shared)
        case .postgres(let given):
            guard manifest.store == .postgresql else {
                throw BackupError(
                    "refusing to restore: the backup holds a \(manifest.store) database, not PostgreSQL", hint: "restore it with --data DIR")
            }
            let location = try withPassword(given, credential: databasePasswordCredential)
            return try await restorePostgres(file: file, key: key, manifest: manifest, location: location)
        }
    }

    static func restoreSQLite(
        file: String, key: borrowing X25519PrivateKey, manifest: BackupManifest, directory: String, sharedGroup: Bool
    ) throws
        -> RestoreReport
    {
        var st = stat()
        if lstat(directory, &st) == 0 {
            guard (st.st_mode & S_IFMT) == S_IFDIR else {
                throw BackupError("refusing to restore: '\(directory)' exists and is not a directory", hint: "name a new directory with --data")
            }
            guard SecureFile.list(directory).isEmpty else {
                throw BackupError(
                    "refusing to restore: '\(directory)' is not empty",
                    hint: "restore into a new or empty directory; never over a live data directory")
            }
        } else {
            guard mkdir(directory, sharedGroup ? 0o770 : 0o700) == 0 else {
                throw BackupError("failed to restore: cannot create '\(directory)'", hint: "check the parent directory")
            }
            if sharedGroup { chmod(directory, 0o2770) }
        }
        let database = "\(directory)/hearth.sqlite"
        let restoring = database + ".restoring"
        let fd = open(restoring, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, sharedGroup ? 0o660 : 0o600)
        guard fd >= 0 else { throw BackupError("failed to restore: cannot create '\(restoring)'", hint: "check the directory") }
        if sharedGroup { fchmod(fd, 0o660) }
        var kept = false
        defer { if !kept { unlink(restoring) } }
        do {
            defer { close(fd) }
            _ = try readBackup(file: file, key: key) { try writeAll(fd, $0, path: restoring) }
            guard fsync(fd) == 0 else { throw BackupError("failed to restore: cannot fsync '\(restoring)'", hint: "check the disk") }
        }
        let (integrity, figures) = try SQLiteBackup.check(restoring)
        try checkRestored(manifest: manifest, figures: figures, integrity: integrity)
        guard rename(restoring, database) == 0 else {
            throw BackupError("failed to restore: cannot rename to '\(database)'", hint: "check the directory")
        }
        kept = true
        SecureFile.syncDirectory(of: database)
        try DataDirectory.prepare(directory, sharedGroup: sharedGroup)
        return RestoreReport(manifest: manifest, figures: figures, integrity: integrity, location: directory)
    }

    static func restorePostgres(
        file: String, key: borrowing X25519PrivateKey, manifest: BackupManifest, location: PostgresLocation
    ) async throws
        -> RestoreReport
    {
        try await PostgresBackup.checkEmpty(location, logger: quiet)
        try await PostgresBackup.createRoles(location, logger: quiet)
        let pgRestore = try findTool("pg_restore")
        let privateDirectory = try makePrivateDirectory()
        defer { try? FileManager.default.removeItem(atPath: privateDirectory) }
        let environment = try childEnvironment(PostgresBackup.libpqEnvironment(location, privateDirectory: privateDirectory))
        // One transaction: a restore that fails leaves the database as empty as it was.
        let arguments = ["--no-owner", "--single-transaction", "--exit-on-error", "--no-password", "--dbname=\(location.database)"]
        try feedTool(pgRestore, arguments, environment: environment, privateDirectory: privateDirectory) { sink in
            _ = try readBackup(file: file, key: key, data: sink)
        }
        let figures = try await PostgresBackup.finishRestore(location, logger: quiet)
        try checkRestored(manifest: manifest, figures: figures, integrity: nil)
        return RestoreReport(manifest: manifest, figures: figures, integrity: nil, location: location.description)
    }

    static func checkRestored(manifest: BackupManifest, figures: BackupFigures, integrity: String?) throws {
        if let integrity, integrity != "ok" {
            throw BackupError(
                "failed to restore: the restored database fails SQLite's integrity check: \(integrity)", hint: "keep the backup file and report this")
        }
        guard figures.schemaVersion == Int(manifest.schemaVersion) else {
            throw BackupError(
                "failed to restore: the restored schema version is \(figures.schemaVersion), the manifest says \(manifest.schemaVersion)",
                hint: "keep the backup file and report this")
        }
        guard figures.recordCount == Int(manifest.recordCount) else {
            throw BackupError(
                "failed to restore: \(figures.recordCount) records restored, the manifest says \(manifest.recordCount)",
                hint: "keep the backup file and report this")
        }
    }

    /// Reads and authenticates the whole file, passing each data chunk to `data`; checks the
    /// final chunk is there, that nothing follows it and that the data's length and SHA-256 are
    /// those in the manifest. Returns the manifest.
    static func readBackup(file: String, key: borrowing X25519PrivateKey, data: ([UInt8]) throws -> Void) throws -> BackupManifest {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw BackupError("failed to read the backup '\(file)': \(String(cString: strerror(errno)))", hint: "check the path")
        }
        defer { close(fd) }
        let input: (Int) throws -> [UInt8] = { count in
            var out = [UInt8](repeating: 0, count: count)
            while true {
                let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress!, count) }
                if n < 0 && errno == EINTR { continue }
                guard n >= 0 else { throw BackupError("failed to read the backup '\(file)'", hint: "check the disk") }
                return Array(out.prefix(n))
            }
        }
        do {
            return try BackupFile.read(try BackupStreamReader(privateKey: key, input: input), data: data)
        } catch let e as CryptoError {
            throw BackupError("the backup '\(file)' failed verification: \(e.code): \(e.reason)", hint: hint(for: e.code))
        }
    }

    static func hint(for code: CryptoError.Code) -> String {
        switch code {
        case .wrongKey: "give the backup key directory whose backup.pub the service sealed this file to"
        case .truncated: "the file is incomplete (copied in part, or the backup was interrupted): use another backup"
        case .manifestMismatch: "the file was altered or is not the backup its manifest describes: do not restore from it; use another backup"
        case .authenticationFailed: "the file was altered, re-ordered or spliced, or the key is wrong: do not restore from it; use another backup"
        default: "this is not a complete Hearth backup: use another backup"
        }
    }

    static func openBackupKey(_ directory: String, passphrase: PassphraseSource) throws -> X25519PrivateKey {
        let held: SecretBytes?
        if case .held(let h) = try passphrase.readOnce() { held = h.copy() } else { held = nil }
        if case .environment(let name) = passphrase, held == nil {
            throw BackupError(
                "failed to open the backup key: the environment variable \(name) is empty or unset", hint: "set it to the backup key's passphrase")
        }
        return try BackupKeys.loadPrivateKey(inDirectory: directory, passphrase: held)
    }

    static func withPassword(_ location: PostgresLocation, credential: String?) throws -> PostgresLocation {
        var location = location
        if let credential, location.password == nil {
            let held = try PassphraseReader.readCredential(credential, what: "database password")
            location.password = held.copy().withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        }
        return location
    }

    // MARK: Child processes (pg_dump, pg_restore)

    /// `name` from PATH, else the newest `/usr/lib/postgresql/N/bin`.
    static func findTool(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for dir in path.split(separator: ":") where access("\(dir)/\(name)", X_OK) == 0 { return "\(dir)/\(name)" }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for v in versions.compactMap(Int.init).sorted(by: >) where access("/usr/lib/postgresql/\(v)/bin/\(name)", X_OK) == 0 {
            return "/usr/lib/postgresql/\(v)/bin/\(name)"
        }
        throw BackupError("failed to find \(name)", hint: "install the PostgreSQL client (apt-get install postgresql-client) or put \(name) on PATH")
    }

    static func makePrivateDirectory() throws -> String {
        var template = Array("\(NSTemporaryDirectory())/hearth-backup.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw BackupError("failed to create a private temporary directory", hint: "check TMPDIR")
        }
        return String(cString: made)
    }

    /// The child's environment: this process's, without any libpq variable of its own, plus `libpq`.
    static func childEnvironment(_ libpq: [String: String]) -> [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("PG") }.merging(libpq) { $1 }
    }

    /// Runs `tool`, passing everything it writes to stdout to `stdout` as it comes; its stderr goes
    /// to a file in `privateDirectory` and into the error if it fails.
    static func runTool(
        _ tool: String, _ arguments: [String], environment: [String: String], privateDirectory: String, stdout: ([UInt8]) throws -> Void
    ) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardInput = FileHandle(forReadingAtPath: "/dev/null")
        let errorFile = "\(privateDirectory)/stderr"
        _ = FileManager.default.createFile(atPath: errorFile, contents: nil, attributes: [.posixPermissions: 0o600])
        process.standardError = FileHandle(forWritingAtPath: errorFile)
        try process.run()
        let fd = pipe.fileHandleForReading.fileDescriptor
        var buffer = [UInt8](repeating: 0, count: BackupStream.defaultChunkSize)
        var failure: (any Error)?
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            do { try stdout(Array(buffer[0..<n])) } catch {
                failure = error
                process.terminate()
                break
            }
        }
        process.waitUntilExit()
        if let failure { throw failure }
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw BackupError(
                "failed: \((tool as NSString).lastPathComponent) exited with status \(process.terminationStatus): \(toolErrors(errorFile))",
                hint: "check the database URL, the role's privileges and that the client tools are not older than the server")
        }
    }

    /// Runs `tool` and lets `body` write its stdin through the sink it is given.
    static func feedTool(
        _ tool: String, _ arguments: [String], environment: [String: String], privateDirectory: String,
        _ body: (([UInt8]) throws -> Void) throws -> Void
    ) throws {
        // A tool that stops reading must give us EPIPE, not kill us with SIGPIPE.
        signal(SIGPIPE, SIG_IGN)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.environment = environment
        let pipe = Pipe()
        process.standardInput = pipe
        let errorFile = "\(privateDirectory)/stderr"
        _ = FileManager.default.createFile(atPath: errorFile, contents: nil, attributes: [.posixPermissions: 0o600])
        let log = FileHandle(forWritingAtPath: errorFile)
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let fd = pipe.fileHandleForWriting.fileDescriptor
        var failure: (any Error)?
        do { try body { try writeAll(fd, $0, path: "\((tool as NSString).lastPathComponent)'s input") } } catch { failure = error }
        try? pipe.fileHandleForWriting.close()
        process.waitUntilExit()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw BackupError(
                "failed to restore: \((tool as NSString).lastPathComponent) exited with status \(process.terminationStatus): \(toolErrors(errorFile))",
                hint:
                    "nothing was kept (one transaction); check the database URL, that you connect as the database's owner, and the client tools' version"
            )
        }
        if let failure { throw failure }
    }

    static func toolErrors(_ file: String) -> String {
        let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
        return String(text.trimmingCharacters(in: .whitespacesAndNewlines).suffix(2000))
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw BackupError("failed to write \(path): \(String(cString: strerror(errno)))", hint: "check free disk space")
            }
            offset += n
        }
    }

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    static let quiet = Logger(label: "hearth", factory: { _ in SwiftLogNoOpLogHandler() })
}

/// Carries a value the compiler cannot prove `Sendable` into a closure that runs before the
/// call that made it returns (the dump's output, used on one task only).
struct UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
