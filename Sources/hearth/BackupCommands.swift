import ArgumentParser
import Foundation
import HearthApp
import HearthCore
import HearthCrypto
import HearthKeys
import HearthPostgres

/// `hearth backup`: sealed backups of the store (SECURITY.md §3.20).
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Take a sealed backup of the store while the service runs, or verify one.",
        subcommands: [Create.self, Verify.self], defaultSubcommand: Create.self)

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract:
                "Seal a consistent copy of the store to the backup public key (KEYS/backup.pub): FILE.partial while it is written, FILE once complete. `hearth backup --to FILE` runs this."
        )

        @Option(help: "The backup file to write (never overwritten).")
        var to: String

        @Option(name: .customLong("backup-public-key"), help: "The backup public key file (default: KEYS/backup.pub).")
        var backupPublicKey: String?

        @Flag(help: "Print the manifest as JSON.")
        var json = false

        @OptionGroup var locations: Locations

        func run() async throws {
            let manifest = try await failing { try await HearthBackup.backup(try locations.settings(), to: to, publicKeyFile: backupPublicKey) }
            if json {
                print(try manifestJSON(manifest, extra: ["file": .string(to)]))
            } else {
                print("backup written: \(to)")
                print(manifestText(manifest))
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every chunk, the final chunk and the manifest's SHA-256 of a backup without restoring it; print the manifest.")

        @Argument(help: "The backup file.")
        var file: String

        @OptionGroup var key: BackupKeyOption

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let manifest = try await failing {
                try HearthBackup.verify(
                    file: file, backupKeyDirectory: key.directory, passphrase: key.passphrase)
            }
            if json {
                print(try manifestJSON(manifest, extra: ["file": .string(file), "verified": .bool(true)]))
            } else {
                print("ok: \(file): every chunk authenticated, final chunk present, data SHA-256 matches the manifest")
                print(manifestText(manifest))
            }
        }
    }
}

/// `hearth restore`: a backup into an empty SQLite directory or an empty PostgreSQL database.
struct Restore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Restore a sealed backup into a new, empty location (--data NEW for SQLite, --database URL of an empty database as its owner for PostgreSQL), then check it."
    )

    @Option(help: "The backup file.")
    var from: String

    @OptionGroup var key: BackupKeyOption

    @Option(help: "A new or empty data directory to restore a SQLite backup into.")
    var data: String?

    @Flag(
        name: .customLong("shared-data-group"),
        help: "Make the restored directory and file group-shared (2770, 0660), as --shared-data-group services need.")
    var sharedDataGroup = false

    @Option(help: "An empty PostgreSQL database, as its owner: postgres://OWNER@HOST/DB?… (roles are created as `hearth db migrate` does).")
    var database: String?

    @Option(name: .customLong("database-password-credential"), help: "systemd credential holding the owner's password ($CREDENTIALS_DIRECTORY/NAME).")
    var databasePasswordCredential: String?

    @Flag(help: "Print JSON.")
    var json = false

    func validate() throws {
        guard (data == nil) != (database == nil) else { throw ValidationError("give exactly one of --data NEW or --database URL") }
        do { _ = try database.map(PostgresLocation.init(url:)) } catch let e as PostgresLocationError { throw ValidationError(e.description) }
    }

    func run() async throws {
        let target: RestoreTarget
        if let data {
            target = .sqlite(directory: data, sharedGroup: sharedDataGroup)
        } else {
            target = .postgres(try PostgresLocation(url: database ?? ""))
        }
        let report = try await failing {
            try await HearthBackup.restore(
                from: from, backupKeyDirectory: key.directory, passphrase: key.passphrase, into: target,
                databasePasswordCredential: databasePasswordCredential)
        }
        if json {
            var extra: [String: JSONOut] = [
                "restoredTo": .string(report.location), "restoredRecords": .int(report.figures.recordCount),
                "restoredSchemaVersion": .int(report.figures.schemaVersion),
            ]
            if let integrity = report.integrity { extra["integrityCheck"] = .string(integrity) }
            print(try manifestJSON(report.manifest, extra: extra))
        } else {
            print("restored \(report.manifest.store) backup into \(report.location)")
            if let integrity = report.integrity { print("integrity check: \(integrity)") }
            print("records: \(report.figures.recordCount) (manifest: \(report.manifest.recordCount))")
            print("schema version: \(report.figures.schemaVersion)")
            print(manifestText(report.manifest))
        }
    }
}

