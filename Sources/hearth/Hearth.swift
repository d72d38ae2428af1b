import ArgumentParser
import Foundation
import HearthApp
import HearthHTTP
import HearthPostgres
import Logging

/// `hearth`: run the service and look after its keys.
@main
struct Hearth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hearth",
        abstract: "A protected way for survivors to come forward, and for the people they choose to answer them.",
        subcommands: [
            Serve.self, Intake.self, Casework.self, Keys.self, Staff.self, Audit.self, Retention.self, Database.self, Backup.self, Restore.self,
            Doctor.self, Stats.self, Config.self,
        ])
}

/// Where keys and data live, and the configuration file; shared by every command.
///
/// Every option here and in ``ListenerOptions`` and ``PassphraseOption`` may also come from the
/// configuration file (`--config FILE`, ``ConfigurationFile``) under its long name; an option
/// given on the command line overrides the file, and what neither sets takes ``HearthSettings``'
/// default, so the services and the CLI share one value for each.
struct Locations: ParsableArguments {
    @Option(
        help: "Configuration file: one JSON object whose keys are these options' long names (see README). Options given here override it.")
    var config: String?

    @Option(help: "Key directory (default: keys).")
    var keys: String?

    @Option(help: "Data directory; the SQLite database lives here (default: .hearth).")
    var data: String?

    @Flag(
        name: .customLong("shared-data-group"), inversion: .prefixedNo,
        help:
            "Allow the data directory and database files to be shared with this process's own group (separate intake and casework users in one group); never with others."
    )
    var sharedDataGroup: Bool?

    @Option(
        help:
            "PostgreSQL instead of the SQLite file: postgres://USER@HOST/DB?sslmode=verify-full&sslrootcert=CA (or ?host=/socket/dir). The intake connects as hearth_intake, casework and maintenance as hearth_casework."
    )
    var database: String?

    @Option(
        name: .customLong("intake-database"),
        help: "For `serve` with PostgreSQL: the intake side's own connection (as hearth_intake); else --database serves both sides.")
    var intakeDatabase: String?

    @Option(
        name: .customLong("database-password-credential"),
        help:
            "systemd credential holding the database password: reads $CREDENTIALS_DIRECTORY/NAME once (LoadCredentialEncrypted=), so it is never on the command line."
    )
    var databasePasswordCredential: String?

    /// The configuration file, read and checked; nil without `--config`.
    func file() throws -> ConfigurationFile? {
        try config.map(ConfigurationFile.load)
    }

    /// The composition root's settings for these locations, with the file's values where no
    /// option is given (every other value at its default).
    func settings(passphrase: PassphraseOption? = nil) throws -> HearthSettings {
        try settings(Merged(file: try file()), passphrase: passphrase)
    }

    func settings(_ m: Merged, passphrase: PassphraseOption?) throws -> HearthSettings {
        let defaults = HearthSettings.defaults
        var s = HearthSettings(keys: m.text(keys, "keys") ?? defaults.keys, data: m.text(data, "data") ?? defaults.data)
        s.passphrase = try passphrase?.source(m) ?? .none
        s.sharedDataGroup = m.flag(sharedDataGroup, "shared-data-group") ?? defaults.sharedDataGroup
        let credential = m.text(databasePasswordCredential, "database-password-credential")
        if let name = credential, !Self.isCredentialName(name) {
            throw ValidationError("\(m.origin(databasePasswordCredential, "database-password-credential")) takes a credential name, not a path")
        }
        let database = m.text(database, "database")
        let intakeDatabase = m.text(intakeDatabase, "intake-database")
        if credential != nil && database == nil { throw ValidationError("database-password-credential needs database (--database)") }
        if intakeDatabase != nil && database == nil { throw ValidationError("intake-database needs database (--database)") }
        do {
            s.database = try database.map(PostgresLocation.init(url:))
            s.intakeDatabase = try intakeDatabase.map(PostgresLocation.init(url:))
        } catch let e as PostgresLocationError {
            throw ValidationError(e.description)
        }
        s.databasePasswordCredential = credential
        return s
    }

    /// A systemd credential's name: not empty, not a path.
    static func isCredentialName(_ name: String) -> Bool { !(name.isEmpty || name.contains("/") || name == "." || name == "..") }
}

/// An option's value from the command line, else from the configuration file.
struct Merged {
    /// The configuration file, if any.
    let file: ConfigurationFile?

    func text(_ given: String?, _ key: String) -> String? { given ?? file?.text(key) }
    func integer(_ given: Int?, _ key: String) -> Int? { given ?? file?.integer(key) }
    func flag(_ given: Bool?, _ key: String) -> Bool? { given ?? file?.flag(key) }
    func number(_ given: Double?, _ key: String) -> Double? { given ?? file?.number(key) }

