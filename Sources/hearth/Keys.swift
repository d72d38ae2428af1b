import ArgumentParser
import Foundation
import HearthApp
import HearthCore
import HearthCrypto
import HearthHTTP
import HearthKeys
import HearthPostgres
import HearthStore
import Logging

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create, inspect, rotate, re-wrap and retire Hearth's keys.",
        subcommands: [Init.self, Status.self, Rotate.self, Rewrap.self, Retire.self, Publish.self, RotateMaster.self, InitBackup.self])

    /// A new master passphrase from the environment variable `name` (12 characters at least), or
    /// nil when no variable is named.
    static func newPassphrase(fromEnvironment name: String?) throws -> SecretBytes? {
        guard let name else { return nil }
        guard let value = ProcessInfo.processInfo.environment[name], value.utf8.count >= 12 else {
            throw ValidationError("the environment variable \(name) must hold a passphrase of at least 12 characters")
        }
        return SecretBytes(copying: Array(value.utf8))
    }

    /// The scope named by `--scope`, or a usage error listing the scopes.
    static func scope(_ name: String) throws -> Scope {
        guard let scope = Scope(rawValue: name) else {
            throw ValidationError("--scope must be one of: \(Scope.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return scope
    }

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the master key, every scope key pair, the audit key and a development TLS certificate.")

        @Option(help: "Key directory to create (0700).")
        var dir: String = "keys"

        @Option(
            name: .customLong("passphrase-env"),
            help: "Derive the master key from the passphrase in this environment variable (Argon2id) instead of writing master.key.")
        var passphraseEnv: String?

        @Flag(name: .customLong("no-tls"), help: "Do not create a development TLS certificate (bring your own tls.crt and tls.key).")
        var noTLS = false

        func run() async throws {
            umask(0o077)
            let keys = KeyDirectory(path: dir)
            let passphrase = try Keys.newPassphrase(fromEnvironment: passphraseEnv)
            do {
                guard keys.isEmpty else {
                    throw KeyFileError(path: dir, reason: "it already holds keys", hint: "keys are never overwritten; choose an empty directory")
                }
                try keys.initialise(passphrase: passphrase)
                if !noTLS { try HearthTLS.createDevelopmentCertificate(keys: keys) }
            } catch let e as KeyFileError {
                FileHandle.standardError.write(Data("hearth: \(e)\n".utf8))
                throw ExitCode(78)
            }
            print("created keys in \(dir)/")
        }
    }

    /// Where the keys and the database are, for lifecycle commands (`--dir` or `--keys`).
    struct KeyLocations: ParsableArguments {
        @Option(help: "Configuration file (see `hearth serve --help`); options given here override it.")
        var config: String?

        @Option(name: [.customLong("dir"), .customLong("keys")], help: "Key directory (default: keys).")
        var dir: String?

        @Option(help: "Data directory; the SQLite database lives here (default: .hearth).")
        var data: String?

        @Flag(
            name: .customLong("shared-data-group"), inversion: .prefixedNo,
            help: "Allow the data directory and database files to be shared with this process's own group; never with others.")
        var sharedDataGroup: Bool?

        @Option(help: "PostgreSQL instead of the SQLite file (as hearth_casework): postgres://USER@HOST/DB?sslmode=verify-full&sslrootcert=CA.")
        var database: String?

        @Option(
            name: .customLong("database-password-credential"),
            help: "systemd credential holding the database password ($CREDENTIALS_DIRECTORY/NAME), read once.")
        var databasePasswordCredential: String?

        @OptionGroup var passphrase: PassphraseOption

        var locations: Locations {
            var l = Locations()
            l.config = config
            l.keys = dir
            l.data = data
            l.sharedDataGroup = sharedDataGroup
            l.database = database
            l.intakeDatabase = nil
            l.databasePasswordCredential = databasePasswordCredential
            return l
        }

        func settings() throws -> HearthSettings { try locations.settings(passphrase: passphrase) }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Per key and version: state (primary, decrypt-only, retired), wraps using it, whether it can be retired. Opens no private key.")

        @OptionGroup var place: KeyLocations

        @Flag(help: "Print JSON.")
        var json = false

        func run() async throws {
            let settings = try place.settings()
            let directory = KeyDirectory(path: settings.keys)
            try? directory.recoverInterruptedRotation()
            var counts: [Scope: [UInt32: Int]] = [:]
            if let store = try await HearthMaintenance.openStore(settings, create: false) {
                counts = try await store.wrapCounts()
            }
            let report = KeyStatusReport(directory: directory, wrapCounts: counts)
            if json {
                try printJSON(report)
            } else {
                for l in report.keys {
                    let version = l.version.map { "v\($0)" } ?? "-"
                    let state = l.problems.isEmpty ? l.state : "PROBLEM"
                    let wraps = l.wraps.map { "\($0) wraps" } ?? ""
                    print(
                        "\(l.key.padding(toLength: 12, withPad: " ", startingAt: 0)) \(version.padding(toLength: 5, withPad: " ", startingAt: 0)) "
                            + "\(state.padding(toLength: 13, withPad: " ", startingAt: 0)) \(wraps.padding(toLength: 12, withPad: " ", startingAt: 0))"
                            + (l.canRetire ? " can be retired" : ""))
                    for p in l.problems { print("    \(p)") }
                }
            }
            if report.hasProblems { throw ExitCode(1) }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create version N+1 of a scope key pair; it becomes primary at once (running services pick it up within seconds).")
        @OptionGroup var place: KeyLocations
        @Option(help: "support, review, police or prosecution.")
        var scope: String

        func validate() throws {
            _ = try Keys.scope(scope)
        }

        func run() async throws {
            let m = try await HearthMaintenance.open(place.locations, passphrase: place.passphrase)
            let version = try await m.keyLifecycle().rotate(Scope(rawValue: scope)!, master: try m.masterKey())
            print("\(scope) v\(version) is now primary; run `hearth keys rewrap --scope \(scope)` to move existing wraps to it")
            print(Keys.publishReminder)
        }
    }

    struct Rewrap: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move consent wraps from older key versions to the primary one, in short batches, while the service runs. Resumable.")
        @OptionGroup var place: KeyLocations
        @Option(help: "Only this scope (default: every scope).")
        var scope: String?
        @Option(help: "Wraps per transaction.")
        var batch: Int = 500

        func validate() throws {
            if let scope { _ = try Keys.scope(scope) }
            guard (1...100_000).contains(batch) else { throw ValidationError("--batch must be 1 to 100000") }
        }

        func run() async throws {
            let m = try await HearthMaintenance.open(place.locations, passphrase: place.passphrase)
            let master = try m.masterKey()
            let job = m.rewrapJob(logger: Logger(label: "hearth"))
            let terminal = isatty(STDOUT_FILENO) == 1
            for s in scope.map({ [Scope(rawValue: $0)!] }) ?? Scope.allCases {
                let meter = ProgressMeter(label: s.rawValue, terminal: terminal)
                do {
                    let result = try await job.run(scope: s, master: master, batch: batch) { meter.show($0.done + $0.skipped, of: $0.total) }
                    meter.finish(
                        "\(s.rawValue): \(result.done) re-wrapped, \(result.skipped) left alone (withdrawn or changed meanwhile, or not opening)")
                } catch let e as KeyFileError {
                    FileHandle.standardError.write(Data("hearth: nothing re-wrapped for \(s.rawValue): \(e)\n".utf8))
                    throw ExitCode(1)
                }
            }
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Destroy a key version's private key. Refused while any wrap uses it or while it is primary.")
        @OptionGroup var place: KeyLocations
        @Option var scope: String
        @Option var version: UInt32

        func validate() throws {
            _ = try Keys.scope(scope)
        }

        func run() async throws {
            // Retiring opens no private key, so it needs neither the master key nor every key file
            // to open: it must also finish a retirement interrupted after the private key was destroyed.
            let lifecycle: KeyLifecycleService
            do {
                lifecycle = try await HearthMaintenance.keyLifecycleWithoutMaster(try place.settings())
            } catch let e as KeyFileError {
                FileHandle.standardError.write(Data("hearth: \(e)\n".utf8))
                throw ExitCode(78)
            }
            do {
                try await lifecycle.retire(Scope(rawValue: scope)!, version: version)
            } catch let e as RetirementRefusal {
                FileHandle.standardError.write(Data("hearth: \(e)\n".utf8))
                throw ExitCode(1)
            } catch let e as KeyFileError {
                FileHandle.standardError.write(Data("hearth: refusing to retire: \(e)\n".utf8))
                throw ExitCode(1)
            }
            print("\(scope) v\(version) retired: its private key was overwritten and deleted")
            print(Keys.publishReminder)
        }
    }

    /// Printed after a rotation or retirement: a separate intake sees neither until keys are published.
    static let publishReminder =
        "a separate intake (`hearth intake`) keeps its keys until you run `hearth keys publish --to DIR` for its key directory"

    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the public keys and a signed keys.manifest into the intake's key directory; a running intake takes them within seconds.")
        @OptionGroup var place: KeyLocations
        @Option(help: "The intake's key directory (created 0700 if missing; must hold no private key).")
        var to: String

        func run() async throws {
            let manifest: KeyManifest
            do {
                let m = try await HearthMaintenance.open(place.locations, passphrase: place.passphrase)
                manifest = try await m.publishKeys(to: to)
            } catch let e as KeyFileError {
                FileHandle.standardError.write(Data("hearth: nothing published: \(e)\n".utf8))
                throw ExitCode(78)
            }
            for e in manifest.entries {
                print("\(e.scope.rawValue) v\(e.version)\(e.isPrimary ? " (primary)" : "")")
            }
            print(
                "published to \(to)/\(KeyManifest.fileName), created \(rfc3339(unixSeconds: manifest.created)), signed by audit v\(manifest.auditVersion)"
            )
            print("the intake also needs its own tls.crt and tls.key in \(to)/")
        }
    }

    struct RotateMaster: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-master",
            abstract: "Re-seal every private key file under a new master key (or passphrase); a crash at any point leaves a working directory.")
        @OptionGroup var place: KeyLocations
        @Option(
            name: .customLong("new-passphrase-env"),
            help: "Derive the new master key from the passphrase in this variable (default: a new random master.key).")
        var newPassphraseEnv: String?

        func run() async throws {
            let m = try await HearthMaintenance.open(place.locations, passphrase: place.passphrase)
            let old = try m.masterKey()
            let new = try Keys.newPassphrase(fromEnvironment: newPassphraseEnv)
            try m.keys.rotateMaster(from: old, newPassphrase: new)
            try await m.keyLifecycle().recordMasterRotation()
            print("every private key is now sealed under the new master key")
        }
    }
}

/// A progress bar with an ETA on a terminal; plain progress lines otherwise.
final class ProgressMeter {
    let label: String
    let terminal: Bool
    let start = ContinuousClock.now
    var lastLine = ContinuousClock.now - .seconds(10)

    init(label: String, terminal: Bool) {
        self.label = label
        self.terminal = terminal
    }

    func show(_ done: Int, of total: Int) {
        let now = ContinuousClock.now
        guard terminal || now - lastLine >= .seconds(2) || done == total else { return }
        lastLine = now
        let fraction = total == 0 ? 1 : Double(done) / Double(total)
        let elapsed = Double((now - start).components.seconds) + Double((now - start).components.attoseconds) / 1e18
        let eta = fraction > 0 && fraction < 1 ? Int(elapsed / fraction * (1 - fraction)) : 0
        if terminal {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
            print("\r\(label) [\(bar)] \(done)/\(total) ETA \(eta)s", terminator: "")
            fflush(nil)
        } else {
            print("\(label): \(done)/\(total) (\(Int(fraction * 100))%), about \(eta)s left")
        }
    }

    func finish(_ message: String) {
        if terminal { print("") }
        print(message)
    }
}
