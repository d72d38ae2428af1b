public import HearthCore
public import HearthCrypto
public import HearthHTTP
import HearthKeys
public import HearthPostgres

/// Everything that decides how a Hearth process is put together: where keys and data live, how
/// the listeners are reached, and the few knobs tests turn (each named for what it weakens).
///
/// The CLI fills this from its options; the test harnesses fill it with a temporary directory,
/// port 0 and a test clock. Both then call ``HearthAssembly/assemble(_:listeners:logger:onListening:)``.
public struct HearthSettings: Sendable {
    /// The key directory.
    public var keys: String
    /// The data directory (the SQLite database is `hearth.sqlite` inside it).
    public var data: String
    /// The address both listeners bind.
    public var host = "127.0.0.1"
    /// The intake listener's port (0 picks a free one).
    public var intakePort = 8443
    /// The casework listener's port (0 picks a free one).
    public var caseworkPort = 9443
    /// Time-outs (TLS handshake, request head, request body, idle) and the connection cap of each
    /// TLS listener (`--handshake-timeout`, `--request-head-timeout`, `--request-body-timeout`,
    /// `--idle-timeout`, `--max-connections`).
    public var listenerLimits = ListenerLimits()
    /// The onion listener's port (`--onion-port`; 0 picks a free one), on ``onionHost`` only: the
    /// intake routes for the local Tor daemon, which must open each connection with its PROXY
    /// header (`HiddenServiceExportCircuitID haproxy`). Nil (the default) for none.
    public var onionPort: Int?
    /// The onion listener's address: loopback, always, since whoever can connect to it can name
    /// any circuit.
    public static let onionHost = "127.0.0.1"
    /// The address the metrics listener binds: loopback unless an operator says otherwise, since
    /// anyone who can scrape it sees traffic volumes (SECURITY.md §11.1).
    public var metricsHost = "127.0.0.1"
    /// The metrics listener's port (plain HTTP, `GET /metrics` only): nil for no metrics listener
    /// (the default here, and the test harnesses'; the CLI turns it on), 0 picks a free one.
    public var metricsPort: Int?
    /// The figures that need a query or a file-system call are refreshed on a scrape at most this
    /// often, in seconds (tests set 0).
    public var metricsRefreshSeconds: Int64 = 10
    /// Days a record with no live consent is kept before it is crypto-shredded.
    public var retentionDays = 90
    /// Failed receipt look-ups allowed at once per address before 429.
    public var receiptFailures = 10
    /// Failed staff sign-ins allowed at once per address before 429.
    public var loginFailures = 10
    /// Failures regained per second, for both limiters.
    public var failureRefillPerSecond = 0.2
    /// The intake's flood control: new submissions per source and in all (429 with `Retry-After`
    /// beyond them), and the disk guard's free-space and database-size limits (503 beyond them).
    /// `hearth serve` and `hearth intake` set them from `--source-submissions`,
    /// `--source-submissions-per-minute`, `--submissions`, `--submissions-per-minute`,
    /// `--min-free-disk` and `--max-database-size`.
    public var submissionLimits = SubmissionLimits()
    /// The everyday site "Exit this page" leads to.
    public var exitURL = PageSettings.defaultExitURL
    /// Offer the two pseudo-locales (accented `en-XA`, right-to-left `ar-XB`) in the language
    /// links: for tests and translators, never in production.
    public var pseudoLocales = false
    /// Where the master passphrase comes from, when the keys use one.
    public var passphrase = PassphraseSource.none
    /// The intake reads a published key directory (`hearth intake`): `keys.manifest` is required
    /// and verified, and any private key file in the directory stops start-up. Otherwise (`hearth
    /// serve`, one process over the casework directory) a manifest is verified and used only when present.
    public var requirePublishedKeys = false
    /// The data directory and database files may be shared with this process's own group
    /// (`--shared-data-group`: the intake and casework users of a single-host SQLite install,
    /// both in one group). Nothing may ever be open to others; without this, not to group either.
    public var sharedDataGroup = false
    /// Creates development keys and a self-signed certificate where none exist (`serve --dev`).
    public var createDevelopmentKeys = false
    /// Runs the expiry and retention sweep, the audit checkpointer and the key reloader.
    /// Tests that move the clock by hand turn them off and call the services themselves.
    public var backgroundJobs = true
    /// Catches SIGTERM and SIGINT for a graceful shutdown (the CLI); tests stop the group themselves.
    public var handlesSignals = true
    /// The wall clock every service, session table and form guard reads.
    public var clock: any WallClock = SystemClock()
    /// The random source of identifiers, receipts, passwords and tokens.
    public var random: any RandomSource = SystemRandomSource()
    /// The Argon2id cost of staff passwords. Only tests lower it (`.insecureMinimumForTests`).
    public var passwordCost: Argon2id.Cost = .interactive

