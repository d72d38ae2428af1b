public import HearthCore
public import HearthCrypto
import HearthHTTP
import HearthKeys

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
    /// Days a record with no live consent is kept before it is crypto-shredded.
    public var retentionDays = 90
    /// Failed receipt look-ups allowed at once per address before 429.
    public var receiptFailures = 10
    /// Failed staff sign-ins allowed at once per address before 429.
    public var loginFailures = 10
    /// Failures regained per second, for both limiters.
    public var failureRefillPerSecond = 0.2
    /// The everyday site "Exit this page" leads to.
    public var exitURL = PageSettings.defaultExitURL
    /// Where the master passphrase comes from, when the keys use one.
    public var passphrase = PassphraseSource.none
    /// The intake reads a published key directory (`hearth intake`): `keys.manifest` is required
    /// and verified, and any private key file in the directory stops start-up. Otherwise (`hearth
    /// serve`, one process over the casework directory) a manifest is verified and used only when present.
    public var requirePublishedKeys = false
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

    /// Settings over a key directory and a data directory, with every other value at its default.
    public init(keys: String, data: String) {
        self.keys = keys
        self.data = data
    }

    /// The SQLite database inside ``data``.
    public var databasePath: String { "\(data)/hearth.sqlite" }
}

/// Where the master passphrase comes from.
public enum PassphraseSource: Sendable, Equatable {
    /// The master key is a key file (`master.key`); there is no passphrase.
    case none
    /// The passphrase is in this environment variable (`--passphrase-env VAR`).
    case environment(String)
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