    /// Where a value came from, for messages: `--retention-days`, or `'retention-days' in FILE`.
    func origin(_ given: Any?, _ key: String) -> String {
        if given == nil, let file, file.sets(key) { return "'\(key)' in \(file.path)" }
        return "--\(key)"
    }
}

/// `--passphrase-credential` or `--passphrase-env`: declared once, used by every command that
/// opens the master key. Either is read once at start; the variable is then wiped from the
/// environment.
struct PassphraseOption: ParsableArguments {
    @Option(
        name: .customLong("passphrase-credential"),
        help: "systemd credential holding the master passphrase: reads $CREDENTIALS_DIRECTORY/NAME once (LoadCredentialEncrypted=).")
    var passphraseCredential: String?

    @Option(
        name: .customLong("passphrase-env"),
        help: "Environment variable holding the master passphrase (when keys use master.kdf); read once, then removed from the environment.")
    var passphraseEnv: String?

    /// Where the composition root reads the passphrase from: the command line's choice, else the file's.
    func source(_ m: Merged) throws -> PassphraseSource {
        let (credential, variable): (String?, String?) =
            passphraseCredential != nil || passphraseEnv != nil
            ? (passphraseCredential, passphraseEnv) : (m.file?.text("passphrase-credential"), m.file?.text("passphrase-env"))
        if credential != nil && variable != nil { throw ValidationError("give passphrase-credential or passphrase-env, not both") }
        if let credential {
            guard Locations.isCredentialName(credential) else {
                throw ValidationError("\(m.origin(passphraseCredential, "passphrase-credential")) takes a credential name, not a path")
            }
            return .credential(credential)
        }
        return variable.map(PassphraseSource.environment) ?? .none
    }
}

/// What a service runs with: its settings, and how it logs.
struct ServiceConfiguration {
    var settings: HearthSettings
    var logLevel: String
    var logFormat: LogFormat
}

struct ListenerOptions: ParsableArguments {
    @Option(help: "Address to listen on (default: \(HearthSettings.defaults.host)).")
    var host: String?

    @Option(
        name: .customLong("intake-port"),
        help: "Port of the survivors' intake listener; 0 picks a free one (default: \(HearthSettings.defaults.intakePort)).")
    var intakePort: Int?

    @Option(
        name: .customLong("casework-port"),
        help: "Port of the staff casework listener; 0 picks a free one (default: \(HearthSettings.defaults.caseworkPort)).")
    var caseworkPort: Int?

    @Option(
        name: .customLong("onion-port"),
        help:
            "Port on 127.0.0.1 of the onion listener for the local Tor daemon (HiddenServicePort; deploy/tor/onion-service.torrc): intake routes, each connection opening with Tor's PROXY header (HiddenServiceExportCircuitID haproxy), failed receipts and submissions limited per Tor circuit. Off unless given."
    )
    var onionPort: Int?

    @Option(
        name: .customLong("handshake-timeout"),
        help:
            "Seconds a TLS listener waits for a connection's TLS handshake (and PROXY header) (default: \(Self.defaultSeconds(\.handshakeTimeout))).")
    var handshakeTimeout: Int?

    @Option(
        name: .customLong("request-head-timeout"),
        help:
            "Seconds a TLS listener waits for a whole request head, from the handshake or from its first byte on a kept-alive connection (default: \(Self.defaultSeconds(\.requestHeadTimeout)))."
    )
    var requestHeadTimeout: Int?

    @Option(
        name: .customLong("request-body-timeout"),
        help: "Seconds a TLS listener waits for a whole request body after its head (default: \(Self.defaultSeconds(\.requestBodyTimeout))).")
    var requestBodyTimeout: Int?

    @Option(
        name: .customLong("idle-timeout"),
        help: "Seconds a kept-alive connection may wait idle for its next request (default: \(Self.defaultSeconds(\.idleTimeout))).")
    var idleTimeout: Int?

    @Option(
        name: .customLong("max-connections"),
        help:
            "Connections each TLS listener holds at once; one more is closed as soon as it is accepted, before any TLS work (default: \(ListenerLimits().maxConnections))."
    )
    var maxConnections: Int?

    @Option(
        name: .customLong("retention-days"),
        help: "Days a record with no live consent is kept before it is crypto-shredded (default: \(HearthSettings.defaults.retentionDays)).")
    var retentionDays: Int?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (default: info).")
    var logLevel: String?

    @Option(
        name: .customLong("log-format"),
        help: "text (one line per message) or json (one object per line, for journald and log shippers) (default: text).")
    var logFormat: LogFormat?