    /// Every value at its default, over `keys` and `.hearth` in the working directory: the one
    /// place the services, the CLI and the configuration file take their defaults from.
    public static var defaults: HearthSettings { HearthSettings(keys: "keys", data: ".hearth") }

    /// Settings over a key directory and a data directory, with every other value at its default.
    public init(keys: String, data: String) {
        self.keys = keys
        self.data = data
    }

    /// The PostgreSQL database (`--database postgres://…`), or nil for the embedded SQLite file.
    /// The casework side and the maintenance commands connect with it.
    public var database: PostgresLocation?
    /// The intake side's own connection (its role `hearth_intake`), when it differs from ``database``.
    public var intakeDatabase: PostgresLocation?
    /// How long a query may wait (for a connection and for its answer) before the request is
    /// answered 503: 15 seconds. Not an option; the test harnesses raise it, since the whole suite
    /// shares two cores on CI.
    public var databaseDeadline: Duration = .seconds(15)
    /// The systemd credential holding the database password (`--database-password-credential`),
    /// read once at start, so the password is never on the command line or in the environment.
    public var databasePasswordCredential: String?

    /// The SQLite database inside ``data``.
    public var databasePath: String { "\(data)/hearth.sqlite" }
}

/// Where the master passphrase comes from.
///
/// A process reads the passphrase once, at start (``readOnce()``), and from then on holds it only
/// in zeroizing memory (``held(_:)``) for key reloads: never in its environment.
public enum PassphraseSource: Sendable, Equatable {
    /// The master key is a key file (`master.key`); there is no passphrase.
    case none
    /// The passphrase is in this environment variable (`--passphrase-env VAR`). ``readOnce()``
    /// copies it out, then wipes the variable's bytes and removes it from the environment.
    case environment(String)
    /// The passphrase is the systemd credential of this name, the file
    /// `$CREDENTIALS_DIRECTORY/NAME` (`--passphrase-credential NAME`, from `LoadCredentialEncrypted=`
    /// or `LoadCredential=`). One trailing newline is not part of the passphrase.
    case credential(String)
    /// The passphrase, already read, in zeroizing memory.
    case held(HeldPassphrase)
}

/// A master passphrase read once at start and kept in zeroizing memory for key reloads. Never
/// printed: its description names only where it came from.
public final class HeldPassphrase: Sendable, Equatable, CustomStringConvertible {
    private let secret: SecretBytes
    /// Where the passphrase came from (`environment variable X`, `credential file /path`), for messages.
    public let origin: String

    /// Holds `secret`, read from `origin`.
    public init(_ secret: consuming SecretBytes, origin: String) {
        self.secret = secret
        self.origin = origin
    }

    /// A copy of the passphrase, for one key derivation.
    public func copy() -> SecretBytes { secret.duplicate() }

    /// Where the passphrase came from; never the passphrase.
    public var description: String { "passphrase from \(origin)" }

    /// Two held passphrases are equal only when they are the same object.
    public static func == (a: HeldPassphrase, b: HeldPassphrase) -> Bool { a === b }
}

/// The listeners a process runs.
public struct Listeners: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// The survivors' intake listener (public keys only).
    public static let intake = Listeners(rawValue: 1)
    /// The staff casework listener (holds the private keys).
    public static let casework = Listeners(rawValue: 2)
}
