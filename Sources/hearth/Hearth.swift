import ArgumentParser
import Foundation
import HearthApp
import HearthHTTP
import HearthPostgres

/// `hearth`: run the service and look after its keys.
@main
struct Hearth: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hearth",
        abstract: "A protected way for survivors to come forward, and for the people they choose to answer them.",
        subcommands: [
            Serve.self, Intake.self, Casework.self, Keys.self, Staff.self, Audit.self, Retention.self, Database.self, Backup.self, Restore.self,
            Doctor.self, Stats.self,
        ])
}

/// Where keys and data live, and how the listener is reached; shared by every command.
struct Locations: ParsableArguments {
    @Option(help: "Key directory.")
    var keys: String = "keys"

    @Option(help: "Data directory (the SQLite database lives here).")
    var data: String = ".hearth"

    @Flag(
        name: .customLong("shared-data-group"),
        help:
            "Allow the data directory and database files to be shared with this process's own group (separate intake and casework users in one group); never with others."
    )
    var sharedDataGroup = false

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

    func validate() throws {
        if let name = databasePasswordCredential, name.isEmpty || name.contains("/") || name == "." || name == ".." {
            throw ValidationError("--database-password-credential takes a credential name, not a path")
        }
        if databasePasswordCredential != nil && database == nil { throw ValidationError("--database-password-credential needs --database") }
        do {
            _ = try database.map(PostgresLocation.init(url:))
            _ = try intakeDatabase.map(PostgresLocation.init(url:))
        } catch let e as PostgresLocationError {
            throw ValidationError(e.description)
        }
        if intakeDatabase != nil && database == nil { throw ValidationError("--intake-database needs --database") }
    }

    /// The composition root's settings for these locations (every other value at its default).
    func settings(passphrase: PassphraseSource = .none) -> HearthSettings {
        var s = HearthSettings(keys: keys, data: data)
        s.passphrase = passphrase
        s.sharedDataGroup = sharedDataGroup
        // Both URLs parsed in validate().
        s.database = database.flatMap { try? PostgresLocation(url: $0) }
        s.intakeDatabase = intakeDatabase.flatMap { try? PostgresLocation(url: $0) }
        s.databasePasswordCredential = databasePasswordCredential
        return s
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

    func validate() throws {
        if passphraseCredential != nil && passphraseEnv != nil {
            throw ValidationError("give --passphrase-credential or --passphrase-env, not both")
        }
        if let name = passphraseCredential, name.isEmpty || name.contains("/") || name == "." || name == ".." {
            throw ValidationError("--passphrase-credential takes a credential name, not a path")
        }
    }

    /// Where the composition root reads the passphrase from.
    var source: PassphraseSource {
        if let passphraseCredential { return .credential(passphraseCredential) }
        return passphraseEnv.map(PassphraseSource.environment) ?? .none
    }
}

struct ListenerOptions: ParsableArguments {
    @Option(help: "Address to listen on.")
    var host: String = "127.0.0.1"

    @Option(name: .customLong("intake-port"), help: "Port of the survivors' intake listener (0 picks a free one).")
    var intakePort: Int = 8443

    @Option(name: .customLong("casework-port"), help: "Port of the staff casework listener (0 picks a free one).")
    var caseworkPort: Int = 9443

    @Option(
        name: .customLong("onion-port"),
        help:
            "Port on 127.0.0.1 of the onion listener for the local Tor daemon (HiddenServicePort; deploy/tor/onion-service.torrc): intake routes, each connection opening with Tor's PROXY header (HiddenServiceExportCircuitID haproxy), failed receipts limited per Tor circuit. Off unless given."
    )
    var onionPort: Int?

    @Option(name: .customLong("handshake-timeout"), help: "Seconds a TLS listener waits for a connection's TLS handshake (and PROXY header).")
    var handshakeTimeout = Self.defaultSeconds(\.handshakeTimeout)

    @Option(
        name: .customLong("request-head-timeout"),
        help: "Seconds a TLS listener waits for a whole request head (from the handshake, or from its first byte on a kept-alive connection).")
    var requestHeadTimeout = Self.defaultSeconds(\.requestHeadTimeout)

    @Option(name: .customLong("request-body-timeout"), help: "Seconds a TLS listener waits for a whole request body after its head.")
    var requestBodyTimeout = Self.defaultSeconds(\.requestBodyTimeout)

    @Option(name: .customLong("idle-timeout"), help: "Seconds a kept-alive connection may wait idle for its next request.")
    var idleTimeout = Self.defaultSeconds(\.idleTimeout)

    @Option(
        name: .customLong("max-connections"),
        help: "Connections each TLS listener holds at once; one more is closed as soon as it is accepted, before any TLS work.")
    var maxConnections = ListenerLimits().maxConnections

    @Option(name: .customLong("retention-days"), help: "Days a record with no live consent is kept before it is crypto-shredded.")
    var retentionDays: Int = 90

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String = "info"

    @Option(name: .customLong("log-format"), help: "text (one line per message) or json (one object per line, for journald and log shippers).")
    var logFormat: LogFormat = .text

    @Option(name: .customLong("receipt-failures"), help: "Failed receipt look-ups allowed at once per address before 429.")
    var receiptFailures: Int = 10

    @Option(name: .customLong("exit-url"), help: "Everyday website that \"Exit this page\" leads to (https).")
    var exitURL: String = PageSettings.defaultExitURL

