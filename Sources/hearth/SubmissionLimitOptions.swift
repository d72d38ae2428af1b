import ArgumentParser
import HearthApp
import HearthHTTP

/// The intake's flood control (`hearth serve`, `hearth intake`): the submission budgets and the
/// disk guard, into ``HearthSettings/submissionLimits``.
struct SubmissionLimitOptions: ParsableArguments {
    static let defaults = SubmissionLimits()

    @Option(
        name: .customLong("source-submissions"),
        help: "New contact requests one source (address, or Tor circuit) may send at once before 429 with Retry-After.")
    var sourceSubmissions: Int = Self.defaults.perSourceBurst

    @Option(name: .customLong("source-submissions-per-minute"), help: "New contact requests a source regains per minute.")
    var sourceSubmissionsPerMinute: Double = Self.defaults.perSourcePerMinute

    @Option(name: .customLong("submissions"), help: "New contact requests the whole intake takes at once before 429 with Retry-After.")
    var submissions: Int = Self.defaults.globalBurst

    @Option(name: .customLong("submissions-per-minute"), help: "New contact requests the whole intake regains per minute.")
    var submissionsPerMinute: Double = Self.defaults.globalPerMinute

    @Option(
        name: .customLong("min-free-disk"),
        help:
            "Refuse new contact requests (503) while the data directory has less free space than this: bytes, or with KiB, MiB, GiB, TiB; 0 for no limit. Returning survivors can still read, withdraw and erase."
    )
    var minFreeDisk: String = "1GiB"

    @Option(
        name: .customLong("max-database-size"),
        help: "Refuse new contact requests (503) once the database is this large (SQLite: file + WAL; PostgreSQL: pg_database_size).")
    var maxDatabaseSize: String?

    func validate() throws {
        guard sourceSubmissions >= 1, submissions >= 1 else { throw ValidationError("--source-submissions and --submissions must be at least 1") }
        guard sourceSubmissionsPerMinute > 0, submissionsPerMinute > 0, sourceSubmissionsPerMinute.isFinite, submissionsPerMinute.isFinite
        else { throw ValidationError("--source-submissions-per-minute and --submissions-per-minute must be above 0") }
        guard Self.size(minFreeDisk) != nil else { throw ValidationError("--min-free-disk takes a size such as 500MiB or 2GiB") }
        if let maxDatabaseSize, (Self.size(maxDatabaseSize) ?? 0) == 0 {
            throw ValidationError("--max-database-size takes a size above 0, such as 20GiB")
        }
    }

    /// `2GiB` → 2147483648, within what the guard compares (Int64); nil when it is not a size.
    static func size(_ text: String) -> Int64? {
        Doctor.bytes(text).flatMap { Int64(exactly: $0) }
    }

    /// `settings` with these limits.
    func apply(to settings: inout HearthSettings) {
        var limits = SubmissionLimits()
        limits.perSourceBurst = sourceSubmissions
        limits.perSourcePerMinute = sourceSubmissionsPerMinute
        limits.globalBurst = submissions
        limits.globalPerMinute = submissionsPerMinute
        // Both checked in validate().
        limits.minFreeDiskBytes = Self.size(minFreeDisk) ?? SubmissionLimits.defaultMinFreeDiskBytes
        limits.maxDatabaseBytes = maxDatabaseSize.flatMap(Self.size)
        settings.submissionLimits = limits
    }
}