    @Option(
        name: .customLong("receipt-failures"),
        help: "Failed receipt look-ups allowed at once per address before 429 (default: \(HearthSettings.defaults.receiptFailures)).")
    var receiptFailures: Int?

    @Option(
        name: .customLong("exit-url"), help: "Everyday website that \"Exit this page\" leads to, https (default: \(PageSettings.defaultExitURL)).")
    var exitURL: String?

    @Option(
        name: .customLong("metrics-host"),
        help: "Address of the metrics listener (plain HTTP, GET /metrics only). Keep it on loopback: whoever can scrape it sees traffic volumes.")
    var metricsHost: String?

    @Option(
        name: .customLong("metrics-port"),
        help: "Port of the metrics listener (0 picks a free one). Default \(Self.metricsPort) (serve, casework), \(Self.intakeMetricsPort) (intake).")
    var metricsPort: Int?

    @Flag(name: .customLong("no-metrics"), help: "Run no metrics listener.")
    var noMetrics = false

    @Flag(
        name: .customLong("pseudo-locales"),
        help: "Also offer the pseudo-locales en-XA (accented, longer) and ar-XB (right to left), to check pages for translators. Never in production."
    )
    var pseudoLocales = false

    /// The metrics port of `hearth serve` and `hearth casework` (Prometheus's range for exporters).
    static let metricsPort = 9464
    /// The metrics port of `hearth intake`, so that it and `hearth casework` can share a host.
    static let intakeMetricsPort = 9465

    /// A default time-out of ``ListenerLimits``, in whole seconds.
    static func defaultSeconds(_ limit: KeyPath<ListenerLimits, Duration>) -> Int { Int(ListenerLimits()[keyPath: limit].components.seconds) }

    func validate() throws {
        if noMetrics && metricsPort != nil { throw ValidationError("give --metrics-port or --no-metrics, not both") }
    }

    /// The composition root's settings for these options and the configuration file; the metrics
    /// listener takes `defaultMetricsPort` unless an option or the file says otherwise.
    func configuration(
        _ locations: Locations, passphrase: PassphraseOption? = nil, development: Bool = false, defaultMetricsPort: Int = Self.metricsPort
    ) throws -> ServiceConfiguration {
        let m = Merged(file: try locations.file())
        var s = try locations.settings(m, passphrase: passphrase)
        let defaults = HearthSettings.defaults
        s.host = m.text(host, "host") ?? defaults.host
        s.intakePort = m.integer(intakePort, "intake-port") ?? defaults.intakePort
        s.caseworkPort = m.integer(caseworkPort, "casework-port") ?? defaults.caseworkPort
        s.retentionDays = m.integer(retentionDays, "retention-days") ?? defaults.retentionDays
        s.receiptFailures = m.integer(receiptFailures, "receipt-failures") ?? defaults.receiptFailures
        s.loginFailures = s.receiptFailures
        s.exitURL = m.text(exitURL, "exit-url") ?? defaults.exitURL
        s.pseudoLocales = pseudoLocales
        s.metricsHost = m.text(metricsHost, "metrics-host") ?? defaults.metricsHost
        if let metricsPort {
            s.metricsPort = metricsPort
        } else if noMetrics || m.file?.flag("no-metrics") == true {
            if m.file?.integer("metrics-port") != nil && !noMetrics { throw ValidationError("give metrics-port or no-metrics, not both") }
            s.metricsPort = nil
        } else {
            s.metricsPort = m.file?.integer("metrics-port") ?? defaultMetricsPort
        }
        var limits = ListenerLimits()
        for (key, given, path) in [
            ("handshake-timeout", handshakeTimeout, \ListenerLimits.handshakeTimeout),
            ("request-head-timeout", requestHeadTimeout, \.requestHeadTimeout), ("request-body-timeout", requestBodyTimeout, \.requestBodyTimeout),
            ("idle-timeout", idleTimeout, \.idleTimeout),
        ] {
            guard let seconds = m.integer(given, key) else { continue }
            guard (1...3600).contains(seconds) else { throw ValidationError("\(m.origin(given, key)) must be 1 to 3600 seconds") }
            limits[keyPath: path] = .seconds(seconds)
        }
        if let cap = m.integer(maxConnections, "max-connections") {
            guard (1...1_000_000).contains(cap) else { throw ValidationError("\(m.origin(maxConnections, "max-connections")) must be 1 to 1000000") }
            limits.maxConnections = cap
        }
        s.listenerLimits = limits
        s.onionPort = m.integer(onionPort, "onion-port")
        if let port = s.onionPort, !(0...65535).contains(port) { throw ValidationError("\(m.origin(onionPort, "onion-port")) must be 0 to 65535") }
        s.createDevelopmentKeys = development

        guard s.exitURL.hasPrefix("https://") || s.exitURL.hasPrefix("http://127.0.0.1") || s.exitURL.hasPrefix("http://localhost"),
            !s.exitURL.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "<" || $0 == ">" })
        else { throw ValidationError("\(m.origin(exitURL, "exit-url")) must be an https:// address") }
        guard (0...65535).contains(s.intakePort) else { throw ValidationError("\(m.origin(intakePort, "intake-port")) must be 0 to 65535") }
        guard (0...65535).contains(s.caseworkPort) else { throw ValidationError("\(m.origin(caseworkPort, "casework-port")) must be 0 to 65535") }
        try Self.checkRetention(s.retentionDays, origin: m.origin(retentionDays, "retention-days"))
        guard s.receiptFailures >= 1 else { throw ValidationError("\(m.origin(receiptFailures, "receipt-failures")) must be at least 1") }
        if let port = s.metricsPort, !(0...65535).contains(port) {
            throw ValidationError("\(m.origin(metricsPort, "metrics-port")) must be 0 to 65535")
        }
        guard !s.metricsHost.isEmpty else { throw ValidationError("\(m.origin(metricsHost, "metrics-host")) must name an address") }

        let level = m.text(logLevel, "log-level") ?? "info"
        guard Logger.Level(rawValue: level) != nil else {
            throw ValidationError("\(m.origin(logLevel, "log-level")) must be trace, debug, info, notice, warning, error or critical")
        }
        let format: LogFormat
        if let logFormat {
            format = logFormat
        } else if let text = m.file?.text("log-format") {
            guard let f = LogFormat(rawValue: text) else { throw ValidationError("'log-format' in \(m.file!.path) must be text or json") }
            format = f
        } else {
            format = .text
        }
        return ServiceConfiguration(settings: s, logLevel: level, logFormat: format)
    }

    /// Refuses a retention period outside 1 to 3650 days, naming where it came from.
    static func checkRetention(_ days: Int, origin: String) throws {
        guard (1...3650).contains(days) else { throw ValidationError("\(origin) must be 1 to 3650") }
    }
}