    @Option(
        name: .customLong("metrics-host"),
        help: "Address of the metrics listener (plain HTTP, GET /metrics only). Keep it on loopback: whoever can scrape it sees traffic volumes.")
    var metricsHost: String = "127.0.0.1"

    @Option(
        name: .customLong("metrics-port"),
        help: "Port of the metrics listener (0 picks a free one). Default \(Self.metricsPort) (serve, casework), \(Self.intakeMetricsPort) (intake).")
    var metricsPort: Int?

    @Flag(name: .customLong("no-metrics"), help: "Run no metrics listener.")
    var noMetrics = false

    /// The metrics port of `hearth serve` and `hearth casework` (Prometheus's range for exporters).
    static let metricsPort = 9464
    /// The metrics port of `hearth intake`, so that it and `hearth casework` can share a host.
    static let intakeMetricsPort = 9465

    /// A default time-out of ``ListenerLimits``, in whole seconds.
    static func defaultSeconds(_ limit: KeyPath<ListenerLimits, Duration>) -> Int { Int(ListenerLimits()[keyPath: limit].components.seconds) }

    /// The time-outs and cap these options give.
    var listenerLimits: ListenerLimits {
        var limits = ListenerLimits()
        limits.handshakeTimeout = .seconds(handshakeTimeout)
        limits.requestHeadTimeout = .seconds(requestHeadTimeout)
        limits.requestBodyTimeout = .seconds(requestBodyTimeout)
        limits.idleTimeout = .seconds(idleTimeout)
        limits.maxConnections = maxConnections
        return limits
    }

    func validate() throws {
        for (flag, seconds) in [
            ("--handshake-timeout", handshakeTimeout), ("--request-head-timeout", requestHeadTimeout),
            ("--request-body-timeout", requestBodyTimeout), ("--idle-timeout", idleTimeout),
        ] where !(1...3600).contains(seconds) {
            throw ValidationError("\(flag) must be 1 to 3600 seconds")
        }
        guard (1...1_000_000).contains(maxConnections) else { throw ValidationError("--max-connections must be 1 to 1000000") }
        if let onionPort, !(0...65535).contains(onionPort) { throw ValidationError("--onion-port must be 0 to 65535") }
        guard exitURL.hasPrefix("https://") || exitURL.hasPrefix("http://127.0.0.1") || exitURL.hasPrefix("http://localhost"),
            !exitURL.contains(where: { $0.isWhitespace || $0 == "\"" || $0 == "<" || $0 == ">" })
        else { throw ValidationError("--exit-url must be an https:// address") }
        guard (0...65535).contains(intakePort) else { throw ValidationError("--intake-port must be 0 to 65535") }
        guard (0...65535).contains(caseworkPort) else { throw ValidationError("--casework-port must be 0 to 65535") }
        guard (1...3650).contains(retentionDays) else { throw ValidationError("--retention-days must be 1 to 3650") }
        guard receiptFailures >= 1 else { throw ValidationError("--receipt-failures must be at least 1") }
        if let metricsPort, !(0...65535).contains(metricsPort) { throw ValidationError("--metrics-port must be 0 to 65535") }
        if noMetrics && metricsPort != nil { throw ValidationError("give --metrics-port or --no-metrics, not both") }
        guard !metricsHost.isEmpty else { throw ValidationError("--metrics-host must name an address") }
    }

    /// The composition root's settings for these options; the metrics listener takes
    /// `defaultMetricsPort` unless `--metrics-port` or `--no-metrics` says otherwise.
    func settings(
        _ locations: Locations, passphrase: PassphraseSource = .none, development: Bool = false, defaultMetricsPort: Int = Self.metricsPort
    ) -> HearthSettings {
        var s = locations.settings(passphrase: passphrase)
        s.metricsHost = metricsHost
        s.metricsPort = noMetrics ? nil : metricsPort ?? defaultMetricsPort
        s.host = host
        s.intakePort = intakePort
        s.caseworkPort = caseworkPort
        s.listenerLimits = listenerLimits
        s.onionPort = onionPort
        s.retentionDays = retentionDays
        s.receiptFailures = receiptFailures
        s.loginFailures = receiptFailures
        s.exitURL = exitURL
        s.createDevelopmentKeys = development
        return s
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run Hearth: the intake and casework listeners side by side in one process.")

    @Flag(help: "Development mode: create development keys and a self-signed certificate on first run.")
    var dev = false

    @OptionGroup var locations: Locations
    @OptionGroup var listener: ListenerOptions

    @OptionGroup var passphrase: PassphraseOption

    func run() async throws {
        try await Runner(
            settings: listener.settings(locations, passphrase: passphrase.source, development: dev), listeners: [.intake, .casework],
            logLevel: listener.logLevel, logFormat: listener.logFormat
        ).run()
    }
}

struct Intake: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Run the intake listener alone on a published key directory (`hearth keys publish --to DIR`): keys.manifest, *.pub, tls.crt and tls.key; any private key stops it."
    )

    @OptionGroup var locations: Locations
    @OptionGroup var listener: ListenerOptions

    func run() async throws {
        var settings = listener.settings(locations, defaultMetricsPort: ListenerOptions.intakeMetricsPort)
        settings.requirePublishedKeys = true
        try await Runner(settings: settings, listeners: [.intake], logLevel: listener.logLevel, logFormat: listener.logFormat).run()
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
        try await Runner(
            settings: listener.settings(locations, passphrase: passphrase.source), listeners: [.casework], logLevel: listener.logLevel,
            logFormat: listener.logFormat
        ).run()
    }
}