extension Keys {
    /// `hearth keys init-backup`: the backup key pair, made where it will be kept (offline).
    struct InitBackup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init-backup",
            abstract:
                "Create a backup key pair: DIR/backup.key (private, 0600; keep DIR offline) and DIR/backup.pub (copy it to the service's key directory)."
        )

        @Option(help: "Directory to create the pair in (0700); keep it offline, never in the service's key directory.")
        var dir: String

        @Option(
            name: .customLong("passphrase-env"),
            help: "Seal backup.key under the passphrase in this environment variable (Argon2id) instead of writing it bare.")
        var passphraseEnv: String?

        func run() async throws {
            umask(0o077)
            let passphrase = try Keys.newPassphrase(fromEnvironment: passphraseEnv)
            do {
                let key = try BackupKeys.create(in: dir, passphrase: passphrase)
                let id = BackupStreamReader.shortID(try BackupStream.keyID(of: key))
                print("created \(dir)/backup.key and \(dir)/backup.pub (backup key id \(id))")
                print("copy \(dir)/backup.pub into the service's key directory as backup.pub; keep \(dir) offline")
            } catch let e as KeyFileError {
                FileHandle.standardError.write(Data("hearth: \(e)\n".utf8))
                throw ExitCode(78)
            }
        }
    }
}

/// Runs `body`; a backup, key or database error is printed as `hearth: …` with its hint and
/// exits 1 (78 for a key file or configuration problem).
func failing<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let e as BackupError {
        FileHandle.standardError.write(Data("hearth: \(e)\n".utf8))
        throw ExitCode(1)
    } catch let e as KeyFileError {
        FileHandle.standardError.write(Data("hearth: \(e)\n".utf8))
        throw ExitCode(78)
    } catch let e as PostgresSchemaError {
        FileHandle.standardError.write(Data("hearth: \(e)\n".utf8))
        throw ExitCode(1)
    } catch let e as PostgresUnavailableError {
        FileHandle.standardError.write(Data("hearth: \(e)\nhint: check the URL, the role's login and pg_hba.conf\n".utf8))
        throw ExitCode(69)
    }
}

/// The manifest for people.
func manifestText(_ m: BackupManifest) -> String {
    let created = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: TimeInterval(m.created)))
    return """
        taken: \(created)
        store: \(m.store)
        schema version: \(m.schemaVersion)
        records: \(m.recordCount)
        data: \(m.dataByteCount) bytes, sha256 \(m.dataSHA256.map { String(format: "%02x", $0) }.joined())
        key versions needed: \(m.keyVersionSummary.isEmpty ? "none" : m.keyVersionSummary.joined(separator: ", "))
        """
}

/// A JSON value, for printing.
enum JSONOut {
    case string(String)
    case int(Int)
    case bool(Bool)

    var any: Any {
        switch self {
        case .string(let s): s
        case .int(let i): i
        case .bool(let b): b
        }
    }
}

/// The manifest as one JSON object, with `extra` keys.
func manifestJSON(_ m: BackupManifest, extra: [String: JSONOut]) throws -> String {
    var object: [String: Any] = [
        "created": m.created, "store": m.store.description, "schemaVersion": Int(m.schemaVersion), "records": Int(m.recordCount),
        "dataBytes": Int(m.dataByteCount), "dataSHA256": m.dataSHA256.map { String(format: "%02x", $0) }.joined(),
        "keyVersions": m.keyVersions.map { ["scope": $0.scope.rawValue, "version": Int($0.version), "wraps": Int($0.wraps)] as [String: Any] },
    ]
    for (k, v) in extra { object[k] = v.any }
    return String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
}

/// `--backup-key DIR` and `--passphrase-env VAR`: the offline backup key, for `backup verify` and `restore`.
struct BackupKeyOption: ParsableArguments {
    @Option(name: .customLong("backup-key"), help: "The backup key directory (backup.key, from `hearth keys init-backup`).")
    var directory: String

    @Option(name: .customLong("passphrase-env"), help: "Environment variable holding backup.key's passphrase, when it has one.")
    var passphraseEnv: String?

    /// Where backup.key's passphrase comes from.
    var passphrase: PassphraseSource { passphraseEnv.map(PassphraseSource.environment) ?? .none }
}