/// `--retention-days` for the CLI commands that need the retention period without running a
/// listener (`retention run`, `doctor`): the same option, the same file key and the same default
/// as the services, so they cannot disagree.
struct RetentionOption: ParsableArguments {
    @Option(
        name: .customLong("retention-days"),
        help: "Days a record with no live consent is kept (default: the configuration file's, else \(HearthSettings.defaults.retentionDays)).")
    var retentionDays: Int?

    /// The retention period: the option's, else the file's, else the services' default.
    func days(_ locations: Locations) throws -> Int {
        let m = Merged(file: try locations.file())
        let days = m.integer(retentionDays, "retention-days") ?? HearthSettings.defaults.retentionDays
        try ListenerOptions.checkRetention(days, origin: m.origin(retentionDays, "retention-days"))
        return days
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run Hearth: the intake and casework listeners side by side in one process.")

    @Flag(help: "Development mode: create development keys and a self-signed certificate on first run.")
    var dev = false

    @OptionGroup var locations: Locations
    @OptionGroup var listener: ListenerOptions
    @OptionGroup var submissionLimits: SubmissionLimitOptions

    @OptionGroup var passphrase: PassphraseOption

    func run() async throws {
        var service = try listener.configuration(locations, passphrase: passphrase, development: dev)
        try submissionLimits.apply(to: &service.settings, file: locations.file())
        try await Runner(service, listeners: [.intake, .casework]).run()
    }
}

struct Intake: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Run the intake listener alone on a published key directory (`hearth keys publish --to DIR`): keys.manifest, *.pub, tls.crt and tls.key; any private key stops it."
    )

    @OptionGroup var locations: Locations
    @OptionGroup var listener: ListenerOptions
    @OptionGroup var submissionLimits: SubmissionLimitOptions

    func run() async throws {
        var service = try listener.configuration(locations, defaultMetricsPort: ListenerOptions.intakeMetricsPort)
        try submissionLimits.apply(to: &service.settings, file: locations.file())
        service.settings.requirePublishedKeys = true
        try await Runner(service, listeners: [.intake]).run()
    }
}

struct Casework: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the casework listener alone (uses casework-tls.crt/.key when present, else tls.crt/.key).")

    @OptionGroup var locations: Locations
    @OptionGroup var listener: ListenerOptions

    @OptionGroup var passphrase: PassphraseOption

    func validate() throws {
        if listener.onionPort != nil { throw ValidationError("--onion-port serves the intake routes: give it to `hearth serve` or `hearth intake`") }
    }

    func run() async throws {
        try await Runner(try listener.configuration(locations, passphrase: passphrase), listeners: [.casework]).run()
    }
}
