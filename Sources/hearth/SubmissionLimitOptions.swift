import ArgumentParser
import HearthApp
import HearthHTTP

/// The intake's flood control (`hearth serve`, `hearth intake`): the submission budgets and the
/// disk guard, into ``HearthSettings/submissionLimits``.
struct SubmissionLimitOptions: ParsableArguments {
    static let defaults = SubmissionLimits()

    @Option(
        name: .customLong("source-submissions"),
        help:
            "New contact requests one source (address, or Tor circuit) may send at once before 429 with Retry-After (default: \(Self.defaults.perSourceBurst))."
    )
    var sourceSubmissions: Int?

    @Option(
        name: .customLong("source-submissions-per-minute"),
        help: "New contact requests a source regains per minute (default: \(Self.defaults.perSourcePerMinute)).")
    var sourceSubmissionsPerMinute: Double?

    @Option(
        name: .customLong("submissions"),
        help: "New contact requests the whole intake takes at once before 429 with Retry-After (default: \(Self.defaults.globalBurst)).")
    var submissions: Int?

    @Option(
        name: .customLong("submissions-per-minute"),
        help: "New contact requests the whole intake regains per minute (default: \(Self.defaults.globalPerMinute)).")
    var submissionsPerMinute: Double?

    @Option(
        name: .customLong("min-free-disk"),
        help:
            "Refuse new contact requests (503) while the data directory has less free space than this: bytes, or with KiB, MiB, GiB, TiB; 0 for no limit (default: 1GiB). Returning survivors can still read, withdraw and erase."
    )
    var minFreeDisk: String?

    @Option(
        name: .customLong("max-database-size"),
        help: "Refuse new contact requests (503) once the database is this large (SQLite: file + WAL; PostgreSQL: pg_database_size).")
    var maxDatabaseSize: String?

    /// `2GiB` → 2147483648, within what the guard compares (Int64); nil when it is not a size.
    static func size(_ text: String) -> Int64? {
        Doctor.bytes(text).flatMap { Int64(exactly: $0) }
    }

    /// `settings` with these limits: each option's value, else the configuration file's, else the default.
    func apply(to settings: inout HearthSettings, file: ConfigurationFile?) throws {
        let m = Merged(file: file)
        var limits = SubmissionLimits()
        limits.perSourceBurst = m.integer(sourceSubmissions, "source-submissions") ?? limits.perSourceBurst
        limits.perSourcePerMinute = m.number(sourceSubmissionsPerMinute, "source-submissions-per-minute") ?? limits.perSourcePerMinute
        limits.globalBurst = m.integer(submissions, "submissions") ?? limits.globalBurst
        limits.globalPerMinute = m.number(submissionsPerMinute, "submissions-per-minute") ?? limits.globalPerMinute
        for (key, value, given) in [
            ("source-submissions", limits.perSourceBurst, sourceSubmissions), ("submissions", limits.globalBurst, submissions),
        ] where value < 1 {
            throw ValidationError("\(m.origin(given, key)) must be at least 1")
        }
        for (key, value, given) in [
            ("source-submissions-per-minute", limits.perSourcePerMinute, sourceSubmissionsPerMinute),
            ("submissions-per-minute", limits.globalPerMinute, submissionsPerMinute),
        ] where !(value > 0 && value.isFinite) {
            throw ValidationError("\(m.origin(given, key)) must be above 0")
        }
        if let text = m.text(minFreeDisk, "min-free-disk") {
            guard let bytes = Self.size(text) else {
                throw ValidationError("\(m.origin(minFreeDisk, "min-free-disk")) takes a size such as 500MiB or 2GiB")
            }
            limits.minFreeDiskBytes = bytes
        }
        if let text = m.text(maxDatabaseSize, "max-database-size") {
            guard let bytes = Self.size(text), bytes > 0 else {
                throw ValidationError("\(m.origin(maxDatabaseSize, "max-database-size")) takes a size above 0, such as 20GiB")
            }
            limits.maxDatabaseBytes = bytes
        }
        settings.submissionLimits = limits
    }
}
